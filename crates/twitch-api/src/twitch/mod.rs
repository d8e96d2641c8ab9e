//! Every call to Twitch goes through here: tokens (user or app), the bucket's limiter, a
//! timeout, retries with backoff for 5xx / timeouts / dropped connections, waiting out 429s,
//! and one refresh on a user token's 401.
//!
//! Here: the client and its errors; `auth`: app and user tokens, refresh, validate, revoke;
//! `helix`: one protected Helix GET; `endpoints`: the Helix endpoints we call.

mod auth;
mod endpoints;
mod eventsub;
mod helix;
mod moderation;
pub mod paging;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tca_common::twitch_api::{Channel, ErrorCode};

use crate::config::TwitchConfig;
use crate::limiter::{Bucket, Limiter};
use crate::oauth::{Oauth, OauthFailure};
use crate::tokens::{FreshTokens, StoreError, TokenStore};

pub use auth::ValidatedToken;
pub use endpoints::{ChattersPage, HelixChatter, HelixStream};

/// Who a Helix call acts as: the app (client credentials) or a user (their token, bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    App,
    User(String),
}

impl Actor {
    fn bucket(&self) -> Bucket {
        match self {
            Self::App => Bucket::App,
            Self::User(id) => Bucket::User(id.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TwitchError {
    #[error("{0}")]
    ReauthRequired(String),
    #[error("{0}")]
    NotModerator(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("waiting for Twitch's rate limit would take {retry_after:?}, past the deadline")]
    RateLimited { retry_after: Duration },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    PagingBroken(String),
    #[error("{0}")]
    ScopeMissing(String),
    #[error("{0}")]
    Internal(String),
}

impl TwitchError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::ReauthRequired(_) => ErrorCode::ReauthRequired,
            Self::NotModerator(_) => ErrorCode::NotModerator,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::TwitchUnavailable,
            Self::PagingBroken(_) => ErrorCode::PagingBroken,
            Self::ScopeMissing(_) => ErrorCode::ScopeMissing,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<StoreError> for TwitchError {
    fn from(e: StoreError) -> Self {
        Self::Internal(format!("token store: {e}"))
    }
}

impl From<sqlx::Error> for TwitchError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("token store: {e}"))
    }
}

/// App tokens are renewed this long before they expire.
const APP_TOKEN_MARGIN: Duration = Duration::from_secs(300);
/// 429s tolerated for one call before giving up (each waits for its point, doubling).
const MAX_RATE_LIMITED_RETRIES: u32 = 20;

pub struct Twitch {
    http: reqwest::Client,
    oauth: Oauth,
    config: TwitchConfig,
    limiter: Limiter,
    pub tokens: TokenStore,
    app_token: tokio::sync::Mutex<Option<(String, Instant)>>,
    channels_cache: Mutex<HashMap<String, (Instant, Vec<Channel>)>>,
    /// Why id.twitch.tv last rejected the app's own credentials, until it accepts them again:
    /// readiness fails with it (docs/operations.md), and nobody is logged out for it.
    credentials_rejected: Mutex<Option<String>>,
    /// Tokens Twitch gave on a refresh that could not be stored (the database failed after
    /// Twitch answered), by user, with the refresh token they replace: Twitch rotates refresh
    /// tokens, so the stored one is dead and these are the user's live grant until stored
    /// (`refresh_after_401`).
    unstored: Mutex<HashMap<String, (String, crate::tokens::FreshTokens)>>,
}

impl Twitch {
    pub fn new(config: TwitchConfig, tokens: TokenStore) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
            // OAuth endpoints must not be followed elsewhere (oauth2's advice against SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            oauth: Oauth::new(&config)?,
            limiter: Limiter::new(config.rate_limit, config.rate_window),
            http,
            config,
            tokens,
            app_token: tokio::sync::Mutex::new(None),
            unstored: Mutex::default(),
            channels_cache: Mutex::new(HashMap::new()),
            credentials_rejected: Mutex::new(None),
        })
    }

    /// Ready unless id.twitch.tv rejects the app's credentials: then the message names the
    /// variables to fix.
    pub fn readiness(&self) -> Result<(), String> {
        match self
            .credentials_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            None => Ok(()),
            Some(why) => Err(format!(
                "id.twitch.tv rejects the app's credentials ({why}): check TWITCH_CLIENT_ID and \
                 TWITCH_CLIENT_SECRET (after rotating the secret, restart twitch-api with the new \
                 one); users' authorizations are kept"
            )),
        }
    }

    /// Remembers what an answer of the token endpoint says of the app's credentials, and
    /// turns a failure into the error callers see: a refused grant stays a refusal; rejected
    /// credentials and outages are "unavailable" (the caller retries; nobody is logged out).
    fn credentials_answer<T>(&self, result: Result<T, OauthFailure>) -> Result<T, OauthFailure> {
        let mut rejected = self
            .credentials_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) | Err(OauthFailure::Refused(_)) => {
                if rejected.take().is_some() {
                    tracing::info!("id.twitch.tv accepts the app's credentials again");
                    metrics::gauge!("twitch_credentials_rejected").set(0.0);
                }
            }
            Err(OauthFailure::Misconfigured(why)) => {
                if rejected.is_none() {
                    tracing::error!(%why, "id.twitch.tv rejects the app's credentials: check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET");
                }
                *rejected = Some(why.clone());
                metrics::counter!("twitch_credentials_rejected_total").increment(1);
                metrics::gauge!("twitch_credentials_rejected").set(1.0);
            }
            Err(OauthFailure::Unreachable(_)) => {}
        }
        result
    }

    pub fn config(&self) -> &TwitchConfig {
        &self.config
    }

    /// Twitch's consent URL for the app's scopes, plus the actions scope when `actions`
    /// (incremental authorization: the full set is asked each time).
    pub fn authorize_url(
        &self,
        state: &str,
        redirect_uri: &str,
        force_verify: bool,
        actions: bool,
    ) -> anyhow::Result<String> {
        let mut scopes = tca_common::twitch_api::SCOPES.to_vec();
        if actions {
            scopes.push(tca_common::twitch_api::ACTIONS_SCOPE);
        }
        self.oauth
            .authorize_url(state, redirect_uri, &scopes, force_verify)
    }

    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<FreshTokens, TwitchError> {
        let result = self
            .oauth
            .exchange_code(&self.http, code, redirect_uri)
            .await;
        self.credentials_answer(result).map_err(|e| match e {
            OauthFailure::Refused(m) => {
                TwitchError::BadRequest(format!("Twitch refused the code: {m}"))
            }
            OauthFailure::Misconfigured(_) | OauthFailure::Unreachable(_) => {
                TwitchError::Unavailable(e.to_string())
            }
        })
    }

    pub fn forget_channels(&self, user_id: &str) {
        self.channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_id);
    }
}
