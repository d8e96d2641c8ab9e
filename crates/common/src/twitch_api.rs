//! The internal API of the twitch-api service: request and response types shared by the
//! server and its callers, and the typed client (`TwitchApiClient`) the gateway and the
//! worker use. Documented in docs/twitch-api.md.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Secret;

/// The scopes the app asks for: reading chatters, and listing moderated channels.
pub const SCOPES: &[&str] = &["moderator:read:chatters", "user:read:moderated_channels"];

/// The scope moderator actions (ban, timeout, unban) need. Never asked at the first login:
/// only when a moderator enables actions (incremental authorization, docs/moderation.md).
pub const ACTIONS_SCOPE: &str = "moderator:manage:banned_users";

/// Callers may say how long they are willing to wait (milliseconds, relative): a request
/// that would wait longer for the rate limit answers `rate_limited` at once instead.
pub const DEADLINE_HEADER: &str = "x-deadline-ms";
/// How long a call may wait for Twitch's rate limit, in ms, when sooner than the deadline:
/// past it twitch-api answers `rate_limited` with `retry_after_ms`.
pub const MAX_WAIT_HEADER: &str = "x-max-wait-ms";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeUrl {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangeRequest {
    pub code: String,
    pub redirect_uri: String,
}

/// The Twitch user who just authorized the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedUser {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub profile_image_url: String,
    pub scopes: Vec<String>,
}

/// A Twitch account as Get Users describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwitchUser {
    pub id: String,
    pub login: String,
    pub display_name: String,
    /// `admin`, `global_mod`, `staff` or empty.
    #[serde(rename = "type", default)]
    pub user_type: String,
    /// `partner`, `affiliate` or empty.
    #[serde(default)]
    pub broadcaster_type: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub profile_image_url: String,
    pub created_at: DateTime<Utc>,
}

impl TwitchUser {
    /// Twitch serves its default avatars from `user-default-pictures`.
    pub fn has_default_avatar(&self) -> bool {
        self.profile_image_url.is_empty()
            || self.profile_image_url.contains("user-default-pictures")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersResponse {
    pub data: Vec<TwitchUser>,
}

/// A channel the user may analyse: their own, or one they moderate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub broadcaster_name: String,
    /// The user's own channel (listed first).
    pub own: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelsResponse {
    pub data: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chatter {
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
}

/// The last line of a chatters stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChattersSummary {
    /// `total` as Twitch reported it on the first page (it may drift while paging).
    pub total: u64,
    pub pages: u32,
    /// Distinct chatters streamed.
    pub chatters: u64,
}

/// One line of the NDJSON chatters stream: chatters, then a summary or an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChattersLine {
    Chatter(Chatter),
    Done { done: ChattersSummary },
    Error { error: ApiErrorBody },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStatus {
    pub user_id: String,
    pub live: bool,
    pub viewer_count: u32,
    pub title: String,
    pub game_name: String,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamsResponse {
    pub data: Vec<StreamStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub user_id: String,
    pub valid: bool,
    pub login: Option<String>,
    pub scopes: Vec<String>,
    pub expires_in: Option<u64>,
    /// Why the authorization is no longer valid.
    pub reason: Option<String>,
}

/// What a moderator does to one account of a channel, through Twitch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    Ban,
    /// A ban for `duration_secs` (1 s to 14 days).
    Timeout,
    /// Lifts a ban or a timeout.
    Unban,
}

/// `POST /v1/moderation`: one action on one account, with the moderator's token and bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationRequest {
    pub action: ModerationAction,
    pub broadcaster_id: String,
    /// The moderator acting (their token, their rate-limit bucket).
    pub moderator_id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationOutcome {
    /// Twitch did it.
    Done,
    /// Nothing to do: already banned (a ban), not banned (an unban). Counts as done.
    AlreadyDone,
    /// Twitch refused this account (it may not be banned, …): `message` says why.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationResult {
    pub outcome: ModerationOutcome,
    /// Twitch's words for a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST /v1/eventsub/reconcile` `{"broadcaster_ids": […]}`: what changed at Twitch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    /// EventSub is configured (`EVENTSUB_SECRET`, `EVENTSUB_CALLBACK_URL`); if not, nothing
    /// was done and the channels are polled.
    pub enabled: bool,
    pub created: u32,
    pub deleted: u32,
    pub kept: u32,
    /// Subscriptions Twitch refused, with its words.
    pub refused: Vec<String>,
    /// The channels whose three subscriptions exist (kept or just created).
    #[serde(default)]
    pub subscribed: Vec<String>,
    pub total_cost: u32,
    pub max_total_cost: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReconcileRequest {
    pub broadcaster_ids: Vec<String>,
}

/// `GET /v1/tokens/{user_id}/scopes`: what the user's stored authorization may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes {
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaleTokens {
    pub user_ids: Vec<String>,
}

/// What went wrong, as a stable code callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    /// The internal token is missing or wrong.
    Unauthorized,
    /// The user's Twitch authorization is gone (revoked, expired refresh): log in again.
    ReauthRequired,
    /// The user is not (any more) a moderator of the channel.
    NotModerator,
    NotFound,
    /// Waiting for Twitch's rate limit would exceed the caller's deadline.
    RateLimited,
    /// Twitch kept failing (5xx, timeouts, dropped connections) after retries.
    TwitchUnavailable,
    /// Twitch's paging went wrong (a cursor came back twice, more pages than the list can
    /// have): the listing was abandoned rather than looped over.
    PagingBroken,
    /// The user's authorization lacks a scope the call needs (actions not enabled).
    ScopeMissing,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::ReauthRequired => StatusCode::CONFLICT,
            Self::NotModerator | Self::ScopeMissing => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::TwitchUnavailable | Self::PagingBroken => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Every error answer of the internal API: `{"error": code, "message": text, "retry_after_ms"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TwitchApiError {
    #[error("Twitch authorization is gone: {0}")]
    ReauthRequired(String),
    #[error("not a moderator: {0}")]
    NotModerator(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("rate limited by Twitch; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("twitch-api refused the internal token")]
    Unauthorized,
    #[error("Twitch is unavailable: {0}")]
    Unavailable(String),
    #[error("Twitch's paging went wrong: {0}")]
    PagingBroken(String),
    #[error("a scope is missing: {0}")]
    ScopeMissing(String),
    #[error("twitch-api failed: {0}")]
    Internal(String),
    #[error("cannot reach twitch-api: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("unexpected answer from twitch-api: {0}")]
    Protocol(String),
}

impl From<ApiErrorBody> for TwitchApiError {
    fn from(body: ApiErrorBody) -> Self {
        let message = body.message;
        match body.error {
            ErrorCode::BadRequest => Self::BadRequest(message),
            ErrorCode::Unauthorized => Self::Unauthorized,
            ErrorCode::ReauthRequired => Self::ReauthRequired(message),
            ErrorCode::NotModerator => Self::NotModerator(message),
            ErrorCode::NotFound => Self::NotFound(message),
            ErrorCode::RateLimited => Self::RateLimited {
                retry_after: Duration::from_millis(body.retry_after_ms.unwrap_or(1000)),
            },
            ErrorCode::TwitchUnavailable => Self::Unavailable(message),
            ErrorCode::PagingBroken => Self::PagingBroken(message),
            ErrorCode::ScopeMissing => Self::ScopeMissing(message),
            ErrorCode::Internal => Self::Internal(message),
        }
    }
}

/// The typed client of the twitch-api service.
#[derive(Debug, Clone)]
pub struct TwitchApiClient {
    http: reqwest::Client,
    base: Url,
    token: Secret,
}

/// Ids per request to `/v1/users`: keeps URLs short; twitch-api batches by 100 for Twitch.
const USERS_PER_REQUEST: usize = 1000;

impl TwitchApiClient {
    /// `base` is twitch-api's address (`TWITCH_API_URL`), `token` the `INTERNAL_API_TOKEN`.
    pub fn new(base: Url, token: Secret) -> Result<Self, TwitchApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Chatters stream page by page; a stream silent this long is stuck.
            .read_timeout(Duration::from_secs(120))
            .build()?;
        Ok(Self { http, base, token })
    }

    fn url(&self, path: &str) -> Result<Url, TwitchApiError> {
        self.base
            .join(path)
            .map_err(|e| TwitchApiError::Protocol(format!("bad URL {path}: {e}")))
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: Url,
        deadline: Option<Duration>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose());
        if let Some(deadline) = deadline {
            request = request.header(DEADLINE_HEADER, deadline.as_millis().to_string());
        }
        request
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TwitchApiError> {
        let response = request.send().await?;
        Self::check(response)
            .await?
            .json()
            .await
            .map_err(TwitchApiError::from)
    }

    /// Turns an error answer into its typed error.
    async fn check(response: reqwest::Response) -> Result<reqwest::Response, TwitchApiError> {
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ApiErrorBody>(&text) {
            Ok(body) => Err(body.into()),
            Err(_) => Err(TwitchApiError::Protocol(format!("{status}: {text}"))),
        }
    }

    /// Where to send the browser to log in; `force_verify` when the user asked to log in as
    /// another Twitch account (Twitch then shows its consent page again); `actions` adds
    /// [`ACTIONS_SCOPE`] to the scopes asked (a moderator enabling actions).
    pub async fn authorize_url(
        &self,
        state: &str,
        redirect_uri: &str,
        force_verify: bool,
        actions: bool,
    ) -> Result<String, TwitchApiError> {
        let mut url = self.url("v1/oauth/authorize-url")?;
        url.query_pairs_mut()
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("force_verify", if force_verify { "true" } else { "false" })
            .append_pair("actions", if actions { "true" } else { "false" });
        let answer: AuthorizeUrl = self
            .send(self.request(reqwest::Method::GET, url, None))
            .await?;
        Ok(answer.url)
    }

    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<AuthorizedUser, TwitchApiError> {
        let url = self.url("v1/oauth/exchange")?;
        let body = ExchangeRequest {
            code: code.to_string(),
            redirect_uri: redirect_uri.to_string(),
        };
        self.send(self.request(reqwest::Method::POST, url, None).json(&body))
            .await
    }

    /// Users by id, as `as_user` (their token's bucket) or as the app when `None`. Unknown and
    /// suspended accounts are absent from the answer.
    pub async fn users_by_id(
        &self,
        ids: &[String],
        as_user: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Vec<TwitchUser>, TwitchApiError> {
        self.users("id", ids, as_user, deadline).await
    }

    pub async fn users_by_login(
        &self,
        logins: &[String],
        as_user: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Vec<TwitchUser>, TwitchApiError> {
        self.users("login", logins, as_user, deadline).await
    }

    /// Get Users by id with the app's token, letting twitch-api spend `moderator`'s own
    /// bucket for the calls the app's cannot take at once (enrichment their captures caused).
    pub async fn users_by_id_sparing(
        &self,
        ids: &[String],
        moderator: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Vec<TwitchUser>, TwitchApiError> {
        self.users_with("id", ids, None, moderator, deadline).await
    }

    async fn users(
        &self,
        key: &str,
        values: &[String],
        as_user: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Vec<TwitchUser>, TwitchApiError> {
        self.users_with(key, values, as_user, None, deadline).await
    }

    async fn users_with(
        &self,
        key: &str,
        values: &[String],
        as_user: Option<&str>,
        spare: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Vec<TwitchUser>, TwitchApiError> {
        let mut users = Vec::with_capacity(values.len());
        for chunk in values.chunks(USERS_PER_REQUEST) {
            let mut url = self.url("v1/users")?;
            {
                let mut query = url.query_pairs_mut();
                for value in chunk {
                    query.append_pair(key, value);
                }
                if let Some(user) = as_user {
                    query.append_pair("as_user_id", user);
                }
                if let Some(user) = spare {
                    query.append_pair("spare_user_id", user);
                }
            }
            let answer: UsersResponse = self
                .send(self.request(reqwest::Method::GET, url, deadline))
                .await?;
            users.extend(answer.data);
        }
        Ok(users)
    }

    /// The user's own channel first, then every channel they moderate.
    pub async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, TwitchApiError> {
        let url = self.url(&format!("v1/users/{user_id}/channels"))?;
        let answer: ChannelsResponse = self
            .send(self.request(reqwest::Method::GET, url, None))
            .await?;
        Ok(answer.data)
    }

    /// Every chatter of a channel, read as `moderator_id`, streamed.
    pub async fn chatters(
        &self,
        broadcaster_id: &str,
        moderator_id: &str,
        deadline: Option<Duration>,
    ) -> Result<ChatterStream, TwitchApiError> {
        self.chatters_within(broadcaster_id, moderator_id, deadline, None)
            .await
    }

    /// `chatters`, waiting for Twitch's rate limit before the first page `max_wait` at most:
    /// past it the answer is `RateLimited` (retry after), so that a worker gives its slot
    /// back instead of sleeping in it.
    pub async fn chatters_within(
        &self,
        broadcaster_id: &str,
        moderator_id: &str,
        deadline: Option<Duration>,
        max_wait: Option<Duration>,
    ) -> Result<ChatterStream, TwitchApiError> {
        let mut url = self.url("v1/chatters")?;
        url.query_pairs_mut()
            .append_pair("broadcaster_id", broadcaster_id)
            .append_pair("moderator_id", moderator_id);
        let mut request = self.request(reqwest::Method::GET, url, deadline);
        if let Some(wait) = max_wait {
            request = request.header(MAX_WAIT_HEADER, wait.as_millis().to_string());
        }
        let response = request.send().await?;
        Ok(ChatterStream {
            response: Self::check(response).await?,
            buffer: Vec::new(),
            summary: None,
        })
    }

    /// Live state of up to 100 channels (one entry per id asked, `live: false` if offline).
    pub async fn streams(&self, user_ids: &[String]) -> Result<Vec<StreamStatus>, TwitchApiError> {
        let mut url = self.url("v1/streams")?;
        {
            let mut query = url.query_pairs_mut();
            for id in user_ids {
                query.append_pair("user_id", id);
            }
        }
        let answer: StreamsResponse = self
            .send(self.request(reqwest::Method::GET, url, None))
            .await?;
        Ok(answer.data)
    }

    /// One moderator action on one account; waits for Twitch's rate limit `max_wait` at most
    /// (past it: `RateLimited` with how long to wait).
    pub async fn moderate(
        &self,
        request: &ModerationRequest,
        max_wait: Option<Duration>,
    ) -> Result<ModerationResult, TwitchApiError> {
        let url = self.url("v1/moderation")?;
        let mut builder = self.request(reqwest::Method::POST, url, None).json(request);
        if let Some(wait) = max_wait {
            builder = builder.header(MAX_WAIT_HEADER, wait.as_millis().to_string());
        }
        self.send(builder).await
    }

    /// Makes Twitch's EventSub subscriptions exactly what `broadcaster_ids` (the auto-captured
    /// channels) need.
    pub async fn reconcile_eventsub(
        &self,
        broadcaster_ids: &[String],
    ) -> Result<Reconciled, TwitchApiError> {
        let url = self.url("v1/eventsub/reconcile")?;
        let body = ReconcileRequest {
            broadcaster_ids: broadcaster_ids.to_vec(),
        };
        self.send(self.request(reqwest::Method::POST, url, None).json(&body))
            .await
    }

    /// The scopes of the user's stored authorization (empty when none is stored or it is no
    /// longer valid): whether moderator actions are enabled.
    pub async fn scopes(&self, user_id: &str) -> Result<Vec<String>, TwitchApiError> {
        let url = self.url(&format!("v1/tokens/{user_id}/scopes"))?;
        let answer: Scopes = self
            .send(self.request(reqwest::Method::GET, url, None))
            .await?;
        Ok(answer.scopes)
    }

    /// Forwards an EventSub message as Twitch sent it — its `Twitch-Eventsub-*` headers and
    /// raw body — to twitch-api's callback; returns its answer (status, content type, body) to
    /// give back to Twitch as it is (a challenge is answered with its text).
    pub async fn forward_eventsub(
        &self,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Option<String>, Vec<u8>), TwitchApiError> {
        let url = self.url("v1/eventsub/callback")?;
        let mut request = self
            .request(reqwest::Method::POST, url, None)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await?.to_vec();
        Ok((status, content_type, body))
    }

    /// Validates the user's token with Twitch now.
    pub async fn validate(&self, user_id: &str) -> Result<Validation, TwitchApiError> {
        let url = self.url(&format!("v1/tokens/{user_id}/validate"))?;
        self.send(self.request(reqwest::Method::POST, url, None))
            .await
    }

    /// Revokes the user's tokens at Twitch and forgets them.
    pub async fn revoke(&self, user_id: &str) -> Result<(), TwitchApiError> {
        let url = self.url(&format!("v1/tokens/{user_id}"))?;
        let response = self
            .request(reqwest::Method::DELETE, url, None)
            .send()
            .await?;
        Self::check(response).await.map(|_| ())
    }

    /// Users whose tokens were last validated longer ago than `older_than`.
    pub async fn stale_tokens(&self, older_than: Duration) -> Result<Vec<String>, TwitchApiError> {
        let mut url = self.url("v1/tokens")?;
        url.query_pairs_mut()
            .append_pair("validated_before_secs", &older_than.as_secs().to_string());
        let answer: StaleTokens = self
            .send(self.request(reqwest::Method::GET, url, None))
            .await?;
        Ok(answer.user_ids)
    }
}

/// The chatters of one channel, arriving line by line; never held whole in memory.
pub struct ChatterStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    summary: Option<ChattersSummary>,
}

impl ChatterStream {
    /// The next chatter, or `None` at the end (then [`Self::summary`] is set).
    pub async fn next(&mut self) -> Result<Option<Chatter>, TwitchApiError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = &line[..line.len() - 1];
                if line.is_empty() {
                    continue;
                }
                let parsed: ChattersLine = serde_json::from_slice(line)
                    .map_err(|e| TwitchApiError::Protocol(format!("bad chatters line: {e}")))?;
                return match parsed {
                    ChattersLine::Chatter(chatter) => Ok(Some(chatter)),
                    ChattersLine::Done { done } => {
                        self.summary = Some(done);
                        Ok(None)
                    }
                    ChattersLine::Error { error } => Err(error.into()),
                };
            }
            if self.summary.is_some() {
                return Ok(None);
            }
            match self.response.chunk().await? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => {
                    return Err(TwitchApiError::Protocol(
                        "the chatters stream ended before its summary".into(),
                    ));
                }
            }
        }
    }

    pub fn summary(&self) -> Option<ChattersSummary> {
        self.summary
    }
}
