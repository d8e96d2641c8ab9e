//! The queue scenario: B2 enqueue (bulk, and one transaction per job) and B1 drain — N no-op
//! jobs, 4 concurrent workers, one commit per job — then B1b with claims of 32 completed in one
//! transaction; the baseline is the same drain with the naive claim (`FOR UPDATE` without
//! `SKIP LOCKED`), where claimers queue behind each other's row locks. Every run proves
//! nothing was lost (all jobs succeeded) or duplicated (no job completed twice). B7 repeats
//! B1 under two known threats to a table queue: a long-open snapshot that stops InnoDB from
//! purging old row versions, and a million finished jobs left in the table. `B1 cost` says
//! what one B1 job costs in CPU and statements against one commit of the ceiling, and
//! `B1 one trip` sizes sending B1's transaction as one batch before anyone builds it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::Utc;
use sqlx::MySqlPool;
use tca_common::db::jobs::{self, NewJob};
use tokio::sync::Mutex;

use crate::database::{BenchDatabase, ServerWork, ServerWorkDone};
use crate::measure::{self, Spent, percentile};
use crate::{Args, Figure, millis};

const KIND: &str = "bench_noop";
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(60);
/// The claimers' process in CPU figures: they run inside tca-bench.
const LOAD: &str = "claimers (tca-bench)";

pub async fn run(args: &Args) -> anyhow::Result<Vec<Figure>> {
    let database = BenchDatabase::fresh(WORKERS as u32 * 2 + 2).await?;
    let pool = database.pool.clone();
    let mut figures = Vec::new();
    let n = args.jobs;

    // B2: bulk enqueue of N, and single transactional enqueues.
    let started = Instant::now();
    enqueue(&pool, n).await?;
    let bulk = started.elapsed();
    figures.push(Figure {
        id: "B2",
        what: format!("enqueue {n} jobs, multi-row inserts"),
        value: format!("{:.0} jobs/s", n as f64 / bulk.as_secs_f64()),
        target: "—",
        baseline: None,
    });
    let singles = 2_000;
    let started = Instant::now();
    for i in 0..singles {
        let mut tx = pool.begin().await?;
        let job = NewJob::new("bench_single", &i, Utc::now())?;
        jobs::enqueue(&mut *tx, &job, Utc::now()).await?;
        tx.commit().await?;
    }
    figures.push(Figure {
        id: "B2",
        what: format!("enqueue {singles} jobs, one transaction each"),
        value: format!(
            "{:.0} jobs/s",
            singles as f64 / started.elapsed().as_secs_f64()
        ),
        target: "—",
        baseline: None,
    });
    sqlx::query("DELETE FROM jobs WHERE kind = 'bench_single'")
        .execute(&pool)
        .await?;

    // What the disk allows: one-row commits in a loop, from 1 and from 4 connections (each
    // finished job needs at least one commit, so B1 reads as a share of this).
    let (ceiling_1, _) = commit_ceiling(&pool, 1).await?;
    let (ceiling_4, ceiling_spent) = commit_ceiling(&pool, WORKERS).await?;
    for (connections, rate) in [(1, ceiling_1), (WORKERS, ceiling_4)] {
        figures.push(Figure {
            id: "B1 ceiling",
            what: format!(
                "commit ceiling: {connections} connection(s) committing a one-row UPDATE in a loop, {CEILING_SECONDS} s"
            ),
            value: format!("{rate:.0} commits/s"),
            target: "baseline",
            baseline: None,
        });
    }

    // What a round trip costs: the cheapest statement, from 4 connections. A job claimed
    // alone needs five (BEGIN, the completion, the claim's SELECT and UPDATE, COMMIT; the
    // claimer keeps its connection, so no ping): B1 reads against a fifth of this too.
    let (round_trips, _) = statements_per_second(&pool, WORKERS, "SELECT ?").await?;
    figures.push(Figure {
        id: "B1 ceiling",
        what: format!(
            "round-trip ceiling: {WORKERS} connections running `SELECT ?` in a loop, {CEILING_SECONDS} s"
        ),
        value: format!("{round_trips:.0} statements/s"),
        target: "baseline",
        baseline: Some(format!(
            "a fifth: {:.0} jobs/s (five round trips per job claimed alone)",
            round_trips / 5.0
        )),
    });

    // B1: one job per commit: each commit records the job just run and claims the next.
    let b1 = drain(&pool, Claim::SkipLocked { batch: 1 }, n).await?;
    let mut b1_row = b1.figure(
        "B1",
        format!("drain {n} no-op jobs, {WORKERS} workers, one commit per job (completion and next claim together)"),
        "≥ 2,000 jobs/s and ≥ 80 % of the 4-connection commit ceiling, 0 lost, 0 duplicated",
    );
    b1_row.baseline = Some(format!(
        "{:.0} % of the {WORKERS}-connection commit ceiling",
        100.0 * b1.per_second() / ceiling_4.max(f64::MIN_POSITIVE)
    ));
    figures.push(b1_row);
    figures.push(b1_cost(&b1.spent, &ceiling_spent, ceiling_4));
    // What one round trip a job would give B1: the same statements in one batch (not what
    // the worker does: an experiment to size the change before making it).
    enqueue(&pool, n).await?;
    let one_trip = drain(&pool, Claim::OneRoundTrip, n).await?;
    let mut one_trip_row = one_trip.figure(
        "B1 one trip",
        format!("B1's statements sent as one text batch a job ({n} jobs, {WORKERS} workers; an experiment, not the worker's claim)"),
        "reported",
    );
    one_trip_row.value.push_str(&format!(
        "; MariaDB statements {:.1} and CPU {:.3} ms a job",
        one_trip.spent.statements,
        one_trip.spent.cpu_ms("MariaDB").unwrap_or(0.0)
    ));
    one_trip_row.baseline = Some(format!(
        "{:.2} × B1; {:.0} % of the {WORKERS}-connection commit ceiling",
        one_trip.per_second() / b1.per_second().max(f64::MIN_POSITIVE),
        100.0 * one_trip.per_second() / ceiling_4.max(f64::MIN_POSITIVE)
    ));
    figures.push(one_trip_row);
    let peer = graphile_worker(n).await;
    figures.push(match &peer {
        Ok(peer) => Figure {
            id: "B1 peer",
            what: format!(
                "graphile-worker {} (Node.js, PostgreSQL on this machine) draining {n} no-op jobs, concurrency {WORKERS}, its defaults (unbatched)",
                peer.version
            ),
            value: format!("{:.0} jobs/s", peer.per_second),
            target: "B1 ahead",
            baseline: Some(format!(
                "B1 is {:.2} × graphile-worker",
                b1.per_second() / peer.per_second.max(f64::MIN_POSITIVE)
            )),
        },
        Err(why) => Figure {
            id: "B1 peer",
            what: "graphile-worker draining the same jobs".into(),
            value: format!("skipped: {why}"),
            target: "B1 ahead",
            baseline: None,
        },
    });
    // B1b: claims of 32; the 32 completions recorded by one set-based UPDATE in the next
    // claim's transaction.
    enqueue(&pool, n).await?;
    let b1b = drain(&pool, Claim::SkipLocked { batch: 32 }, n).await?;
    figures.push(b1b.figure(
        "B1b",
        format!("drain {n} no-op jobs, {WORKERS} workers, claims of 32"),
        "≥ 12,000 jobs/s",
    ));
    let b1b_index = figures.len() - 1;
    // Baseline: the naive claim, on a tenth of the jobs (it is slow by construction).
    let naive_n = (n / 10).max(1);
    enqueue(&pool, naive_n).await?;
    let naive = drain(&pool, Claim::Naive, naive_n).await?;
    figures.push(naive.figure(
        "B1 base",
        format!("same drain of {naive_n} jobs with FOR UPDATE without SKIP LOCKED, claim and completion in separate commits"),
        "baseline",
    ));
    figures[b1b_index].baseline = Some(format!(
        "{:.2} × the naive claim",
        b1b.per_second() / naive.per_second().max(f64::MIN_POSITIVE)
    ));

    // Scaling: the same drain by 1, 2 and 4 worker processes (the worker binary with its
    // deployed settings: 8 jobs at once, claims up to 32), as `--scale worker=N` runs them.
    let scale_n = (n / 2).max(1);
    let mut rates = Vec::new();
    for processes in [1usize, 2, 4] {
        let (rate, peak) = drain_by_processes(&database, processes, scale_n).await?;
        rates.push(rate);
        figures.push(Figure {
            id: "B1 scale",
            what: format!(
                "drain {scale_n} no-op jobs by {processes} worker process(es) (the binary, its default concurrency 8 and claims up to 32)"
            ),
            value: format!("{rate:.0} jobs/s; peak RSS {peak}"),
            target: "grows until the database is the limit",
            baseline: Some(format!("{:.2} × one process", rate / rates[0].max(f64::MIN_POSITIVE))),
        });
    }

    // B7: the same drain while a long read transaction holds a snapshot (purge of old row
    // versions waits for it), and after a million finished jobs are left in the table.
    let b7 = |drained: &Drained, what: String| {
        let mut row = drained.figure("B7", what, "no collapse");
        row.baseline = Some(format!(
            "{:.2} × B1",
            drained.per_second() / b1.per_second().max(f64::MIN_POSITIVE)
        ));
        row
    };
    // A tenth of the jobs under the open snapshot: it is slow, and the trend shows early.
    let held_n = (n / 10).max(1);
    enqueue(&pool, held_n).await?;
    let mut reader = pool.acquire().await?;
    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *reader)
        .await?;
    sqlx::query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .execute(&mut *reader)
        .await?;
    sqlx::query("SELECT COUNT(*) FROM jobs")
        .execute(&mut *reader)
        .await?;
    let held = drain(&pool, Claim::SkipLocked { batch: 1 }, held_n).await?;
    sqlx::query("ROLLBACK").execute(&mut *reader).await?;
    drop(reader);
    figures.push(b7(
        &held,
        format!("B1 ({held_n} jobs) while a REPEATABLE READ snapshot stays open"),
    ));

    let finished = 1_000_000u64;
    sqlx::query(
        "INSERT INTO jobs (kind, payload, status, priority, run_at, attempts, max_attempts, created_at, updated_at, finished_at) \
         SELECT 'bench_finished', '{}', 'succeeded', 0, NOW(6), 1, 5, NOW(6), NOW(6), NOW(6) FROM seq_1_to_1000000",
    )
    .execute(&pool)
    .await?;
    let b7_n = (n / 2).max(1);
    enqueue(&pool, b7_n).await?;
    let crowded = drain(&pool, Claim::SkipLocked { batch: 1 }, b7_n).await?;
    figures.push(b7(
        &crowded,
        format!("B1 ({b7_n} jobs) with {finished} finished jobs in the table"),
    ));
    database.finish(args.keep).await?;
    Ok(figures)
}

async fn enqueue(pool: &MySqlPool, n: u64) -> anyhow::Result<()> {
    let now = Utc::now();
    let batch: Vec<NewJob> = (0..n)
        .map(|i| NewJob::new(KIND, &i, now))
        .collect::<Result<_, _>>()?;
    let mut conn = pool.acquire().await?;
    jobs::enqueue_batch(&mut conn, &batch, now).await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Claim {
    SkipLocked {
        batch: u32,
    },
    /// B1's claim and completion sent as one text batch: an experiment (docs/benchmarks.md).
    OneRoundTrip,
    Naive,
}

struct Drained {
    jobs: u64,
    took: Duration,
    claims: Vec<Duration>,
    deadlocks: u64,
    duplicated: u64,
    lost: i64,
    /// What the drain cost the database, to read each claim's cost from (docs/benchmarks.md).
    server: ServerWorkDone,
    /// CPU time (MariaDB's and the claimers', which run in this process) and statements a job.
    spent: Spent,
}

impl Drained {
    fn per_second(&self) -> f64 {
        self.jobs as f64 / self.took.as_secs_f64()
    }

    fn figure(&self, id: &'static str, what: String, target: &'static str) -> Figure {
        let mut claims = self.claims.clone();
        claims.sort();
        let at = |p: f64| percentile(&claims, p);
        Figure {
            baseline: None,
            id,
            what,
            value: format!(
                "{:.0} jobs/s; complete+claim p50 {} p99 {}; deadlocks retried {}; duplicated {}; lost {}; {}",
                self.per_second(),
                millis(at(0.5)),
                millis(at(0.99)),
                self.deadlocks,
                self.duplicated,
                self.lost,
                self.server.per(self.jobs, "job")
            ),
            target,
        }
    }
}

/// Is this the MariaDB deadlock (1213) or lock-wait timeout (1205) a claimer retries?
fn is_retryable(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|m| matches!(m.number(), 1213 | 1205))
}

async fn drain(pool: &MySqlPool, claim: Claim, expected: u64) -> anyhow::Result<Drained> {
    let done = Arc::new(Mutex::new(Vec::<u64>::with_capacity(expected as usize)));
    let claims = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let deadlocks = Arc::new(AtomicU64::new(0));
    let server = ServerWork::start(pool).await?;
    let cost = measure::Cost::start(pool, [(LOAD.to_string(), std::process::id())]).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (pool, done, claims, deadlocks) = (
            pool.clone(),
            done.clone(),
            claims.clone(),
            deadlocks.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let worker = format!("bench-{w}");
            let mut mine = Vec::new();
            let mut my_claims = Vec::new();
            // The jobs this worker ran and has yet to record: recorded with the next claim.
            let mut finished: Vec<jobs::Lease> = Vec::new();
            let mut claimer = jobs::Claimer::new(&worker, &[KIND], LEASE);
            let mut one_trip = OneTrip::default();
            loop {
                let t = Instant::now();
                let claimed = match claim {
                    Claim::SkipLocked { batch } => {
                        match claimer
                            .complete_and_claim(&pool, &finished, batch, Utc::now())
                            .await
                        {
                            Ok((completed, claimed)) => {
                                mine.extend(completed.iter().map(|id| id.0));
                                finished.clear();
                                claimed.into_iter().map(|j| j.lease()).collect::<Vec<_>>()
                            }
                            Err(jobs::QueueError::Db(e)) if is_retryable(&e) => {
                                deadlocks.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            Err(e) => return Err(anyhow::Error::new(e)),
                        }
                    }
                    Claim::OneRoundTrip => {
                        match one_trip.claim(&pool, &worker, finished.first()).await {
                            Ok((completed, lease)) => {
                                if completed {
                                    mine.extend(finished.iter().map(|l| l.id.0));
                                }
                                finished.clear();
                                lease.into_iter().collect()
                            }
                            Err(e) if is_retryable(&e) => {
                                deadlocks.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    Claim::Naive => match naive_claim(&pool, &worker).await {
                        Ok(lease) => {
                            // The naive system's own way: one commit to claim, one to complete.
                            for lease in finished.drain(..) {
                                if jobs::complete(&pool, &lease, Utc::now()).await? {
                                    mine.push(lease.id.0);
                                }
                            }
                            lease.into_iter().collect()
                        }
                        Err(e) if is_retryable(&e) => {
                            deadlocks.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    },
                };
                my_claims.push(t.elapsed());
                if claimed.is_empty() {
                    break;
                }
                // The no-op job runs here; its completion goes with the next claim.
                finished = claimed;
            }
            done.lock().await.extend(mine);
            claims.lock().await.extend(my_claims);
            Ok::<(), anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let took = started.elapsed();
    let spent = cost.stop(pool, expected as f64).await?;
    let server = server.stop().await?;
    let mut done = Arc::try_unwrap(done)
        .map_err(|_| anyhow::anyhow!("still shared"))?
        .into_inner();
    let completed = done.len() as u64;
    done.sort_unstable();
    done.dedup();
    let duplicated = completed - done.len() as u64;
    let lost: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = ? AND status <> 'succeeded'")
            .bind(KIND)
            .fetch_one(pool)
            .await?;
    if done.len() as u64 != expected {
        bail!("{} jobs completed, {expected} enqueued", done.len());
    }
    sqlx::query("DELETE FROM jobs WHERE kind = ?")
        .bind(KIND)
        .execute(pool)
        .await?;
    Ok(Drained {
        jobs: completed,
        took,
        claims: Arc::try_unwrap(claims)
            .map_err(|_| anyhow::anyhow!("still shared"))?
            .into_inner(),
        deadlocks: deadlocks.load(Ordering::Relaxed),
        duplicated,
        lost,
        server,
        spent,
    })
}

/// Jobs a second `processes` worker binaries drain `n` no-op jobs at, and their peak RSS.
async fn drain_by_processes(
    database: &BenchDatabase,
    processes: usize,
    n: u64,
) -> anyhow::Result<(f64, String)> {
    let pool = &database.pool;
    let mut workers = Vec::new();
    for index in 0..processes {
        workers.push(crate::deployment::lone_worker(&database.url, index).await?);
    }
    let peak = crate::deployment::PeakRssOf::start(workers.iter());
    let now = Utc::now();
    let batch: Vec<NewJob> = (0..n)
        .map(|_| NewJob::new("noop", &serde_json::json!({}), now))
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    jobs::enqueue_batch(&mut conn, &batch, now).await?;
    drop(conn);
    loop {
        // `status` leads the claim index: the poll reads the unfinished jobs, not all of them.
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND kind = 'noop'",
        )
        .fetch_one(pool)
        .await?;
        if left == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("{left} noop jobs left after 10 minutes with {processes} worker process(es)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let peak = peak.stop().await;
    let failed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND status <> 'succeeded'",
    )
    .fetch_one(pool)
    .await?;
    if failed > 0 {
        bail!("{failed} noop jobs did not succeed with {processes} worker process(es)");
    }
    for worker in workers {
        worker.terminate(crate::deployment::EXIT_WITHIN).await?;
    }
    sqlx::query("DELETE FROM jobs WHERE kind = 'noop'")
        .execute(pool)
        .await?;
    Ok((n as f64 / took.as_secs_f64(), peak))
}

const CEILING_SECONDS: u64 = 3;

/// What stops B1 short of the commit ceiling, measured: the CPU one job costs MariaDB and the
/// claimers against what one ceiling commit costs them, with the cores' use over each run.
/// When both runs keep the two cores busy, the ratio of their CPU a unit is the ratio of their
/// rates the machine allows.
fn b1_cost(job: &Spent, commit: &Spent, ceiling: f64) -> Figure {
    let total = |s: &Spent| s.cpu.iter().map(|(_, ms, _)| ms).sum::<f64>();
    let times = total(job) / total(commit).max(f64::MIN_POSITIVE);
    let mariadb = job.cpu_ms("MariaDB").unwrap_or(0.0)
        / commit
            .cpu_ms("MariaDB")
            .unwrap_or(0.0)
            .max(f64::MIN_POSITIVE);
    Figure {
        id: "B1 cost",
        what: format!(
            "what one B1 job cost, against one commit of the {WORKERS}-connection ceiling"
        ),
        value: format!(
            "per job: {job}; per ceiling commit: {commit}; cores busy {:.0} % during B1, {:.0} % during the ceiling",
            100.0 * job.busy(),
            100.0 * commit.busy()
        ),
        target: "reported",
        baseline: Some(format!(
            "a job costs {times:.1} × a ceiling commit's CPU ({mariadb:.1} × MariaDB's): at the ceiling's CPU use, {:.0} jobs/s",
            ceiling / times.max(f64::MIN_POSITIVE)
        )),
    }
}

/// Commits a second from `connections` connections, each updating its own row in a loop, and
/// what one cost.
async fn commit_ceiling(pool: &MySqlPool, connections: usize) -> anyhow::Result<(f64, Spent)> {
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_commits (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    for id in 0..connections {
        sqlx::query("INSERT IGNORE INTO bench_commits (id, n) VALUES (?, 0)")
            .bind(id as i32)
            .execute(pool)
            .await?;
    }
    statements_per_second(
        pool,
        connections,
        "UPDATE bench_commits SET n = n + 1 WHERE id = ?",
    )
    .await
}

/// `statement` (binding each connection's number) run in a loop on `connections`
/// connections for `CEILING_SECONDS`: statements a second, all connections together, and
/// what one cost.
async fn statements_per_second(
    pool: &MySqlPool,
    connections: usize,
    statement: &'static str,
) -> anyhow::Result<(f64, Spent)> {
    let cost = measure::Cost::start(pool, [(LOAD.to_string(), std::process::id())]).await?;
    let until = Instant::now() + Duration::from_secs(CEILING_SECONDS);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..connections {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut done = 0u64;
            while Instant::now() < until {
                sqlx::query(statement)
                    .bind(id as i32)
                    .execute(&mut *conn)
                    .await?;
                done += 1;
            }
            Ok::<u64, sqlx::Error>(done)
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    let rate = done as f64 / started.elapsed().as_secs_f64();
    Ok((rate, cost.stop(pool, done as f64).await?))
}

struct Peer {
    version: String,
    per_second: f64,
}

/// graphile-worker draining `n` no-op jobs at concurrency 4 on the machine's PostgreSQL
/// (`crates/bench/peer/graphile`, installed by scripts/bench); why not, when it cannot run.
async fn graphile_worker(n: u64) -> Result<Peer, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peer/graphile");
    if !dir.join("node_modules/graphile-worker").exists() {
        return Err(
            "graphile-worker is not installed (scripts/bench installs it where npm is present)"
                .into(),
        );
    }
    let url = std::env::var("TCA_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let output = tokio::process::Command::new("node")
        .arg(dir.join("drain.mjs"))
        .arg(&url)
        .arg(n.to_string())
        .arg(WORKERS.to_string())
        .output()
        .await
        .map_err(|e| format!("node did not start: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "PostgreSQL or Node.js unavailable ({})",
            stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
                .trim()
        ));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("unreadable answer: {e}"))?;
    Ok(Peer {
        version: answer["version"].as_str().unwrap_or("?").to_string(),
        per_second: answer["jobs_per_second"].as_f64().unwrap_or(0.0),
    })
}

/// The claim the original system used: lock the first ready row and wait for it when another
/// claimer holds it.
async fn naive_claim(pool: &MySqlPool, worker: &str) -> Result<Option<jobs::Lease>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<(u64, u32)> = sqlx::query_as(
        "SELECT id, attempts + 1 FROM jobs WHERE status = 'queued' AND kind = ? AND run_at <= ? \
         ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE",
    )
    .bind(KIND)
    .bind(Utc::now())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, attempts)) = row else {
        tx.commit().await?;
        return Ok(None);
    };
    sqlx::query(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ? WHERE id = ?",
    )
    .bind(worker)
    .bind(Utc::now() + chrono::Duration::seconds(60))
    .bind(Utc::now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(jobs::Lease {
        id: jobs::JobId(id),
        worker: worker.to_string(),
        attempts,
    }))
}

/// One claimer of the one-round-trip experiment: B1's transaction (complete the job just run,
/// claim the next past this claimer's cursor, from the head at least every 100 ms) sent as
/// one multi-statement text batch on a connection it keeps, the claimed job read back from
/// user variables. Bench values only (numbers, the bench's own names) go into the text.
#[derive(Default)]
struct OneTrip {
    conn: Option<sqlx::pool::PoolConnection<sqlx::MySql>>,
    /// The last claim: (priority, run_at as MariaDB wrote it, id).
    reached: Option<(i16, String, u64)>,
    from_head_at: Option<Instant>,
}

impl OneTrip {
    /// Records `finished` and claims the next job: whether the completion landed, and the
    /// lease of the job claimed (none when the queue is drained).
    async fn claim(
        &mut self,
        pool: &MySqlPool,
        worker: &str,
        finished: Option<&jobs::Lease>,
    ) -> Result<(bool, Option<jobs::Lease>), sqlx::Error> {
        let head = self.reached.is_none()
            || self
                .from_head_at
                .is_none_or(|at| at.elapsed() >= Duration::from_millis(100));
        let (completed, lease) = self.trip(pool, worker, finished, head).await?;
        if lease.is_some() || head {
            return Ok((completed, lease));
        }
        // Nothing past the cursor: from the head, where nothing either means drained. The
        // completion has committed, so a deadlock here retries the claim alone (returning
        // the error would have the caller send the completion again, and the fence refuse it).
        loop {
            match self.trip(pool, worker, None, true).await {
                Ok((_, lease)) => return Ok((completed, lease)),
                Err(e) if completed && is_retryable(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    async fn trip(
        &mut self,
        pool: &MySqlPool,
        worker: &str,
        finished: Option<&jobs::Lease>,
        head: bool,
    ) -> Result<(bool, Option<jobs::Lease>), sqlx::Error> {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => pool.acquire().await?,
        };
        let sql = self.batch(worker, finished, head);
        let answer = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .and_then(|rows| {
                use sqlx::Row;
                let row = rows.last().ok_or(sqlx::Error::RowNotFound)?;
                (0..5)
                    .map(|i| row.try_get::<Option<String>, _>(i))
                    .collect::<Result<Vec<_>, _>>()
            });
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                // A batch stopped midway may leave its transaction open.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                return Err(e);
            }
        };
        self.conn = Some(conn);
        if head {
            self.from_head_at = Some(Instant::now());
        }
        let [done, job, attempts, priority, run_at]: [Option<String>; 5] = answer
            .try_into()
            .map_err(|_| sqlx::Error::Protocol("five columns expected".into()))?;
        let completed = done.as_deref() == Some("1");
        let number = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<i64>().ok());
        let lease = match (number(&job), number(&attempts), number(&priority), run_at) {
            (Some(id), Some(attempts), Some(priority), Some(run_at)) => {
                self.reached = Some((priority as i16, run_at, id as u64));
                Some(jobs::Lease {
                    id: jobs::JobId(id as u64),
                    worker: worker.to_string(),
                    attempts: attempts as u32,
                })
            }
            _ => None,
        };
        Ok((completed, lease))
    }

    /// The statements of [`Self::claim`], the same as the worker's claim of one job.
    fn batch(&self, worker: &str, finished: Option<&jobs::Lease>, head: bool) -> String {
        let now = Utc::now();
        let at = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let (now_text, until) = (
            at(now),
            at(now + chrono::Duration::from_std(LEASE).unwrap_or_default()),
        );
        let complete = match finished {
            Some(l) => format!(
                "UPDATE jobs SET status = 'succeeded', locked_until = NULL, last_error = NULL, \
                 finished_at = '{now_text}', updated_at = '{now_text}' WHERE id IN ({id}) \
                 AND (id, locked_by, attempts) IN (({id}, '{w}', {a})) AND status = 'running'; \
                 SET @done = ROW_COUNT();",
                id = l.id.0,
                w = l.worker,
                a = l.attempts
            ),
            None => "SET @done = 0;".into(),
        };
        let (force, range) = match (&self.reached, head) {
            (Some((p, run_at, id)), false) => (
                " FORCE INDEX (idx_jobs_claim)",
                format!(
                    " AND (priority = {p} AND (run_at > '{run_at}' OR (run_at = '{run_at}' AND id > {id})))"
                ),
            ),
            _ => ("", String::new()),
        };
        format!(
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; {complete} \
             SET @job = NULL, @attempts = NULL, @priority = NULL, @run_at = NULL; \
             SELECT id, attempts + 1, priority, run_at INTO @job, @attempts, @priority, @run_at \
             FROM jobs{force} WHERE status = 'queued' AND run_at <= '{now_text}' \
             AND kind IN ('{KIND}'){range} ORDER BY priority DESC, run_at, id LIMIT 1 \
             FOR UPDATE SKIP LOCKED; \
             UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = '{worker}', \
             locked_until = '{until}', updated_at = '{now_text}' WHERE id = @job; COMMIT; \
             SELECT CAST(@done AS CHAR), CAST(@job AS CHAR), CAST(@attempts AS CHAR), \
             CAST(@priority AS CHAR), CAST(@run_at AS CHAR)"
        )
    }
}
