use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{MySqlPool, Row};
use tca_common::db::jobs::{self, ClaimedJob, Enqueued, JobId, JobStatus, NewJob, backoff_delay};
use tokio::sync::Mutex;

const LEASE: Duration = Duration::from_secs(30);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn noop(now: DateTime<Utc>) -> NewJob {
    NewJob::new("noop", &serde_json::json!({}), now).expect("payload")
}

async fn enqueue(pool: &MySqlPool, job: NewJob) -> JobId {
    match jobs::enqueue(pool, &job, job.run_at)
        .await
        .expect("enqueue")
    {
        Enqueued::Created(id) => id,
        Enqueued::Duplicate => panic!("unexpected duplicate"),
    }
}

async fn claim_one(pool: &MySqlPool, worker: &str, now: DateTime<Utc>) -> Option<ClaimedJob> {
    let mut claimed = jobs::claim_batch(pool, worker, &["noop"], 1, LEASE, now)
        .await
        .expect("claim");
    claimed.pop()
}

/// Claimers need their own connections; the default test pool allows only 5.
async fn claimers_pool(options: MySqlPoolOptions, connect: MySqlConnectOptions) -> MySqlPool {
    options
        .max_connections(16)
        .connect_with(connect)
        .await
        .expect("pool")
}

/// `n` ready noop jobs in one batch; how many were written.
async fn enqueue_noops(pool: &MySqlPool, n: usize, now: DateTime<Utc>) -> u64 {
    let batch: Vec<NewJob> = (0..n).map(|_| noop(now)).collect();
    let mut conn = pool.acquire().await.expect("conn");
    jobs::enqueue_batch(&mut conn, &batch, now)
        .await
        .expect("batch")
}

#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    status: JobStatus,
    attempts: u32,
    run_at: DateTime<Utc>,
    locked_by: Option<String>,
    locked_until: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

async fn job_row(pool: &MySqlPool, id: JobId) -> JobRow {
    sqlx::query_as(
        "SELECT status, attempts, run_at, locked_by, locked_until, finished_at, last_error \
         FROM jobs WHERE id = ?",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("job row")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn concurrent_claimers_execute_every_job_exactly_once(
    pool_options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    const JOBS: usize = 3000;
    const CLAIMERS: usize = 8;
    let now = t0();
    let pool = claimers_pool(pool_options, connect).await;
    assert_eq!(enqueue_noops(&pool, JOBS, now).await, JOBS as u64);

    let executed = Arc::new(Mutex::new(Vec::<JobId>::with_capacity(JOBS)));
    let mut claimers = Vec::new();
    for n in 0..CLAIMERS {
        let pool = pool.clone();
        let executed = executed.clone();
        claimers.push(tokio::spawn(async move {
            let worker = format!("claimer-{n}");
            loop {
                let claimed = jobs::claim_batch(&pool, &worker, &["noop"], 7, LEASE, now)
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    return;
                }
                for job in claimed {
                    assert_eq!(job.attempts, 1, "a job was claimed a second time");
                    executed.lock().await.push(job.id);
                    assert!(
                        jobs::complete(&pool, &job.lease(), now)
                            .await
                            .expect("complete")
                    );
                }
            }
        }));
    }
    for claimer in claimers {
        claimer.await.expect("claimer task");
    }

    let executed = executed.lock().await;
    let distinct: HashSet<_> = executed.iter().collect();
    assert_eq!(executed.len(), JOBS, "every job executed, none twice");
    assert_eq!(distinct.len(), JOBS);
    let succeeded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND attempts = 1")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(succeeded, JOBS as i64);
    let workers: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT locked_by) FROM jobs")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert!(workers > 1, "the work was shared between claimers");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn claim_skips_rows_locked_by_another_transaction_instead_of_waiting(pool: MySqlPool) {
    let now = t0();
    let first = enqueue(&pool, noop(now)).await;
    let second = enqueue(&pool, noop(now)).await;

    let mut holder = pool.begin().await.expect("tx");
    sqlx::query("SELECT id FROM jobs WHERE id = ? FOR UPDATE")
        .bind(first)
        .fetch_one(&mut *holder)
        .await
        .expect("lock first row");

    let claimed = tokio::time::timeout(
        Duration::from_secs(5),
        jobs::claim_batch(&pool, "w", &["noop"], 10, LEASE, now),
    )
    .await
    .expect("the claim did not wait for the lock")
    .expect("claim");
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![second]
    );
    holder.rollback().await.expect("rollback");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn claim_takes_ready_jobs_by_priority_then_age_and_leaves_future_ones(pool: MySqlPool) {
    let now = t0();
    let old_low = enqueue(&pool, noop(now - secs(60))).await;
    let new_high = enqueue(&pool, noop(now - secs(1)).priority(5)).await;
    let new_low = enqueue(&pool, noop(now - secs(1))).await;
    let future = enqueue(&pool, noop(now + secs(60)).priority(9)).await;
    let other_kind = enqueue(
        &pool,
        NewJob::new("other", &serde_json::json!({}), now).expect("payload"),
    )
    .await;

    let claimed = jobs::claim_batch(&pool, "w", &["noop"], 10, LEASE, now)
        .await
        .expect("claim");
    let ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![new_high, old_low, new_low]);
    assert_eq!(job_row(&pool, future).await.status, JobStatus::Queued);
    assert_eq!(job_row(&pool, other_kind).await.status, JobStatus::Queued);
    let row = job_row(&pool, new_high).await;
    assert_eq!(row.status, JobStatus::Running);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.locked_by.as_deref(), Some("w"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn expired_lease_is_requeued_and_finished_by_another_worker(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now)).await;
    let dead_worker = claim_one(&pool, "worker-a", now)
        .await
        .expect("claimed by a");

    // Before the lease ends, nothing is reaped and nobody else can claim it.
    let reaped = jobs::reap_expired(&pool, now + secs(29))
        .await
        .expect("reap");
    assert_eq!((reaped.requeued, reaped.dead), (0, 0));
    assert!(claim_one(&pool, "worker-b", now + secs(29)).await.is_none());

    // worker-a "died" (no heartbeat): after its lease, the reaper puts the job back.
    let later = now + secs(31);
    let reaped = jobs::reap_expired(&pool, later).await.expect("reap");
    assert_eq!((reaped.requeued, reaped.dead), (1, 0));
    let row = job_row(&pool, id).await;
    assert_eq!(row.status, JobStatus::Queued);
    assert!(row.last_error.unwrap_or_default().contains("worker-a"));

    let survivor = claim_one(&pool, "worker-b", later)
        .await
        .expect("claimed by b");
    assert_eq!(survivor.id, id);
    assert_eq!(survivor.attempts, 2);
    assert!(
        jobs::complete(&pool, &survivor.lease(), later)
            .await
            .expect("complete")
    );

    // The dead worker waking up cannot touch the job any more.
    assert!(
        !jobs::complete(&pool, &dead_worker.lease(), later)
            .await
            .expect("fenced")
    );
    let row = job_row(&pool, id).await;
    assert_eq!(row.status, JobStatus::Succeeded);
    assert_eq!(row.locked_by.as_deref(), Some("worker-b"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_job_rescheduled_in_its_own_transaction_is_reaped_for_its_next_slot(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now)).await;
    let job = claim_one(&pool, "worker-a", now).await.expect("claim");
    // The job did its slot's work and moved itself to the next slot in one transaction…
    let next = now + secs(3600);
    let mut tx = pool.begin().await.expect("begin");
    assert!(
        jobs::reschedule_running(&mut *tx, &job.lease(), next, now)
            .await
            .expect("reschedule")
    );
    tx.commit().await.expect("commit");
    // …then its worker died before the runner re-queued it: the reaper keeps the next slot.
    let reaped = jobs::reap_expired(&pool, now + secs(31))
        .await
        .expect("reap");
    assert_eq!(reaped.requeued, 1);
    let row = job_row(&pool, id).await;
    assert_eq!(row.status, JobStatus::Queued);
    assert_eq!(row.run_at, next);
    assert!(claim_one(&pool, "worker-b", now + secs(32)).await.is_none());
    let again = claim_one(&pool, "worker-b", next).await.expect("next slot");
    assert_eq!(again.id, id);

    // A worker that lost the job cannot move it.
    assert!(
        !jobs::reschedule_running(&pool, &job.lease(), now, now)
            .await
            .expect("fenced")
    );
    assert_eq!(job_row(&pool, id).await.run_at, next);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn stale_worker_cannot_heartbeat_retry_or_fail_a_job_it_lost(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now)).await;
    let stale = claim_one(&pool, "stale", now).await.expect("claim");
    jobs::reap_expired(&pool, now + secs(31))
        .await
        .expect("reap");
    let owner = claim_one(&pool, "owner", now + secs(32))
        .await
        .expect("reclaim");

    let at = now + secs(33);
    let lease = stale.lease();
    assert!(
        !jobs::heartbeat(&pool, &lease, LEASE, at)
            .await
            .expect("heartbeat")
    );
    assert!(
        !jobs::retry_later(&pool, &lease, at, "x", at)
            .await
            .expect("retry")
    );
    assert!(
        !jobs::defer(&pool, &lease, at, "x", at)
            .await
            .expect("defer")
    );
    assert!(
        !jobs::finish_unsuccessfully(&pool, &lease, JobStatus::Dead, "x", at)
            .await
            .expect("dead")
    );
    let row = job_row(&pool, id).await;
    assert_eq!(row.status, JobStatus::Running);
    assert_eq!(row.locked_by.as_deref(), Some("owner"));
    assert_eq!(row.attempts, 2);

    // The owner's heartbeat does extend its lease past the first expiry.
    assert!(
        jobs::heartbeat(&pool, &owner.lease(), LEASE, now + secs(50))
            .await
            .expect("hb")
    );
    let reaped = jobs::reap_expired(&pool, now + secs(70))
        .await
        .expect("reap");
    assert_eq!(reaped.requeued, 0, "a heartbeated lease is not reaped");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn retries_back_off_exponentially_and_end_dead_after_max_attempts(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now).max_attempts(3)).await;
    let base = Duration::from_secs(10);
    let cap = Duration::from_secs(3600);
    let mut at = now;
    let mut delays = Vec::new();
    for attempt in 1..=3u32 {
        let job = claim_one(&pool, "w", at).await.expect("claim");
        assert_eq!(job.attempts, attempt);
        if job.is_last_attempt() {
            assert!(
                jobs::finish_unsuccessfully(&pool, &job.lease(), JobStatus::Dead, "boom", at)
                    .await
                    .expect("dead")
            );
            break;
        }
        let delay = backoff_delay(job.attempts, base, cap, 1.0);
        let run_at = at + chrono::Duration::from_std(delay).expect("delay");
        assert!(
            jobs::retry_later(&pool, &job.lease(), run_at, "boom", at)
                .await
                .expect("retry")
        );
        let row = job_row(&pool, id).await;
        assert_eq!(row.status, JobStatus::Queued);
        assert_eq!(row.run_at, run_at);
        assert_eq!(row.last_error.as_deref(), Some("boom"));
        // Not claimable before its backoff ends.
        assert!(claim_one(&pool, "w", run_at - secs(1)).await.is_none());
        delays.push(delay);
        at = run_at;
    }
    assert_eq!(
        delays,
        vec![Duration::from_secs(10), Duration::from_secs(20)]
    );
    let row = job_row(&pool, id).await;
    assert_eq!(row.status, JobStatus::Dead);
    assert_eq!(row.attempts, 3);
    assert!(claim_one(&pool, "w", at + secs(3600)).await.is_none());
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn lease_expiring_on_the_last_attempt_makes_the_job_dead(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now).max_attempts(1)).await;
    claim_one(&pool, "w", now).await.expect("claim");
    let reaped = jobs::reap_expired(&pool, now + secs(31))
        .await
        .expect("reap");
    assert_eq!((reaped.requeued, reaped.dead), (0, 1));
    assert_eq!(job_row(&pool, id).await.status, JobStatus::Dead);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn deferred_job_keeps_its_attempt_count(pool: MySqlPool) {
    let now = t0();
    let id = enqueue(&pool, noop(now).max_attempts(2)).await;
    // Deferred many more times than it has attempts: it is never made dead for waiting.
    let mut at = now;
    for _ in 0..5 {
        let job = claim_one(&pool, "w", at).await.expect("claim");
        assert_eq!(job.attempts, 1);
        let until = at + secs(60);
        assert!(
            jobs::defer(&pool, &job.lease(), until, "rate limited", at)
                .await
                .expect("defer")
        );
        let row = job_row(&pool, id).await;
        assert_eq!((row.status, row.attempts), (JobStatus::Queued, 0));
        assert!(claim_one(&pool, "w", until - secs(1)).await.is_none());
        at = until;
    }
    let job = claim_one(&pool, "w", at).await.expect("claim");
    assert!(
        jobs::complete(&pool, &job.lease(), at)
            .await
            .expect("complete")
    );
    assert_eq!(job_row(&pool, id).await.attempts, 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn dedupe_key_admits_one_unfinished_job_per_kind(pool: MySqlPool) {
    let now = t0();
    let keyed = || noop(now).dedupe_key("auto:1:42");
    let first = jobs::enqueue(&pool, &keyed(), now).await.expect("enqueue");
    let Enqueued::Created(first) = first else {
        panic!("first is created")
    };
    assert_eq!(
        jobs::enqueue(&pool, &keyed(), now).await.expect("enqueue"),
        Enqueued::Duplicate
    );

    // Same key, other kind: independent.
    let other = NewJob::new("other", &serde_json::json!({}), now)
        .expect("payload")
        .dedupe_key("auto:1:42");
    assert!(matches!(
        jobs::enqueue(&pool, &other, now).await.expect("enqueue"),
        Enqueued::Created(_)
    ));

    // Still a duplicate while running…
    let job = claim_one(&pool, "w", now).await.expect("claim");
    assert_eq!(job.id, first);
    assert_eq!(
        jobs::enqueue(&pool, &keyed(), now).await.expect("enqueue"),
        Enqueued::Duplicate
    );
    // …and admitted again once it has finished.
    assert!(
        jobs::complete(&pool, &job.lease(), now)
            .await
            .expect("complete")
    );
    assert!(matches!(
        jobs::enqueue(&pool, &keyed(), now).await.expect("enqueue"),
        Enqueued::Created(_)
    ));

    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND dedupe_key = 'auto:1:42' AND status = 'queued'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(pending, 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn enqueue_joins_the_callers_transaction(pool: MySqlPool) {
    let now = t0();
    let mut tx = pool.begin().await.expect("tx");
    let job = noop(now).dedupe_key("k");
    assert!(matches!(
        jobs::enqueue(&mut *tx, &job, now).await.expect("enqueue"),
        Enqueued::Created(_)
    ));
    // A dedupe conflict inside the transaction is an answer, not an aborted transaction.
    assert_eq!(
        jobs::enqueue(&mut *tx, &job, now).await.expect("enqueue"),
        Enqueued::Duplicate
    );
    tx.rollback().await.expect("rollback");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 0, "a rolled-back caller leaves no job behind");

    let mut tx = pool.begin().await.expect("tx");
    jobs::enqueue(&mut *tx, &job, now).await.expect("enqueue");
    tx.commit().await.expect("commit");
    assert!(claim_one(&pool, "w", now).await.is_some());
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn batch_enqueue_refuses_dedupe_keys(pool: MySqlPool) {
    let now = t0();
    let mut conn = pool.acquire().await.expect("conn");
    let err = jobs::enqueue_batch(&mut conn, &[noop(now).dedupe_key("k")], now)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("dedupe"));
}

/// 20,000 jobs in every state and three priorities, analysed: enough rows for the
/// optimizer's choice of plan to mean something.
async fn seed_jobs_in_every_state(pool: &MySqlPool) {
    sqlx::query(
        "INSERT INTO jobs (kind, payload, status, priority, run_at, max_attempts, created_at, updated_at) \
         SELECT 'noop', '{}', ELT(1 + seq % 4, 'queued', 'succeeded', 'running', 'dead'), seq % 3, \
                TIMESTAMP'2026-01-01 12:00:00' - INTERVAL (seq % 100) SECOND, 5, \
                TIMESTAMP'2026-01-01 12:00:00', TIMESTAMP'2026-01-01 12:00:00' \
         FROM seq_1_to_20000",
    )
    .execute(pool)
    .await
    .expect("seed jobs");
    sqlx::query("ANALYZE TABLE jobs")
        .execute(pool)
        .await
        .expect("analyze");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn claim_plan_reads_the_claim_index_in_order_without_filesort(pool: MySqlPool) {
    seed_jobs_in_every_state(&pool).await;

    // The claim's exact SELECT, as claim_batch builds it.
    let plan: Vec<(String, Option<String>, Option<String>)> = sqlx::query(
        "EXPLAIN SELECT id, kind, payload, attempts + 1 AS attempts, max_attempts, priority, \
         run_at, created_at FROM jobs WHERE status = 'queued' AND run_at <= ? AND kind IN (?) \
         ORDER BY priority DESC, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED",
    )
    .bind(t0())
    .bind("noop")
    .bind(32u32)
    .fetch_all(&pool)
    .await
    .expect("explain")
    .into_iter()
    .map(|row| {
        (
            row.get::<String, _>("table"),
            row.get::<Option<String>, _>("key"),
            row.get::<Option<String>, _>("Extra"),
        )
    })
    .collect();
    assert_eq!(plan.len(), 1, "{plan:?}");
    let (table, key, extra) = &plan[0];
    assert_eq!(table, "jobs");
    assert_eq!(key.as_deref(), Some("idx_jobs_claim"), "{plan:?}");
    let extra = extra.clone().unwrap_or_default();
    assert!(
        !extra.contains("filesort"),
        "claim sorts instead of reading in order: {extra}"
    );
    assert!(!extra.contains("temporary"), "{extra}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_completion_locks_only_its_own_jobs(pool: MySqlPool) {
    seed_jobs_in_every_state(&pool).await;
    let mine = claim_one(&pool, "w", t0()).await.expect("claim");
    // Another worker's running job, locked by a transaction that stays open.
    let theirs: JobId = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE status = 'running' AND id <> ? ORDER BY id LIMIT 1",
    )
    .bind(mine.id)
    .fetch_one(&pool)
    .await
    .expect("a running job");
    let mut holder = pool.begin().await.expect("begin");
    sqlx::query("SELECT id FROM jobs WHERE id = ? FOR UPDATE")
        .bind(theirs)
        .execute(&mut *holder)
        .await
        .expect("lock theirs");

    // Found by primary key, the completion never meets that lock. A plan that reads the claim
    // index's `running` entries (they match its fence) would lock each one on its way and wait
    // here for the holder: the lock wait (50 s) would outlast the timeout.
    let done = [mine.lease()];
    let completion = jobs::complete_and_claim(&pool, "w", &done, &["noop"], 0, LEASE, t0());
    let (completed, _) = tokio::time::timeout(Duration::from_secs(20), completion)
        .await
        .expect("the completion waited for a lock on another worker's job")
        .expect("complete");
    assert_eq!(completed, vec![mine.id]);
    holder.rollback().await.expect("rollback");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_cursor_claim_reads_ranges_of_the_claim_index_in_order(pool: MySqlPool) {
    seed_jobs_in_every_state(&pool).await;

    // A `Claimer`'s SELECT past its cursor (two priorities reached), as it builds it. A `ref`
    // access on `status` would read from the head of the queue: the walk the cursor avoids.
    let reached = t0() - secs(50);
    let plan = sqlx::query(
        "EXPLAIN SELECT id, kind, payload, attempts + 1 AS attempts, max_attempts, priority, \
         run_at, created_at FROM jobs FORCE INDEX (idx_jobs_claim) WHERE status = 'queued' \
         AND run_at <= ? AND kind IN (?) \
         AND ((priority = ? AND (run_at > ? OR (run_at = ? AND id > ?))) \
           OR (priority = ? AND (run_at > ? OR (run_at = ? AND id > ?)))) \
         ORDER BY priority DESC, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED",
    )
    .bind(t0())
    .bind("noop")
    .bind(0i16)
    .bind(reached)
    .bind(reached)
    .bind(10_000u64)
    .bind(2i16)
    .bind(reached)
    .bind(reached)
    .bind(10_000u64)
    .bind(32u32)
    .fetch_all(&pool)
    .await
    .expect("explain");
    assert_eq!(plan.len(), 1);
    let row = &plan[0];
    let (access, key, extra) = (
        row.get::<String, _>("type"),
        row.get::<Option<String>, _>("key"),
        row.get::<Option<String>, _>("Extra").unwrap_or_default(),
    );
    assert_eq!(access, "range", "{access} {key:?} {extra}");
    assert_eq!(key.as_deref(), Some("idx_jobs_claim"));
    assert!(!extra.contains("filesort"), "{extra}");
    assert!(!extra.contains("temporary"), "{extra}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn completing_and_claiming_in_one_transaction_runs_every_job_exactly_once(
    pool_options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    const JOBS: usize = 3000;
    let now = t0();
    let pool = claimers_pool(pool_options, connect).await;
    enqueue_noops(&pool, JOBS, now).await;

    let executed = Arc::new(Mutex::new(Vec::<JobId>::new()));
    let recorded = Arc::new(Mutex::new(Vec::<JobId>::new()));
    let mut claimers = Vec::new();
    // Batches of 1 (B1's path) and of 7 (B1b's), four claimers each.
    for (n, batch) in [(0, 1), (1, 1), (2, 7), (3, 7)] {
        let (pool, executed, recorded) = (pool.clone(), executed.clone(), recorded.clone());
        claimers.push(tokio::spawn(async move {
            let worker = format!("claimer-{n}");
            // The runner's way: each claim starts where this claimer's last one reached.
            let mut claimer = jobs::Claimer::new(&worker, &["noop"], LEASE);
            let mut done = Vec::new();
            loop {
                let (completed, claimed) = claimer
                    .complete_and_claim(&pool, &done, batch, now)
                    .await
                    .expect("complete and claim");
                assert_eq!(completed.len(), done.len(), "every lease held");
                recorded.lock().await.extend(completed);
                if claimed.is_empty() {
                    return;
                }
                for job in &claimed {
                    assert_eq!(job.attempts, 1, "a job was claimed a second time");
                }
                executed.lock().await.extend(claimed.iter().map(|j| j.id));
                done = claimed.iter().map(ClaimedJob::lease).collect();
            }
        }));
    }
    for claimer in claimers {
        claimer.await.expect("claimer task");
    }
    let executed = executed.lock().await;
    let distinct: HashSet<_> = executed.iter().collect();
    assert_eq!(executed.len(), JOBS, "every job executed, none twice");
    assert_eq!(distinct.len(), JOBS);
    assert_eq!(
        recorded.lock().await.len(),
        JOBS,
        "every completion recorded"
    );
    let succeeded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND attempts = 1")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(succeeded, JOBS as i64);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_claimer_claims_past_its_cursor_and_from_the_head_when_due(pool: MySqlPool) {
    let ms = chrono::Duration::milliseconds;
    let first = enqueue(&pool, noop(t0())).await;
    let mut claimer = jobs::Claimer::new("w", &["noop"], LEASE);
    let start = t0() + secs(10);
    assert_eq!(
        claim_next(&pool, &mut claimer, start).await,
        Some(first),
        "a new claimer reads the head"
    );

    // Behind the cursor: a job due earlier than the one claimed, and one of a priority this
    // claimer has not claimed from. Past it: three jobs due later.
    let straggler = enqueue(&pool, noop(t0() - secs(5))).await;
    let urgent = enqueue(&pool, noop(t0() + secs(1)).priority(5)).await;
    let mut later = Vec::new();
    for n in 2..5 {
        later.push(enqueue(&pool, noop(t0() + secs(n))).await);
    }

    assert_eq!(
        claim_next(&pool, &mut claimer, start + ms(50)).await,
        Some(later[0]),
        "past the cursor"
    );
    assert_eq!(
        claim_next(&pool, &mut claimer, start + ms(60)).await,
        Some(later[1])
    );
    assert_eq!(
        claim_next(&pool, &mut claimer, start + jobs_period()).await,
        Some(urgent),
        "from the head once the period is over"
    );
    assert_eq!(
        claim_next(&pool, &mut claimer, start + jobs_period() + ms(10)).await,
        Some(later[2]),
        "past the cursor again"
    );
    assert_eq!(
        claim_next(&pool, &mut claimer, start + jobs_period() + ms(20)).await,
        Some(straggler),
        "from the head when nothing is left past the cursor"
    );
    assert_eq!(
        claim_next(&pool, &mut claimer, start + jobs_period() + ms(30)).await,
        None
    );
}

async fn claim_next(
    pool: &MySqlPool,
    claimer: &mut jobs::Claimer,
    now: DateTime<Utc>,
) -> Option<JobId> {
    let (_, claimed) = claimer
        .complete_and_claim(pool, &[], 1, now)
        .await
        .expect("claim");
    claimed.first().map(|job| job.id)
}

fn jobs_period() -> chrono::Duration {
    chrono::Duration::from_std(jobs::CLAIM_FROM_HEAD_EVERY).expect("period")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_set_based_completion_writes_only_the_leases_still_held(pool: MySqlPool) {
    let now = t0();
    let kept = enqueue(&pool, noop(now)).await;
    let lost = enqueue(&pool, noop(now)).await;
    let claimed = jobs::claim_batch(&pool, "stale", &["noop"], 2, LEASE, now)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    // The second job's lease expires and another worker takes it.
    expire_and_reap(&pool, lost, now).await;
    let owner = claim_one(&pool, "owner", now + secs(2))
        .await
        .expect("reclaim");
    assert_eq!(owner.id, lost);

    // The completions go with the next claim, in one transaction.
    let next = enqueue(&pool, noop(now)).await;
    let leases: Vec<_> = claimed.iter().map(ClaimedJob::lease).collect();
    let (completed, claimed) =
        jobs::complete_and_claim(&pool, "stale", &leases, &["noop"], 1, LEASE, now + secs(3))
            .await
            .expect("complete");
    assert_eq!(
        completed,
        vec![kept],
        "only the lease still held is recorded"
    );
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![next]);
    let kept = job_row(&pool, kept).await;
    assert_eq!(kept.status, JobStatus::Succeeded);
    assert_eq!(kept.locked_until, None);
    assert!(kept.finished_at.is_some());
    let taken = job_row(&pool, lost).await;
    assert_eq!(taken.status, JobStatus::Running);
    assert_eq!(taken.locked_by.as_deref(), Some("owner"));
    assert_eq!(taken.attempts, 2);
    let started = job_row(&pool, next).await;
    assert_eq!(started.status, JobStatus::Running);
    assert_eq!(started.locked_by.as_deref(), Some("stale"));
    assert_eq!(started.attempts, 1);
    assert_eq!(
        started.locked_until,
        Some(now + secs(3 + 30)),
        "the lease ends LEASE after the claim"
    );
    assert_eq!(started.finished_at, None);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_lost_lease_claimed_again_by_its_old_worker_runs_as_a_new_attempt(pool: MySqlPool) {
    let now = t0();
    let job = enqueue(&pool, noop(now)).await;
    let first = claim_one(&pool, "w", now).await.expect("claim");
    // The lease expires; the reaper puts the job back in the queue.
    expire_and_reap(&pool, job, now).await;

    // The old attempt's completion and the claim that takes the job again meet in one
    // transaction: the stale completion writes nothing, the claim starts attempt 2.
    let (completed, claimed) = jobs::complete_and_claim(
        &pool,
        "w",
        &[first.lease()],
        &["noop"],
        1,
        LEASE,
        now + secs(2),
    )
    .await
    .expect("complete and claim");
    assert!(completed.is_empty(), "the lost lease is not recorded");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, job);
    assert_eq!(claimed[0].attempts, 2);
    let row = job_row(&pool, job).await;
    assert_eq!(row.status, JobStatus::Running);
    assert_eq!(row.attempts, 2);
    assert_eq!(row.finished_at, None);
}

/// Ends `job`'s lease at `now` and runs the reaper a second later: the job is queued again.
async fn expire_and_reap(pool: &MySqlPool, job: JobId, now: DateTime<Utc>) {
    sqlx::query("UPDATE jobs SET locked_until = ? WHERE id = ?")
        .bind(now)
        .bind(job)
        .execute(pool)
        .await
        .expect("expire");
    jobs::reap_expired(pool, now + secs(1)).await.expect("reap");
}
