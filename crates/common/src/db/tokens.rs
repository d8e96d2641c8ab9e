//! `twitch_tokens`: users' Twitch tokens, sealed (twitch-api seals and opens them; only it
//! calls these). One row per Twitch user.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlConnection};

/// A row as stored: sealed bytes and what is known of the tokens' state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedRow {
    pub access_token_sealed: Vec<u8>,
    pub refresh_token_sealed: Option<Vec<u8>>,
    pub scopes: String,
    pub invalid_since: Option<DateTime<Utc>>,
    pub invalid_reason: Option<String>,
}

/// Sealed tokens to write.
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub access: Vec<u8>,
    pub refresh: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a user's tokens after a code exchange: valid, validated now.
pub async fn save(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
    tokens: &SealedTokens,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO twitch_tokens (twitch_user_id, access_token_sealed, refresh_token_sealed, \
         scopes, expires_at, validated_at, invalid_since, invalid_reason, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?) \
         ON DUPLICATE KEY UPDATE access_token_sealed = VALUES(access_token_sealed), \
         refresh_token_sealed = VALUES(refresh_token_sealed), scopes = VALUES(scopes), \
         expires_at = VALUES(expires_at), validated_at = VALUES(validated_at), \
         invalid_since = NULL, invalid_reason = NULL, updated_at = VALUES(updated_at)",
    )
    .bind(twitch_user_id)
    .bind(&tokens.access)
    .bind(&tokens.refresh)
    .bind(scopes)
    .bind(tokens.expires_at)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

const ROW_COLUMNS: &str =
    "access_token_sealed, refresh_token_sealed, scopes, invalid_since, invalid_reason";

pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
) -> Result<Option<SealedRow>, sqlx::Error> {
    super::select(ROW_COLUMNS, "twitch_tokens", "twitch_user_id = ?")
        .bind(twitch_user_id)
        .fetch_optional(executor)
        .await
}

/// The user's row, locked in the caller's transaction (one refresh at a time, across
/// replicas).
pub async fn find_for_update(
    conn: &mut MySqlConnection,
    twitch_user_id: &str,
) -> Result<Option<SealedRow>, sqlx::Error> {
    super::select(
        ROW_COLUMNS,
        "twitch_tokens",
        "twitch_user_id = ? FOR UPDATE",
    )
    .bind(twitch_user_id)
    .fetch_optional(conn)
    .await
}

/// Rotated tokens (a refresh); a refresh token Twitch did not rotate is kept.
pub async fn store_refreshed(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
    tokens: &SealedTokens,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE twitch_tokens SET access_token_sealed = ?, \
         refresh_token_sealed = COALESCE(?, refresh_token_sealed), expires_at = ?, \
         updated_at = ? WHERE twitch_user_id = ?",
    )
    .bind(&tokens.access)
    .bind(&tokens.refresh)
    .bind(tokens.expires_at)
    .bind(now)
    .bind(twitch_user_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks the user's tokens unusable (refresh refused, validation failed).
pub async fn mark_invalid(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE twitch_tokens SET invalid_since = COALESCE(invalid_since, ?), \
         invalid_reason = ?, updated_at = ? WHERE twitch_user_id = ?",
    )
    .bind(now)
    .bind(reason)
    .bind(now)
    .bind(twitch_user_id)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn mark_validated(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE twitch_tokens SET validated_at = ?, updated_at = ? WHERE twitch_user_id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(twitch_user_id)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn delete(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM twitch_tokens WHERE twitch_user_id = ?")
        .bind(twitch_user_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Users with valid tokens last validated before `before` (or never), least recent first.
pub async fn stale(
    executor: impl Executor<'_, Database = MySql>,
    before: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT twitch_user_id FROM twitch_tokens WHERE invalid_since IS NULL \
         AND (validated_at IS NULL OR validated_at < ?) ORDER BY validated_at",
    )
    .bind(before)
    .fetch_all(executor)
    .await
}

/// Users whose token was marked invalid (by a refused refresh, a call, a validation) and who
/// still have a web session or an enabled auto-capture: (Twitch user id, why it was marked).
pub async fn invalid_with_access(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.twitch_user_id, t.invalid_reason FROM twitch_tokens t \
         JOIN users u ON u.twitch_user_id = t.twitch_user_id \
         WHERE t.invalid_since IS NOT NULL AND ( \
           EXISTS (SELECT 1 FROM web_sessions w WHERE w.user_id = u.id) \
           OR EXISTS (SELECT 1 FROM session_channels sc JOIN analysis_sessions s ON s.id = sc.session_id \
                      WHERE s.user_id = u.id AND sc.auto_capture_enabled))",
    )
    .fetch_all(executor)
    .await
}

/// Makes every valid token due for validation (twitch-api's start: Twitch wants tokens
/// validated at start-up; the worker's housekeeping does it within its interval).
pub async fn due_for_validation(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE twitch_tokens SET validated_at = NULL WHERE invalid_since IS NULL AND validated_at IS NOT NULL",
    )
    .execute(executor)
    .await?
    .rows_affected())
}

/// The scopes the user's stored authorization carries (none when there is none, or when it
/// is no longer valid).
pub async fn scopes_of(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let scopes: Option<String> = sqlx::query_scalar(
        "SELECT scopes FROM twitch_tokens WHERE twitch_user_id = ? AND invalid_since IS NULL",
    )
    .bind(twitch_user_id)
    .fetch_optional(executor)
    .await?;
    Ok(scopes
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect())
}
