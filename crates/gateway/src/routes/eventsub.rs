//! `POST /eventsub/callback`, the public address Twitch delivers EventSub messages to
//! (docs/live.md). The gateway neither reads nor judges them: it forwards the raw body and the
//! `Twitch-Eventsub-*` headers to twitch-api, which holds the secret, verifies and queues, and
//! gives Twitch twitch-api's answer as it is. No login, no CSRF: Twitch's signature is the
//! authentication, checked where the secret is.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// EventSub bodies are small (a chat message is a few kilobytes).
pub const BODY_LIMIT: usize = 64 * 1024;

pub async fn callback(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let forwarded: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("twitch-eventsub-"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    match state
        .twitch
        .forward_eventsub(&forwarded, body.to_vec())
        .await
    {
        Ok((status, content_type, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = (status, body).into_response();
            if let Some(value) = content_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
        // Not acknowledged: Twitch delivers it again.
        Err(e) => {
            tracing::warn!(error = %e, "could not forward an EventSub message to twitch-api");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
