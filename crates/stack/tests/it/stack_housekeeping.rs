use std::time::Duration;

use chrono::Utc;
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};
use tca_worker::handlers::housekeeping;

use crate::stack_web::insert_web_session;
use crate::stack_worlds::world;

async fn count(pool: &MySqlPool, sql: &'static str, session: u64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(session)
        .fetch_one(pool)
        .await
        .expect("count")
}

async fn footprint(pool: &MySqlPool, session: u64) -> [i64; 5] {
    [
        count(pool, "SELECT COUNT(*) FROM capture_chatters WHERE capture_id IN (SELECT id FROM captures WHERE session_id = ?)", session).await,
        count(pool, "SELECT COUNT(*) FROM captures WHERE session_id = ?", session).await,
        count(pool, "SELECT COUNT(*) FROM session_accounts WHERE session_id = ?", session).await,
        count(pool, "SELECT COUNT(*) FROM session_channel_accounts WHERE session_id = ?", session).await,
        count(pool, "SELECT COUNT(*) FROM session_channels WHERE session_id = ?", session).await,
    ]
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn housekeeping_expires_and_purges_an_idle_session_and_leaves_a_saved_one_intact(
    pool: MySqlPool,
) {
    let mut options = Options::default();
    options.settings.purge_batch = 100; // many small batches
    let stack = Stack::start(pool.clone(), world("humans = 700"), options)
        .await
        .expect("stack");
    let idle_user = stack.login("mossy_mod").await.expect("login");
    let other_user = stack.login("stranger").await.expect("login");
    let (idle, idle_channel) = stack
        .session_with_channel(idle_user, "watched")
        .await
        .expect("session");
    stack
        .capture_done(idle_channel, idle_user, Duration::from_secs(60))
        .await
        .expect("capture done");

    // A saved session of the same user, with data too.
    sqlx::query("UPDATE analysis_sessions SET status = 'saved', saved_at = ? WHERE id = ?")
        .bind(Utc::now())
        .bind(idle)
        .execute(&pool)
        .await
        .expect("save");
    let saved = idle;
    let (active, active_channel) = stack
        .session_with_channel(idle_user, "pixelbrookgames")
        .await
        .expect("session 2");
    stack
        .capture_done(active_channel, idle_user, Duration::from_secs(60))
        .await
        .expect("capture done");
    let saved_before = footprint(&pool, saved).await;
    assert!(saved_before[0] > 700);
    assert!(footprint(&pool, active).await[0] > 10);

    // The active session has been idle past its expiry; a web session and an old job too.
    let past = Utc::now() - chrono::Duration::hours(2);
    sqlx::query("UPDATE analysis_sessions SET expires_at = ? WHERE id = ?")
        .bind(past)
        .bind(active)
        .execute(&pool)
        .await
        .expect("age");
    insert_web_session(&pool, other_user, "t", past, past).await;
    sqlx::query("UPDATE jobs SET finished_at = ? WHERE kind = 'capture_chatters'")
        .bind(Utc::now() - chrono::Duration::days(30))
        .execute(&pool)
        .await
        .expect("old jobs");

    housekeeping::ensure_scheduled(&pool, Utc::now())
        .await
        .expect("schedule");
    stack
        .wait_idle("housekeeping", Duration::from_secs(60))
        .await
        .expect("housekeeping ran");

    let (status, purged): (String, Option<chrono::DateTime<Utc>>) =
        sqlx::query_as("SELECT status, purged_at FROM analysis_sessions WHERE id = ?")
            .bind(active)
            .fetch_one(&pool)
            .await
            .expect("session");
    assert_eq!(status, "expired");
    assert!(purged.is_some(), "purged");
    assert_eq!(
        footprint(&pool, active).await,
        [0; 5],
        "no data left of the expired session"
    );
    assert_eq!(
        footprint(&pool, saved).await,
        saved_before,
        "the saved session is untouched"
    );
    let expired_events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'session_expire'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(expired_events, 1);
    let web: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
        .fetch_one(&pool)
        .await
        .expect("web");
    assert_eq!(web, 0, "expired web sessions deleted");
    let old_jobs: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_one(&pool)
            .await
            .expect("jobs");
    assert_eq!(old_jobs, 0, "finished jobs past retention pruned");
    // It re-queued itself for the next run.
    let next: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'housekeeping' AND status = 'queued' AND run_at > ?")
        .bind(Utc::now())
        .fetch_one(&pool)
        .await
        .expect("next");
    assert_eq!(next, 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_token_twitch_refuses_at_validation_ends_web_sessions_and_pauses_auto_captures(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world("humans = 20"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (_, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 5, true, Utc::now())
        .await
        .expect("enable");
    let later = Utc::now() + chrono::Duration::days(1);
    insert_web_session(&pool, user, "live", Utc::now(), later).await;

    // Validated over an hour ago, and meanwhile the user disconnected the app on Twitch.
    sqlx::query("UPDATE twitch_tokens SET validated_at = ?")
        .bind(Utc::now() - chrono::Duration::hours(2))
        .execute(&pool)
        .await
        .expect("age");
    stack
        .fake_post(
            "/_fake/tokens/revoke-grants",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await
        .expect("revoke");

    housekeeping::ensure_scheduled(&pool, Utc::now())
        .await
        .expect("schedule");
    stack
        .wait_idle("housekeeping", Duration::from_secs(60))
        .await
        .expect("ran");

    let web: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE user_id = ?")
        .bind(user)
        .fetch_one(&pool)
        .await
        .expect("web");
    assert_eq!(web, 0, "the user is logged out");
    let (enabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT auto_capture_enabled, auto_capture_stopped_reason FROM session_channels WHERE id = ?")
            .bind(channel)
            .fetch_one(&pool)
            .await
            .expect("channel");
    assert!(!enabled);
    assert_eq!(reason.as_deref(), Some("auto-stop-reauth"));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_logs WHERE event = 'token_invalidated' AND user_id = ?",
    )
    .bind(user)
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_valid_token_is_revalidated_and_nothing_else_changes(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    stack.login("mossy_mod").await.expect("login");
    sqlx::query("UPDATE twitch_tokens SET validated_at = ?")
        .bind(Utc::now() - chrono::Duration::hours(2))
        .execute(&pool)
        .await
        .expect("age");
    housekeeping::ensure_scheduled(&pool, Utc::now())
        .await
        .expect("schedule");
    stack
        .wait_idle("housekeeping", Duration::from_secs(60))
        .await
        .expect("ran");
    let validated: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT validated_at FROM twitch_tokens")
            .fetch_one(&pool)
            .await
            .expect("token");
    assert!(
        Utc::now() - validated < chrono::Duration::minutes(1),
        "validated this run"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'token_invalidated'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 0);
}

/// A token found invalid outside the hourly check — a refresh Twitch refuses during a call —
/// ends every web session of its user and pauses their auto-captures at the next housekeeping
/// run (within a minute), with one audit entry; the next run finds nothing more to do.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_token_refused_during_a_call_ends_every_web_session_at_the_next_housekeeping(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world("humans = 20"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (_, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    tca_common::db::session_channels::enable_auto_capture(&pool, channel, 5, true, Utc::now())
        .await
        .expect("enable");
    let later = Utc::now() + chrono::Duration::days(1);
    for browser in ["laptop", "phone"] {
        insert_web_session(&pool, user, browser, Utc::now(), later).await;
    }
    // Validated a minute ago: the hourly check has nothing to do. Then the user disconnects
    // the app on Twitch, and the next call's refresh is refused.
    sqlx::query("UPDATE twitch_tokens SET validated_at = ?")
        .bind(Utc::now())
        .execute(&pool)
        .await
        .expect("fresh");
    stack
        .fake_post(
            "/_fake/tokens/revoke-grants",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await
        .expect("revoke");
    let error = stack
        .twitch
        .channels(crate::stack_worlds::MOD_ID)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            tca_common::twitch_api::TwitchApiError::ReauthRequired(_)
        ),
        "{error:?}"
    );

    for _ in 0..2 {
        housekeeping::ensure_scheduled(&pool, Utc::now())
            .await
            .expect("schedule");
        stack
            .wait_idle("housekeeping", Duration::from_secs(60))
            .await
            .expect("ran");
    }
    let web: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE user_id = ?")
        .bind(user)
        .fetch_one(&pool)
        .await
        .expect("web");
    assert_eq!(web, 0, "every browser of the user is logged out");
    let (enabled, reason): (bool, Option<String>) = sqlx::query_as(
        "SELECT auto_capture_enabled, auto_capture_stopped_reason FROM session_channels WHERE id = ?",
    )
    .bind(channel)
    .fetch_one(&pool)
    .await
    .expect("channel");
    assert!(!enabled);
    assert_eq!(reason.as_deref(), Some("auto-stop-reauth"));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_logs WHERE event = 'token_invalidated' AND user_id = ?",
    )
    .bind(user)
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1, "once, though housekeeping ran twice");
}
