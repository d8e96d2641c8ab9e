//! `oauth_states`: single-use OAuth `state` values, each bound to the browser that started
//! the login (hashes of both are stored).

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

/// Stores a state; `return_to` is the local path the browser goes back to after the login
/// (enabling actions from a page returns to that page).
pub async fn insert(
    executor: impl Executor<'_, Database = MySql>,
    state_hash: &[u8],
    browser_hash: &[u8],
    return_to: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, browser_hash, return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(return_to)
    .bind(now)
    .bind(expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Deletes the state if it is unexpired and belongs to this browser: `Some(return_to)` if it
/// did. A state works once: of two callbacks racing, one deletes it.
pub async fn consume(
    conn: &mut sqlx::MySqlConnection,
    state_hash: &[u8],
    browser_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let return_to: Option<Option<String>> = sqlx::query_scalar(
        "SELECT return_to FROM oauth_states WHERE state_hash = ? AND browser_hash = ? AND expires_at > ?",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let deleted = sqlx::query(
        "DELETE FROM oauth_states WHERE state_hash = ? AND browser_hash = ? AND expires_at > ?",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(return_to.filter(|_| deleted == 1))
}

/// Deletes up to `limit` expired states.
pub async fn delete_expired(
    executor: impl Executor<'_, Database = MySql>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < ? LIMIT ?")
            .bind(now)
            .bind(limit)
            .execute(executor)
            .await?
            .rows_affected(),
    )
}
