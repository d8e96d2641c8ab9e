//! A webhook sink standing in for Discord and for any JSON receiver (docs/live.md): what the
//! product's alerts are sent to in tests and the demo. Not Twitch, but served by the fake so
//! that a test or a demo needs one process for "the outside world".
//!
//! - `POST /api/webhooks/{id}/{token}` answers as Discord's Execute Webhook does (204 without
//!   `?wait=true`), after Discord's checks: a message needs `content` or `embeds`, `content`
//!   at most 2,000 characters, at most 10 embeds, an embed title at most 256 and a
//!   description at most 4,096; otherwise 400 with Discord's error body.
//! - `POST /hooks/{name}`: any JSON object, 200.
//! - `GET /_fake/webhooks/{key}` (key: the Discord id, or the name): what was received;
//!   `POST /_fake/webhooks/{key}/fail {"count": n, "status": 500}`: the next n deliveries are
//!   answered with that status (429 with `Retry-After: 1`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Sink {
    received: Vec<Value>,
    /// Statuses to answer the next deliveries with, first first.
    failures: Vec<u16>,
    /// Deliveries answered with a failure.
    failed: u64,
}

#[derive(Debug, Default)]
pub struct Sinks {
    sinks: Mutex<HashMap<String, Sink>>,
}

impl Sinks {
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Sink) -> T) -> T {
        let mut sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        f(sinks.entry(key.to_string()).or_default())
    }

    /// Records `body` unless a failure is due: then its status.
    fn take(&self, key: &str, body: Value) -> Option<u16> {
        self.with(key, |sink| {
            if sink.failures.is_empty() {
                sink.received.push(body);
                None
            } else {
                sink.failed += 1;
                Some(sink.failures.remove(0))
            }
        })
    }
}

pub fn router(sinks: Arc<Sinks>) -> Router {
    Router::new()
        .route("/api/webhooks/{id}/{token}", post(discord))
        .route("/hooks/{name}", post(generic))
        .route("/_fake/webhooks/{key}", get(show))
        .route("/_fake/webhooks/{key}/fail", post(fail))
        .with_state(sinks)
}

fn failure(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, "1".parse().expect("header"));
        return (
            status,
            headers,
            Json(json!({"message": "You are being rate limited.", "retry_after": 1.0, "global": false})),
        )
            .into_response();
    }
    (
        status,
        Json(json!({"message": "failure injected by the fake"})),
    )
        .into_response()
}

fn discord_error(code: u32, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"code": code, "message": message})),
    )
        .into_response()
}

/// Discord's own limits on an Execute Webhook body.
fn discord_problem(body: &Value) -> Option<&'static str> {
    let content = body.get("content").and_then(Value::as_str).unwrap_or("");
    let embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if content.is_empty() && embeds.is_empty() {
        return Some("Cannot send an empty message");
    }
    if content.chars().count() > 2000 {
        return Some("content: Must be 2000 or fewer in length.");
    }
    if embeds.len() > 10 {
        return Some("embeds: Must be 10 or fewer in length.");
    }
    let too_long = |embed: &Value, field: &str, max: usize| {
        embed
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| s.chars().count() > max)
    };
    if embeds.iter().any(|e| too_long(e, "title", 256)) {
        return Some("embeds.0.title: Must be 256 or fewer in length.");
    }
    if embeds.iter().any(|e| too_long(e, "description", 4096)) {
        return Some("embeds.0.description: Must be 4096 or fewer in length.");
    }
    if body
        .get("username")
        .and_then(Value::as_str)
        .is_some_and(|u| u.to_lowercase().contains("discord") || u.chars().count() > 80)
    {
        return Some("username: Invalid username");
    }
    None
}

async fn discord(
    AxumState(sinks): AxumState<Arc<Sinks>>,
    Path((id, _token)): Path<(String, String)>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return discord_error(50109, "The request body contains invalid JSON.");
    };
    if let Some(problem) = discord_problem(&body) {
        return discord_error(50035, problem);
    }
    match sinks.take(&id, body) {
        Some(status) => failure(status),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn generic(
    AxumState(sinks): AxumState<Arc<Sinks>>,
    Path(name): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return (StatusCode::BAD_REQUEST, "a JSON body is expected").into_response();
    };
    match sinks.take(&name, body) {
        Some(status) => failure(status),
        None => (StatusCode::OK, Json(json!({"ok": true}))).into_response(),
    }
}

async fn show(AxumState(sinks): AxumState<Arc<Sinks>>, Path(key): Path<String>) -> Json<Value> {
    sinks.with(&key, |sink| {
        Json(json!({
            "received": sink.received,
            "failed": sink.failed,
            "failures_pending": sink.failures.len(),
        }))
    })
}

#[derive(Deserialize)]
struct Fail {
    count: usize,
    #[serde(default = "server_error")]
    status: u16,
}

fn server_error() -> u16 {
    500
}

async fn fail(
    AxumState(sinks): AxumState<Arc<Sinks>>,
    Path(key): Path<String>,
    Json(fail): Json<Fail>,
) -> Json<Value> {
    sinks.with(&key, |sink| {
        sink.failures
            .extend(std::iter::repeat_n(fail.status, fail.count));
        Json(json!({"failures_pending": sink.failures.len()}))
    })
}
