//! The token store: users' Twitch tokens, sealed before they reach `twitch_tokens`
//! (`tca_common::db::tokens`) and opened after. Only twitch-api reads or writes that table.

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};
use tca_common::db::tokens::{self, SealedRow, SealedTokens};
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

    fn open(&self, user_id: &str, row: SealedRow) -> Result<StoredTokens, StoreError> {
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
    ) -> Result<SealedTokens, StoreError> {
        Ok(SealedTokens {
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
        let sealed = self.seal(user_id, tokens, now)?;
        tokens::save(&self.pool, user_id, &sealed, &tokens.scopes.join(" "), now).await?;
        Ok(())
    }

    pub async fn load(&self, user_id: &str) -> Result<Option<StoredTokens>, StoreError> {
        let row = tokens::find(&self.pool, user_id).await?;
        row.map(|row| self.open(user_id, row)).transpose()
    }

    /// Starts a refresh: locks the user's row (so concurrent callers, in this process or in
    /// another replica, refresh once) and returns its tokens.
    pub async fn lock_for_refresh(
        &self,
        user_id: &str,
    ) -> Result<(Transaction<'static, MySql>, Option<StoredTokens>), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = tokens::find_for_update(&mut tx, user_id).await?;
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
        let sealed = self.seal(user_id, tokens, now)?;
        tokens::store_refreshed(&mut **tx, user_id, &sealed, now).await?;
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
        tokens::mark_invalid(executor, user_id, reason, now).await
    }

    pub async fn mark_validated(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tokens::mark_validated(&self.pool, user_id, now).await?;
        Ok(())
    }

    pub async fn delete(&self, user_id: &str) -> Result<(), StoreError> {
        tokens::delete(&self.pool, user_id).await?;
        Ok(())
    }

    /// Users with valid tokens last validated before `before` (or never).
    pub async fn stale(&self, before: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        Ok(tokens::stale(&self.pool, before).await?)
    }
}
