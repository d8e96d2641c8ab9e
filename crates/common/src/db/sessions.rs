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

/// Sessions matching `condition`.
fn by(
    condition: &str,
) -> sqlx::query::QueryAs<'static, MySql, Session, sqlx::mysql::MySqlArguments> {
    super::select(SESSION_COLUMNS, "analysis_sessions", condition)
}

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

pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    id: u64,
) -> Result<Option<Session>, sqlx::Error> {
    by("id = ?").bind(id).fetch_optional(executor).await
}

pub async fn find_active(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
) -> Result<Option<Session>, sqlx::Error> {
    by("active_user_id = ?")
        .bind(user_id)
        .fetch_optional(executor)
        .await
}

/// The user's session by its public id, unless deleted.
pub async fn find_owned(
    executor: impl Executor<'_, Database = MySql>,
    public_id: &str,
    user_id: u64,
) -> Result<Option<Session>, sqlx::Error> {
    by("public_id = ? AND user_id = ? AND status <> 'deleted'")
        .bind(public_id)
        .bind(user_id)
        .fetch_optional(executor)
        .await
}

/// Activity keeps an active session alive until `expires_at`.
pub async fn touch(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analysis_sessions SET last_activity_at = ?, expires_at = ? WHERE id = ? AND status = 'active'",
    )
    .bind(now)
    .bind(expires_at)
    .bind(session_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A session in the user's list, with its capture and account counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedSession {
    pub public_id: String,
    pub name: String,
    pub status: SessionStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub captures: i64,
    pub accounts: i64,
}

/// The user's sessions (deleted ones aside), newest first, at most `limit`.
pub async fn list_for_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    limit: u32,
) -> Result<Vec<ListedSession>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.public_id, s.name, s.status, s.created_at, s.expires_at, \
         (SELECT COUNT(*) FROM captures c WHERE c.session_id = s.id) AS captures, \
         (SELECT COUNT(*) FROM session_accounts a WHERE a.session_id = s.id) AS accounts \
         FROM analysis_sessions s WHERE s.user_id = ? AND s.status <> 'deleted' \
         ORDER BY s.created_at DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn rename(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE analysis_sessions SET name = ?, updated_at = ? WHERE id = ?")
        .bind(name)
        .bind(now)
        .bind(session_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// The user's saved sessions, counted under the user's row lock (in the caller's
/// transaction): two saves at once cannot both pass the limit.
pub async fn count_saved_locked(
    conn: &mut MySqlConnection,
    user_id: u64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT id FROM users WHERE id = ? FOR UPDATE")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM analysis_sessions WHERE user_id = ? AND status = 'saved'",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// The active session becomes saved: kept, never expiring.
pub async fn save(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analysis_sessions SET status = 'saved', saved_at = ?, expires_at = NULL, updated_at = ? \
         WHERE id = ? AND status = 'active'",
    )
    .bind(now)
    .bind(now)
    .bind(session_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A saved session becomes the active one again. Fails with a unique violation when the user
/// has another active session.
pub async fn resume(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analysis_sessions SET status = 'active', saved_at = NULL, last_activity_at = ?, expires_at = ?, \
         updated_at = ? WHERE id = ? AND status = 'saved'",
    )
    .bind(now)
    .bind(expires_at)
    .bind(now)
    .bind(session_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks a session deleted and turns its auto-captures off; housekeeping purges its data in
/// bounded batches (a big session is many rows).
pub async fn mark_deleted(
    conn: &mut MySqlConnection,
    session_id: u64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analysis_sessions SET status = 'deleted', ended_at = ?, updated_at = ? WHERE id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(session_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE session_channels SET auto_capture_enabled = FALSE WHERE session_id = ?")
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Active sessions idle past their expiry: (session id, user id), at most `limit`.
pub async fn due_for_expiry(
    executor: impl Executor<'_, Database = MySql>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(u64, u64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id FROM analysis_sessions WHERE status = 'active' AND expires_at < ? LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// An idle active session becomes `expired` (its data is purged next); `false` if it was
/// touched or ended meanwhile.
pub async fn expire(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE analysis_sessions SET status = 'expired', ended_at = ?, updated_at = ? \
         WHERE id = ? AND status = 'active' AND expires_at < ?",
    )
    .bind(now)
    .bind(now)
    .bind(session_id)
    .bind(now)
    .execute(executor)
    .await?
    .rows_affected()
        == 1)
}

/// Expired and deleted sessions whose data is not purged yet: (id, status), at most `limit`.
pub async fn due_for_purge(
    executor: impl Executor<'_, Database = MySql>,
    limit: u32,
) -> Result<Vec<(u64, SessionStatus)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, status FROM analysis_sessions WHERE status IN ('expired', 'deleted') \
         AND purged_at IS NULL LIMIT ?",
    )
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// The last step of a purge, once the session's captures are gone: a deleted session goes
/// entirely; an expired one keeps its row (the user's list shows it) without its channels.
pub async fn finish_purge(
    conn: &mut MySqlConnection,
    session_id: u64,
    status: SessionStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if status == SessionStatus::Deleted {
        sqlx::query("DELETE FROM analysis_sessions WHERE id = ?")
            .bind(session_id)
            .execute(conn)
            .await?;
    } else {
        sqlx::query("DELETE FROM session_channels WHERE session_id = ?")
            .bind(session_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE analysis_sessions SET purged_at = ? WHERE id = ?")
            .bind(now)
            .bind(session_id)
            .execute(conn)
            .await?;
    }
    Ok(())
}
