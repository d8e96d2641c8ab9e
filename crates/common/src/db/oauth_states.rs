//! `oauth_states`: single-use OAuth `state` values, each bound to the browser that started
//! the login (hashes of both are stored).

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

pub async fn insert(
    executor: impl Executor<'_, Database = MySql>,
    state_hash: &[u8],
    browser_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, browser_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(now)
    .bind(expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Deletes the state if it is unexpired and belongs to this browser: `true` if it did. A
/// state works once.
pub async fn consume(
    executor: impl Executor<'_, Database = MySql>,
    state_hash: &[u8],
    browser_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM oauth_states WHERE state_hash = ? AND browser_hash = ? AND expires_at > ?",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(now)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(deleted == 1)
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
