//! `eventsub_event`: one EventSub message the callback handed over (docs/live.md), acted on.
//!
//! - `stream.online`: the channel is recorded live; every active session auto-capturing it
//!   gets a capture now, and its schedule is (re)started from the next slot;
//! - `stream.offline`: recorded offline; one last capture; the schedule then stops at its next
//!   slot (`auto_capture`) until the channel is live again;
//! - `channel.raid` (into an auto-captured channel): the raid is recorded (the sessions'
//!   timelines and raid forensics read it) and a capture is queued right after it lands;
//! - `user.authorization.revoke`: the user's web sessions end, their auto-captures pause, and
//!   their tokens are forgotten;
//! - a revocation: the reconciler runs at once and re-creates what is still needed.
//!
//! Twitch may deliver out of order: a stream event older than the last one applied changes
//! nothing. The callback already made each message id run once; these steps are idempotent
//! anyway (a capture is queued only when the channel has none unfinished).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tca_common::db::captures::{self, CaptureTrigger};
use tca_common::db::eventsub::EventJob;
use tca_common::db::jobs::{self, ClaimedJob, JobKind};
use tca_common::db::session_channels;

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::EventSubEvent.as_str();

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let event: EventJob = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid EventSub payload: {e}")))?;
    metrics::counter!("eventsub_events_total", "type" => event.subscription_type.clone())
        .increment(1);
    if event.message_type == "revocation" {
        tracing::warn!(
            subscription_type = %event.subscription_type,
            status = %event.event["status"],
            "an EventSub subscription was revoked: reconciling"
        );
        let now = Utc::now();
        let job = tca_common::db::eventsub::reconcile_job(false, now)
            .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?;
        jobs::enqueue(&ctx.pool, &job, now)
            .await
            .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?;
        return Ok(Done::Finished);
    }
    let text = |key: &str| event.event.get(key).and_then(Value::as_str).unwrap_or("");
    match event.subscription_type.as_str() {
        "stream.online" => {
            stream_changed(&ctx, text("broadcaster_user_id"), true, event.sent_at).await
        }
        "stream.offline" => {
            stream_changed(&ctx, text("broadcaster_user_id"), false, event.sent_at).await
        }
        "channel.raid" => {
            let channel = text("to_broadcaster_user_id");
            let raid = tca_common::db::raids::NewRaid {
                message_id: &event.message_id,
                broadcaster_id: channel,
                from_broadcaster_id: text("from_broadcaster_user_id"),
                from_login: text("from_broadcaster_user_login"),
                from_name: text("from_broadcaster_user_name"),
                viewers: event.event["viewers"].as_u64().unwrap_or(0) as u32,
                raided_at: event.sent_at,
            };
            tca_common::db::raids::record(&ctx.pool, &raid).await?;
            // The raid's capture must list the chat after the raiders landed: a capture
            // already under way may have read it before, so this waits for it to end.
            if capture_now(&ctx, channel, None).await? > 0 {
                return Err(JobError::Defer {
                    until: Utc::now() + chrono::Duration::seconds(2),
                    reason: "a capture is under way; the raid's capture follows it".into(),
                });
            }
            tracing::info!(
                channel,
                from = text("from_broadcaster_user_login"),
                viewers = %event.event["viewers"],
                "raid: capture queued"
            );
            Ok(Done::Finished)
        }
        "user.authorization.revoke" => revoked(&ctx, text("user_id")).await,
        other => {
            tracing::info!(
                subscription_type = other,
                "EventSub event of a type we do not act on"
            );
            Ok(Done::Finished)
        }
    }
}

/// Live or offline: recorded (unless older than what is known), then a capture of each
/// auto-captured session channel; going live (re)starts their schedules.
async fn stream_changed(
    ctx: &Context,
    broadcaster_id: &str,
    live: bool,
    sent_at: DateTime<Utc>,
) -> JobResult {
    if broadcaster_id.is_empty() {
        return Err(JobError::Fail(
            "an EventSub stream event without a broadcaster".into(),
        ));
    }
    let changed =
        session_channels::record_stream_state(&ctx.pool, broadcaster_id, live, sent_at).await?;
    if changed == 0 {
        // Nothing holds the channel, or a later event was already applied.
        return Ok(Done::Finished);
    }
    let restart = live.then_some(());
    capture_now(ctx, broadcaster_id, restart).await?;
    Ok(Done::Finished)
}

/// Queues a capture of every active session's auto-captured channel `broadcaster_id` that has
/// none unfinished; with `restart`, also (re)starts its auto-capture schedule one interval on.
/// Returns how many channels had a capture under way (and got none).
async fn capture_now(
    ctx: &Context,
    broadcaster_id: &str,
    restart: Option<()>,
) -> Result<u32, JobError> {
    let now = Utc::now();
    let mut busy = 0;
    for (channel, session, user, interval) in
        session_channels::auto_captured(&ctx.pool, broadcaster_id).await?
    {
        let mut tx = ctx.pool.begin().await?;
        session_channels::lock(&mut tx, channel).await?;
        if captures::unfinished_for_channel(&mut tx, channel).await? == 0 {
            let capture = captures::request(&mut tx, channel, user, CaptureTrigger::Event, now)
                .await
                .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?;
            tracing::info!(
                capture,
                broadcaster_id,
                "capture queued on an EventSub event"
            );
        } else {
            busy += 1;
        }
        if restart.is_some() {
            let next = now + chrono::Duration::minutes(i64::from(interval.max(1)));
            let job = session_channels::auto_capture_job(session, broadcaster_id, channel, now)
                .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?
                .run_at(next);
            jobs::enqueue(&mut *tx, &job, now)
                .await
                .map_err(|e| JobError::Retry(anyhow::anyhow!(e)))?;
        }
        tx.commit().await?;
    }
    Ok(busy)
}

/// The user disconnected the app on Twitch: logged out everywhere, auto-captures paused —
/// at once, not at the next hourly validation — then their tokens are forgotten.
async fn revoked(ctx: &Context, twitch_user_id: &str) -> JobResult {
    crate::handlers::housekeeping::end_user_access(
        &ctx.pool,
        twitch_user_id,
        "token-revoked-on-twitch",
        Utc::now(),
    )
    .await?;
    if let Err(e) = ctx.twitch.revoke(twitch_user_id).await {
        // The web sessions are gone already; Twitch refuses the tokens anyway.
        tracing::warn!(error = %e, "forgetting a revoked user's tokens failed");
    }
    tracing::info!(
        twitch_user_id,
        "the user disconnected the app on Twitch: logged out"
    );
    Ok(Done::Finished)
}

/// Every ten minutes (the recurring run) and at once after a change.
const RECONCILE_EVERY: chrono::Duration = chrono::Duration::minutes(10);

/// `eventsub_reconcile`: Twitch's subscriptions made what the auto-captured channels need
/// (twitch-api does it; nothing when EventSub is not configured).
pub async fn reconcile(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let recurring = job
        .payload::<Value>()
        .ok()
        .and_then(|p| p["recurring"].as_bool())
        .unwrap_or(false);
    let broadcasters = session_channels::auto_captured_broadcasters(&ctx.pool).await?;
    match ctx.twitch.reconcile_eventsub(&broadcasters).await {
        Ok(result) => {
            metrics::gauge!("eventsub_enabled").set(if result.enabled { 1.0 } else { 0.0 });
            let mut conn = ctx.pool.acquire().await?;
            tca_common::db::eventsub::set_subscribed_channels(
                &mut conn,
                &result.subscribed,
                Utc::now(),
            )
            .await?;
            if !result.refused.is_empty() {
                tracing::warn!(refused = ?result.refused, "Twitch refused EventSub subscriptions");
            }
        }
        Err(tca_common::twitch_api::TwitchApiError::RateLimited { retry_after }) => {
            return Err(JobError::Defer {
                until: Utc::now()
                    + chrono::Duration::from_std(retry_after)
                        .unwrap_or(chrono::Duration::seconds(60)),
                reason: "Twitch rate limit: EventSub reconciliation waits".into(),
            });
        }
        Err(e) => return Err(JobError::Retry(anyhow::anyhow!(e))),
    }
    Ok(if recurring {
        Done::Again {
            at: Utc::now() + RECONCILE_EVERY,
            reason: "next EventSub reconciliation".into(),
        }
    } else {
        Done::Finished
    })
}
