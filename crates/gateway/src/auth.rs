//! Who is asking: web sessions, CSRF, OAuth state.
//!
//! - The web session cookie holds 256 random bits; only their SHA-256 is stored. Expiry slides with
//!   use (`WEB_SESSION_IDLE`) under an absolute cap (`WEB_SESSION_MAX_AGE`).
//! - Every POST carries the web session's CSRF token (a hidden `csrf` field) and, when the
//!   browser sends one, an `Origin` equal to ours.
//! - The OAuth `state` is single-use and bound to the browser that started the login by a
//!   short-lived cookie whose hash is stored beside the state's.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tca_common::db::{oauth_states, web_sessions};
use tca_common::server::constant_time_eq as same;

use crate::cookies::{self, LOGIN_COOKIE, WEB_SESSION_COOKIE};
use crate::error::AppError;
use crate::i18n::{t, t1};
use crate::state::AppState;

pub fn random_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    (URL_SAFE_NO_PAD.encode(bytes), bytes)
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The logged-in user of a request, and their web session's CSRF token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: u64,
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub web_session_id: u64,
    pub csrf: String,
}

/// Web sessions found in the last second, by the SHA-256 of their token. A logout on this
/// replica takes effect at once (its entry is removed); a logout on another replica, or a
/// revocation the worker applied, within a second (`BriefCache`).
pub type SessionCache = crate::brief_cache::BriefCache<[u8; 32], CurrentUser>;

impl CurrentUser {
    async fn load(state: &AppState, token: &str) -> Result<Option<Self>, AppError> {
        let key = sha256(token);
        if let Some(user) = state.web_sessions.get(&key) {
            return Ok(Some(user));
        }
        let user = Self::load_from_database(state, &key).await?;
        if let Some(user) = &user {
            state.web_sessions.put(key, user.clone());
        }
        Ok(user)
    }

    async fn load_from_database(
        state: &AppState,
        token_hash: &[u8; 32],
    ) -> Result<Option<Self>, AppError> {
        let now = Utc::now();
        let Some(row) = web_sessions::find_live(&state.pool, token_hash, now).await? else {
            return Ok(None);
        };
        // Slide the expiry, at most once a minute per web session (no write on every request).
        if now - row.last_seen_at > chrono::Duration::minutes(1) {
            let idle = chrono::Duration::from_std(state.config.web_session_idle)
                .unwrap_or(chrono::Duration::days(7));
            web_sessions::slide(&state.pool, row.web_session_id, now, now + idle).await?;
        }
        Ok(Some(Self {
            id: row.user_id,
            twitch_user_id: row.twitch_user_id,
            login: row.login,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            web_session_id: row.web_session_id,
            csrf: URL_SAFE_NO_PAD.encode(&row.csrf_secret),
        }))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let Some(token) = cookies::read(&parts.headers, WEB_SESSION_COOKIE) else {
            return Err(AppError::LoginRequired);
        };
        let user = CurrentUser::load(state, &token)
            .await?
            .ok_or(AppError::LoginRequired)?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// The user, if logged in (pages that also serve visitors).
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self(Some(user))),
            Err(AppError::LoginRequired) => Ok(Self(None)),
            Err(other) => Err(other),
        }
    }
}

/// A POSTed form from a logged-in user, its CSRF token checked. `T` reads the other fields;
/// `LIMIT` is the largest body taken (a bot list's import is larger than a form).
pub struct Posted<T, const LIMIT: usize = FORM_LIMIT> {
    pub user: CurrentUser,
    pub form: T,
}

/// A form with no field but the CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// Forms are small; anything larger is not ours.
pub const FORM_LIMIT: usize = 16 * 1024;

impl<T: DeserializeOwned + Send, const LIMIT: usize> FromRequest<AppState> for Posted<T, LIMIT> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        if let Some(origin) = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            && origin != state.config.origin()
        {
            return Err(AppError::Forbidden(t("error-other-site")));
        }
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        let bytes: Bytes = axum::body::to_bytes(body, LIMIT)
            .await
            .map_err(|_| AppError::BadRequest(t("error-form-too-large")))?;
        let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::BadRequest(t("error-form-unreadable")))?;
        let presented = fields.get("csrf").map(String::as_str).unwrap_or("");
        if !same(presented.as_bytes(), user.csrf.as_bytes()) {
            return Err(AppError::Forbidden(t("error-csrf")));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(t1("error-form-invalid", "reason", e.to_string())))?;
        Ok(Self { user, form })
    }
}

/// Starts a web session for `user_id`; returns the `Set-Cookie` value.
pub async fn start_web_session(
    state: &AppState,
    user_id: u64,
    user_agent: Option<&str>,
    ip: Option<&str>,
) -> Result<String, AppError> {
    let (token, _) = random_token();
    let (_, csrf) = random_token();
    let now = Utc::now();
    let idle = chrono::Duration::from_std(state.config.web_session_idle)
        .unwrap_or(chrono::Duration::days(7));
    let max = chrono::Duration::from_std(state.config.web_session_max)
        .unwrap_or(chrono::Duration::days(30));
    web_sessions::insert(
        &state.pool,
        &web_sessions::NewWebSession {
            token_hash: &sha256(&token),
            user_id,
            csrf_secret: &csrf,
            user_agent,
            ip,
            idle_until: now + idle.min(max),
            absolute_until: now + max,
        },
        now,
    )
    .await?;
    Ok(cookies::set(
        state.config.secure_cookies(),
        WEB_SESSION_COOKIE,
        &token,
        max.num_seconds(),
    ))
}

/// How long a login may take between leaving for Twitch and coming back.
const LOGIN_WINDOW_SECS: i64 = 600;

/// Creates a single-use OAuth state bound to this browser: returns (state, login cookie).
/// `return_to`: the local path to go back to after the login.
pub async fn new_login_state(
    state: &AppState,
    return_to: Option<&str>,
) -> Result<(String, String), AppError> {
    let (oauth_state, _) = random_token();
    let (browser, _) = random_token();
    let now = Utc::now();
    oauth_states::insert(
        &state.pool,
        &sha256(&oauth_state),
        &sha256(&browser),
        return_to,
        now,
        now + chrono::Duration::seconds(LOGIN_WINDOW_SECS),
    )
    .await?;
    Ok((
        oauth_state,
        cookies::set(
            state.config.secure_cookies(),
            LOGIN_COOKIE,
            &browser,
            LOGIN_WINDOW_SECS,
        ),
    ))
}

/// Consumes a state: `Some(return_to)` if it existed, was unexpired and belongs to this
/// browser. A state works once: a replayed callback fails.
pub async fn consume_login_state(
    state: &AppState,
    oauth_state: &str,
    browser: Option<&str>,
) -> Result<Option<Option<String>>, AppError> {
    let Some(browser) = browser else {
        return Ok(None);
    };
    let mut conn = state.pool.acquire().await?;
    Ok(oauth_states::consume(
        &mut conn,
        &sha256(oauth_state),
        &sha256(browser),
        Utc::now(),
    )
    .await?)
}

/// A path of this site to return to: local, absolute, not protocol-relative.
pub fn local_path(raw: &str) -> Option<&str> {
    (raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') && raw.len() <= 512)
        .then_some(raw)
}
