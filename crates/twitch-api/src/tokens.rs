//! The token store: users' Twitch tokens in `twitch_tokens`, sealed. Only twitch-api reads or
//! writes this table.

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};
use tca_common::sealing::{SealError, Sealer};

#[derive(Debug, Clone)]
pub struct StoredTokens {
    pub access: String,
    pub refresh: Option<String>,
    pub scopes: Vec<String>,
    pub invalid_reason: Option<String>,
    pub invalid: bool,
}

/// Tokens just received from Twitch.
#[derive(Debug, Clone)]
pub struct FreshTokens {
    pub access: String,
    pub refresh: Option<String>,
    pub scopes: Vec<String>,
    pub expires_in: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Seal(#[from] SealError),
}

struct Sealed {
    access: Vec<u8>,
    refresh: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    access_token_sealed: Vec<u8>,
    refresh_token_sealed: Option<Vec<u8>>,
    scopes: String,
    invalid_since: Option<DateTime<Utc>>,
    invalid_reason: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TokenStore {
    pool: MySqlPool,
    sealer: Sealer,
}

/// Binds a sealed value to its row and column.
fn context(user_id: &str, field: &str) -> String {
    format!("twitch_tokens:{user_id}:{field}")
}

impl TokenStore {
    pub fn new(pool: MySqlPool, sealer: Sealer) -> Self {
        Self { pool, sealer }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    fn open(&self, user_id: &str, row: Row) -> Result<StoredTokens, StoreError> {
        Ok(StoredTokens {
            access: self
                .sealer
                .open_string(&row.access_token_sealed, &context(user_id, "access"))?,
            refresh: row
                .refresh_token_sealed
                .map(|sealed| {
                    self.sealer
                        .open_string(&sealed, &context(user_id, "refresh"))
                })
                .transpose()?,
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
            invalid: row.invalid_since.is_some(),
            invalid_reason: row.invalid_reason,
        })
    }

    /// The sealed access token, sealed refresh token and expiry of fresh tokens.
    fn seal(
        &self,
        user_id: &str,
        tokens: &FreshTokens,
        now: DateTime<Utc>,
    ) -> Result<Sealed, StoreError> {
        Ok(Sealed {
            access: self
                .sealer
                .seal(tokens.access.as_bytes(), &context(user_id, "access"))?,
            refresh: tokens
                .refresh
                .as_ref()
                .map(|r| self.sealer.seal(r.as_bytes(), &context(user_id, "refresh")))
                .transpose()?,
            expires_at: tokens
                .expires_in
                .map(|s| now + chrono::Duration::seconds(s as i64)),
        })
    }

    /// Stores a user's tokens (after a code exchange): valid, validated now.
    pub async fn save(
        &self,
        user_id: &str,
        tokens: &FreshTokens,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Sealed {
            access,
            refresh,
            expires_at,
        } = self.seal(user_id, tokens, now)?;
        sqlx::query(
            "INSERT INTO twitch_tokens (twitch_user_id, access_token_sealed, refresh_token_sealed, \
             scopes, expires_at, validated_at, invalid_since, invalid_reason, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?) \
             ON DUPLICATE KEY UPDATE access_token_sealed = VALUES(access_token_sealed), \
             refresh_token_sealed = VALUES(refresh_token_sealed), scopes = VALUES(scopes), \
             expires_at = VALUES(expires_at), validated_at = VALUES(validated_at), \
             invalid_since = NULL, invalid_reason = NULL, updated_at = VALUES(updated_at)",
        )
        .bind(user_id)
        .bind(access)
        .bind(refresh)
        .bind(tokens.scopes.join(" "))
        .bind(expires_at)
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn load(&self, user_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT access_token_sealed, refresh_token_sealed, scopes, invalid_since, invalid_reason \
             FROM twitch_tokens WHERE twitch_user_id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.open(user_id, row)).transpose()
    }

    /// Starts a refresh: locks the user's row (so concurrent callers, in this process or in
    /// another replica, refresh once) and returns its tokens.
    pub async fn lock_for_refresh(
        &self,
        user_id: &str,
    ) -> Result<(Transaction<'static, MySql>, Option<StoredTokens>), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<Row> = sqlx::query_as(
            "SELECT access_token_sealed, refresh_token_sealed, scopes, invalid_since, invalid_reason \
             FROM twitch_tokens WHERE twitch_user_id = ? FOR UPDATE",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let tokens = row.map(|row| self.open(user_id, row)).transpose()?;
        Ok((tx, tokens))
    }

    /// Stores rotated tokens inside the refresh's transaction.
    pub async fn store_refreshed(
        &self,
        tx: &mut Transaction<'static, MySql>,
        user_id: &str,
        tokens: &FreshTokens,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Sealed {
            access,
            refresh,
            expires_at,
        } = self.seal(user_id, tokens, now)?;
        sqlx::query(
            "UPDATE twitch_tokens SET access_token_sealed = ?, \
             refresh_token_sealed = COALESCE(?, refresh_token_sealed), expires_at = ?, \
             updated_at = ? WHERE twitch_user_id = ?",
        )
        .bind(access)
        .bind(refresh)
        .bind(expires_at)
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Marks the user's tokens unusable (refresh refused, validation failed).
    pub async fn mark_invalid<'e, E>(
        executor: E,
        user_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = MySql>,
    {
        sqlx::query(
            "UPDATE twitch_tokens SET invalid_since = COALESCE(invalid_since, ?), \
             invalid_reason = ?, updated_at = ? WHERE twitch_user_id = ?",
        )
        .bind(now)
        .bind(reason)
        .bind(now)
        .bind(user_id)
        .execute(executor)
        .await?;
        Ok(())
    }

    pub async fn mark_validated(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE twitch_tokens SET validated_at = ?, updated_at = ? WHERE twitch_user_id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM twitch_tokens WHERE twitch_user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Users with valid tokens last validated before `before` (or never).
    pub async fn stale(&self, before: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT twitch_user_id FROM twitch_tokens WHERE invalid_since IS NULL \
             AND (validated_at IS NULL OR validated_at < ?) ORDER BY validated_at",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?)
    }
}
