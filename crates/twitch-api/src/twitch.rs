//! Every call to Twitch goes through here: tokens (user or app), the bucket's limiter, a
//! timeout, retries with backoff for 5xx / timeouts / dropped connections, waiting out 429s,
//! and one refresh on a user token's 401.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::RngExt;
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tca_common::db::jobs::backoff_delay;
use tca_common::twitch_api::{Channel, ErrorCode, TwitchUser};

use crate::config::TwitchConfig;
use crate::limiter::{Bucket, Limiter};
use crate::oauth::{Oauth, OauthFailure};
use crate::tokens::{FreshTokens, StoreError, TokenStore};

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

#[derive(Debug, Deserialize)]
struct HelixErrorBody {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Paged<T> {
    data: Vec<T>,
    #[serde(default)]
    pagination: Pagination,
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Pagination {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct HelixChatter {
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
}

/// One page of Get Chatters.
#[derive(Debug)]
pub struct ChattersPage {
    pub data: Vec<HelixChatter>,
    pub cursor: Option<String>,
    pub total: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HelixStream {
    pub user_id: String,
    #[serde(default)]
    pub viewer_count: u32,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub game_name: String,
    #[serde(default)]
    pub started_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct ModeratedChannel {
    broadcaster_id: String,
    broadcaster_login: String,
    broadcaster_name: String,
}

/// `GET /oauth2/validate`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ValidatedToken {
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// App tokens are renewed this long before they expire.
const APP_TOKEN_MARGIN: Duration = Duration::from_secs(300);
/// 429s tolerated for one call before giving up (each waits for the bucket's reset).
const MAX_RATE_LIMITED_RETRIES: u32 = 20;

pub struct Twitch {
    http: reqwest::Client,
    oauth: Oauth,
    config: TwitchConfig,
    limiter: Limiter,
    pub tokens: TokenStore,
    app_token: tokio::sync::Mutex<Option<(String, Instant)>>,
    channels_cache: Mutex<HashMap<String, (Instant, Vec<Channel>)>>,
}

fn header_u32(response: &reqwest::Response, name: &str) -> Option<u32> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// `Ratelimit-Reset` is Unix seconds; turn it into a wait from now (at least 100 ms).
fn reset_in(response: &reqwest::Response) -> Option<Duration> {
    let reset: i64 = response
        .headers()
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let now_ms = Utc::now().timestamp_millis();
    Some(Duration::from_millis(
        (reset * 1000 - now_ms).max(100) as u64
    ))
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
            channels_cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &TwitchConfig {
        &self.config
    }

    pub fn authorize_url(&self, state: &str, redirect_uri: &str) -> anyhow::Result<String> {
        self.oauth
            .authorize_url(state, redirect_uri, tca_common::twitch_api::SCOPES)
    }

    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<FreshTokens, TwitchError> {
        self.oauth
            .exchange_code(&self.http, code, redirect_uri)
            .await
            .map_err(|e| match e {
                OauthFailure::Refused(m) => {
                    TwitchError::BadRequest(format!("Twitch refused the code: {m}"))
                }
                OauthFailure::Unreachable(m) => TwitchError::Unavailable(m),
            })
    }

    // --- tokens ----------------------------------------------------------------------------

    async fn app_token(&self, renew: bool) -> Result<String, TwitchError> {
        let mut cached = self.app_token.lock().await;
        if !renew
            && let Some((token, expires)) = cached.as_ref()
            && *expires > Instant::now() + APP_TOKEN_MARGIN
        {
            return Ok(token.clone());
        }
        let fresh = self
            .oauth
            .client_credentials(&self.http)
            .await
            .map_err(|e| match e {
                OauthFailure::Refused(m) => {
                    TwitchError::Internal(format!("Twitch refused our client credentials: {m}"))
                }
                OauthFailure::Unreachable(m) => TwitchError::Unavailable(m),
            })?;
        let lifetime = Duration::from_secs(fresh.expires_in.unwrap_or(3600));
        *cached = Some((fresh.access.clone(), Instant::now() + lifetime));
        Ok(fresh.access)
    }

    async fn user_token(&self, user_id: &str) -> Result<String, TwitchError> {
        match self.tokens.load(user_id).await? {
            None => Err(TwitchError::ReauthRequired(
                "no Twitch authorization is stored for this user".into(),
            )),
            Some(t) if t.invalid => Err(TwitchError::ReauthRequired(format!(
                "the Twitch authorization was withdrawn ({})",
                t.invalid_reason.unwrap_or_else(|| "invalid".into())
            ))),
            Some(t) => Ok(t.access),
        }
    }

    /// Refreshes `user_id`'s tokens after `stale` got a 401, once across callers: under the
    /// row's lock, a caller that finds the token already replaced just uses the new one.
    pub async fn refresh_after_401(
        &self,
        user_id: &str,
        stale: &str,
    ) -> Result<String, TwitchError> {
        let (mut tx, current) = self.tokens.lock_for_refresh(user_id).await?;
        let Some(current) = current else {
            return Err(TwitchError::ReauthRequired(
                "no Twitch authorization is stored for this user".into(),
            ));
        };
        if current.invalid {
            return Err(TwitchError::ReauthRequired(
                "the Twitch authorization was withdrawn".into(),
            ));
        }
        if current.access != stale {
            tx.commit().await?;
            return Ok(current.access);
        }
        let now = Utc::now();
        let Some(refresh) = current.refresh else {
            TokenStore::mark_invalid(&mut *tx, user_id, "expired and not refreshable", now).await?;
            tx.commit().await?;
            return Err(TwitchError::ReauthRequired(
                "the Twitch authorization expired".into(),
            ));
        };
        match self.oauth.refresh(&self.http, &refresh).await {
            Ok(fresh) => {
                self.tokens
                    .store_refreshed(&mut tx, user_id, &fresh, now)
                    .await?;
                tx.commit().await?;
                metrics::counter!("twitch_token_refreshes_total", "outcome" => "refreshed")
                    .increment(1);
                tracing::info!(user_id, "Twitch token refreshed");
                Ok(fresh.access)
            }
            Err(OauthFailure::Refused(reason)) => {
                TokenStore::mark_invalid(
                    &mut *tx,
                    user_id,
                    &format!("refresh refused: {reason}"),
                    now,
                )
                .await?;
                tx.commit().await?;
                metrics::counter!("twitch_token_refreshes_total", "outcome" => "refused")
                    .increment(1);
                tracing::warn!(user_id, %reason, "Twitch refused the refresh token: re-authorization required");
                Err(TwitchError::ReauthRequired(
                    "Twitch no longer accepts this authorization; log in again".into(),
                ))
            }
            Err(OauthFailure::Unreachable(reason)) => {
                metrics::counter!("twitch_token_refreshes_total", "outcome" => "unreachable")
                    .increment(1);
                Err(TwitchError::Unavailable(format!(
                    "refreshing the token failed: {reason}"
                )))
            }
        }
    }

    // --- Helix -----------------------------------------------------------------------------

    /// One Helix GET with every protection (module docs). `endpoint` labels metrics.
    async fn helix_get<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, &str)],
        deadline: Option<Instant>,
    ) -> Result<T, TwitchError> {
        let bucket = actor.bucket();
        let url = format!(
            "{}/{}",
            self.config.helix_url.as_str().trim_end_matches('/'),
            path
        );
        let mut token = match actor {
            Actor::App => self.app_token(false).await?,
            Actor::User(id) => self.user_token(id).await?,
        };
        let mut refreshed = false;
        let mut failures = 0u32;
        let mut rate_limited = 0u32;
        loop {
            if let Err(wait) = self.limiter.acquire(&bucket, deadline).await {
                return Err(TwitchError::RateLimited { retry_after: wait });
            }
            let started = Instant::now();
            let sent = self
                .http
                .get(&url)
                .query(query)
                .header("Client-Id", &self.config.client_id)
                .bearer_auth(&token)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(e) => {
                    let reason = if e.is_timeout() {
                        "timeout"
                    } else {
                        "connection"
                    };
                    metrics::counter!("twitch_requests_total", "endpoint" => endpoint, "status" => reason).increment(1);
                    self.pause_before_retry(
                        endpoint,
                        reason,
                        &mut failures,
                        deadline,
                        &e.to_string(),
                    )
                    .await?;
                    continue;
                }
            };
            let status = response.status();
            metrics::counter!("twitch_requests_total", "endpoint" => endpoint, "status" => status.as_u16().to_string())
                .increment(1);
            metrics::histogram!("twitch_request_duration_seconds", "endpoint" => endpoint)
                .record(started.elapsed().as_secs_f64());
            self.limiter.observe(
                &bucket,
                header_u32(&response, "ratelimit-limit"),
                header_u32(&response, "ratelimit-remaining"),
                reset_in(&response),
            );
            match status {
                s if s.is_success() => match response.json::<T>().await {
                    Ok(body) => return Ok(body),
                    // The connection died mid-body, or the body is garbled: try again.
                    Err(e) => {
                        self.pause_before_retry(
                            endpoint,
                            "body",
                            &mut failures,
                            deadline,
                            &e.to_string(),
                        )
                        .await?;
                    }
                },
                StatusCode::TOO_MANY_REQUESTS => {
                    rate_limited += 1;
                    let wait = reset_in(&response).unwrap_or(Duration::from_secs(1));
                    self.limiter.block(&bucket, wait);
                    metrics::counter!("twitch_retries_total", "endpoint" => endpoint, "reason" => "429").increment(1);
                    if rate_limited > MAX_RATE_LIMITED_RETRIES {
                        return Err(TwitchError::Unavailable("Twitch kept answering 429".into()));
                    }
                    if deadline.is_some_and(|d| Instant::now() + wait > d) {
                        return Err(TwitchError::RateLimited { retry_after: wait });
                    }
                    // The limiter now waits for the reset before the next attempt.
                }
                StatusCode::UNAUTHORIZED => {
                    let message = helix_message(response).await;
                    match actor {
                        Actor::User(id) if !refreshed && !message.starts_with("Missing scope") => {
                            refreshed = true;
                            token = self.refresh_after_401(id, &token).await?;
                        }
                        Actor::User(_) => {
                            return Err(TwitchError::ReauthRequired(format!(
                                "Twitch refused the user's token: {message}"
                            )));
                        }
                        Actor::App if !refreshed => {
                            refreshed = true;
                            token = self.app_token(true).await?;
                        }
                        Actor::App => {
                            return Err(TwitchError::Internal(format!(
                                "Twitch refused the app token: {message}"
                            )));
                        }
                    }
                }
                StatusCode::FORBIDDEN => {
                    return Err(TwitchError::NotModerator(helix_message(response).await));
                }
                StatusCode::NOT_FOUND => {
                    return Err(TwitchError::NotFound(helix_message(response).await));
                }
                StatusCode::BAD_REQUEST => {
                    let message = helix_message(response).await;
                    return Err(if message.contains("broadcaster_id") {
                        TwitchError::NotFound(format!("the channel does not exist: {message}"))
                    } else {
                        TwitchError::BadRequest(message)
                    });
                }
                s if s.is_server_error() => {
                    let message = helix_message(response).await;
                    self.pause_before_retry(
                        endpoint,
                        "5xx",
                        &mut failures,
                        deadline,
                        &format!("{s} {message}"),
                    )
                    .await?;
                }
                other => {
                    return Err(TwitchError::Unavailable(format!(
                        "unexpected answer {other}"
                    )));
                }
            }
        }
    }

    /// Backs off before retrying a transient failure, or gives up when out of retries or time.
    async fn pause_before_retry(
        &self,
        endpoint: &'static str,
        reason: &'static str,
        failures: &mut u32,
        deadline: Option<Instant>,
        detail: &str,
    ) -> Result<(), TwitchError> {
        *failures += 1;
        if *failures > self.config.max_retries {
            return Err(TwitchError::Unavailable(format!(
                "Twitch failed {} times in a row ({reason}: {detail})",
                *failures
            )));
        }
        let delay = backoff_delay(
            *failures,
            Duration::from_millis(200),
            Duration::from_secs(5),
            rand::rng().random::<f64>(),
        );
        if deadline.is_some_and(|d| Instant::now() + delay > d) {
            return Err(TwitchError::Unavailable(format!(
                "Twitch failed ({reason}: {detail}) and the deadline is near"
            )));
        }
        metrics::counter!("twitch_retries_total", "endpoint" => endpoint, "reason" => reason)
            .increment(1);
        tracing::debug!(
            endpoint,
            reason,
            attempt = *failures,
            ?delay,
            "retrying a Twitch call"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Get Users for any number of ids or logins: 100 per call, several calls at once.
    pub async fn users(
        &self,
        actor: &Actor,
        ids: &[String],
        logins: &[String],
        deadline: Option<Instant>,
    ) -> Result<Vec<TwitchUser>, TwitchError> {
        use futures::StreamExt;
        // (is an id, value); owned and lifetime-free, or the futures would not be `Send`.
        let keyed: Vec<(bool, String)> = ids
            .iter()
            .map(|id| (true, id.clone()))
            .chain(logins.iter().map(|l| (false, l.clone())))
            .collect();
        let chunks: Vec<Vec<(bool, String)>> = keyed.chunks(100).map(<[_]>::to_vec).collect();
        let pages = futures::stream::iter(chunks)
            .map(|chunk| async move {
                let query: Vec<(&str, &str)> = chunk
                    .iter()
                    .map(|(is_id, v)| (if *is_id { "id" } else { "login" }, v.as_str()))
                    .collect();
                self.helix_get::<Paged<TwitchUser>>(actor, "users", "users", &query, deadline)
                    .await
                    .map(|page| page.data)
            })
            .buffered(self.config.lookup_concurrency);
        let results: Vec<Result<Vec<TwitchUser>, TwitchError>> = pages.collect().await;
        let mut users = Vec::with_capacity(keyed.len());
        for result in results {
            users.extend(result?);
        }
        Ok(users)
    }

    /// The token's own user.
    pub async fn me(&self, user_id: &str) -> Result<TwitchUser, TwitchError> {
        let actor = Actor::User(user_id.to_string());
        let page: Paged<TwitchUser> = self.helix_get(&actor, "users", "users", &[], None).await?;
        page.data
            .into_iter()
            .next()
            .ok_or_else(|| TwitchError::NotFound("Twitch returned no user for this token".into()))
    }

    /// The user's own channel first, then every channel they moderate (all pages); cached
    /// for `channels_cache_ttl`.
    pub async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, TwitchError> {
        let ttl = self.config.channels_cache_ttl;
        if let Some((at, channels)) = self
            .channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            && at.elapsed() < ttl
        {
            return Ok(channels.clone());
        }
        let me = self.me(user_id).await?;
        let mut channels = vec![Channel {
            broadcaster_id: me.id.clone(),
            broadcaster_login: me.login.clone(),
            broadcaster_name: me.display_name.clone(),
            own: true,
        }];
        let actor = Actor::User(user_id.to_string());
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("user_id", user_id), ("first", "100")];
            if let Some(c) = &cursor {
                query.push(("after", c.as_str()));
            }
            let page: Paged<ModeratedChannel> = self
                .helix_get(
                    &actor,
                    "moderated_channels",
                    "moderation/channels",
                    &query,
                    None,
                )
                .await?;
            channels.extend(
                page.data
                    .into_iter()
                    .filter(|c| c.broadcaster_id != me.id)
                    .map(|c| Channel {
                        broadcaster_id: c.broadcaster_id,
                        broadcaster_login: c.broadcaster_login,
                        broadcaster_name: c.broadcaster_name,
                        own: false,
                    }),
            );
            match page.pagination.cursor.filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), (Instant::now(), channels.clone()));
        Ok(channels)
    }

    /// One page of Get Chatters (1,000 chatters).
    pub async fn chatters_page(
        &self,
        broadcaster_id: &str,
        moderator_id: &str,
        after: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<ChattersPage, TwitchError> {
        let actor = Actor::User(moderator_id.to_string());
        let mut query = vec![
            ("broadcaster_id", broadcaster_id),
            ("moderator_id", moderator_id),
            ("first", "1000"),
        ];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let page: Paged<HelixChatter> = self
            .helix_get(&actor, "chatters", "chat/chatters", &query, deadline)
            .await?;
        Ok(ChattersPage {
            total: page.total.unwrap_or(page.data.len() as u64),
            cursor: page.pagination.cursor.filter(|c| !c.is_empty()),
            data: page.data,
        })
    }

    /// Live streams among `user_ids` (≤ 100), as the app.
    pub async fn streams(&self, user_ids: &[String]) -> Result<Vec<HelixStream>, TwitchError> {
        let mut query: Vec<(&str, &str)> =
            user_ids.iter().map(|id| ("user_id", id.as_str())).collect();
        query.push(("first", "100"));
        let page: Paged<HelixStream> = self
            .helix_get(&Actor::App, "streams", "streams", &query, None)
            .await?;
        Ok(page.data)
    }

    // --- validate and revoke -----------------------------------------------------------------

    /// `GET /oauth2/validate`: `Ok(None)` when Twitch says the token is invalid.
    pub async fn validate_token(
        &self,
        access: &str,
    ) -> Result<Option<ValidatedToken>, TwitchError> {
        let url = format!(
            "{}/oauth2/validate",
            self.config.auth_url.as_str().trim_end_matches('/')
        );
        let response = self
            .http
            .get(url)
            .header("Authorization", format!("OAuth {access}"))
            .send()
            .await
            .map_err(|e| TwitchError::Unavailable(format!("validating the token failed: {e}")))?;
        metrics::counter!("twitch_requests_total", "endpoint" => "validate", "status" => response.status().as_u16().to_string())
            .increment(1);
        match response.status() {
            s if s.is_success() => {
                response.json().await.map(Some).map_err(|e| {
                    TwitchError::Unavailable(format!("unreadable validate answer: {e}"))
                })
            }
            StatusCode::UNAUTHORIZED => Ok(None),
            other => Err(TwitchError::Unavailable(format!(
                "validate answered {other}"
            ))),
        }
    }

    /// `POST /oauth2/revoke`. An already-invalid token counts as revoked.
    pub async fn revoke_token(&self, access: &str) -> Result<(), TwitchError> {
        let url = format!(
            "{}/oauth2/revoke",
            self.config.auth_url.as_str().trim_end_matches('/')
        );
        let response = self
            .http
            .post(url)
            .form(&[
                ("client_id", self.config.client_id.as_str()),
                ("token", access),
            ])
            .send()
            .await
            .map_err(|e| TwitchError::Unavailable(format!("revoking the token failed: {e}")))?;
        match response.status() {
            s if s.is_success() || s == StatusCode::BAD_REQUEST => Ok(()),
            other => Err(TwitchError::Unavailable(format!("revoke answered {other}"))),
        }
    }

    pub fn forget_channels(&self, user_id: &str) {
        self.channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_id);
    }
}

async fn helix_message(response: reqwest::Response) -> String {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    serde_json::from_str::<HelixErrorBody>(&text)
        .map(|b| b.message)
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| status.to_string())
}
