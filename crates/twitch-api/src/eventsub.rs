//! The EventSub webhook callback (docs/live.md, reference §14.7–14.11). Twitch POSTs to the
//! public `/eventsub/callback`; the gateway forwards the request, body and `Twitch-Eventsub-*`
//! headers untouched, to `POST /v1/eventsub/callback` here, where the secret is. Every message
//! is checked — the HMAC signature over id + timestamp + raw body, in constant time, and a
//! timestamp within 10 minutes — or refused with 403 and nothing else done. A challenge is
//! answered with itself as plain text; a notification or a revocation is recorded by message
//! id and handed to the queue in one transaction, and answered at once (204): the work is the
//! worker's. A message id seen before is answered 204 and skipped (Twitch resends).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tca_common::config::Secret;
use tca_common::db::eventsub::{self, EventJob};
use tca_common::eventsub as es;

use crate::routes::AppState;

/// EventSub's settings: the secret Twitch signs with, and where Twitch posts.
#[derive(Debug, Clone)]
pub struct EventSubConfig {
    pub secret: Secret,
    /// The public callback (`https://…/eventsub/callback`), given to Twitch with each
    /// subscription.
    pub callback: url::Url,
}

/// Messages older (or newer) than this are refused: Twitch's replay advice.
const MAX_AGE: chrono::Duration = chrono::Duration::minutes(10);

fn refuse(status: StatusCode, why: &'static str) -> Response {
    metrics::counter!("eventsub_messages_total", "outcome" => why).increment(1);
    (status, why).into_response()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    subscription: serde_json::Value,
    #[serde(default)]
    event: serde_json::Value,
}

pub async fn callback(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(config) = state.eventsub.as_ref() else {
        return refuse(StatusCode::NOT_FOUND, "eventsub is not enabled");
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (id, timestamp, kind) = (
        header(es::MESSAGE_ID),
        header(es::MESSAGE_TIMESTAMP),
        header(es::MESSAGE_TYPE),
    );
    if id.is_empty() || id.len() > 100 || timestamp.is_empty() || kind.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "missing eventsub headers");
    }
    if !es::verify(
        config.secret.expose(),
        id,
        timestamp,
        &body,
        header(es::MESSAGE_SIGNATURE),
    ) {
        return refuse(StatusCode::FORBIDDEN, "bad signature");
    }
    let now = Utc::now();
    let fresh = DateTime::parse_from_rfc3339(timestamp)
        .map(|t| (now - t.with_timezone(&Utc)).abs() <= MAX_AGE)
        .unwrap_or(false);
    if !fresh {
        return refuse(StatusCode::FORBIDDEN, "stale timestamp");
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let subscription_type = envelope
        .subscription
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_else(|| header(es::SUBSCRIPTION_TYPE))
        .to_string();
    match kind {
        es::VERIFICATION => {
            let Some(challenge) = envelope.challenge else {
                return refuse(StatusCode::BAD_REQUEST, "no challenge");
            };
            metrics::counter!("eventsub_messages_total", "outcome" => "challenge").increment(1);
            tracing::info!(subscription_type, "EventSub subscription verified");
            ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response()
        }
        es::NOTIFICATION | es::REVOCATION => {
            let job = EventJob {
                message_id: id.to_string(),
                message_type: kind.to_string(),
                subscription_type: subscription_type.clone(),
                sent_at: DateTime::parse_from_rfc3339(timestamp)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(now),
                event: if kind == es::REVOCATION {
                    envelope.subscription
                } else {
                    envelope.event
                },
            };
            if kind == es::REVOCATION {
                tracing::warn!(subscription_type, status = %job.event["status"], "Twitch revoked an EventSub subscription");
            }
            let accepted = async {
                let mut conn = state.twitch.tokens.pool().acquire().await?;
                eventsub::accept(&mut conn, id, kind, &subscription_type, Some(&job), now).await
            };
            match accepted.await {
                Ok(true) => {
                    metrics::counter!("eventsub_messages_total", "outcome" => "accepted")
                        .increment(1);
                    StatusCode::NO_CONTENT.into_response()
                }
                Ok(false) => {
                    metrics::counter!("eventsub_messages_total", "outcome" => "duplicate")
                        .increment(1);
                    StatusCode::NO_CONTENT.into_response()
                }
                // Not acknowledged: Twitch sends it again.
                Err(e) => {
                    tracing::error!(error = %e, "could not hand an EventSub message to the queue");
                    refuse(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
                }
            }
        }
        _ => refuse(StatusCode::BAD_REQUEST, "unknown message type"),
    }
}

/// Makes Twitch's subscriptions what the auto-captured channels need (`Reconciled.enabled`
/// false, nothing done, when EventSub is not configured).
pub async fn reconcile(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<axum::Json<tca_common::twitch_api::Reconciled>, crate::routes::ApiError> {
    let request: tca_common::twitch_api::ReconcileRequest =
        serde_json::from_slice(&body).map_err(|e| {
            crate::routes::ApiError::bad_request(format!(
                "expected JSON {{\"broadcaster_ids\": [...]}}: {e}"
            ))
        })?;
    for id in &request.broadcaster_ids {
        if !tca_common::twitch_id::TwitchId::is_valid(id) {
            return Err(crate::routes::ApiError::bad_request(format!(
                "broadcaster_ids must be Twitch ids, got '{id}'"
            )));
        }
    }
    let Some(config) = state.eventsub.as_ref() else {
        return Ok(axum::Json(tca_common::twitch_api::Reconciled::default()));
    };
    let mut result = state
        .twitch
        .reconcile_eventsub(
            config.callback.as_str(),
            config.secret.expose(),
            &request.broadcaster_ids,
        )
        .await?;
    result.enabled = true;
    if result.created + result.deleted > 0 || !result.refused.is_empty() {
        tracing::info!(?result, "EventSub subscriptions reconciled");
    }
    Ok(axum::Json(result))
}
