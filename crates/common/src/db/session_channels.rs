//! `session_channels`: the channels an analysis session covers, with their auto-capture
//! settings.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlConnection};

use super::jobs::{JobKind, NewJob, QueueError};

/// Adds a channel to a session (or refreshes its names); returns the session channel's id.
pub async fn ensure(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    broadcaster_id: &str,
    broadcaster_login: &str,
    broadcaster_name: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO session_channels (session_id, broadcaster_id, broadcaster_login, broadcaster_name, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), broadcaster_login = VALUES(broadcaster_login), \
         broadcaster_name = VALUES(broadcaster_name), updated_at = VALUES(updated_at)",
    )
    .bind(session_id)
    .bind(broadcaster_id)
    .bind(broadcaster_login)
    .bind(broadcaster_name)
    .bind(now)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.last_insert_id())
}

/// The auto-capture settings of a session's channel.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionChannel {
    pub id: u64,
    pub session_id: u64,
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub broadcaster_name: String,
    pub auto_capture_enabled: bool,
    pub auto_capture_interval_min: u16,
    pub auto_capture_only_live: bool,
    pub auto_capture_stopped_reason: Option<String>,
    /// Live or not as EventSub last said; `None`: no event yet (polling).
    pub stream_live: Option<bool>,
}

const CHANNEL_COLUMNS: &str = "id, session_id, broadcaster_id, broadcaster_login, broadcaster_name, \
     auto_capture_enabled, auto_capture_interval_min, auto_capture_only_live, auto_capture_stopped_reason, \
     stream_live";

pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
) -> Result<Option<SessionChannel>, sqlx::Error> {
    super::select(CHANNEL_COLUMNS, "session_channels", "id = ?")
        .bind(session_channel_id)
        .fetch_optional(executor)
        .await
}

/// The channels of a session, by login.
pub async fn of_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<Vec<SessionChannel>, sqlx::Error> {
    super::select(
        CHANNEL_COLUMNS,
        "session_channels",
        "session_id = ? ORDER BY broadcaster_login",
    )
    .bind(session_id)
    .fetch_all(executor)
    .await
}

/// Locks a session channel's row in the caller's transaction: the per-channel lock that
/// "Capture now" and auto-capture take before deciding to queue a capture.
pub async fn lock(conn: &mut MySqlConnection, session_channel_id: u64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM session_channels WHERE id = ? FOR UPDATE")
        .bind(session_channel_id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// Turns auto-capture on with its settings (clearing any previous stop reason).
pub async fn enable_auto_capture(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
    interval_minutes: u16,
    only_while_live: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE session_channels SET auto_capture_enabled = TRUE, auto_capture_interval_min = ?, \
         auto_capture_only_live = ?, auto_capture_stopped_at = NULL, auto_capture_stopped_reason = NULL, \
         updated_at = ? WHERE id = ?",
    )
    .bind(interval_minutes.max(1))
    .bind(only_while_live)
    .bind(now)
    .bind(session_channel_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Stops auto-capture with a reason the user can read (replacing any earlier one: the user
/// turning it off says so even when an error had stopped it).
pub async fn stop_auto_capture(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    stop_with(executor, session_channel_id, reason, now, false).await
}

/// Stops the channel's auto-capture for `reason` unless it is already stopped: the first
/// reason stays (a revoked authorization seen by EventSub and by a failing capture at once
/// says why once, whichever lands first).
pub async fn stop_running_auto_capture(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    stop_with(executor, session_channel_id, reason, now, true).await
}

async fn stop_with(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
    reason: &str,
    now: DateTime<Utc>,
    only_if_running: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE session_channels SET auto_capture_enabled = FALSE, auto_capture_stopped_at = ?, \
         auto_capture_stopped_reason = ?, updated_at = ? WHERE id = ? AND (auto_capture_enabled OR NOT ?)",
    )
    .bind(now)
    .bind(reason)
    .bind(now)
    .bind(session_channel_id)
    .bind(only_if_running)
    .execute(executor)
    .await?;
    Ok(())
}

/// The payload of a channel's recurring `auto_capture` job.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct AutoCaptureJob {
    pub session_channel_id: u64,
}

/// The recurring auto-capture job of a session's channel: one per channel (its dedupe key),
/// whoever queues it — the gateway when a moderator turns it on, housekeeping when one died.
pub fn auto_capture_job(
    session_id: u64,
    broadcaster_id: &str,
    session_channel_id: u64,
    now: DateTime<Utc>,
) -> Result<NewJob, QueueError> {
    Ok(NewJob::new(
        JobKind::AutoCapture.as_str(),
        &AutoCaptureJob { session_channel_id },
        now,
    )?
    .dedupe_key(format!("auto:{session_id}:{broadcaster_id}"))
    .max_attempts(10))
}

/// Enabled auto-captures of active sessions that should be running: (session channel id,
/// session id, broadcaster id). A live-only channel EventSub says is offline waits for its
/// `stream.online` instead.
pub async fn enabled_in_active_sessions(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<Vec<(u64, u64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.session_id, c.broadcaster_id FROM session_channels c \
         JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.auto_capture_enabled AND s.status = 'active' \
           AND NOT (c.auto_capture_only_live AND c.stream_live <=> FALSE)",
    )
    .fetch_all(executor)
    .await
}

/// Records what EventSub says of a broadcaster's stream in every session holding the channel,
/// unless a later event was already recorded (events may arrive out of order). Returns the
/// session channels it changed.
pub async fn record_stream_state(
    executor: impl Executor<'_, Database = MySql>,
    broadcaster_id: &str,
    live: bool,
    sent_at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE session_channels SET stream_live = ?, stream_live_at = ? \
         WHERE broadcaster_id = ? AND (stream_live_at IS NULL OR stream_live_at < ?)",
    )
    .bind(live)
    .bind(sent_at)
    .bind(broadcaster_id)
    .bind(sent_at)
    .execute(executor)
    .await?
    .rows_affected())
}

/// Auto-captured channels of active sessions for a broadcaster: (session channel id,
/// session id, user id, interval in minutes).
pub async fn auto_captured(
    executor: impl Executor<'_, Database = MySql>,
    broadcaster_id: &str,
) -> Result<Vec<(u64, u64, u64, u16)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.session_id, s.user_id, c.auto_capture_interval_min FROM session_channels c \
         JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.broadcaster_id = ? AND c.auto_capture_enabled AND s.status = 'active'",
    )
    .bind(broadcaster_id)
    .fetch_all(executor)
    .await
}

/// Broadcasters auto-captured in some active session: what EventSub subscribes to.
pub async fn auto_captured_broadcasters(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT c.broadcaster_id FROM session_channels c \
         JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.auto_capture_enabled AND s.status = 'active' ORDER BY c.broadcaster_id",
    )
    .fetch_all(executor)
    .await
}

/// Stops every enabled auto-capture of a user's sessions with a reason they can read.
pub async fn stop_all_of_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE session_channels SET auto_capture_enabled = FALSE, auto_capture_stopped_at = ?, \
         auto_capture_stopped_reason = ?, updated_at = ? \
         WHERE auto_capture_enabled AND session_id IN (SELECT id FROM analysis_sessions WHERE user_id = ?)",
    )
    .bind(now)
    .bind(reason)
    .bind(now)
    .bind(user_id)
    .execute(executor)
    .await?;
    Ok(())
}
