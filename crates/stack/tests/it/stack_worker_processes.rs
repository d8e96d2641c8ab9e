use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::MySqlPool;
use tca_common::db::captures::CaptureStatus;
use tca_common::testing::{ChildService, free_addr};
use tca_stack::{INTERNAL_TOKEN, Options, Stack};
use tca_worker::handlers::housekeeping::schedule_auto_capture;

use crate::stack_gateway::capture_now;
use crate::stack_web::Web;
use crate::stack_worlds::world;

/// The `worker` binary built next to this test binary (target/<profile>/worker).
fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = dir.join("worker");
    assert!(
        binary.exists(),
        "build the worker binary first (cargo build -p tca-worker): {}",
        binary.display()
    );
    binary
}

fn spawn_worker(stack: &Stack, id: &str) -> ChildService {
    spawn_worker_at(stack, id, free_addr(), "50ms")
}

fn spawn_worker_at(stack: &Stack, id: &str, addr: SocketAddr, poll: &str) -> ChildService {
    let env = HashMap::from([
        ("DATABASE_URL".to_string(), stack.database_url.clone()),
        ("WORKER_ADDR".to_string(), addr.to_string()),
        ("WORKER_ID".to_string(), id.to_string()),
        ("WORKER_POLL_INTERVAL".to_string(), poll.to_string()),
        (
            "TWITCH_API_URL".to_string(),
            format!("http://{}/", stack.twitch_api),
        ),
        ("INTERNAL_API_TOKEN".to_string(), INTERNAL_TOKEN.to_string()),
        (
            "ANALYSIS_URL".to_string(),
            format!("http://{}/", stack.analysis),
        ),
        ("PUBLIC_URL".to_string(), stack.public_url.clone()),
        (
            "ALERT_ENCRYPTION_KEY".to_string(),
            tca_stack::ALERT_KEY.to_string(),
        ),
        ("LOG_FORMAT".to_string(), "json".to_string()),
    ]);
    ChildService::spawn(worker_binary().to_str().expect("path"), addr, &env)
}

/// Each auto capture with the worker that ran it (none yet while its job is queued).
async fn auto_captures(pool: &MySqlPool) -> Vec<(CaptureStatus, Option<String>)> {
    sqlx::query_as(
        "SELECT c.status, j.locked_by FROM captures c JOIN jobs j ON j.kind = 'capture_chatters' \
         AND JSON_VALUE(j.payload, '$.capture_id') = c.id ORDER BY c.id",
    )
    .fetch_all(pool)
    .await
    .expect("captures")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn auto_capture_with_two_worker_processes_captures_once_per_slot(pool: MySqlPool) {
    let stack = Stack::start(
        pool.clone(),
        world("humans = 300\nchurn = 0.1"),
        Options {
            workers: 0,
            ..Options::default()
        },
    )
    .await
    .expect("stack");
    let mut one = spawn_worker(&stack, "process-one");
    let mut two = spawn_worker(&stack, "process-two");
    one.wait_ready(Duration::from_secs(60)).await;
    two.wait_ready(Duration::from_secs(60)).await;

    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 2, false, Utc::now())
        .await
        .expect("enable");
    schedule_auto_capture(&pool, channel, session, "900000001", Utc::now())
        .await
        .expect("schedule");

    for slot in 1..=4usize {
        let started = Instant::now();
        loop {
            let found = auto_captures(&pool).await;
            if found.len() == slot && found.iter().all(|(s, _)| *s == CaptureStatus::Done) {
                break;
            }
            assert!(
                found.len() <= slot,
                "a duplicate capture in slot {slot}: {found:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "slot {slot}: {found:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Wait for the recurring job to re-queue itself, then jump to its next slot.
        let started = Instant::now();
        let next: chrono::DateTime<Utc> = loop {
            let next: Option<chrono::DateTime<Utc>> = sqlx::query_scalar(
                "SELECT run_at FROM jobs WHERE kind = 'auto_capture' AND status = 'queued' AND run_at > ?",
            )
            .bind(Utc::now())
            .fetch_optional(&pool)
            .await
            .expect("job");
            if let Some(next) = next {
                break next;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the auto-capture job never re-queued"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            next - Utc::now() > chrono::Duration::seconds(110),
            "next slot in ~2 minutes"
        );
        let unfinished: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'auto_capture' AND status IN ('queued', 'running')",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        assert_eq!(unfinished, 1, "one recurring job across both processes");
        sqlx::query("UPDATE jobs SET run_at = ? WHERE kind = 'auto_capture' AND status = 'queued'")
            .bind(Utc::now())
            .execute(&pool)
            .await
            .expect("fast-forward");
    }
    let found = auto_captures(&pool).await;
    println!("captures by worker: {found:?}");
    assert!(
        found
            .iter()
            .all(|(_, w)| matches!(w.as_deref(), Some("process-one") | Some("process-two"))),
        "{found:?}"
    );
    assert_eq!(one.terminate(Duration::from_secs(30)).await.code(), Some(0));
    assert_eq!(two.terminate(Duration::from_secs(30)).await.code(), Some(0));
}

/// A worker that would not poll for ten minutes starts a capture a moderator asks for at
/// once: the gateway wakes it (`WORKER_URL`, `POST /v1/wake` with the internal token).
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_gateway_wakes_an_idle_worker_when_a_capture_is_asked_for(pool: MySqlPool) {
    let worker_addr = free_addr();
    let stack = Stack::start(
        pool.clone(),
        world("humans = 50"),
        Options {
            workers: 0,
            gateway: Box::new(move |config| {
                config.worker_url =
                    Some(url::Url::parse(&format!("http://{worker_addr}/")).expect("url"));
            }),
            ..Options::default()
        },
    )
    .await
    .expect("stack");
    let mut worker = spawn_worker_at(&stack, "sleepy", worker_addr, "10m");
    worker.wait_ready(Duration::from_secs(60)).await;

    // The wake is internal: without the token it is refused.
    let http = reqwest::Client::new();
    let refused = http
        .post(worker.url("/v1/wake"))
        .send()
        .await
        .expect("wake");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    // What the worker queued at its start is done and it is in its ten-minute wait (the
    // login's background job waits there too: nobody waits for it).
    for kind in ["housekeeping", "eventsub_reconcile"] {
        stack
            .wait_idle(kind, Duration::from_secs(30))
            .await
            .expect("idle");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    capture_now(&web, &csrf).await;
    let capture: u64 = sqlx::query_scalar("SELECT id FROM captures")
        .fetch_one(&pool)
        .await
        .expect("capture");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(60))
        .await
        .expect("the woken worker captured");
    assert_eq!(status, CaptureStatus::Done, "{error:?}");
    let metrics = http
        .get(worker.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("worker_wakeups_total") && !l.ends_with(" 0")),
        "{metrics}"
    );
    worker.terminate(Duration::from_secs(30)).await;
}
