//! `moderation_chunk`: one chunk of a confirmed batch (docs/moderation.md). Each pending
//! account is acted on through twitch-api with the moderator's token, and its result recorded
//! with its audit entry in one transaction, once: a run cut short (worker killed) leaves the
//! rest pending, and the account whose answer was lost comes back from Twitch as "already
//! banned" — done — so no account is banned twice. The channel must still be one the
//! moderator moderates (asked of Twitch at the start of every chunk); if not, or if the
//! moderator withdrew the scope or the authorization, the batch stops with the reason.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::jobs::{ClaimedJob, JobKind};
use tca_common::db::moderation::{self, Action, Batch, ChunkJob, Item};
use tca_common::db::users;
use tca_common::twitch_api::{
    ModerationAction, ModerationOutcome, ModerationRequest, ModerationResult, TwitchApiError,
};

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::ModerationChunk.as_str();

/// How long one call may wait for the moderator's rate-limit bucket before the chunk gives
/// its slot back (it is deferred until the bucket refills).
const MAX_WAIT: Duration = Duration::from_secs(5);

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let ChunkJob { batch_id, chunk } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid moderation payload: {e}")))?;
    let Some(batch) = moderation::find_by_id(&ctx.pool, batch_id).await? else {
        return Ok(Done::Finished); // deleted with its user
    };
    if batch.status != "running" {
        return Ok(Done::Finished); // stopped (or already over): nothing more to do
    }
    let Some(moderator) = users::find(&ctx.pool, batch.user_id).await? else {
        return Ok(Done::Finished);
    };
    match ctx.twitch.channels(&moderator.twitch_user_id).await {
        Ok(channels)
            if channels
                .iter()
                .any(|c| c.broadcaster_id == batch.broadcaster_id) => {}
        Ok(_) => return stop(&ctx, &batch, "batch-stop-not-moderator").await,
        Err(error) => return on_error(&ctx, &batch, &job, error).await,
    }
    let items = moderation::pending_in_chunk(&ctx.pool, batch.id, chunk).await?;
    for item in &items {
        let request = ModerationRequest {
            action: match batch.action() {
                Action::Ban => ModerationAction::Ban,
                Action::Timeout => ModerationAction::Timeout,
                Action::Unban => ModerationAction::Unban,
            },
            broadcaster_id: batch.broadcaster_id.clone(),
            moderator_id: moderator.twitch_user_id.clone(),
            user_id: item.twitch_user_id.clone(),
            duration_secs: batch.duration_secs,
            reason: Some(batch.reason.clone()).filter(|r| !r.is_empty()),
        };
        match ctx.twitch.moderate(&request, Some(MAX_WAIT)).await {
            Ok(result) => record(&ctx, &batch, item, &result).await?,
            // Twitch found the request malformed: this account cannot be acted on this way.
            Err(TwitchApiError::BadRequest(message)) => {
                let refused = ModerationResult {
                    outcome: ModerationOutcome::Refused,
                    message: Some(message),
                };
                record(&ctx, &batch, item, &refused).await?;
            }
            Err(error) => return on_error(&ctx, &batch, &job, error).await,
        }
    }
    finish(&ctx, &batch).await?;
    Ok(Done::Finished)
}

/// One account's result and its audit entry, in one transaction; recorded once.
async fn record(
    ctx: &Context,
    batch: &Batch,
    item: &Item,
    result: &ModerationResult,
) -> Result<(), JobError> {
    let status = match result.outcome {
        ModerationOutcome::Done => "done",
        ModerationOutcome::AlreadyDone => "already",
        ModerationOutcome::Refused => "refused",
    };
    let message: Option<String> = result
        .message
        .as_deref()
        .map(|m| m.chars().take(500).collect());
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    let recorded = moderation::record(
        &mut *tx,
        batch.id,
        &item.twitch_user_id,
        status,
        message.as_deref(),
        now,
    )
    .await?;
    if recorded {
        audit::record(
            &mut *tx,
            &Event::BatchAccount {
                batch: batch.public_id.clone(),
                action: batch.action.clone(),
                channel: batch.broadcaster_login.clone(),
                twitch_user_id: item.twitch_user_id.clone(),
                login: item.login.clone(),
                result: status.to_string(),
                message,
            },
            Subject::session(Some(batch.user_id), batch.session_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    metrics::counter!("moderation_actions_total", "action" => batch.action.clone(), "result" => status)
        .increment(1);
    Ok(())
}

/// Ends the batch if this was its last pending account, with its audit entry.
async fn finish(ctx: &Context, batch: &Batch) -> Result<(), JobError> {
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    if moderation::finish_if_complete(&mut *tx, batch.id, now).await? {
        audit::record(
            &mut *tx,
            &Event::BatchEnd {
                batch: batch.public_id.clone(),
                action: batch.action.clone(),
                channel: batch.broadcaster_login.clone(),
                status: "done".into(),
                stopped_reason: None,
            },
            Subject::session(Some(batch.user_id), batch.session_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Stops the batch (`reason` a message key, shown on its page): the rest is skipped.
async fn stop(ctx: &Context, batch: &Batch, reason: &str) -> JobResult {
    let now = Utc::now();
    let mut conn = ctx.pool.acquire().await?;
    if moderation::stop(&mut conn, batch.id, reason, now).await? {
        tracing::warn!(batch = %batch.public_id, reason, "moderation batch stopped");
        audit::record(
            &mut *conn,
            &Event::BatchEnd {
                batch: batch.public_id.clone(),
                action: batch.action.clone(),
                channel: batch.broadcaster_login.clone(),
                status: "stopped".into(),
                stopped_reason: Some(reason.to_string()),
            },
            Subject::session(Some(batch.user_id), batch.session_id),
            now,
        )
        .await?;
    }
    Ok(Done::Finished)
}

/// A failure that is not one account's: the moderator's rights (stop), the rate limit
/// (defer), or Twitch's bad day (retry; on the last attempt, stop).
async fn on_error(
    ctx: &Context,
    batch: &Batch,
    job: &ClaimedJob,
    error: TwitchApiError,
) -> JobResult {
    match error {
        TwitchApiError::NotModerator(_) => stop(ctx, batch, "batch-stop-not-moderator").await,
        TwitchApiError::ScopeMissing(_) => stop(ctx, batch, "batch-stop-scope").await,
        TwitchApiError::ReauthRequired(_) => stop(ctx, batch, "batch-stop-reauth").await,
        TwitchApiError::RateLimited { retry_after } => Err(JobError::Defer {
            until: Utc::now()
                + chrono::Duration::from_std(retry_after).unwrap_or(chrono::Duration::seconds(30)),
            reason: format!("Twitch rate limit: batch {} waits", batch.public_id),
        }),
        other if job.is_last_attempt() => {
            tracing::warn!(batch = %batch.public_id, error = %other, "Twitch failed on every attempt");
            stop(ctx, batch, "batch-stop-twitch-unavailable").await
        }
        other => Err(JobError::Retry(anyhow::anyhow!(other))),
    }
}
