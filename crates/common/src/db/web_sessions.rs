//! `web_sessions`: a browser's login to the app (not to be confused with analysis sessions).
//! Only the SHA-256 of the cookie's token is stored.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

/// A live web session and its user, as the gateway's login check reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebSessionUser {
    pub web_session_id: u64,
    pub csrf_secret: Vec<u8>,
    pub last_seen_at: DateTime<Utc>,
    pub user_id: u64,
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// The unexpired web session whose token hashes to `token_hash`, with its user.
pub async fn find_live(
    executor: impl Executor<'_, Database = MySql>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<WebSessionUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.id AS web_session_id, w.csrf_secret, w.last_seen_at, \
         u.id AS user_id, u.twitch_user_id, u.login, u.display_name, u.avatar_url \
         FROM web_sessions w JOIN users u ON u.id = w.user_id \
         WHERE w.token_hash = ? AND w.expires_at > ? AND w.absolute_expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .bind(now)
    .fetch_optional(executor)
    .await
}

/// Slides a session's idle expiry to `idle_until`, never past its absolute expiry.
pub async fn slide(
    executor: impl Executor<'_, Database = MySql>,
    web_session_id: u64,
    now: DateTime<Utc>,
    idle_until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE web_sessions SET last_seen_at = ?, expires_at = LEAST(?, absolute_expires_at) WHERE id = ?",
    )
    .bind(now)
    .bind(idle_until)
    .bind(web_session_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A web session about to start.
#[derive(Debug, Clone)]
pub struct NewWebSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: u64,
    pub csrf_secret: &'a [u8],
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub idle_until: DateTime<Utc>,
    pub absolute_until: DateTime<Utc>,
}

pub async fn insert(
    executor: impl Executor<'_, Database = MySql>,
    session: &NewWebSession<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_secret, user_agent, ip, created_at, last_seen_at, \
         expires_at, absolute_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(session.token_hash)
    .bind(session.user_id)
    .bind(session.csrf_secret)
    .bind(
        session
            .user_agent
            .map(|ua| ua.chars().take(255).collect::<String>()),
    )
    .bind(session.ip)
    .bind(now)
    .bind(now)
    .bind(session.idle_until)
    .bind(session.absolute_until)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn delete(
    executor: impl Executor<'_, Database = MySql>,
    web_session_id: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM web_sessions WHERE id = ?")
        .bind(web_session_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Ends every web session of a user (their Twitch authorization ended).
pub async fn delete_for_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM web_sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(executor)
        .await?
        .rows_affected())
}

/// Deletes up to `limit` expired web sessions; returns how many.
pub async fn delete_expired(
    executor: impl Executor<'_, Database = MySql>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM web_sessions WHERE expires_at < ? OR absolute_expires_at < ? LIMIT ?",
    )
    .bind(now)
    .bind(now)
    .bind(limit)
    .execute(executor)
    .await?
    .rows_affected())
}
