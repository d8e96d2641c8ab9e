//! `auto_capture`: one recurring job per auto-captured channel of a session (dedupe key
//! `auto:<session>:<broadcaster>`, so any number of workers keep exactly one). Each run queues
//! a capture (unless the channel is offline and only live captures are wanted, or the previous
//! capture has not finished), then re-queues itself `interval` later. It ends, leaving a
//! reason the user can read on the channel, when the session is no longer the active one or
//! the user turned it off; a capture that finds the user's Twitch authorization gone stops it
//! too (handlers::capture).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::captures::{self, CaptureTrigger};
use tca_common::db::jobs::JobKind;
use tca_common::db::jobs::{self, ClaimedJob};
use tca_common::db::session_channels::{self, AutoCaptureJob, SessionChannel};
use tca_common::db::sessions::{self, Session, SessionStatus};
use tca_common::twitch_api::TwitchApiError;

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::AutoCapture.as_str();

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let AutoCaptureJob { session_channel_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid auto-capture payload: {e}")))?;
    let pool = &ctx.pool;
    let Some(channel) = session_channels::find(pool, session_channel_id).await? else {
        return Ok(Done::Finished); // The session was deleted.
    };
    if !channel.auto_capture_enabled {
        return Ok(Done::Finished);
    }
    let Some(session) = sessions::find(pool, channel.session_id).await? else {
        return Ok(Done::Finished);
    };
    let now = Utc::now();
    if session.status != SessionStatus::Active {
        stop_for_ended_session(&ctx, &session, &channel, now).await?;
        return Ok(Done::Finished);
    }

    let next = now + chrono::Duration::minutes(i64::from(channel.auto_capture_interval_min.max(1)));
    let again = |reason: String| Done::Again { at: next, reason };
    // EventSub's word when there is one (docs/live.md): offline stops the schedule until
    // `stream.online` starts it again; live needs no question to Twitch.
    let live = match channel.stream_live {
        Some(live) => Some(live),
        None if channel.auto_capture_only_live => live_now(&ctx, &channel).await?,
        None => Some(true),
    };
    if channel.auto_capture_only_live && channel.stream_live == Some(false) {
        tracing::info!(channel = %channel.broadcaster_login, "offline (EventSub): auto-capture waits for stream.online");
        return Ok(Done::Finished);
    }
    if channel.auto_capture_only_live {
        match live {
            None => {
                return Ok(again(
                    "Twitch did not answer whether the channel is live; trying at the next slot"
                        .into(),
                ));
            }
            Some(false) => {
                return Ok(again(format!(
                    "{} is offline; next check at {next}",
                    channel.broadcaster_login
                )));
            }
            Some(true) => {}
        }
    }
    let Some(capture_id) = queue_slot(&ctx, &job, &channel, session.user_id, now, next).await?
    else {
        return Ok(again(
            "the previous capture is still running; skipping this slot".into(),
        ));
    };
    metrics::counter!("auto_captures_queued_total").increment(1);
    tracing::info!(capture_id, channel = %channel.broadcaster_login, %next, "auto-capture queued");
    Ok(again(format!(
        "next auto-capture of {} at {next}",
        channel.broadcaster_login
    )))
}

/// Whether the channel is live; `None` when Twitch did not say (the slot is skipped).
async fn live_now(ctx: &Context, channel: &SessionChannel) -> Result<Option<bool>, JobError> {
    match ctx
        .twitch
        .streams(std::slice::from_ref(&channel.broadcaster_id))
        .await
    {
        Ok(status) => Ok(Some(status.first().is_some_and(|s| s.live))),
        Err(
            TwitchApiError::RateLimited { .. }
            | TwitchApiError::Unavailable(_)
            | TwitchApiError::Transport(_),
        ) => Ok(None),
        Err(e) => Err(JobError::Retry(anyhow::anyhow!(e))),
    }
}

/// Queues this slot's capture unless the previous one is unfinished (`None`), and moves the
/// job to its next slot in the same transaction.
async fn queue_slot(
    ctx: &Context,
    job: &ClaimedJob,
    channel: &SessionChannel,
    user_id: u64,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
) -> Result<Option<u64>, JobError> {
    let mut tx = ctx.pool.begin().await?;
    // The channel row is the per-channel lock: two runs of this job cannot overlap anyway
    // (one dedupe key), and the gateway's "Capture now" locks the same row (ensuring the
    // channel is in the session).
    session_channels::lock(&mut tx, channel.id).await?;
    if captures::unfinished_for_channel(&mut tx, channel.id).await? > 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let capture_id = captures::request(&mut tx, channel.id, user_id, CaptureTrigger::Auto, now)
        .await
        .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?;
    // The next slot commits with this one's capture: a worker killed right after the commit
    // leaves the job to the reaper, which re-queues it for `next` rather than re-running
    // this slot and queuing its capture twice.
    if !jobs::reschedule_running(&mut *tx, &job.lease(), next, now).await? {
        tx.rollback().await?;
        return Err(JobError::Retry(anyhow::anyhow!(
            "the auto-capture job's lease was lost; the capture was not queued"
        )));
    }
    tx.commit().await?;
    Ok(Some(capture_id))
}

/// The session is no longer the active one: auto-capture stops with a reason the user reads.
async fn stop_for_ended_session(
    ctx: &Context,
    session: &Session,
    channel: &SessionChannel,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // A message key (locales/*/channels.ftl): each reader sees it in their language.
    let reason = match session.status {
        SessionStatus::Saved => "auto-stop-saved",
        SessionStatus::Expired => "auto-stop-expired",
        _ => "auto-stop-deleted",
    };
    session_channels::stop_auto_capture(&ctx.pool, channel.id, reason, now).await?;
    record_stop(
        ctx,
        session.user_id,
        session.id,
        &channel.broadcaster_login,
        reason,
    )
    .await
}

async fn record_stop(
    ctx: &Context,
    user_id: u64,
    session_id: u64,
    channel: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    audit::record(
        &ctx.pool,
        &Event::AutoCaptureStop {
            channel: channel.to_string(),
            reason: reason.to_string(),
        },
        Subject::session(Some(user_id), session_id),
        Utc::now(),
    )
    .await
}
