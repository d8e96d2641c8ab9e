//! `capture_chatters`: one listing of one channel's chatters, stored.
//!
//! 1. Fetch the stream status and every chatter (streamed by twitch-api) as the moderator,
//! 2. while upserting the accounts of each page received, in sorted batches of autocommit
//!    statements, recording renames in the ledger, and writing the page's capture rows
//!    (`fetch`). The upserts are idempotent on their own: a retry sees the same names. The
//!    capture rows are read by no one before the capture is done; a new run clears what an
//!    interrupted one wrote.
//! 3. In one transaction, under the session's row lock (captures of one session are written
//!    one at a time): the capture's chatters checked against the listing (rewritten if they
//!    differ), the session and channel presence counters, the capture row marked done, and
//!    an enrichment job (`store`). A crash before the commit leaves nothing that anyone
//!    reads; the capture row's own lock makes a second run that finds it done do nothing.

mod fetch;
mod store;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use tca_common::db::captures::{self, CaptureJob, CaptureToRun, CaptureTrigger};
use tca_common::db::jobs::{ClaimedJob, JobKind};
use tca_common::db::session_channels;
use tca_common::db::sessions::SessionStatus;
use tca_common::twitch_api::TwitchApiError;

use crate::context::Context;
use crate::registry::{JobError, JobResult};

pub const KIND: &str = JobKind::CaptureChatters.as_str();

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let CaptureJob { capture_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid capture payload: {e}")))?;
    let Some(capture) = captures::load_to_run(&ctx.pool, capture_id).await? else {
        // The session (and its captures) was deleted meanwhile: nothing left to do.
        return Ok(Default::default());
    };
    if capture.status.is_finished() {
        return Ok(Default::default());
    }
    if matches!(
        capture.session_status,
        SessionStatus::Expired | SessionStatus::Deleted
    ) {
        let message = "capture-error-session-ended";
        fail_capture(&ctx, &capture, message, false).await?;
        return Ok(Default::default());
    }
    let Some(moderator) = capture.moderator_twitch_id.clone() else {
        let message = "capture-error-requester-gone";
        fail_capture(&ctx, &capture, message, false).await?;
        return Ok(Default::default());
    };

    let started_at = Utc::now();
    // Running, with whatever capture rows an interrupted earlier run wrote cleared.
    if !captures::start_run(&ctx.pool, capture.id, started_at).await? {
        return Ok(Default::default()); // Finished meanwhile by another run.
    }
    let fetched = match fetch::fetch_and_upsert(&ctx, &capture, &moderator, started_at).await {
        Ok(fetched) => fetched,
        Err(fetch::FetchError::Twitch(e)) => {
            return Err(on_twitch_error(&ctx, &capture, &job, e).await);
        }
        Err(fetch::FetchError::Database(e)) => return Err(e.into()),
    };
    // What is left once the last page is in: the capture's own rows, in one transaction.
    let timer = Instant::now();
    if let Some(new_in_session) =
        store::store_capture(&ctx.pool, &capture, &fetched, started_at).await?
    {
        let elapsed = timer.elapsed();
        let chatters = fetched.ids.len();
        metrics::histogram!("capture_chatters").record(chatters as f64);
        metrics::histogram!("capture_store_duration_seconds").record(elapsed.as_secs_f64());
        metrics::counter!("chatters_ingested_total").increment(chatters as u64);
        tracing::info!(
            capture_id = capture.id,
            channel = %capture.broadcaster_login,
            chatters,
            new_in_session,
            pages = fetched.pages,
            store_ms = elapsed.as_millis() as u64,
            "capture stored"
        );
    }
    Ok(Default::default())
}

/// Turns a Twitch failure into the job's outcome, failing the capture when it is final.
async fn on_twitch_error(
    ctx: &Context,
    capture: &CaptureToRun,
    job: &ClaimedJob,
    error: TwitchApiError,
) -> JobError {
    let channel = &capture.broadcaster_login;
    // (message key for the user — locales/*/sessions.ftl, stored as the key so each reader
    // sees it in their language; the page names the channel —, stop auto-capture too)
    let permanent = match &error {
        TwitchApiError::NotModerator(_) => Some(("capture-error-not-moderator", true)),
        TwitchApiError::ReauthRequired(_) => Some(("capture-error-reauth", true)),
        TwitchApiError::NotFound(_) => Some(("capture-error-channel-gone", true)),
        TwitchApiError::RateLimited { retry_after } => {
            return JobError::Defer {
                until: Utc::now()
                    + chrono::Duration::from_std(*retry_after)
                        .unwrap_or(chrono::Duration::seconds(60)),
                reason: format!("Twitch rate limit: capture of {channel} waits for the bucket"),
            };
        }
        // A capture needs no scope beyond the login's: a missing one is our bug.
        TwitchApiError::BadRequest(_)
        | TwitchApiError::Unauthorized
        | TwitchApiError::ScopeMissing(_) => Some(("capture-error-internal", false)),
        // Twitch's paging looped or ran past what the list can hold: a clear failure, not a
        // retry of the same loop (the next capture starts a fresh pass).
        TwitchApiError::PagingBroken(_) => Some(("capture-error-paging", false)),
        TwitchApiError::Unavailable(_)
        | TwitchApiError::Internal(_)
        | TwitchApiError::Transport(_)
        | TwitchApiError::Protocol(_) => None,
    };
    match permanent {
        Some((message, stop_auto)) => {
            if let Err(e) = fail_capture(ctx, capture, message, stop_auto).await {
                return JobError::Retry(e.into());
            }
            if matches!(
                error,
                TwitchApiError::BadRequest(_)
                    | TwitchApiError::Unauthorized
                    | TwitchApiError::ScopeMissing(_)
            ) {
                JobError::Fatal(anyhow::anyhow!("capture {} failed: {error}", capture.id))
            } else {
                JobError::Fail(message.to_string())
            }
        }
        None if job.is_last_attempt() => {
            tracing::warn!(
                capture_id = capture.id,
                attempts = job.attempts,
                error = %error,
                "Twitch unavailable on every attempt: the capture fails"
            );
            if let Err(e) =
                fail_capture(ctx, capture, "capture-error-twitch-unavailable", false).await
            {
                return JobError::Retry(e.into());
            }
            JobError::Retry(anyhow::anyhow!(error))
        }
        None => JobError::Retry(anyhow::anyhow!(error)),
    }
}

/// Ends a capture as failed with a message the user can read, and, when the failure will
/// repeat, stops the channel's auto-capture with the same reason.
async fn fail_capture(
    ctx: &Context,
    capture: &CaptureToRun,
    message: &str,
    stop_auto: bool,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    if captures::fail(&mut tx, capture, message, now).await? {
        metrics::counter!("captures_total", "outcome" => "failed").increment(1);
    }
    if stop_auto && capture.capture_trigger != CaptureTrigger::Manual {
        session_channels::stop_running_auto_capture(
            &mut *tx,
            capture.session_channel_id,
            message,
            now,
        )
        .await?;
    }
    tx.commit().await
}
