//! `api.twitch.tv/helix`: Get Users, Get Chatters, Get Moderated Channels, Get Streams.
//! Shapes, statuses and error bodies follow ../shared/twitch-api-reference.md; where the Twitch
//! CLI's mock differs from production (403 for a non-moderator, 400 for `first` out of
//! range), production wins.
//!
//! Here: the router, authentication, faults and rate-limit headers every endpoint shares;
//! the endpoints in `users`, `chatters` (Get Chatters, Get Moderated Channels), `streams`,
//! `bans` (Ban User, Unban User, Get Banned Users).

mod bans;
mod chatters;
mod eventsub;
mod streams;
mod users;

pub use users::{profile_image_url, rfc3339};

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use tca_common::query::QueryString;
use tca_common::twitch_id::TwitchId;

use crate::state::{BucketReading, Fault, Inner, State, Subject};
use crate::world::{AccountIdx, World};

pub const SCOPE_CHATTERS: &str = "moderator:read:chatters";
pub const SCOPE_MODERATED: &str = "user:read:moderated_channels";

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/helix/users", get(users::get_users))
        .route("/helix/chat/chatters", get(chatters::get_chatters))
        .route(
            "/helix/moderation/channels",
            get(chatters::get_moderated_channels),
        )
        .route("/helix/streams", get(streams::get_streams))
        .route(
            "/helix/moderation/bans",
            post(bans::ban_user).delete(bans::unban_user),
        )
        .route("/helix/moderation/banned", get(bans::get_banned_users))
        .route(
            "/helix/eventsub/subscriptions",
            post(eventsub::create)
                .get(eventsub::list)
                .delete(eventsub::delete),
        )
        .with_state(state)
}

/// A Helix error: answered as `{"error": <reason phrase>, "status": <code>, "message": <text>}`.
#[derive(Debug)]
pub struct HelixError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for HelixError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.status.canonical_reason().unwrap_or(""),
            "status": self.status.as_u16(),
            "message": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

pub fn error(status: StatusCode, message: &str) -> HelixError {
    HelixError {
        status,
        message: message.to_string(),
    }
}

fn with_rate_headers(mut response: Response, reading: &BucketReading) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", reading.limit.to_string()),
        ("ratelimit-remaining", reading.remaining.to_string()),
        ("ratelimit-reset", reading.reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// A caller that passed the gate: who it is and what its token may do.
struct Caller {
    subject: Subject,
    scopes: Vec<String>,
}

impl Caller {
    fn user(&self) -> Option<AccountIdx> {
        match self.subject {
            Subject::User(idx) => Some(idx),
            Subject::App => None,
        }
    }

    fn require_scope(&self, scope: &str) -> Result<(), HelixError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(error(
                StatusCode::UNAUTHORIZED,
                &format!("Missing scope: {scope}"),
            ))
        }
    }
}

/// Endpoints that change something: an injected connection drop lets the change happen
/// and loses the answer, the worst case for a client's retries.
const WRITES: &[&str] = &["ban", "unban"];

/// Runs one Helix request: injected faults, then authentication, then the token's bucket,
/// then the endpoint. Every answer carries the `Ratelimit-*` headers and is counted. An
/// endpoint answering `Value::Null` answers 204 without a body; a body object with a numeric
/// `__status` answers with that status (the key removed): EventSub's 202.
async fn helix(
    state: &State,
    endpoint: &'static str,
    headers: &HeaderMap,
    handle: impl FnOnce(&mut Inner, &World, Caller) -> Result<Value, HelixError>,
) -> Response {
    let limit = state.points_per_minute;
    let (mut fault, delay, reset_429) = {
        let mut inner = state.lock();
        let (fault, delay) = inner.next_fault(state.world.seed);
        (fault, delay, inner.faults.reset_429_secs.max(1) as i64)
    };
    let drop_after = fault == Fault::Drop && WRITES.contains(&endpoint);
    if drop_after {
        fault = Fault::None;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let idle = BucketReading {
        allowed: true,
        limit,
        remaining: limit,
        reset: chrono::Utc::now().timestamp(),
    };
    let response = match fault {
        Fault::TooManyRequests => {
            let reading = BucketReading {
                remaining: 0,
                reset: chrono::Utc::now().timestamp() + reset_429,
                ..idle
            };
            with_rate_headers(
                error(StatusCode::TOO_MANY_REQUESTS, "Request limit exceeded").into_response(),
                &reading,
            )
        }
        Fault::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            with_rate_headers(error(status, "").into_response(), &idle)
        }
        Fault::Drop => dropped_connection(),
        Fault::None => {
            let mut inner = state.lock();
            match authenticate(state, &inner, headers) {
                Err(refused) => with_rate_headers(refused.into_response(), &idle),
                Ok(caller) => {
                    let bucket = match caller.subject {
                        Subject::App => "app".to_string(),
                        Subject::User(idx) => state.world.account(idx).id.to_string(),
                    };
                    let window = state.scenario.rate_limit.window;
                    let reading = inner.take_point(caller.subject, bucket, limit, window);
                    let response = if reading.allowed {
                        match handle(&mut inner, &state.world, caller) {
                            Ok(Value::Null) => StatusCode::NO_CONTENT.into_response(),
                            Ok(mut body) => {
                                let status = body
                                    .as_object_mut()
                                    .and_then(|o| o.remove("__status"))
                                    .and_then(|s| s.as_u64())
                                    .and_then(|s| StatusCode::from_u16(s as u16).ok())
                                    .unwrap_or(StatusCode::OK);
                                (status, axum::Json(body)).into_response()
                            }
                            Err(refused) => refused.into_response(),
                        }
                    } else {
                        error(StatusCode::TOO_MANY_REQUESTS, "Request limit exceeded")
                            .into_response()
                    };
                    with_rate_headers(response, &reading)
                }
            }
        }
    };
    state.lock().record(endpoint, response.status().as_u16());
    if drop_after {
        return dropped_connection();
    }
    response
}

/// Headers go out, then the connection dies mid-body: what a client sees when Twitch's edge
/// drops it.
pub(crate) fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "twitch-fake: injected connection drop",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn authenticate(state: &State, inner: &Inner, headers: &HeaderMap) -> Result<Caller, HelixError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = bearer else {
        return Err(error(StatusCode::UNAUTHORIZED, "OAuth token is missing"));
    };
    let client_id = headers.get("client-id").and_then(|v| v.to_str().ok());
    let Some(client_id) = client_id else {
        return Err(error(StatusCode::UNAUTHORIZED, "Client ID is missing"));
    };
    let Some(found) = inner.valid_token(token) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid OAuth token"));
    };
    if client_id != state.scenario.app.client_id {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Client ID and OAuth token do not match",
        ));
    }
    if let Subject::User(idx) = found.subject
        && inner.is_suspended(&state.world, idx)
    {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid OAuth token"));
    }
    Ok(Caller {
        subject: found.subject,
        scopes: found.scopes.clone(),
    })
}

fn required<'a>(query: &'a QueryString, key: &str) -> Result<&'a str, HelixError> {
    query.one(key).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("Missing required parameter \"{key}\""),
        )
    })
}

/// `first` within 1..=max, or the default; Twitch answers 400 out of range (the CLI's mock
/// clamps; production does not).
fn page_size(query: &QueryString, default: usize, max: usize) -> Result<usize, HelixError> {
    let Some(raw) = query.one("first") else {
        return Ok(default);
    };
    let malformed = |rule: String| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("The parameter \"first\" was malformed: {rule}"),
        )
    };
    let n: i64 = raw
        .parse()
        .map_err(|_| malformed("the value must be a number".into()))?;
    if n > max as i64 {
        return Err(malformed(format!(
            "the value must be less than or equal to {max}"
        )));
    }
    if n < 1 {
        return Err(malformed(
            "the value must be greater than or equal to 1".into(),
        ));
    }
    Ok(n as usize)
}

/// Cursors look like Twitch's (base64 of a small JSON document) and are opaque to clients.
fn encode_cursor(inner: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!({"b": null, "a": {"Cursor": inner}}).to_string())
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    let doc: Value = serde_json::from_slice(&bytes).ok()?;
    doc.get("a")?.get("Cursor")?.as_str().map(str::to_string)
}

fn invalid_cursor() -> HelixError {
    error(StatusCode::BAD_REQUEST, "Invalid cursor.")
}

fn pagination(next: Option<String>) -> Value {
    match next {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    }
}

/// A Twitch id as the fake's world numbers accounts.
fn parse_id(raw: &str) -> Option<u64> {
    if !TwitchId::is_valid(raw) {
        return None;
    }
    raw.parse().ok()
}
