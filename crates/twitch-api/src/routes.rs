//! The internal API under `/v1/` (docs/twitch-api.md). Every route needs
//! `Authorization: Bearer $INTERNAL_API_TOKEN`.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use tca_common::config::Secret;
use tca_common::query::QueryString;
use tca_common::twitch_api::{
    ApiErrorBody, AuthorizeUrl, AuthorizedUser, ChannelsResponse, Chatter, ChattersLine,
    ChattersSummary, DEADLINE_HEADER, ErrorCode, ExchangeRequest, MAX_WAIT_HEADER,
    ModerationAction, ModerationRequest, ModerationResult, SCOPES, Scopes, StaleTokens,
    StreamStatus, StreamsResponse, UsersResponse, Validation,
};
use tca_common::twitch_id::TwitchId;

use crate::twitch::paging::Pager;
use crate::twitch::{Actor, Twitch, TwitchError};

#[derive(Clone)]
pub struct AppState {
    pub twitch: Arc<Twitch>,
    pub internal_token: Secret,
    pub eventsub: Option<Arc<crate::eventsub::EventSubConfig>>,
}

/// An error answer: `{"error": code, "message": …, "retry_after_ms"?}` with the code's status.
#[derive(Debug)]
pub struct ApiError(ApiErrorBody);

impl ApiError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ApiErrorBody {
            error: code,
            message: message.into(),
            retry_after_ms: None,
        })
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
}

impl From<TwitchError> for ApiError {
    fn from(error: TwitchError) -> Self {
        let retry_after_ms = match &error {
            TwitchError::RateLimited { retry_after } => Some(retry_after.as_millis() as u64),
            _ => None,
        };
        if matches!(error, TwitchError::Internal(_)) {
            tracing::error!(error = %error, "internal failure");
        }
        Self(ApiErrorBody {
            error: error.code(),
            message: error.to_string(),
            retry_after_ms,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0.error.status(), Json(self.0)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/oauth/authorize-url", get(authorize_url))
        .route("/v1/oauth/exchange", post(exchange))
        .route("/v1/users", get(get_users))
        .route("/v1/users/{user_id}/channels", get(get_channels))
        .route("/v1/chatters", get(get_chatters))
        .route("/v1/streams", get(get_streams))
        .route("/v1/moderation", post(moderate))
        .route("/v1/eventsub/callback", post(crate::eventsub::callback))
        .route("/v1/eventsub/reconcile", post(crate::eventsub::reconcile))
        .route("/v1/tokens", get(stale_tokens))
        .route("/v1/tokens/{user_id}/validate", post(validate_tokens))
        .route("/v1/tokens/{user_id}/scopes", get(token_scopes))
        .route("/v1/tokens/{user_id}", delete(revoke_tokens))
        .route_layer(middleware::from_fn_with_state(
            state.internal_token.clone(),
            tca_common::server::require_internal_token,
        ))
        .with_state(state)
}

fn is_login(value: &str) -> bool {
    (1..=25).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn require_id(name: &str, value: Option<&str>) -> ApiResult<String> {
    match value {
        Some(v) if TwitchId::is_valid(v) => Ok(v.to_string()),
        Some(v) => Err(ApiError::bad_request(format!(
            "{name} must be a Twitch user id (digits), got '{v}'"
        ))),
        None => Err(ApiError::bad_request(format!("{name} is required"))),
    }
}

/// The caller's deadline (`x-deadline-ms`, relative milliseconds), if any.
fn deadline(headers: &HeaderMap) -> ApiResult<Option<Instant>> {
    let Some(raw) = headers.get(DEADLINE_HEADER) else {
        return Ok(None);
    };
    let ms: u64 = raw
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{DEADLINE_HEADER} must be a number of milliseconds"
            ))
        })?;
    Ok(Some(Instant::now() + Duration::from_millis(ms)))
}

/// `x-max-wait-ms`: how long the caller lets a call wait for Twitch's rate limit.
fn max_wait(headers: &HeaderMap) -> ApiResult<Option<Instant>> {
    let Some(raw) = headers.get(MAX_WAIT_HEADER) else {
        return Ok(None);
    };
    let ms: u64 = raw
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{MAX_WAIT_HEADER} must be a number of milliseconds"
            ))
        })?;
    Ok(Some(Instant::now() + Duration::from_millis(ms)))
}

fn valid_redirect(raw: &str) -> ApiResult<()> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "redirect_uri must be an http(s) URL, got '{raw}'"
        ))),
    }
}

async fn authorize_url(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AuthorizeUrl>> {
    let query = QueryString::parse(raw.as_deref());
    let csrf_state = query.first("state").unwrap_or_default().to_string();
    if csrf_state.is_empty() || csrf_state.len() > 256 {
        return Err(ApiError::bad_request(
            "state is required (1-256 characters)",
        ));
    }
    let redirect_uri = query.first("redirect_uri").unwrap_or_default().to_string();
    valid_redirect(&redirect_uri)?;
    let force_verify = query.first("force_verify") == Some("true");
    let actions = query.first("actions") == Some("true");
    let url = state
        .twitch
        .authorize_url(&csrf_state, &redirect_uri, force_verify, actions)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(AuthorizeUrl { url }))
}

async fn exchange(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<AuthorizedUser>> {
    let request: ExchangeRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("expected JSON {{\"code\", \"redirect_uri\"}}: {e}"))
    })?;
    if request.code.is_empty() || request.code.len() > 512 {
        return Err(ApiError::bad_request("code must be 1-512 characters"));
    }
    valid_redirect(&request.redirect_uri)?;
    let twitch = &state.twitch;
    let fresh = twitch
        .exchange_code(&request.code, &request.redirect_uri)
        .await?;
    let validated = twitch.validate_token(&fresh.access).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::TwitchUnavailable,
            "Twitch issued a token it does not validate",
        )
    })?;
    let user_id = validated
        .user_id
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::TwitchUnavailable, "the token has no user"))?;
    let scopes = validated
        .scopes
        .clone()
        .unwrap_or_else(|| fresh.scopes.clone());
    if let Some(missing) = SCOPES.iter().find(|s| !scopes.iter().any(|g| g == *s)) {
        return Err(ApiError::bad_request(format!(
            "the authorization lacks the scope {missing}; log in again and accept every permission"
        )));
    }
    // The grant this login replaces (another browser, an earlier login) is revoked at Twitch
    // once the new one is stored: no live grant is left behind.
    let replaced = twitch
        .tokens
        .load(&user_id)
        .await
        .map_err(TwitchError::from)?
        .filter(|old| old.access != fresh.access);
    twitch
        .tokens
        .save(&user_id, &fresh, Utc::now())
        .await
        .map_err(TwitchError::from)?;
    if let Some(old) = replaced
        && let Err(e) = twitch.revoke_token(&old.access).await
    {
        // The old grant stays until Twitch answers again; the login itself is fine.
        tracing::warn!(user_id, error = %e, "revoking the replaced Twitch grant failed");
    }
    twitch.forget_channels(&user_id);
    let me = twitch.me(&user_id).await?;
    tracing::info!(user_id, login = %me.login, "user authorized the app");
    Ok(Json(AuthorizedUser {
        user_id,
        login: me.login,
        display_name: me.display_name,
        profile_image_url: me.profile_image_url,
        scopes,
    }))
}

async fn get_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<UsersResponse>> {
    let query = QueryString::parse(raw.as_deref());
    let ids: Vec<String> = query.all("id").into_iter().map(str::to_string).collect();
    let logins: Vec<String> = query
        .all("login")
        .into_iter()
        .map(|l| l.to_ascii_lowercase())
        .collect();
    if ids.is_empty() && logins.is_empty() {
        return Err(ApiError::bad_request("give at least one id or login"));
    }
    let bad_ids: Vec<&String> = ids
        .iter()
        .filter(|id| !TwitchId::is_valid(id))
        .take(5)
        .collect();
    let bad_logins: Vec<&String> = logins.iter().filter(|l| !is_login(l)).take(5).collect();
    if !bad_ids.is_empty() || !bad_logins.is_empty() {
        return Err(ApiError::bad_request(format!(
            "malformed ids {bad_ids:?} or logins {bad_logins:?}: ids are digits, logins 1-25 of a-z, 0-9, _"
        )));
    }
    let actor = match query.first("as_user_id") {
        Some(id) => Actor::User(require_id("as_user_id", Some(id))?),
        None => Actor::App,
    };
    // The moderator whose captures caused these look-ups: their bucket may take the calls
    // the app's cannot take at once (`Twitch::users`).
    let spare = match query.first("spare_user_id") {
        Some(id) if actor == Actor::App => Some(require_id("spare_user_id", Some(id))?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "spare_user_id goes with the app's look-ups, not with as_user_id",
            ));
        }
        None => None,
    };
    let data = state
        .twitch
        .users(&actor, spare.as_deref(), &ids, &logins, deadline(&headers)?)
        .await?;
    Ok(Json(UsersResponse { data }))
}

async fn get_channels(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<ChannelsResponse>> {
    let user_id = require_id("user_id", Some(&user_id))?;
    let data = state.twitch.channels(&user_id).await?;
    Ok(Json(ChannelsResponse { data }))
}

fn ndjson_line(line: &ChattersLine, out: &mut Vec<u8>) {
    // Serialising our own plain structs cannot fail.
    if serde_json::to_writer(&mut *out, line).is_ok() {
        out.push(b'\n');
    }
}

/// Ends a chatters stream under way with an error line.
async fn end_with_error(tx: &tokio::sync::mpsc::Sender<Bytes>, e: TwitchError) {
    let mut chunk = Vec::new();
    ndjson_line(
        &ChattersLine::Error {
            error: ApiError::from(e).0,
        },
        &mut chunk,
    );
    let _ = tx.send(Bytes::from(chunk)).await;
}

/// Streams every chatter once, page by page (NDJSON), then a summary line. Errors before the
/// first page are HTTP errors; later ones end the stream with an error line.
async fn get_chatters(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = QueryString::parse(raw.as_deref());
    let broadcaster = require_id("broadcaster_id", query.first("broadcaster_id"))?;
    let moderator = require_id("moderator_id", query.first("moderator_id"))?;
    let deadline = deadline(&headers)?;
    // How long the caller lets the first page wait for the rate limit (a worker gives its
    // slot back rather than sleep in it); later pages finish the pass within the deadline.
    let bucket_deadline = match max_wait(&headers)? {
        Some(wait) => Some(deadline.map_or(wait, |d| d.min(wait))),
        None => deadline,
    };
    let twitch = state.twitch.clone();
    let first = twitch
        .chatters_page(&broadcaster, &moderator, None, deadline, bucket_deadline)
        .await?;

    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let total = first.total;
        let mut seen: HashSet<String> = HashSet::with_capacity(total as usize);
        let mut pages = 0u32;
        let mut pager = Pager::new("chatters", 1000, Pager::chatters_pages(total));
        let mut page = first;
        loop {
            pages += 1;
            let len = page.data.len();
            let next = pager.next(len, page.cursor.take());
            // The next page is asked for before this one is written out: Twitch's answer time
            // then overlaps our work on this page, which a listing of a hundred sequential
            // pages would otherwise pay a hundred times (tca-bench B3b).
            let fetching = match &next {
                Ok(Some(cursor)) => {
                    let (twitch, broadcaster, moderator, cursor) = (
                        twitch.clone(),
                        broadcaster.clone(),
                        moderator.clone(),
                        cursor.clone(),
                    );
                    Some(tokio::spawn(async move {
                        twitch
                            .chatters_page(
                                &broadcaster,
                                &moderator,
                                Some(&cursor),
                                deadline,
                                deadline,
                            )
                            .await
                    }))
                }
                _ => None,
            };
            let mut chunk = Vec::with_capacity(page.data.len() * 64);
            for c in page.data {
                // Twitch's list is live: a chatter may repeat across pages.
                if seen.insert(c.user_id.clone()) {
                    ndjson_line(
                        &ChattersLine::Chatter(Chatter {
                            user_id: c.user_id,
                            user_login: c.user_login,
                            user_name: c.user_name,
                        }),
                        &mut chunk,
                    );
                }
            }
            if tx.send(Bytes::from(chunk)).await.is_err() {
                if let Some(fetching) = fetching {
                    fetching.abort();
                }
                return; // The caller went away.
            }
            if let Err(e) = next {
                return end_with_error(&tx, e).await;
            }
            let Some(fetching) = fetching else { break };
            page = match fetching.await {
                Ok(Ok(next)) => next,
                Ok(Err(e)) => return end_with_error(&tx, e).await,
                Err(e) => {
                    let e = TwitchError::Internal(format!("the next page's fetch ended: {e}"));
                    return end_with_error(&tx, e).await;
                }
            };
        }
        metrics::histogram!("chatters_stream_size").record(seen.len() as f64);
        let mut chunk = Vec::new();
        let done = ChattersSummary {
            total,
            pages,
            chatters: seen.len() as u64,
        };
        ndjson_line(&ChattersLine::Done { done }, &mut chunk);
        let _ = tx.send(Bytes::from(chunk)).await;
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), rx))
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn get_streams(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<StreamsResponse>> {
    let query = QueryString::parse(raw.as_deref());
    let ids: Vec<String> = query
        .all("user_id")
        .into_iter()
        .map(str::to_string)
        .collect();
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::bad_request("give 1 to 100 user_id values"));
    }
    for id in &ids {
        require_id("user_id", Some(id))?;
    }
    let live = state.twitch.streams(&ids).await?;
    let data = ids
        .iter()
        .map(|id| match live.iter().find(|s| &s.user_id == id) {
            Some(s) => StreamStatus {
                user_id: id.clone(),
                live: true,
                viewer_count: s.viewer_count,
                title: s.title.clone(),
                game_name: s.game_name.clone(),
                started_at: s.started_at,
            },
            None => StreamStatus {
                user_id: id.clone(),
                live: false,
                viewer_count: 0,
                title: String::new(),
                game_name: String::new(),
                started_at: None,
            },
        })
        .collect();
    Ok(Json(StreamsResponse { data }))
}

/// The longest reason Twitch keeps on a ban (characters).
const MAX_REASON_CHARS: usize = 500;
/// The longest timeout Twitch accepts: 14 days.
const MAX_TIMEOUT_SECS: u32 = 1_209_600;

/// One ban, timeout or unban (docs/twitch-api.md): checked here so that Twitch never sees a
/// request it would refuse for its form.
async fn moderate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ModerationResult>> {
    let request: ModerationRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected JSON {{\"action\": \"ban|timeout|unban\", \"broadcaster_id\", \"moderator_id\", \"user_id\", \"duration_secs\"?, \"reason\"?}}: {e}"
        ))
    })?;
    require_id("broadcaster_id", Some(&request.broadcaster_id))?;
    require_id("moderator_id", Some(&request.moderator_id))?;
    require_id("user_id", Some(&request.user_id))?;
    match (request.action, request.duration_secs) {
        (ModerationAction::Timeout, Some(secs)) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => {}
        (ModerationAction::Timeout, _) => {
            return Err(ApiError::bad_request(format!(
                "a timeout needs duration_secs from 1 to {MAX_TIMEOUT_SECS}"
            )));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_request("duration_secs is only for a timeout"));
        }
        (_, None) => {}
    }
    if request
        .reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(ApiError::bad_request(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let result = state.twitch.moderate(&request, max_wait(&headers)?).await?;
    Ok(Json(result))
}

/// Validates the user's token with Twitch now; an expired one is refreshed first. A token
/// Twitch refuses is marked invalid (`valid: false`), and stays so until the next login.
async fn validate_tokens(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Validation>> {
    let user_id = require_id("user_id", Some(&user_id))?;
    let twitch = &state.twitch;
    let invalid = |reason: String| Validation {
        user_id: user_id.clone(),
        valid: false,
        login: None,
        scopes: Vec::new(),
        expires_in: None,
        reason: Some(reason),
    };
    let stored = match twitch
        .tokens
        .load(&user_id)
        .await
        .map_err(TwitchError::from)?
    {
        None => return Ok(Json(invalid("no Twitch authorization is stored".into()))),
        Some(t) if t.invalid => {
            return Ok(Json(invalid(
                t.invalid_reason.unwrap_or_else(|| "withdrawn".into()),
            )));
        }
        Some(t) => t,
    };
    let mut validated = twitch.validate_token(&stored.access).await?;
    if validated.is_none() {
        match twitch.refresh_after_401(&user_id, &stored.access).await {
            Ok(fresh) => validated = twitch.validate_token(&fresh).await?,
            Err(TwitchError::ReauthRequired(reason)) => return Ok(Json(invalid(reason))),
            Err(other) => return Err(other.into()),
        }
    }
    let Some(validated) = validated else {
        let reason = "Twitch rejects the refreshed token";
        crate::tokens::TokenStore::mark_invalid(twitch.tokens.pool(), &user_id, reason, Utc::now())
            .await
            .map_err(TwitchError::from)?;
        return Ok(Json(invalid(reason.into())));
    };
    twitch
        .tokens
        .mark_validated(&user_id, Utc::now())
        .await
        .map_err(TwitchError::from)?;
    Ok(Json(Validation {
        user_id,
        valid: true,
        login: validated.login,
        scopes: validated.scopes.unwrap_or_default(),
        expires_in: validated.expires_in,
        reason: None,
    }))
}

/// The scopes of the user's stored, still valid authorization (no call to Twitch).
async fn token_scopes(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Scopes>> {
    let user_id = require_id("user_id", Some(&user_id))?;
    let scopes = tca_common::db::tokens::scopes_of(state.twitch.tokens.pool(), &user_id)
        .await
        .map_err(TwitchError::from)?;
    Ok(Json(Scopes { scopes }))
}

/// Revokes the user's token at Twitch (best effort) and forgets it here (always).
async fn revoke_tokens(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user_id = require_id("user_id", Some(&user_id))?;
    let twitch = &state.twitch;
    let stored = twitch
        .tokens
        .load(&user_id)
        .await
        .map_err(TwitchError::from)?;
    if let Some(stored) = stored
        && let Err(e) = twitch.revoke_token(&stored.access).await
    {
        tracing::warn!(user_id, error = %e, "revoking at Twitch failed; forgetting the token anyway");
    }
    twitch
        .tokens
        .delete(&user_id)
        .await
        .map_err(TwitchError::from)?;
    twitch.forget_channels(&user_id);
    Ok(StatusCode::NO_CONTENT)
}

async fn stale_tokens(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<StaleTokens>> {
    let query = QueryString::parse(raw.as_deref());
    let secs: i64 = query
        .first("validated_before_secs")
        .and_then(|v| v.parse().ok())
        .filter(|&v| v >= 0)
        .ok_or_else(|| {
            ApiError::bad_request("validated_before_secs must be a number of seconds")
        })?;
    let before = Utc::now() - chrono::Duration::seconds(secs);
    let user_ids = state
        .twitch
        .tokens
        .stale(before)
        .await
        .map_err(TwitchError::from)?;
    Ok(Json(StaleTokens { user_ids }))
}
