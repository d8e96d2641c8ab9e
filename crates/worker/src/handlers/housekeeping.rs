//! `housekeeping`: a singleton (dedupe key `housekeeping`) that re-queues itself every
//! `HOUSEKEEPING_INTERVAL`. Each run: expires idle active sessions, purges the data of expired
//! and deleted sessions in bounded batches (saved sessions are never purged), deletes expired
//! web sessions and OAuth states, prunes old finished jobs, validates stored Twitch tokens
//! (hourly, as Twitch requires) and acts on those Twitch refuses, and makes sure enrichment and
//! every enabled auto-capture have their job.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::jobs::{self, ClaimedJob, JobKind, JobStatus, NewJob, QueueError};
use tca_common::db::{
    captures, oauth_states, presence, session_channels, sessions, tokens, users, web_sessions,
};

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::Housekeeping.as_str();
/// Housekeeping is a singleton: one unfinished job at a time.
const DEDUPE_KEY: &str = "housekeeping";
/// Rows one bounded delete removes.
const DELETE_LIMIT: u32 = 10_000;

/// Queues the housekeeping singleton if none is pending.
pub async fn ensure_scheduled(pool: &MySqlPool, now: DateTime<Utc>) -> Result<(), QueueError> {
    let job = NewJob::new(KIND, &serde_json::json!({}), now)?
        .dedupe_key(DEDUPE_KEY)
        .max_attempts(10);
    jobs::enqueue(pool, &job, now).await.map(|_| ())
}

pub async fn run(ctx: Arc<Context>, _job: ClaimedJob) -> JobResult {
    let now = Utc::now();
    let expired = expire_sessions(&ctx.pool, now).await?;
    let purged = purge_sessions(&ctx, now).await?;
    let web = web_sessions::delete_expired(&ctx.pool, now, DELETE_LIMIT).await?;
    oauth_states::delete_expired(&ctx.pool, now, DELETE_LIMIT).await?;
    // EventSub message ids are kept a day (Twitch's replay window is 10 minutes).
    tca_common::db::eventsub::prune(&ctx.pool, now - chrono::Duration::days(1), DELETE_LIMIT)
        .await?;
    // A preview never confirmed is forgotten after a day (docs/moderation.md).
    let drafts =
        tca_common::db::moderation::delete_stale_drafts(&ctx.pool, now - chrono::Duration::days(1))
            .await?;
    let pruned = prune_jobs(&ctx, now).await?;
    let invalidated = validate_tokens(&ctx, now).await;
    let backlog = crate::handlers::enrich::backlog(&ctx.pool).await?;
    metrics::gauge!("enrichment_backlog").set(backlog as f64);
    if backlog > 0 {
        captures::kick_enrichment(&ctx.pool, now)
            .await
            .map_err(queue_error)?;
    }
    let auto = ensure_auto_captures(&ctx.pool, now).await?;
    tracing::info!(
        expired,
        purged,
        web_sessions_deleted = web,
        batch_drafts_deleted = drafts,
        jobs_pruned = pruned,
        tokens_invalidated = invalidated,
        enrichment_backlog = backlog,
        auto_capture_jobs_repaired = auto,
        "housekeeping done"
    );
    let next = now
        + chrono::Duration::from_std(ctx.settings.housekeeping_interval)
            .unwrap_or(chrono::Duration::minutes(1));
    Ok(Done::Again {
        at: next,
        reason: "next housekeeping run".into(),
    })
}

fn queue_error(e: QueueError) -> JobError {
    JobError::Retry(anyhow::anyhow!(e))
}

/// Active sessions idle past their expiry become `expired` (their data is purged next).
async fn expire_sessions(pool: &MySqlPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut expired = 0;
    for (id, user_id) in sessions::due_for_expiry(pool, now, 1000).await? {
        let mut tx = pool.begin().await?;
        if sessions::expire(&mut *tx, id, now).await? {
            audit::record(
                &mut *tx,
                &Event::SessionExpire,
                Subject::session(Some(user_id), id),
                now,
            )
            .await?;
            expired += 1;
        }
        tx.commit().await?;
    }
    Ok(expired)
}

/// Deletes the captured data of expired and deleted sessions, a batch at a time (so no
/// statement holds locks for long), then marks them purged; deleted sessions go entirely.
async fn purge_sessions(ctx: &Context, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let pool = &ctx.pool;
    let mut purged = 0;
    for (session_id, status) in sessions::due_for_purge(pool, 20).await? {
        // Children first, each in bounded deletes.
        presence::purge_session(pool, session_id, ctx.settings.purge_batch).await?;
        captures::delete_of_session(pool, session_id).await?;
        let mut conn = pool.acquire().await?;
        sessions::finish_purge(&mut conn, session_id, status, now).await?;
        purged += 1;
        metrics::counter!("sessions_purged_total").increment(1);
    }
    Ok(purged)
}

async fn prune_jobs(ctx: &Context, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let before = now
        - chrono::Duration::from_std(ctx.settings.job_retention)
            .unwrap_or(chrono::Duration::days(7));
    let mut pruned = 0;
    for status in [JobStatus::Succeeded, JobStatus::Failed, JobStatus::Dead] {
        // One bounded delete per status and run: a large backlog drains over a few runs.
        pruned += jobs::prune_finished(&ctx.pool, status, before, DELETE_LIMIT).await?;
    }
    Ok(pruned)
}

/// Validates every token not validated within the interval. A token Twitch refuses ends the
/// user's web sessions, pauses their auto-captures and is written to the audit log.
async fn validate_tokens(ctx: &Context, now: DateTime<Utc>) -> u64 {
    let stale = match ctx
        .twitch
        .stale_tokens(ctx.settings.token_validation_interval)
        .await
    {
        Ok(stale) => stale,
        Err(e) => {
            tracing::warn!(error = %e, "could not list tokens due for validation");
            return 0;
        }
    };
    let mut invalidated = 0;
    for twitch_user_id in stale {
        match ctx.twitch.validate(&twitch_user_id).await {
            Ok(v) if v.valid => {}
            Ok(v) => {
                let reason = v
                    .reason
                    .unwrap_or_else(|| "Twitch no longer accepts the authorization".into());
                match end_user_access(&ctx.pool, &twitch_user_id, &reason, now).await {
                    Ok(()) => invalidated += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, twitch_user_id, "could not end access after a failed validation")
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, twitch_user_id, "token validation failed; will retry next run")
            }
        }
    }
    // Tokens found invalid elsewhere (a refused refresh during a call): their users' access
    // ends here too, within one housekeeping interval.
    match tokens::invalid_with_access(&ctx.pool).await {
        Ok(found) => {
            for (twitch_user_id, reason) in found {
                let reason =
                    reason.unwrap_or_else(|| "Twitch no longer accepts the authorization".into());
                match end_user_access(&ctx.pool, &twitch_user_id, &reason, now).await {
                    Ok(()) => invalidated += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, twitch_user_id, "could not end the access of an invalid token")
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not list invalid tokens still in use"),
    }
    metrics::counter!("tokens_invalidated_total").increment(invalidated);
    invalidated
}

/// The user's Twitch authorization ended: their web sessions end, their auto-captures stop
/// with a reason, and the audit log says why.
pub async fn end_user_access(
    pool: &MySqlPool,
    twitch_user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let Some(user) = users::find_by_twitch_id(pool, twitch_user_id).await? else {
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    web_sessions::delete_for_user(&mut *tx, user.id).await?;
    // A message key: the moderator reads it in their language (the audit entry keeps why).
    session_channels::stop_all_of_user(&mut *tx, user.id, "auto-stop-reauth", now).await?;
    audit::record(
        &mut *tx,
        &Event::TokenInvalidated {
            reason: reason.to_string(),
        },
        Subject::user(user.id),
        now,
    )
    .await?;
    tx.commit().await
}

/// Every enabled auto-capture of an active session has its recurring job (a job that died —
/// attempts exhausted by an outage — is replaced here).
async fn ensure_auto_captures(pool: &MySqlPool, now: DateTime<Utc>) -> Result<u64, JobError> {
    let mut repaired = 0;
    for (session_channel_id, session_id, broadcaster_id) in
        session_channels::enabled_in_active_sessions(pool).await?
    {
        if schedule_auto_capture(pool, session_channel_id, session_id, &broadcaster_id, now).await?
        {
            repaired += 1;
        }
    }
    Ok(repaired)
}

/// Queues the channel's auto-capture job unless one is pending; `true` if it queued one.
pub async fn schedule_auto_capture(
    pool: &MySqlPool,
    session_channel_id: u64,
    session_id: u64,
    broadcaster_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, JobError> {
    let job =
        session_channels::auto_capture_job(session_id, broadcaster_id, session_channel_id, now)
            .map_err(queue_error)?;
    match jobs::enqueue(pool, &job, now).await.map_err(queue_error)? {
        jobs::Enqueued::Created(_) => Ok(true),
        jobs::Enqueued::Duplicate => Ok(false),
    }
}
