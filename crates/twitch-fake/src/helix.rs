//! `api.twitch.tv/helix`: Get Users, Get Chatters, Get Moderated Channels, Get Streams.
//! Shapes, statuses and error bodies follow ../shared/twitch-api-reference.md; where the Twitch
//! CLI's mock differs from production (403 for a non-moderator, 400 for `first` out of
//! range), production wins.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use crate::rng;
use crate::state::{BucketReading, Fault, Inner, State, Subject};
use crate::world::{AccountIdx, ChannelIdx, World};

pub const SCOPE_CHATTERS: &str = "moderator:read:chatters";
pub const SCOPE_MODERATED: &str = "user:read:moderated_channels";

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/helix/users", get(get_users))
        .route("/helix/chat/chatters", get(get_chatters))
        .route("/helix/moderation/channels", get(get_moderated_channels))
        .route("/helix/streams", get(get_streams))
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

/// Runs one Helix request: injected faults, then authentication, then the token's bucket,
/// then the endpoint. Every answer carries the `Ratelimit-*` headers and is counted.
async fn helix(
    state: &State,
    endpoint: &'static str,
    headers: &HeaderMap,
    handle: impl FnOnce(&mut Inner, &World, Caller) -> Result<Value, HelixError>,
) -> Response {
    let limit = state.points_per_minute;
    let (fault, delay) = state.lock().next_fault(state.world.seed);
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
                reset: chrono::Utc::now().timestamp() + 1,
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
                            Ok(body) => axum::Json(body).into_response(),
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
    response
}

/// Headers go out, then the connection dies mid-body: what a client sees when Twitch's edge
/// drops it.
fn dropped_connection() -> Response {
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

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn values<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    values(pairs, key)
        .first()
        .copied()
        .filter(|v| !v.is_empty())
}

fn required<'a>(pairs: &'a [(String, String)], key: &str) -> Result<&'a str, HelixError> {
    single(pairs, key).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("Missing required parameter \"{key}\""),
        )
    })
}

/// `first` within 1..=max, or the default; Twitch answers 400 out of range (the CLI's mock
/// clamps; production does not).
fn page_size(pairs: &[(String, String)], default: usize, max: usize) -> Result<usize, HelixError> {
    let Some(raw) = single(pairs, "first") else {
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

fn parse_id(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Get Users

#[derive(Serialize)]
struct UserBody {
    id: String,
    login: String,
    display_name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    broadcaster_type: &'static str,
    description: String,
    profile_image_url: String,
    offline_image_url: String,
    view_count: u64,
    created_at: String,
}

/// Default avatars live under `user-default-pictures-uv/`; the analyser recognises them there.
const DEFAULT_AVATARS: &[&str] = &[
    "ce57700a-def9-11e9-842d-784f43822e80",
    "13e5fa74-defa-11e9-809c-784f43822e80",
    "294c98b5-e34d-42cd-a8f0-140b72fba9b0",
    "998f01ae-def8-11e9-b95c-784f43822e80",
    "de130ab0-def7-11e9-b668-784f43822e80",
    "dbdc9198-def8-11e9-8681-784f43822e80",
];

pub fn profile_image_url(world: &World, idx: AccountIdx) -> String {
    let account = world.account(idx);
    let h = rng::hash(world.seed, &[8, u64::from(idx)]);
    if account.default_avatar {
        format!(
            "https://static-cdn.jtvnw.net/user-default-pictures-uv/{}-profile_image-300x300.png",
            DEFAULT_AVATARS[(h % DEFAULT_AVATARS.len() as u64) as usize]
        )
    } else {
        format!(
            "https://static-cdn.jtvnw.net/jtv_user_pictures/{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}-profile_image-300x300.png",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xfff,
            (h >> 20) & 0xfff,
            h & 0xffff_ffff_ffff
        )
    }
}

pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn user_body(inner: &Inner, world: &World, idx: AccountIdx) -> UserBody {
    let account = world.account(idx);
    let (login, display_name) = inner.names(world, idx);
    UserBody {
        id: account.id.to_string(),
        login,
        display_name,
        kind: "",
        broadcaster_type: account.broadcaster_type,
        description: account.description.clone(),
        profile_image_url: profile_image_url(world, idx),
        offline_image_url: String::new(),
        view_count: 0,
        created_at: rfc3339(account.created_at),
    }
}

async fn get_users(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    helix(&state, "users", &headers, |inner, world, caller| {
        let ids = values(&pairs, "id");
        let logins = values(&pairs, "login");
        if ids.len() + logins.len() > 100 {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "The parameters \"id\" and \"login\" may be repeated at most 100 times combined",
            ));
        }
        let malformed = ids.iter().any(|id| parse_id(id).is_none())
            || logins.iter().any(|l| !crate::scenario::is_valid_login(l));
        if malformed {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Invalid login names, emails or IDs in request",
            ));
        }
        let mut wanted: Vec<AccountIdx> = Vec::new();
        if ids.is_empty() && logins.is_empty() {
            match caller.user() {
                Some(me) => wanted.push(me),
                None => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Must provide an ID, Login or OAuth Token",
                    ));
                }
            }
        }
        wanted.extend(
            ids.iter()
                .filter_map(|id| parse_id(id).and_then(|id| world.by_id(id))),
        );
        wanted.extend(
            logins
                .iter()
                .filter_map(|login| inner.resolve_login(world, login)),
        );
        let mut seen = std::collections::HashSet::new();
        let data: Vec<UserBody> = wanted
            .into_iter()
            // Unknown ids are simply absent; so are suspended accounts.
            .filter(|idx| seen.insert(*idx) && !inner.is_suspended(world, *idx))
            .map(|idx| user_body(inner, world, idx))
            .collect();
        Ok(json!({ "data": data }))
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Get Chatters

#[derive(Serialize)]
struct ChatterBody {
    user_id: String,
    user_login: String,
    user_name: String,
}

async fn get_chatters(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    helix(&state, "chatters", &headers, |inner, world, caller| {
        let Some(me) = caller.user() else {
            return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
        };
        caller.require_scope(SCOPE_CHATTERS)?;
        let broadcaster = required(&pairs, "broadcaster_id")?;
        let moderator = required(&pairs, "moderator_id")?;
        let first = page_size(&pairs, 100, 1000)?;
        if parse_id(moderator) != Some(world.account(me).id) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "The ID in moderator_id must match the user ID found in the request's OAuth token.",
            ));
        }
        let Some(broadcaster_idx) = parse_id(broadcaster).and_then(|id| world.by_id(id)) else {
            return Err(error(StatusCode::BAD_REQUEST, "Invalid broadcaster_id"));
        };
        if inner.is_suspended(world, broadcaster_idx) {
            return Err(error(StatusCode::BAD_REQUEST, "Invalid broadcaster_id"));
        }
        let channel = world.channel_by_account(broadcaster_idx);
        let may_read = broadcaster_idx == me
            || channel.is_some_and(|c| world.channels[c as usize].moderators.contains(&me));
        if !may_read {
            return Err(error(
                StatusCode::FORBIDDEN,
                "The user in moderator_id is not one of the broadcaster's moderators.",
            ));
        }
        let Some(channel) = channel else {
            // A real account that is not a scenario channel: nobody is in its chat.
            return Ok(json!({ "data": [], "pagination": {}, "total": 0 }));
        };
        let (listing, offset, members) = match single(&pairs, "after") {
            None => {
                let (number, members) = inner.start_listing(world, channel);
                (number, 0, members)
            }
            Some(cursor) => {
                let (listing, offset) = decode_cursor(cursor)
                    .and_then(|c| parse_chatters_cursor(&c, channel))
                    .ok_or_else(invalid_cursor)?;
                (listing, offset, inner.listing(world, channel, listing))
            }
        };
        let end = (offset + first).min(members.len());
        let data: Vec<ChatterBody> = members
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&idx| {
                let (user_login, user_name) = inner.names(world, idx);
                ChatterBody {
                    user_id: world.account(idx).id.to_string(),
                    user_login,
                    user_name,
                }
            })
            .collect();
        let next = (end < members.len())
            .then(|| encode_cursor(&format!("chatters:{channel}:{listing}:{end}")));
        Ok(json!({ "data": data, "pagination": pagination(next), "total": members.len() }))
    })
    .await
}

fn parse_chatters_cursor(cursor: &str, channel: ChannelIdx) -> Option<(u32, usize)> {
    let mut parts = cursor.strip_prefix("chatters:")?.split(':');
    let c: ChannelIdx = parts.next()?.parse().ok()?;
    let listing: u32 = parts.next()?.parse().ok()?;
    let offset: usize = parts.next()?.parse().ok()?;
    (c == channel && parts.next().is_none()).then_some((listing, offset))
}

// ---------------------------------------------------------------------------------------
// Get Moderated Channels

async fn get_moderated_channels(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    helix(&state, "moderated_channels", &headers, |inner, world, caller| {
        let Some(me) = caller.user() else {
            return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
        };
        caller.require_scope(SCOPE_MODERATED)?;
        let user_id = required(&pairs, "user_id")?;
        let first = page_size(&pairs, 20, 100)?;
        if parse_id(user_id) != Some(world.account(me).id) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "The ID in user_id must match the user ID found in the request's OAuth token.",
            ));
        }
        // The user's own channel is not listed: a broadcaster does not moderate it.
        let mut channels: Vec<(String, String, String)> = world
            .channels
            .iter()
            .filter(|c| c.moderators.contains(&me) && c.account != me)
            .filter(|c| !inner.is_suspended(world, c.account))
            .map(|c| {
                let (login, name) = inner.names(world, c.account);
                (login, world.account(c.account).id.to_string(), name)
            })
            .collect();
        channels.sort();
        let offset = match single(&pairs, "after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .and_then(|c| c.strip_prefix(&format!("moderated:{me}:"))?.parse::<usize>().ok())
                .ok_or_else(invalid_cursor)?,
        };
        let end = (offset + first).min(channels.len());
        let data: Vec<Value> = channels
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|(login, id, name)| {
                json!({ "broadcaster_id": id, "broadcaster_login": login, "broadcaster_name": name })
            })
            .collect();
        let next = (end < channels.len()).then(|| encode_cursor(&format!("moderated:{me}:{end}")));
        Ok(json!({ "data": data, "pagination": pagination(next) }))
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Get Streams

async fn get_streams(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    helix(&state, "streams", &headers, |inner, world, _caller| {
        let user_ids = values(&pairs, "user_id");
        let user_logins = values(&pairs, "user_login");
        if user_ids.len() > 100 || user_logins.len() > 100 {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "you may only send 100 of each parameter",
            ));
        }
        match single(&pairs, "type") {
            None | Some("all") | Some("live") => {}
            Some(_) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "The parameter \"type\" was malformed: the value must be one of all, live",
                ));
            }
        }
        let first = page_size(&pairs, 20, 100)?;
        let filtered = !user_ids.is_empty() || !user_logins.is_empty();
        let wanted: Vec<AccountIdx> = user_ids
            .iter()
            .filter_map(|id| parse_id(id).and_then(|id| world.by_id(id)))
            .chain(
                user_logins
                    .iter()
                    .filter_map(|l| inner.resolve_login(world, l)),
            )
            .collect();
        let mut live: Vec<usize> = (0..world.channels.len())
            .filter(|&c| inner.live[c])
            .filter(|&c| !filtered || wanted.contains(&world.channels[c].account))
            .filter(|&c| !inner.is_suspended(world, world.channels[c].account))
            .collect();
        live.sort_by_key(|&c| (std::cmp::Reverse(inner.viewer_counts[c]), c));
        let offset = match single(&pairs, "after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .and_then(|c| c.strip_prefix("streams:")?.parse::<usize>().ok())
                .ok_or_else(invalid_cursor)?,
        };
        let end = (offset + first).min(live.len());
        let data: Vec<Value> = live
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&c| stream_body(inner, world, c))
            .collect();
        let next = (end < live.len()).then(|| encode_cursor(&format!("streams:{end}")));
        Ok(json!({ "data": data, "pagination": pagination(next) }))
    })
    .await
}

fn stream_body(inner: &Inner, world: &World, c: usize) -> Value {
    let channel = &world.channels[c];
    let account = world.account(channel.account);
    let (login, name) = inner.names(world, channel.account);
    let game_id = rng::hash_str(&channel.game) % 1_000_000;
    json!({
        "id": (40_000_000_000u64 + rng::hash(world.seed, &[9, c as u64]) % 1_000_000_000).to_string(),
        "user_id": account.id.to_string(),
        "user_login": login,
        "user_name": name,
        "game_id": if channel.game.is_empty() { String::new() } else { game_id.to_string() },
        "game_name": channel.game,
        "type": "live",
        "title": channel.title,
        "tags": ["English"],
        "viewer_count": inner.viewer_counts[c],
        "started_at": rfc3339(inner.started_at[c]),
        "language": "en",
        "thumbnail_url": format!("https://static-cdn.jtvnw.net/previews-ttv/live_user_{login}-{{width}}x{{height}}.jpg"),
        "tag_ids": [],
        "is_mature": false,
    })
}
