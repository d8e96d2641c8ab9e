//! Captures: one listing of one channel's chatters, and the job that takes it.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlConnection};

use super::audit::{self, Event, Subject};
use super::jobs::{self, JobKind, NewJob, QueueError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTrigger {
    Manual,
    Auto,
    /// Queued on an EventSub event: a stream going live or offline, a raid (docs/live.md).
    Event,
}

impl CaptureTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Auto => "auto",
            Self::Event => "event",
        }
    }
}

impl std::str::FromStr for CaptureTrigger {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "manual" => Ok(Self::Manual),
            "auto" => Ok(Self::Auto),
            "event" => Ok(Self::Event),
            other => Err(format!("unknown capture trigger '{other}'")),
        }
    }
}

crate::sql_string_enum!(CaptureTrigger);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl CaptureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

impl std::str::FromStr for CaptureStatus {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(format!("unknown capture status '{other}'")),
        })
    }
}

crate::sql_string_enum!(CaptureStatus);

/// The payload of a `capture_chatters` job.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct CaptureJob {
    pub capture_id: u64,
}

/// Requests a capture of a session's channel: the capture row (queued), its job and the
/// audit entry, in the caller's transaction. Every request goes through here: "Capture now",
/// auto-capture and the test driver. Returns the capture id.
pub async fn request(
    conn: &mut MySqlConnection,
    session_channel_id: u64,
    requested_by: u64,
    trigger: CaptureTrigger,
    now: DateTime<Utc>,
) -> Result<u64, QueueError> {
    let capture_id = sqlx::query(
        "INSERT INTO captures (session_id, session_channel_id, broadcaster_id, broadcaster_login, \
         requested_by, capture_trigger, status, queued_at) \
         SELECT session_id, id, broadcaster_id, broadcaster_login, ?, ?, 'queued', ? \
         FROM session_channels WHERE id = ?",
    )
    .bind(requested_by)
    .bind(trigger)
    .bind(now)
    .bind(session_channel_id)
    .execute(&mut *conn)
    .await?
    .last_insert_id();
    if capture_id == 0 {
        return Err(QueueError::Invalid("no such session channel"));
    }
    let job = NewJob::new(
        JobKind::CaptureChatters.as_str(),
        &CaptureJob { capture_id },
        now,
    )?
    // A person waits for manual captures; scheduled ones can wait a little.
    .priority(if trigger == CaptureTrigger::Manual {
        10
    } else {
        5
    })
    .max_attempts(CAPTURE_MAX_ATTEMPTS);
    jobs::enqueue(&mut *conn, &job, now).await?;
    let (session_id, channel): (u64, String) =
        sqlx::query_as("SELECT session_id, broadcaster_login FROM captures WHERE id = ?")
            .bind(capture_id)
            .fetch_one(&mut *conn)
            .await?;
    audit::record(
        &mut *conn,
        &Event::CaptureRequest {
            capture_id,
            channel,
        },
        Subject::session(Some(requested_by), session_id),
        now,
    )
    .await?;
    Ok(capture_id)
}

/// A capture as pages show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Capture {
    pub id: u64,
    pub broadcaster_login: String,
    pub capture_trigger: CaptureTrigger,
    pub status: CaptureStatus,
    pub chatters_count: Option<u32>,
    pub new_in_session_count: Option<u32>,
    pub viewer_count: Option<u32>,
    pub stream_live: Option<bool>,
    pub queued_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

const CAPTURE_COLUMNS: &str = "id, broadcaster_login, capture_trigger, status, chatters_count, new_in_session_count, \
     viewer_count, stream_live, queued_at, finished_at, error";

/// A session's most recent captures, newest first.
pub async fn recent_of_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    limit: u32,
) -> Result<Vec<Capture>, sqlx::Error> {
    super::select(
        CAPTURE_COLUMNS,
        "captures",
        "session_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(session_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// One capture of a session.
pub async fn find_in_session(
    executor: impl Executor<'_, Database = MySql>,
    capture_id: u64,
    session_id: u64,
) -> Result<Option<Capture>, sqlx::Error> {
    super::select(CAPTURE_COLUMNS, "captures", "id = ? AND session_id = ?")
        .bind(capture_id)
        .bind(session_id)
        .fetch_optional(executor)
        .await
}

/// The session's distinct accounts, from its finished captures. Each capture stores how many
/// of its accounts were new to the session (captures of a session are written one at a time),
/// so their sum is the count: a sum over captures instead of counting every account on every
/// page view and every second of the live-update stream.
pub async fn distinct_accounts_of_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<u64, sqlx::Error> {
    let sum: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(new_in_session_count), 0) AS SIGNED) FROM captures \
         WHERE session_id = ? AND status = 'done'",
    )
    .bind(session_id)
    .fetch_one(executor)
    .await?;
    Ok(sum.max(0) as u64)
}

/// The latest capture of a channel, in any of a user's sessions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestCapture {
    pub broadcaster_id: String,
    pub status: CaptureStatus,
    pub chatters_count: Option<u32>,
    pub queued_at: DateTime<Utc>,
    pub public_id: String,
}

/// The user's latest capture of each channel they ever captured.
pub async fn latest_per_channel_of_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
) -> Result<Vec<LatestCapture>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.broadcaster_id, c.status, c.chatters_count, c.queued_at, s.public_id FROM captures c \
         JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.id IN (SELECT MAX(c2.id) FROM captures c2 JOIN analysis_sessions s2 ON s2.id = c2.session_id \
                        WHERE s2.user_id = ? GROUP BY c2.broadcaster_id)",
    )
    .bind(user_id)
    .fetch_all(executor)
    .await
}

/// The unfinished capture of a session channel, if any, its row locked first so that two
/// "Capture now" at once see each other (fairness: one unfinished capture per channel).
pub async fn unfinished_of_channel_locked(
    conn: &mut MySqlConnection,
    session_channel_id: u64,
) -> Result<Option<u64>, sqlx::Error> {
    sqlx::query("SELECT id FROM session_channels WHERE id = ? FOR UPDATE")
        .bind(session_channel_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "SELECT id FROM captures WHERE session_channel_id = ? AND status IN ('queued', 'running') \
         ORDER BY id LIMIT 1",
    )
    .bind(session_channel_id)
    .fetch_optional(conn)
    .await
}

/// Captures queued or running in any session of `user_id` (fairness: a per-user cap).
pub async fn unfinished_of_user(
    conn: &mut MySqlConnection,
    user_id: u64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM captures c JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE s.user_id = ? AND c.status IN ('queued', 'running')",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Unfinished captures of a session channel (auto-capture does not pile them up).
pub async fn unfinished_for_channel(
    conn: &mut MySqlConnection,
    session_channel_id: u64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM captures WHERE session_channel_id = ? AND status IN ('queued', 'running')",
    )
    .bind(session_channel_id)
    .fetch_one(conn)
    .await
}

/// Attempts of a capture job. With the worker's default backoff (5 s doubling, jittered,
/// at most 10 min) eight attempts span about ten minutes: an outage of Twitch or id.twitch.tv
/// that long — refreshes failing included — loses no capture (it completes afterwards).
pub const CAPTURE_MAX_ATTEMPTS: u32 = 8;

/// Account enrichment is a singleton (one dedupe key) any capture can kick.
pub const ENRICH_DEDUPE_KEY: &str = "enrich";

/// Makes sure an enrichment job is pending (no-op if one is queued or running).
pub async fn kick_enrichment(
    executor: impl Executor<'_, Database = MySql>,
    now: DateTime<Utc>,
) -> Result<(), QueueError> {
    let job = NewJob::new(
        JobKind::EnrichAccounts.as_str(),
        &serde_json::json!({}),
        now,
    )?
    .dedupe_key(ENRICH_DEDUPE_KEY)
    .priority(1)
    .max_attempts(10);
    jobs::enqueue(executor, &job, now).await?;
    Ok(())
}

/// A capture as the worker runs it: where it goes, who asked, and the state of its session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaptureToRun {
    pub id: u64,
    pub session_id: u64,
    pub session_channel_id: u64,
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub status: CaptureStatus,
    pub capture_trigger: CaptureTrigger,
    pub requested_by: Option<u64>,
    pub session_status: super::sessions::SessionStatus,
    /// The Twitch id of the moderator who asked (`None` once their account is gone).
    pub moderator_twitch_id: Option<String>,
}

pub async fn load_to_run(
    executor: impl Executor<'_, Database = MySql>,
    capture_id: u64,
) -> Result<Option<CaptureToRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.session_id, c.session_channel_id, c.broadcaster_id, c.broadcaster_login, c.status, \
         c.capture_trigger, c.requested_by, s.status AS session_status, u.twitch_user_id AS moderator_twitch_id \
         FROM captures c JOIN analysis_sessions s ON s.id = c.session_id \
         LEFT JOIN users u ON u.id = c.requested_by WHERE c.id = ?",
    )
    .bind(capture_id)
    .fetch_optional(executor)
    .await
}

/// A run of a queued (or interrupted) capture starts: the capture is `running` (its first
/// start kept), and the capture rows an interrupted earlier run wrote page by page
/// (`presence::record_page`) are removed so that this run writes its own. Under the capture
/// row's lock, which the final transaction takes too: a capture finished meanwhile keeps
/// its status and its rows. `false` if the capture is finished (or gone).
pub async fn start_run(
    pool: &sqlx::MySqlPool,
    capture_id: u64,
    started_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let status: Option<CaptureStatus> =
        sqlx::query_scalar("SELECT status FROM captures WHERE id = ? FOR UPDATE")
            .bind(capture_id)
            .fetch_optional(&mut *tx)
            .await?;
    if status.is_none_or(CaptureStatus::is_finished) {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "UPDATE captures SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?",
    )
    .bind(started_at)
    .bind(capture_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM capture_chatters WHERE capture_id = ?")
        .bind(capture_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends an unfinished capture as failed with a message the user can read, and writes the
/// `capture_fail` audit entry, in the caller's transaction. `false` if it had already ended.
pub async fn fail(
    conn: &mut MySqlConnection,
    capture: &CaptureToRun,
    message: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE captures SET status = 'failed', error = ?, finished_at = ? \
         WHERE id = ? AND status IN ('queued', 'running')",
    )
    .bind(message)
    .bind(now)
    .bind(capture.id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if changed {
        // Rows its pages wrote (`presence::record_page`): a failed capture has no chatters.
        sqlx::query("DELETE FROM capture_chatters WHERE capture_id = ?")
            .bind(capture.id)
            .execute(&mut *conn)
            .await?;
        audit::record(
            &mut *conn,
            &Event::CaptureFail {
                capture_id: capture.id,
                channel: capture.broadcaster_login.clone(),
                error: message.to_string(),
            },
            Subject::session(capture.requested_by, capture.session_id),
            now,
        )
        .await?;
    }
    Ok(changed)
}

/// Locks the capture for storing its listing, in the caller's transaction — the session's row
/// first (captures of one session are written one at a time), then the capture's. Returns the
/// capture's status (`None`: it was deleted with its session).
pub async fn lock_for_store(
    conn: &mut MySqlConnection,
    session_id: u64,
    capture_id: u64,
) -> Result<Option<CaptureStatus>, sqlx::Error> {
    sqlx::query("SELECT id FROM analysis_sessions WHERE id = ? FOR UPDATE")
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT status FROM captures WHERE id = ? FOR UPDATE")
        .bind(capture_id)
        .fetch_optional(conn)
        .await
}

/// What a finished listing found.
#[derive(Debug, Clone)]
pub struct Listing {
    pub chatters: u32,
    pub new_in_session: u32,
    pub pages: u32,
    /// Viewers, title and game when the stream was live.
    pub live: Option<(u32, String, String)>,
}

/// Marks a capture done with its listing's numbers and writes `capture_complete`, in the
/// caller's transaction.
pub async fn mark_done(
    conn: &mut MySqlConnection,
    capture: &CaptureToRun,
    listing: &Listing,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let live = listing.live.as_ref();
    sqlx::query(
        "UPDATE captures SET status = 'done', error = NULL, started_at = COALESCE(started_at, ?), finished_at = ?, \
         chatters_count = ?, new_in_session_count = ?, pages_fetched = ?, viewer_count = ?, stream_live = ?, \
         stream_title = ?, stream_game = ? WHERE id = ?",
    )
    .bind(started_at)
    .bind(now)
    .bind(listing.chatters)
    .bind(listing.new_in_session)
    .bind(listing.pages)
    .bind(live.map(|(viewers, _, _)| *viewers))
    .bind(live.is_some())
    .bind(live.map(|(_, title, _)| truncate(title, 255)))
    .bind(live.map(|(_, _, game)| truncate(game, 255)))
    .bind(capture.id)
    .execute(&mut *conn)
    .await?;
    audit::record(
        &mut *conn,
        &Event::CaptureComplete {
            capture_id: capture.id,
            channel: capture.broadcaster_login.clone(),
            chatters: u64::from(listing.chatters),
            new_in_session: u64::from(listing.new_in_session),
        },
        Subject::session(capture.requested_by, capture.session_id),
        now,
    )
    .await
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Deletes a session's captures (their presence rows are purged first, `presence`).
pub async fn delete_of_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM captures WHERE session_id = ?")
        .bind(session_id)
        .execute(executor)
        .await?;
    Ok(())
}
