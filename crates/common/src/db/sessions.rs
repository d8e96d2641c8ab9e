//! Analysis sessions and the channels they cover.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Active,
    Saved,
    Expired,
    Deleted,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Saved => "saved",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
        }
    }
}

impl std::str::FromStr for SessionStatus {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "active" => Self::Active,
            "saved" => Self::Saved,
            "expired" => Self::Expired,
            "deleted" => Self::Deleted,
            other => return Err(format!("unknown session status '{other}'")),
        })
    }
}

crate::sql_string_enum!(SessionStatus);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: u64,
    pub public_id: String,
    pub user_id: u64,
    pub name: String,
    pub status: SessionStatus,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

const SESSION_COLUMNS: &str =
    "id, public_id, user_id, name, status, created_at, last_activity_at, expires_at";

fn until(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1))
}

/// Creates the user's active session. Fails with a unique violation if one is active already
/// (the database admits one per user).
pub async fn create_active(
    conn: &mut MySqlConnection,
    user_id: u64,
    name: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Session, sqlx::Error> {
    let public_id = uuid::Uuid::new_v4().to_string();
    let id = sqlx::query(
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, \
         last_activity_at, expires_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?)",
    )
    .bind(&public_id)
    .bind(user_id)
    .bind(name)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(until(now, ttl))
    .execute(&mut *conn)
    .await?
    .last_insert_id();
    find(&mut *conn, id).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn find<'e, E>(executor: E, id: u64) -> Result<Option<Session>, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM analysis_sessions WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

pub async fn find_active<'e, E>(executor: E, user_id: u64) -> Result<Option<Session>, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM analysis_sessions WHERE active_user_id = ?"
    )))
    .bind(user_id)
    .fetch_optional(executor)
    .await
}

/// Adds a channel to a session (or refreshes its names); returns the session channel's id.
pub async fn ensure_channel<'e, E>(
    executor: E,
    session_id: u64,
    broadcaster_id: &str,
    broadcaster_login: &str,
    broadcaster_name: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
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
}

pub async fn find_channel<'e, E>(
    executor: E,
    session_channel_id: u64,
) -> Result<Option<SessionChannel>, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    sqlx::query_as(
        "SELECT id, session_id, broadcaster_id, broadcaster_login, broadcaster_name, auto_capture_enabled, \
         auto_capture_interval_min, auto_capture_only_live, auto_capture_stopped_reason \
         FROM session_channels WHERE id = ?",
    )
    .bind(session_channel_id)
    .fetch_optional(executor)
    .await
}

/// Turns auto-capture on with its settings (clearing any previous stop reason).
pub async fn enable_auto_capture<'e, E>(
    executor: E,
    session_channel_id: u64,
    interval_minutes: u16,
    only_while_live: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
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

/// Stops auto-capture with a reason the user can read.
pub async fn stop_auto_capture<'e, E>(
    executor: E,
    session_channel_id: u64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    sqlx::query(
        "UPDATE session_channels SET auto_capture_enabled = FALSE, auto_capture_stopped_at = ?, \
         auto_capture_stopped_reason = ?, updated_at = ? WHERE id = ?",
    )
    .bind(now)
    .bind(reason)
    .bind(now)
    .bind(session_channel_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// The job kind and dedupe key of a channel's recurring auto-capture.
pub const AUTO_CAPTURE_JOB_KIND: &str = "auto_capture";

pub fn auto_capture_dedupe_key(session_id: u64, broadcaster_id: &str) -> String {
    format!("auto:{session_id}:{broadcaster_id}")
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct AutoCaptureJob {
    pub session_channel_id: u64,
}
