//! `enrich_accounts`: a singleton (dedupe key `enrich`) that fills in Get Users data for
//! accounts never enriched or enriched longer ago than `ENRICH_TTL`, and marks accounts Twitch
//! no longer returns as missing (suspended or deleted). It works through the backlog in
//! batches, committing each, and defers itself when Twitch's rate limit says wait.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use tca_common::db::jobs::ClaimedJob;
use tca_common::db::jobs::JobKind;
use tca_common::twitch_api::{TwitchApiError, TwitchUser};

use crate::context::Context;
use crate::registry::JobError;

pub const KIND: &str = JobKind::EnrichAccounts.as_str();

/// Ids per look-up: twitch-api splits them into Twitch calls of 100, several at once.
const BATCH: usize = 1000;
/// One run stops after this long and lets other jobs have the slot; it re-queues itself.
const RUN_BUDGET: Duration = Duration::from_secs(120);

#[derive(sqlx::FromRow)]
struct Candidate {
    id: u64,
    twitch_user_id: String,
}

/// Accounts needing enrichment: never enriched first, then the stalest.
async fn candidates(
    pool: &MySqlPool,
    stale_before: DateTime<Utc>,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let mut found: Vec<Candidate> = sqlx::query_as(
        "SELECT id, twitch_user_id FROM twitch_accounts WHERE enriched_at IS NULL ORDER BY id LIMIT ?",
    )
    .bind(BATCH as u32)
    .fetch_all(pool)
    .await?;
    if found.len() < BATCH {
        let stale: Vec<Candidate> = sqlx::query_as(
            "SELECT id, twitch_user_id FROM twitch_accounts WHERE enriched_at < ? ORDER BY enriched_at LIMIT ?",
        )
        .bind(stale_before)
        .bind((BATCH - found.len()) as u32)
        .fetch_all(pool)
        .await?;
        found.extend(stale);
    }
    Ok(found)
}

/// Accounts waiting for their first enrichment (a metric and a housekeeping trigger).
pub async fn backlog(pool: &MySqlPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM twitch_accounts WHERE enriched_at IS NULL")
        .fetch_one(pool)
        .await
}

pub async fn run(ctx: Arc<Context>, _job: ClaimedJob) -> Result<(), JobError> {
    let started = Instant::now();
    let ttl =
        chrono::Duration::from_std(ctx.settings.enrich_ttl).unwrap_or(chrono::Duration::days(7));
    loop {
        let now = Utc::now();
        let batch = candidates(&ctx.pool, now - ttl).await?;
        if batch.is_empty() {
            // Housekeeping reports the backlog every minute; a finished run knows it is done.
            metrics::gauge!("enrichment_backlog").set(backlog(&ctx.pool).await? as f64);
            return Ok(());
        }
        let ids: Vec<String> = batch.iter().map(|c| c.twitch_user_id.clone()).collect();
        let users = match ctx
            .twitch
            .users_by_id(&ids, None, Some(Duration::from_secs(20)))
            .await
        {
            Ok(users) => users,
            Err(TwitchApiError::RateLimited { retry_after }) => {
                return Err(JobError::Defer {
                    until: Utc::now()
                        + chrono::Duration::from_std(retry_after)
                            .unwrap_or(chrono::Duration::seconds(60)),
                    reason: "Twitch rate limit: enrichment continues when the bucket refills"
                        .into(),
                });
            }
            Err(e) => return Err(JobError::Retry(anyhow::anyhow!(e))),
        };
        store(&ctx.pool, &batch, users, Utc::now()).await?;
        metrics::counter!("accounts_enriched_total").increment(batch.len() as u64);
        if started.elapsed() > RUN_BUDGET {
            return Err(JobError::Defer {
                until: Utc::now(),
                reason: "enrichment continues in a new run".into(),
            });
        }
    }
}

async fn store(
    pool: &MySqlPool,
    batch: &[Candidate],
    users: Vec<TwitchUser>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let by_twitch_id: HashMap<String, TwitchUser> =
        users.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut found: Vec<(u64, &TwitchUser)> = Vec::new();
    let mut missing: Vec<u64> = Vec::new();
    for candidate in batch {
        match by_twitch_id.get(&candidate.twitch_user_id) {
            Some(user) => found.push((candidate.id, user)),
            None => missing.push(candidate.id),
        }
    }
    let mut tx = pool.begin().await?;
    if !found.is_empty() {
        // Upsert by primary key: every row exists, so this is a multi-row UPDATE in one
        // statement. login and display_name are required by the INSERT form only.
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO twitch_accounts (id, twitch_user_id, login, display_name, first_seen_at, last_seen_at, \
             twitch_created_at, account_type, broadcaster_type, description_empty, default_avatar, \
             profile_image_url, enriched_at, missing_since) ",
        );
        q.push_values(&found, |mut row, (id, user)| {
            row.push_bind(*id)
                .push_bind(&user.id)
                .push_bind(&user.login)
                .push_bind(&user.display_name)
                .push_bind(now)
                .push_bind(now)
                .push_bind(user.created_at)
                .push_bind(&user.user_type)
                .push_bind(&user.broadcaster_type)
                .push_bind(user.description.trim().is_empty())
                .push_bind(user.has_default_avatar())
                .push_bind(truncate(&user.profile_image_url, 512))
                .push_bind(now)
                .push("NULL");
        });
        q.push(
            " ON DUPLICATE KEY UPDATE twitch_created_at = VALUES(twitch_created_at), \
             account_type = VALUES(account_type), broadcaster_type = VALUES(broadcaster_type), \
             description_empty = VALUES(description_empty), default_avatar = VALUES(default_avatar), \
             profile_image_url = VALUES(profile_image_url), enriched_at = VALUES(enriched_at), missing_since = NULL",
        );
        q.build().execute(&mut *tx).await?;
    }
    if !missing.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "UPDATE twitch_accounts SET missing_since = COALESCE(missing_since, ",
        );
        q.push_bind(now)
            .push("), enriched_at = ")
            .push_bind(now)
            .push(" WHERE id IN (");
        let mut list = q.separated(", ");
        for id in &missing {
            list.push_bind(*id);
        }
        q.push(")");
        q.build().execute(&mut *tx).await?;
        metrics::counter!("accounts_missing_total").increment(missing.len() as u64);
    }
    tx.commit().await
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
