//! `housekeeping`: a singleton (dedupe key `housekeeping`) that re-queues itself every
//! `HOUSEKEEPING_INTERVAL`. Each run: expires idle active sessions, purges the data of expired
//! and deleted sessions in bounded batches (saved sessions are never purged), deletes expired
//! web sessions and OAuth states, prunes old finished jobs, validates stored Twitch tokens
//! (hourly, as Twitch requires) and acts on those Twitch refuses, and makes sure enrichment and
//! every enabled auto-capture have their job.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::audit::{Event, Subject};
use tca_common::db::captures;
use tca_common::db::jobs::{self, ClaimedJob, JobKind, NewJob, QueueError};
use tca_common::db::session_channels;
use tca_common::db::{audit, users};

use crate::context::Context;
use crate::registry::JobError;

pub const KIND: &str = JobKind::Housekeeping.as_str();
/// Housekeeping is a singleton: one unfinished job at a time.
const DEDUPE_KEY: &str = "housekeeping";

/// Queues the housekeeping singleton if none is pending.
pub async fn ensure_scheduled(pool: &MySqlPool, now: DateTime<Utc>) -> Result<(), QueueError> {
    let job = NewJob::new(KIND, &serde_json::json!({}), now)?
        .dedupe_key(DEDUPE_KEY)
        .max_attempts(10);
    jobs::enqueue(pool, &job, now).await.map(|_| ())
}

pub async fn run(ctx: Arc<Context>, _job: ClaimedJob) -> Result<(), JobError> {
    let now = Utc::now();
    let expired = expire_sessions(&ctx.pool, now).await?;
    let purged = purge_sessions(&ctx, now).await?;
    let web = sqlx::query(
        "DELETE FROM web_sessions WHERE expires_at < ? OR absolute_expires_at < ? LIMIT 10000",
    )
    .bind(now)
    .bind(now)
    .execute(&ctx.pool)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM oauth_states WHERE expires_at < ? LIMIT 10000")
        .bind(now)
        .execute(&ctx.pool)
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
        jobs_pruned = pruned,
        tokens_invalidated = invalidated,
        enrichment_backlog = backlog,
        auto_capture_jobs_repaired = auto,
        "housekeeping done"
    );
    let next = now
        + chrono::Duration::from_std(ctx.settings.housekeeping_interval)
            .unwrap_or(chrono::Duration::minutes(1));
    Err(JobError::Defer {
        until: next,
        reason: "next housekeeping run".into(),
    })
}

fn queue_error(e: QueueError) -> JobError {
    JobError::Retry(anyhow::anyhow!(e))
}

/// Active sessions idle past their expiry become `expired` (their data is purged next).
async fn expire_sessions(pool: &MySqlPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let due: Vec<(u64, u64)> = sqlx::query_as(
        "SELECT id, user_id FROM analysis_sessions WHERE status = 'active' AND expires_at < ? LIMIT 1000",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut expired = 0;
    for (id, user_id) in due {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE analysis_sessions SET status = 'expired', ended_at = ?, updated_at = ? \
             WHERE id = ? AND status = 'active' AND expires_at < ?",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 1 {
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
    let batch = ctx.settings.purge_batch;
    let due: Vec<(u64, String)> = sqlx::query_as(
        "SELECT id, status FROM analysis_sessions WHERE status IN ('expired', 'deleted') AND purged_at IS NULL LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    let mut purged = 0;
    for (session_id, status) in due {
        // Children first, each in bounded deletes.
        loop {
            let deleted = sqlx::query(
                "DELETE FROM capture_chatters WHERE capture_id IN \
                 (SELECT id FROM captures WHERE session_id = ?) LIMIT ?",
            )
            .bind(session_id)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
            if deleted < u64::from(batch) {
                break;
            }
        }
        for statement in [
            "DELETE FROM session_channel_accounts WHERE session_id = ? LIMIT ?",
            "DELETE FROM session_accounts WHERE session_id = ? LIMIT ?",
        ] {
            loop {
                let deleted = sqlx::query(statement)
                    .bind(session_id)
                    .bind(batch)
                    .execute(pool)
                    .await?
                    .rows_affected();
                if deleted < u64::from(batch) {
                    break;
                }
            }
        }
        sqlx::query("DELETE FROM captures WHERE session_id = ?")
            .bind(session_id)
            .execute(pool)
            .await?;
        if status == "deleted" {
            sqlx::query("DELETE FROM analysis_sessions WHERE id = ?")
                .bind(session_id)
                .execute(pool)
                .await?;
        } else {
            sqlx::query("DELETE FROM session_channels WHERE session_id = ?")
                .bind(session_id)
                .execute(pool)
                .await?;
            sqlx::query("UPDATE analysis_sessions SET purged_at = ? WHERE id = ?")
                .bind(now)
                .bind(session_id)
                .execute(pool)
                .await?;
        }
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
    for status in ["succeeded", "failed", "dead"] {
        // One bounded delete per status and run: a large backlog drains over a few runs.
        pruned += sqlx::query("DELETE FROM jobs WHERE status = ? AND finished_at < ? LIMIT 10000")
            .bind(status)
            .bind(before)
            .execute(&ctx.pool)
            .await?
            .rows_affected();
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
    metrics::counter!("tokens_invalidated_total").increment(invalidated);
    invalidated
}

async fn end_user_access(
    pool: &MySqlPool,
    twitch_user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let Some(user) = users::find_by_twitch_id(pool, twitch_user_id).await? else {
        return Ok(());
    };
    let stop_reason =
        format!("Auto-capture paused: your Twitch authorization ended ({reason}). Log in again.");
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM web_sessions WHERE user_id = ?")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE session_channels SET auto_capture_enabled = FALSE, auto_capture_stopped_at = ?, \
         auto_capture_stopped_reason = ?, updated_at = ? \
         WHERE auto_capture_enabled AND session_id IN (SELECT id FROM analysis_sessions WHERE user_id = ?)",
    )
    .bind(now)
    .bind(&stop_reason)
    .bind(now)
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
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
    let enabled: Vec<(u64, u64, String)> = sqlx::query_as(
        "SELECT c.id, c.session_id, c.broadcaster_id FROM session_channels c \
         JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.auto_capture_enabled AND s.status = 'active'",
    )
    .fetch_all(pool)
    .await?;
    let mut repaired = 0;
    for (session_channel_id, session_id, broadcaster_id) in enabled {
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
