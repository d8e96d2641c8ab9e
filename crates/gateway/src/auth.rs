//! Who is asking: web sessions, CSRF, OAuth state.
//!
//! - The session cookie holds 256 random bits; only their SHA-256 is stored. Expiry slides with
//!   use (`WEB_SESSION_IDLE`) under an absolute cap (`WEB_SESSION_MAX_AGE`).
//! - Every POST carries the session's CSRF token (a hidden `csrf` field) and, when the browser
//!   sends one, an `Origin` equal to ours.
//! - The OAuth `state` is single-use and bound to the browser that started the login by a
//!   short-lived cookie whose hash is stored beside the state's.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "tca_session";
pub const LOGIN_COOKIE: &str = "tca_login";

pub fn random_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    (URL_SAFE_NO_PAD.encode(bytes), bytes)
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

use tca_common::server::constant_time_eq as same;

pub fn cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

pub fn read_cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The logged-in user of a request, and their session's CSRF token.
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

#[derive(sqlx::FromRow)]
struct SessionRow {
    web_session_id: u64,
    csrf_secret: Vec<u8>,
    last_seen_at: DateTime<Utc>,
    absolute_expires_at: DateTime<Utc>,
    id: u64,
    twitch_user_id: String,
    login: String,
    display_name: String,
    avatar_url: Option<String>,
}

impl CurrentUser {
    async fn load(state: &AppState, token: &str) -> Result<Option<Self>, AppError> {
        let now = Utc::now();
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT w.id AS web_session_id, w.csrf_secret, w.last_seen_at, w.absolute_expires_at, \
             u.id, u.twitch_user_id, u.login, u.display_name, u.avatar_url \
             FROM web_sessions w JOIN users u ON u.id = w.user_id \
             WHERE w.token_hash = ? AND w.expires_at > ? AND w.absolute_expires_at > ?",
        )
        .bind(&sha256(token)[..])
        .bind(now)
        .bind(now)
        .fetch_optional(&state.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // Slide the expiry, at most once a minute per session (no write on every request).
        if now - row.last_seen_at > chrono::Duration::minutes(1) {
            let idle = chrono::Duration::from_std(state.config.web_session_idle)
                .unwrap_or(chrono::Duration::days(7));
            sqlx::query("UPDATE web_sessions SET last_seen_at = ?, expires_at = LEAST(?, absolute_expires_at) WHERE id = ?")
                .bind(now)
                .bind(now + idle)
                .bind(row.web_session_id)
                .execute(&state.pool)
                .await?;
        }
        let _ = row.absolute_expires_at;
        Ok(Some(Self {
            id: row.id,
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
        let Some(token) = read_cookie(parts, SESSION_COOKIE) else {
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

/// A POSTed form from a logged-in user, its CSRF token checked. `T` reads the other fields.
pub struct Posted<T> {
    pub user: CurrentUser,
    pub form: T,
}

/// Forms are small; anything larger is not ours.
const FORM_LIMIT: usize = 16 * 1024;

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        if let Some(origin) = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            && origin != state.config.origin()
        {
            return Err(AppError::Forbidden(
                "This form was sent from another site.".into(),
            ));
        }
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        let bytes: Bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| AppError::BadRequest("The form is too large.".into()))?;
        let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        let presented = fields.get("csrf").map(String::as_str).unwrap_or("");
        if !same(presented.as_bytes(), user.csrf.as_bytes()) {
            return Err(AppError::Forbidden(
                "This form is out of date or was not sent from this app (CSRF check). Reload the page and try again."
                    .into(),
            ));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(format!("The form is not valid: {e}.")))?;
        Ok(Self { user, form })
    }
}

/// Starts a web session for `user_id`; returns the cookie value to set.
pub async fn start_session(
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
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_secret, user_agent, ip, created_at, last_seen_at, \
         expires_at, absolute_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&sha256(&token)[..])
    .bind(user_id)
    .bind(&csrf[..])
    .bind(user_agent.map(|ua| ua.chars().take(255).collect::<String>()))
    .bind(ip)
    .bind(now)
    .bind(now)
    .bind(now + idle.min(max))
    .bind(now + max)
    .execute(&state.pool)
    .await?;
    Ok(cookie(state, SESSION_COOKIE, &token, max.num_seconds()))
}

/// How long a login may take between leaving for Twitch and coming back.
const LOGIN_WINDOW_SECS: i64 = 600;

/// Creates a single-use OAuth state bound to this browser: returns (state, login cookie).
pub async fn new_login_state(state: &AppState) -> Result<(String, String), AppError> {
    let (oauth_state, _) = random_token();
    let (browser, _) = random_token();
    let now = Utc::now();
    sqlx::query("INSERT INTO oauth_states (state_hash, browser_hash, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(&sha256(&oauth_state)[..])
        .bind(&sha256(&browser)[..])
        .bind(now)
        .bind(now + chrono::Duration::seconds(LOGIN_WINDOW_SECS))
        .execute(&state.pool)
        .await?;
    Ok((
        oauth_state,
        cookie(state, LOGIN_COOKIE, &browser, LOGIN_WINDOW_SECS),
    ))
}

/// Consumes a state: true if it existed, was unexpired and belongs to this browser. A state
/// works once: a replayed callback fails.
pub async fn consume_login_state(
    state: &AppState,
    oauth_state: &str,
    browser: Option<&str>,
) -> Result<bool, AppError> {
    let Some(browser) = browser else {
        return Ok(false);
    };
    let deleted = sqlx::query(
        "DELETE FROM oauth_states WHERE state_hash = ? AND browser_hash = ? AND expires_at > ?",
    )
    .bind(&sha256(oauth_state)[..])
    .bind(&sha256(browser)[..])
    .bind(Utc::now())
    .execute(&state.pool)
    .await?
    .rows_affected();
    Ok(deleted == 1)
}
