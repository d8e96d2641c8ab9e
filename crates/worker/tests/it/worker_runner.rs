use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::MySqlPool;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use tca_common::db::jobs::{self, ClaimedJob, Enqueued, JobId, JobStatus, NewJob};
use tca_worker::{JobError, Registry, Runner, RunnerConfig};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

fn fast_config(worker_id: &str) -> RunnerConfig {
    let mut config = RunnerConfig::new(worker_id);
    config.concurrency = 8;
    config.poll_interval = Duration::from_millis(20);
    config.lease = Duration::from_secs(3);
    config.reap_interval = Duration::from_millis(200);
    config.drain_timeout = Duration::from_secs(5);
    config.backoff_base = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(40);
    config.stats_interval = Duration::from_millis(100);
    config
}

async fn pool(options: MySqlPoolOptions, connect: MySqlConnectOptions) -> MySqlPool {
    options
        .max_connections(20)
        .connect_with(connect)
        .await
        .expect("pool")
}

async fn enqueue(pool: &MySqlPool, job: NewJob) -> JobId {
    match jobs::enqueue(pool, &job, Utc::now())
        .await
        .expect("enqueue")
    {
        Enqueued::Created(id) => id,
        Enqueued::Duplicate => panic!("duplicate"),
    }
}

fn job(kind: &str, payload: serde_json::Value) -> NewJob {
    NewJob::new(kind, &payload, Utc::now()).expect("payload")
}

/// A runner in the background; stop() cancels it and waits for the drain.
struct Running {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(pool: &MySqlPool, registry: Registry, config: RunnerConfig) -> Self {
        let stop = CancellationToken::new();
        let runner = Runner::new(pool.clone(), registry, config);
        let handle = tokio::spawn(runner.run(stop.clone()));
        Self { stop, handle }
    }

    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("runner stops")
            .expect("runner task");
    }
}

async fn status_counts(pool: &MySqlPool) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        .fetch_all(pool)
        .await
        .expect("counts")
        .into_iter()
        .collect()
}

async fn wait_until_finished(pool: &MySqlPool, expected: i64, timeout: Duration) {
    let started = Instant::now();
    loop {
        let finished: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('succeeded', 'failed', 'dead')",
        )
        .fetch_one(pool)
        .await
        .expect("count");
        if finished >= expected {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "only {finished}/{expected} jobs finished after {timeout:?}: {:?}",
            status_counts(pool).await
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn row(pool: &MySqlPool, id: JobId) -> (JobStatus, u32, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM jobs WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("row")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn two_runners_execute_every_job_exactly_once(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let runs: Arc<Mutex<HashMap<JobId, u32>>> = Arc::default();
    let registry = || {
        let runs = runs.clone();
        Registry::new().register("count", move |job: ClaimedJob| {
            let runs = runs.clone();
            async move {
                *runs.lock().await.entry(job.id).or_default() += 1;
                Ok(())
            }
        })
    };
    let batch: Vec<NewJob> = (0..1000)
        .map(|_| job("count", serde_json::json!({})))
        .collect();
    let mut conn = pool.acquire().await.expect("conn");
    jobs::enqueue_batch(&mut conn, &batch, Utc::now())
        .await
        .expect("enqueue");
    drop(conn);

    let a = Running::start(&pool, registry(), fast_config("runner-a"));
    let b = Running::start(&pool, registry(), fast_config("runner-b"));
    wait_until_finished(&pool, 1000, Duration::from_secs(60)).await;
    a.stop().await;
    b.stop().await;

    let runs = runs.lock().await;
    assert_eq!(runs.len(), 1000, "every job ran");
    assert!(runs.values().all(|&n| n == 1), "no job ran twice");
    assert_eq!(status_counts(&pool).await.get("succeeded"), Some(&1000));
    let by_worker: Vec<(String, i64)> = sqlx::query_as(
        "SELECT locked_by, COUNT(*) FROM jobs GROUP BY locked_by ORDER BY locked_by",
    )
    .fetch_all(&pool)
    .await
    .expect("by worker");
    assert_eq!(by_worker.len(), 2, "both runners took work: {by_worker:?}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn failing_job_is_retried_until_it_succeeds(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let registry = Registry::new().register("flaky", |job: ClaimedJob| async move {
        if job.attempts < 3 {
            Err(JobError::Retry(anyhow::anyhow!(
                "transient failure on attempt {}",
                job.attempts
            )))
        } else {
            Ok(())
        }
    });
    let id = enqueue(&pool, job("flaky", serde_json::json!({})).max_attempts(5)).await;
    let running = Running::start(&pool, registry, fast_config("w"));
    wait_until_finished(&pool, 1, Duration::from_secs(20)).await;
    running.stop().await;
    let (status, attempts, last_error) = row(&pool, id).await;
    assert_eq!((status, attempts), (JobStatus::Succeeded, 3));
    assert_eq!(last_error, None);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn outcomes_map_to_dead_failed_and_panics_retry(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let panics = Arc::new(AtomicU32::new(0));
    let panics_seen = panics.clone();
    let registry = Registry::new()
        .register("always_fails", |_job: ClaimedJob| async {
            Err(JobError::Retry(anyhow::anyhow!("upstream is down")))
        })
        .register("bad_input", |_job: ClaimedJob| async {
            Err(JobError::Fail("not a moderator of this channel".into()))
        })
        .register("fatal", |_job: ClaimedJob| async {
            Err(JobError::Fatal(anyhow::anyhow!("corrupt state")))
        })
        .register("panics_once", move |job: ClaimedJob| {
            let panics = panics_seen.clone();
            async move {
                if job.attempts == 1 {
                    panics.fetch_add(1, Ordering::SeqCst);
                    panic!("handler bug");
                }
                Ok(())
            }
        });
    let exhausted = enqueue(
        &pool,
        job("always_fails", serde_json::json!({})).max_attempts(3),
    )
    .await;
    let failed = enqueue(&pool, job("bad_input", serde_json::json!({}))).await;
    let fatal = enqueue(&pool, job("fatal", serde_json::json!({}))).await;
    let panicked = enqueue(&pool, job("panics_once", serde_json::json!({}))).await;
    let running = Running::start(&pool, registry, fast_config("w"));
    wait_until_finished(&pool, 4, Duration::from_secs(20)).await;
    running.stop().await;

    let (status, attempts, error) = row(&pool, exhausted).await;
    assert_eq!((status, attempts), (JobStatus::Dead, 3));
    assert_eq!(
        error.as_deref(),
        Some("gave up after 3 attempts: upstream is down")
    );
    let (status, attempts, error) = row(&pool, failed).await;
    assert_eq!((status, attempts), (JobStatus::Failed, 1));
    assert_eq!(error.as_deref(), Some("not a moderator of this channel"));
    let (status, attempts, _) = row(&pool, fatal).await;
    assert_eq!((status, attempts), (JobStatus::Dead, 1));
    let (status, attempts, _) = row(&pool, panicked).await;
    assert_eq!((status, attempts), (JobStatus::Succeeded, 2));
    assert_eq!(panics.load(Ordering::SeqCst), 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn deferred_job_runs_later_without_spending_attempts(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let registry = Registry::new().register("rate_limited", |job: ClaimedJob| async move {
        let deferred_before: bool = job.payload::<serde_json::Value>().is_ok()
            && job.created_at < Utc::now() - chrono::Duration::milliseconds(300);
        if deferred_before {
            Ok(())
        } else {
            Err(JobError::Defer {
                until: Utc::now() + chrono::Duration::milliseconds(100),
                reason: "Twitch rate limit".into(),
            })
        }
    });
    // One attempt only: any spent on deferrals would make it dead.
    let id = enqueue(
        &pool,
        job("rate_limited", serde_json::json!({})).max_attempts(1),
    )
    .await;
    let running = Running::start(&pool, registry, fast_config("w"));
    wait_until_finished(&pool, 1, Duration::from_secs(20)).await;
    running.stop().await;
    let (status, attempts, _) = row(&pool, id).await;
    assert_eq!((status, attempts), (JobStatus::Succeeded, 1));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn shutdown_lets_running_jobs_finish(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let registry = Registry::new().register("noop", tca_worker::handlers::noop::run);
    let id = enqueue(&pool, job("noop", serde_json::json!({"sleep_ms": 700}))).await;
    let running = Running::start(&pool, registry, fast_config("w"));
    wait_for_status(&pool, id, JobStatus::Running).await;
    running.stop().await;
    let (status, attempts, _) = row(&pool, id).await;
    assert_eq!(
        (status, attempts),
        (JobStatus::Succeeded, 1),
        "drained, not abandoned"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn shutdown_hands_back_jobs_that_outlast_the_drain_timeout(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let mut config = fast_config("w");
    config.drain_timeout = Duration::from_millis(200);
    let id = enqueue(&pool, job("noop", serde_json::json!({"sleep_ms": 30000}))).await;
    let running = Running::start(
        &pool,
        Registry::new().register("noop", tca_worker::handlers::noop::run),
        config,
    );
    wait_for_status(&pool, id, JobStatus::Running).await;
    let started = Instant::now();
    running.stop().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let (status, attempts, error) = row(&pool, id).await;
    assert_eq!(
        (status, attempts),
        (JobStatus::Queued, 0),
        "back in the queue, attempt given back"
    );
    assert!(error.unwrap_or_default().contains("shut down"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn invalid_noop_payload_fails_permanently(
    options: MySqlPoolOptions,
    connect: MySqlConnectOptions,
) {
    let pool = pool(options, connect).await;
    let bad = enqueue(&pool, job("noop", serde_json::json!({"sleep_ms": "soon"}))).await;
    let too_long = enqueue(
        &pool,
        job("noop", serde_json::json!({"sleep_ms": 3_600_000})),
    )
    .await;
    let running = Running::start(
        &pool,
        Registry::new().register("noop", tca_worker::handlers::noop::run),
        fast_config("w"),
    );
    wait_until_finished(&pool, 2, Duration::from_secs(20)).await;
    running.stop().await;
    let (status, _, error) = row(&pool, bad).await;
    assert_eq!(status, JobStatus::Failed);
    assert!(
        error
            .unwrap_or_default()
            .starts_with("invalid noop payload")
    );
    let (status, _, error) = row(&pool, too_long).await;
    assert_eq!(status, JobStatus::Failed);
    assert!(error.unwrap_or_default().contains("at most 60000"));
}

async fn wait_for_status(pool: &MySqlPool, id: JobId, wanted: JobStatus) {
    let started = Instant::now();
    while row(pool, id).await.0 != wanted {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "job never became {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
