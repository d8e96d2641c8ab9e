//! `alert_delivery`: one alert POSTed to one webhook. The URL is opened from its seal only
//! here, checked again (its host may resolve elsewhere since it was saved) and reached at
//! exactly the addresses checked, without redirects. A refused target or a 4xx ends the
//! alert `failed`; a 5xx, a timeout or a refused connection is retried with the queue's
//! backoff; a 429 waits for the time the receiver asks.
//!
//! A delivery can be repeated (the worker killed after the POST, before the result was
//! written): receivers of the JSON form can tell by `alert_id` (docs/live.md).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tca_common::db::alerts::{self, Attempt, DeliveryJob};
use tca_common::db::jobs::ClaimedJob;
use tca_common::i18n::Lang;
use tca_common::webhooks::{self, TargetError};

use super::message::Message;
use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

const TIMEOUT: Duration = Duration::from_secs(10);
/// A 429 without a usable Retry-After waits this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

pub async fn deliver(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let DeliveryJob { alert_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid alert-delivery payload: {e}")))?;
    let Some(alert) = alerts::to_send(&ctx.pool, alert_id).await? else {
        // The webhook was removed meanwhile.
        return Ok(Done::Finished);
    };
    if alert.status != "pending" {
        return Ok(Done::Finished);
    }
    let webhook_id = alert.webhook.id;
    let record = |attempt: Attempt, error: Option<String>| {
        let pool = ctx.pool.clone();
        async move {
            alerts::record_attempt(
                &pool,
                alert_id,
                webhook_id,
                attempt,
                error.as_deref(),
                Utc::now(),
            )
            .await
        }
    };
    let give_up = async |error: String| -> JobResult {
        record(Attempt::Failed, Some(error.clone())).await?;
        metrics::counter!("alerts_delivered_total", "outcome" => "failed").increment(1);
        Err(JobError::Fail(error))
    };
    let last_attempt = job.attempts >= job.max_attempts;
    let retry = async |error: String| -> JobResult {
        if last_attempt {
            return give_up(format!("{error} (attempts exhausted)")).await;
        }
        record(Attempt::Retrying, Some(error.clone())).await?;
        Err(JobError::Retry(anyhow::anyhow!(error)))
    };

    let raw = match alerts::open_url(&ctx.alerts.sealer, &alert.webhook) {
        Ok(raw) => raw,
        Err(e) => return give_up(format!("the URL cannot be opened: {e}")).await,
    };
    let allow_private = ctx.alerts.allow_private;
    let url = match webhooks::parse(&raw, allow_private) {
        Ok(url) => url,
        Err(e) => return give_up(format!("target refused: {e}")).await,
    };
    let addrs = match webhooks::resolve(&url, allow_private).await {
        Ok(addrs) => addrs,
        Err(TargetError::Unresolved) => {
            return retry(TargetError::Unresolved.to_string()).await;
        }
        Err(e) => return give_up(format!("target refused: {e}")).await,
    };
    let lang = Lang::parse(&alert.webhook.locale).unwrap_or_default();
    let body = Message {
        alert_id,
        kind: alert.webhook.kind,
        lang,
        findings: &alert.findings,
        public_url: &ctx.public_url,
    }
    .body();
    let client = webhooks::pinned_client(&url, &addrs, TIMEOUT)
        .map_err(|e| JobError::Retry(e.without_url().into()))?;
    let response = match client.post(url).json(&body).send().await {
        Ok(response) => response,
        // Never the URL in a message: it is the secret.
        Err(e) => return retry(format!("not delivered: {}", e.without_url())).await,
    };
    let status = response.status();
    if status.is_success() {
        record(Attempt::Sent, None).await?;
        metrics::counter!("alerts_delivered_total", "outcome" => "sent").increment(1);
        return Ok(Done::Finished);
    }
    if status.as_u16() == 429 {
        let wait = retry_after(&response).min(MAX_RETRY_AFTER);
        record(Attempt::Retrying, Some("HTTP 429".into())).await?;
        return Err(JobError::Defer {
            until: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
            reason: "the webhook's rate limit".into(),
        });
    }
    if status.is_server_error() || status.as_u16() == 408 {
        return retry(format!("HTTP {}", status.as_u16())).await;
    }
    give_up(format!("HTTP {}", status.as_u16())).await
}

/// Seconds from `Retry-After` (Discord also puts them in the body; the header suffices).
fn retry_after(response: &reqwest::Response) -> Duration {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs_f64)
}
