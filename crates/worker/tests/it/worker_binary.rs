use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::MySqlPool;
use tca_common::db::jobs::{self, Enqueued, JobId, NewJob};
use tca_common::testing::{
    ChildService, assert_ops_endpoints, database_url_of, free_addr, run_to_exit,
};

const BINARY: &str = env!("CARGO_BIN_EXE_worker");

fn worker_env(database_url: &str, addr: std::net::SocketAddr, id: &str) -> HashMap<String, String> {
    HashMap::from([
        ("DATABASE_URL".into(), database_url.into()),
        ("WORKER_ADDR".into(), addr.to_string()),
        // No job here talks to twitch-api; housekeeping's token check just logs that it failed.
        ("TWITCH_API_URL".into(), "http://127.0.0.1:1/".into()),
        ("ANALYSIS_URL".into(), "http://127.0.0.1:1/".into()),
        ("PUBLIC_URL".into(), "http://localhost:8080".into()),
        (
            "ALERT_ENCRYPTION_KEY".into(),
            "YWxlcnRzLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=".into(),
        ),
        (
            "INTERNAL_API_TOKEN".into(),
            "test-internal-token-0123456789abcdef0123456789".into(),
        ),
        ("WORKER_ID".into(), id.into()),
        ("WORKER_CONCURRENCY".into(), "4".into()),
        ("WORKER_POLL_INTERVAL".into(), "50ms".into()),
        ("WORKER_REAP_INTERVAL".into(), "250ms".into()),
        ("JOB_LEASE".into(), "2s".into()),
        ("LOG_FORMAT".into(), "json".into()),
    ])
}

async fn start(database_url: &str, id: &str) -> ChildService {
    let addr = free_addr();
    let mut worker = ChildService::spawn(BINARY, addr, &worker_env(database_url, addr, id));
    worker.wait_ready(Duration::from_secs(60)).await;
    worker
}

async fn enqueue_noops(pool: &MySqlPool, count: usize, sleep_ms: u64) -> Vec<JobId> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let job = NewJob::new(
            "noop",
            &serde_json::json!({"sleep_ms": sleep_ms}),
            Utc::now(),
        )
        .expect("payload");
        match jobs::enqueue(pool, &job, Utc::now())
            .await
            .expect("enqueue")
        {
            Enqueued::Created(id) => ids.push(id),
            Enqueued::Duplicate => panic!("duplicate"),
        }
    }
    ids
}

async fn wait_all_succeeded(pool: &MySqlPool, expected: i64, timeout: Duration) {
    let started = Instant::now();
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND status = 'succeeded'",
        )
        .fetch_one(pool)
        .await
        .expect("count");
        if done == expected {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "{done}/{expected} succeeded after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    let worker = start(&url, "smoke").await;
    assert_ops_endpoints(&worker).await;
    let status = worker.terminate(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));
}

#[test]
fn binary_without_database_url_exits_non_zero_naming_it() {
    let env = HashMap::from([
        ("WORKER_CONCURRENCY".to_string(), "lots".to_string()),
        ("LOG_FORMAT".to_string(), "json".to_string()),
    ]);
    let output = run_to_exit(BINARY, &env);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL is missing"), "{stderr}");
    assert!(stderr.contains("TWITCH_API_URL is missing"), "{stderr}");
    assert!(stderr.contains("ANALYSIS_URL is missing"), "{stderr}");
    assert!(
        stderr.contains("ALERT_ENCRYPTION_KEY is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("INTERNAL_API_TOKEN is missing"), "{stderr}");
    assert!(
        stderr.contains("WORKER_CONCURRENCY is not a whole number: 'lots'"),
        "{stderr}"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn two_worker_processes_share_the_work(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    let first = start(&url, "worker-one").await;
    let second = start(&url, "worker-two").await;
    // 4 slots each, 25 ms a job: one process alone could not take them all before the other.
    enqueue_noops(&pool, 200, 25).await;
    wait_all_succeeded(&pool, 200, Duration::from_secs(60)).await;

    let shares: Vec<(String, i64)> = sqlx::query_as(
        "SELECT locked_by, COUNT(*) FROM jobs WHERE kind = 'noop' GROUP BY locked_by ORDER BY locked_by",
    )
    .fetch_all(&pool)
    .await
    .expect("shares");
    assert_eq!(shares.len(), 2, "both workers ran jobs: {shares:?}");
    assert!(shares.iter().all(|(_, n)| *n >= 20), "{shares:?}");
    let retried: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND attempts <> 1")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(retried, 0, "every job ran exactly once");
    assert_eq!(
        first.terminate(Duration::from_secs(30)).await.code(),
        Some(0)
    );
    assert_eq!(
        second.terminate(Duration::from_secs(30)).await.code(),
        Some(0)
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn job_of_a_killed_worker_is_finished_by_another_after_its_lease(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    let mut doomed = start(&url, "doomed").await;
    let ids = enqueue_noops(&pool, 1, 3000).await;
    // Wait until the doomed worker holds the job, then kill it without a chance to clean up.
    let started = Instant::now();
    loop {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT locked_by FROM jobs WHERE id = ? AND status = 'running'")
                .bind(ids[0])
                .fetch_optional(&pool)
                .await
                .expect("owner")
                .flatten();
        if owner.as_deref() == Some("doomed") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "job never claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.child.kill().expect("kill -9");
    doomed.child.wait().expect("reap child");

    let survivor = start(&url, "survivor").await;
    wait_all_succeeded(&pool, 1, Duration::from_secs(30)).await;
    let (attempts, owner): (u32, String) =
        sqlx::query_as("SELECT attempts, locked_by FROM jobs WHERE id = ?")
            .bind(ids[0])
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!((attempts, owner.as_str()), (2, "survivor"));
    assert_eq!(
        survivor.terminate(Duration::from_secs(30)).await.code(),
        Some(0)
    );
}
