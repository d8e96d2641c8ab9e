use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::MySqlPool;
use tca_common::db::captures::CaptureStatus;
use tca_stack::{Options, Stack};
use tca_worker::handlers::housekeeping::schedule_auto_capture;

use crate::stack_worlds::world;

/// "N minutes later": pulls the pending auto-capture job's run time to now, and returns the
/// run time it had, so the schedule itself can be checked.
async fn fast_forward(pool: &MySqlPool) -> chrono::DateTime<Utc> {
    let run_at: chrono::DateTime<Utc> = sqlx::query_scalar(
        "SELECT run_at FROM jobs WHERE kind = 'auto_capture' AND status = 'queued'",
    )
    .fetch_one(pool)
    .await
    .expect("one pending auto-capture job");
    sqlx::query("UPDATE jobs SET run_at = ? WHERE kind = 'auto_capture' AND status = 'queued'")
        .bind(Utc::now())
        .execute(pool)
        .await
        .expect("fast-forward");
    run_at
}

async fn captures_of(pool: &MySqlPool, channel: u64) -> Vec<(u64, String, CaptureStatus)> {
    sqlx::query_as(
        "SELECT id, capture_trigger, status FROM captures WHERE session_channel_id = ? ORDER BY id",
    )
    .bind(channel)
    .fetch_all(pool)
    .await
    .expect("captures")
}

async fn wait_for_captures(
    pool: &MySqlPool,
    channel: u64,
    count: usize,
) -> Vec<(u64, String, CaptureStatus)> {
    let started = Instant::now();
    loop {
        let found = captures_of(pool, channel).await;
        if found.len() >= count && found.iter().all(|c| c.2.is_finished()) {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "captures: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_auto_job_settled(pool: &MySqlPool) {
    let started = Instant::now();
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'auto_capture' AND (status = 'running' OR (status = 'queued' AND run_at <= ?))",
        )
        .bind(Utc::now())
        .fetch_one(pool)
        .await
        .expect("count");
        if running == 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn auto_capture_runs_on_schedule_with_two_workers_without_duplicates_and_stops_when_saved(
    pool: MySqlPool,
) {
    let options = Options {
        workers: 2,
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 200\nchurn = 0.2"), options)
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 3, false, Utc::now())
        .await
        .expect("enable");
    // Both workers (and the gateway) may try to schedule it: one job results.
    for _ in 0..3 {
        schedule_auto_capture(&pool, channel, session, "900000001", Utc::now())
            .await
            .expect("schedule");
    }

    for round in 1..=3usize {
        let found = wait_for_captures(&pool, channel, round).await;
        assert_eq!(found.len(), round, "one capture per slot");
        assert!(
            found
                .iter()
                .all(|(_, trigger, status)| trigger == "auto" && *status == CaptureStatus::Done)
        );
        wait_auto_job_settled(&pool).await;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'auto_capture' AND status IN ('queued', 'running')",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        assert_eq!(pending, 1, "exactly one recurring job");
        let next = fast_forward(&pool).await;
        let wait = next - Utc::now();
        assert!(
            wait > chrono::Duration::seconds(170) && wait <= chrono::Duration::minutes(3),
            "the next capture was due in 3 minutes, not {wait}"
        );
    }
    let found = wait_for_captures(&pool, channel, 4).await;
    assert_eq!(found.len(), 4);
    let workers: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT locked_by FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_all(&pool)
            .await
            .expect("workers");
    assert!(!workers.is_empty());

    // The session is saved: the next slot stops auto-capture with a reason, and captures stop.
    wait_auto_job_settled(&pool).await;
    sqlx::query("UPDATE analysis_sessions SET status = 'saved', saved_at = ? WHERE id = ?")
        .bind(Utc::now())
        .bind(session)
        .execute(&pool)
        .await
        .expect("save");
    fast_forward(&pool).await;
    wait_auto_job_settled(&pool).await;
    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT auto_capture_enabled, auto_capture_stopped_reason FROM session_channels WHERE id = ?")
            .bind(channel)
            .fetch_one(&pool)
            .await
            .expect("channel");
    assert!(!enabled);
    assert!(reason.expect("a reason").contains("saved"));
    assert_eq!(
        captures_of(&pool, channel).await.len(),
        4,
        "no capture after the session was saved"
    );
    let job: String = sqlx::query_scalar("SELECT status FROM jobs WHERE kind = 'auto_capture'")
        .fetch_one(&pool)
        .await
        .expect("job");
    assert_eq!(job, "succeeded", "the recurring job ended");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn auto_capture_stops_when_the_twitch_authorization_is_revoked(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 50"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 1, false, Utc::now())
        .await
        .expect("enable");
    schedule_auto_capture(&pool, channel, session, "900000001", Utc::now())
        .await
        .expect("schedule");
    wait_for_captures(&pool, channel, 1).await;
    wait_auto_job_settled(&pool).await;

    // The user disconnects the app on Twitch.
    stack
        .fake_post(
            "/_fake/tokens/revoke-grants",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await
        .expect("revoke");
    fast_forward(&pool).await;
    let found = wait_for_captures(&pool, channel, 2).await;
    assert_eq!(found[1].2, CaptureStatus::Failed);
    let error: String = sqlx::query_scalar("SELECT error FROM captures WHERE id = ?")
        .bind(found[1].0)
        .fetch_one(&pool)
        .await
        .expect("error");
    // Stored as a message key, shown in each reader's language.
    assert_eq!(error, "capture-error-reauth");
    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT auto_capture_enabled, auto_capture_stopped_reason FROM session_channels WHERE id = ?")
            .bind(channel)
            .fetch_one(&pool)
            .await
            .expect("channel");
    assert!(!enabled, "auto-capture stopped");
    assert_eq!(reason.as_deref(), Some("capture-error-reauth"));
    // The next slot sees it disabled and ends the recurring job without capturing.
    wait_auto_job_settled(&pool).await;
    fast_forward(&pool).await;
    wait_auto_job_settled(&pool).await;
    assert_eq!(captures_of(&pool, channel).await.len(), 2);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn only_while_live_skips_offline_slots(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 50"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    stack
        .fake_post(
            "/_fake/channels/watched/live",
            serde_json::json!({"live": false}),
        )
        .await
        .expect("offline");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 1, true, Utc::now())
        .await
        .expect("enable");
    schedule_auto_capture(&pool, channel, session, "900000001", Utc::now())
        .await
        .expect("schedule");
    wait_auto_job_settled(&pool).await;
    assert!(
        captures_of(&pool, channel).await.is_empty(),
        "offline: no capture"
    );
    stack
        .fake_post(
            "/_fake/channels/watched/live",
            serde_json::json!({"live": true}),
        )
        .await
        .expect("live");
    fast_forward(&pool).await;
    let found = wait_for_captures(&pool, channel, 1).await;
    assert_eq!(found.len(), 1);
}
