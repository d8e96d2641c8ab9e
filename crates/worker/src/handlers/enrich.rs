//! `enrich_accounts`: a singleton (dedupe key `enrich`) that fills in Get Users data for
//! accounts never enriched or enriched longer ago than `ENRICH_TTL`, and marks accounts Twitch
//! no longer returns as missing (suspended or deleted). It works through the backlog in
//! batches, committing each, and defers itself when Twitch's rate limit says wait.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::accounts::{self, EnrichmentCandidate, Profile};
use tca_common::db::jobs::{ClaimedJob, JobKind};
use tca_common::twitch_api::{TwitchApiError, TwitchUser};

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::EnrichAccounts.as_str();

/// Ids per look-up: twitch-api splits them into Twitch calls of 100, several at once.
const BATCH: u32 = 1000;
/// One run stops after this long and lets other jobs have the slot; it re-queues itself.
const RUN_BUDGET: Duration = Duration::from_secs(120);

/// Accounts waiting for their first enrichment (a metric and a housekeeping trigger).
pub async fn backlog(pool: &MySqlPool) -> Result<i64, sqlx::Error> {
    accounts::unenriched_count(pool).await
}

pub async fn run(ctx: Arc<Context>, _job: ClaimedJob) -> JobResult {
    let started = Instant::now();
    let ttl =
        chrono::Duration::from_std(ctx.settings.enrich_ttl).unwrap_or(chrono::Duration::days(7));
    loop {
        let now = Utc::now();
        let batch = accounts::enrichment_candidates(&ctx.pool, now - ttl, BATCH).await?;
        if batch.is_empty() {
            // Housekeeping reports the backlog every minute; a finished run knows it is done.
            metrics::gauge!("enrichment_backlog").set(backlog(&ctx.pool).await? as f64);
            return Ok(Done::Finished);
        }
        let ids: Vec<String> = batch.iter().map(|c| c.twitch_user_id.clone()).collect();
        let account_ids: Vec<u64> = batch.iter().map(|c| c.id).collect();
        let moderator = accounts::enrichment_moderator(&ctx.pool, &account_ids).await?;
        let users = match ctx
            .twitch
            .users_by_id_sparing(&ids, moderator.as_deref(), Some(Duration::from_secs(20)))
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
            return Ok(Done::Again {
                at: Utc::now(),
                reason: "enrichment continues in a new run".into(),
            });
        }
    }
}

/// Stores what Get Users returned for a batch; the accounts it did not return are missing.
async fn store(
    pool: &MySqlPool,
    batch: &[EnrichmentCandidate],
    users: Vec<TwitchUser>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let by_twitch_id: HashMap<String, TwitchUser> =
        users.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut found: Vec<Profile<'_>> = Vec::new();
    let mut missing: Vec<u64> = Vec::new();
    for candidate in batch {
        match by_twitch_id.get(&candidate.twitch_user_id) {
            Some(user) => found.push(Profile {
                account_id: candidate.id,
                twitch_user_id: &user.id,
                login: &user.login,
                display_name: &user.display_name,
                created_at: user.created_at,
                account_type: &user.user_type,
                broadcaster_type: &user.broadcaster_type,
                description_empty: user.description.trim().is_empty(),
                default_avatar: user.has_default_avatar(),
                profile_image_url: user.profile_image_url.chars().take(512).collect(),
            }),
            None => missing.push(candidate.id),
        }
    }
    let mut tx = pool.begin().await?;
    accounts::store_enrichment(&mut tx, &found, &missing, now).await?;
    tx.commit().await?;
    metrics::counter!("accounts_missing_total").increment(missing.len() as u64);
    Ok(())
}
