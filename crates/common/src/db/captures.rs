//! Captures: one listing of one channel's chatters, and the job that takes it.

use chrono::{DateTime, Utc};
use sqlx::MySqlConnection;

use super::jobs::{self, NewJob, QueueError};

pub const CAPTURE_JOB_KIND: &str = "capture_chatters";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTrigger {
    Manual,
    Auto,
}

impl CaptureTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Auto => "auto",
        }
    }
}

impl std::str::FromStr for CaptureTrigger {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "manual" => Ok(Self::Manual),
            "auto" => Ok(Self::Auto),
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

/// Inserts a queued capture and its job in the caller's transaction; returns the capture id.
pub async fn insert_queued(
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
    let job = NewJob::new(CAPTURE_JOB_KIND, &CaptureJob { capture_id }, now)?
        // A person waits for manual captures; scheduled ones can wait a little.
        .priority(if trigger == CaptureTrigger::Manual {
            10
        } else {
            5
        });
    jobs::enqueue(&mut *conn, &job, now).await?;
    Ok(capture_id)
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

/// The job kind of account enrichment, a singleton (one dedupe key) any capture can kick.
pub const ENRICH_JOB_KIND: &str = "enrich_accounts";
pub const ENRICH_DEDUPE_KEY: &str = "enrich";
pub const HOUSEKEEPING_JOB_KIND: &str = "housekeeping";
pub const HOUSEKEEPING_DEDUPE_KEY: &str = "housekeeping";

/// Makes sure an enrichment job is pending (no-op if one is queued or running).
pub async fn kick_enrichment<'e, E>(executor: E, now: DateTime<Utc>) -> Result<(), QueueError>
where
    E: sqlx::Executor<'e, Database = sqlx::MySql>,
{
    let job = NewJob::new(ENRICH_JOB_KIND, &serde_json::json!({}), now)?
        .dedupe_key(ENRICH_DEDUPE_KEY)
        .priority(1)
        .max_attempts(10);
    jobs::enqueue(executor, &job, now).await?;
    Ok(())
}
