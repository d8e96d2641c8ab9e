//! OAuth with id.twitch.tv through the `oauth2` crate. Twitch departs from RFC 6749 in two
//! ways the crate's standard types reject: `scope` is a JSON array, and errors are
//! `{"status", "message"}`; the types below accept Twitch's shapes.

use std::time::Duration;

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::config::TwitchConfig;
use crate::tokens::FreshTokens;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwitchTokenResponse {
    access_token: AccessToken,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    expires_in: Option<u64>,
    /// An array on Twitch (RFC 6749 says a space-separated string); missing on app tokens.
    #[serde(default)]
    scope: Option<Vec<Scope>>,
    token_type: BasicTokenType,
}

impl TokenResponse for TwitchTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

impl TwitchTokenResponse {
    pub fn into_fresh(self) -> FreshTokens {
        FreshTokens {
            access: self.access_token.secret().clone(),
            refresh: self.refresh_token.map(|r| r.secret().clone()),
            scopes: self
                .scope
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.to_string())
                .collect(),
            expires_in: self.expires_in,
        }
    }
}

/// id.twitch.tv's error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwitchOauthError {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error: Option<String>,
}

impl std::fmt::Display for TwitchOauthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{status} {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl oauth2::ErrorResponse for TwitchOauthError {}

pub type OauthClient = oauth2::Client<
    TwitchOauthError,
    TwitchTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// How an OAuth request failed (docs/twitch-api-reference §16; docs/operations.md).
#[derive(Debug, thiserror::Error)]
pub enum OauthFailure {
    /// Twitch refused the *grant*: an invalid refresh token or authorization code (a 400 that
    /// is not about the client). The user's authorization is gone.
    #[error("Twitch refused: {0}")]
    Refused(String),
    /// Twitch refused the *app's own credentials* (400 invalid client, 403 invalid client
    /// secret, 401): the operator's configuration is wrong or being rotated. Nobody's
    /// authorization is at fault.
    #[error("Twitch rejects the app's credentials: {0}")]
    Misconfigured(String),
    /// Twitch could not be reached, was overloaded (5xx, 429) or answered nonsense: worth
    /// retrying later, with every token kept.
    #[error("Twitch unreachable: {0}")]
    Unreachable(String),
}

type HttpError = oauth2::HttpClientError<reqwest::Error>;

/// The messages Twitch gives a 400 about the client rather than the grant.
const CLIENT_PROBLEMS: [&str; 3] = [
    "invalid client",
    "missing client id",
    "missing client secret",
];

/// What an error answer of id.twitch.tv means, from its status (Twitch repeats it in the
/// body, the only place the `oauth2` crate leaves it) and, for a 400, which of its documented
/// messages it is.
pub fn classify_answer(answer: &TwitchOauthError) -> OauthFailure {
    let text = answer.to_string();
    match answer.status {
        Some(400) => {
            let message = answer.message.trim().to_ascii_lowercase();
            if CLIENT_PROBLEMS.iter().any(|p| message.starts_with(p)) {
                OauthFailure::Misconfigured(text)
            } else {
                OauthFailure::Refused(text)
            }
        }
        // On the token endpoint, 401 and 403 are about the client's credentials, and a 404
        // means the configured URL is wrong.
        Some(401 | 403 | 404) => OauthFailure::Misconfigured(text),
        // 429, 5xx, anything else or no status at all: transient, keep everything.
        _ => OauthFailure::Unreachable(text),
    }
}

fn classify(error: RequestTokenError<HttpError, TwitchOauthError>) -> OauthFailure {
    match error {
        RequestTokenError::ServerResponse(answer) => classify_answer(&answer),
        RequestTokenError::Request(e) => OauthFailure::Unreachable(e.to_string()),
        RequestTokenError::Parse(e, _body) => {
            OauthFailure::Unreachable(format!("unreadable answer: {e}"))
        }
        RequestTokenError::Other(e) => OauthFailure::Unreachable(e),
    }
}

pub struct Oauth {
    client: OauthClient,
}

impl Oauth {
    pub fn new(config: &TwitchConfig) -> anyhow::Result<Self> {
        let base = config.auth_url.as_str().trim_end_matches('/');
        let client = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client_secret.expose().to_string()))
            .set_auth_uri(AuthUrl::new(format!("{base}/oauth2/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{base}/oauth2/token"))?)
            // Twitch wants client_id and client_secret in the form body, not HTTP Basic.
            .set_auth_type(AuthType::RequestBody);
        Ok(Self { client })
    }

    /// The URL to send the browser to. `force_verify` makes Twitch show its consent page even
    /// to a user who already authorized the app — only when they ask to log in as another
    /// account (otherwise a returning moderator would click Authorize every time).
    pub fn authorize_url(
        &self,
        state: &str,
        redirect_uri: &str,
        scopes: &[&str],
        force_verify: bool,
    ) -> anyhow::Result<String> {
        let state = state.to_string();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::new(
                redirect_uri.to_string(),
            )?))
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_string())))
            .add_extra_param("force_verify", if force_verify { "true" } else { "false" })
            .url();
        Ok(url.to_string())
    }

    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        redirect_uri: &str,
    ) -> Result<FreshTokens, OauthFailure> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OauthFailure::Refused(format!("bad redirect_uri: {e}")))?;
        self.client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .request_async(http)
            .await
            .map(TwitchTokenResponse::into_fresh)
            .map_err(classify)
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<FreshTokens, OauthFailure> {
        let refresh = RefreshToken::new(refresh_token.to_string());
        self.client
            .exchange_refresh_token(&refresh)
            .request_async(http)
            .await
            .map(TwitchTokenResponse::into_fresh)
            .map_err(classify)
    }

    pub async fn client_credentials(
        &self,
        http: &reqwest::Client,
    ) -> Result<FreshTokens, OauthFailure> {
        self.client
            .exchange_client_credentials()
            .request_async(http)
            .await
            .map(TwitchTokenResponse::into_fresh)
            .map_err(classify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u16>, message: &str) -> TwitchOauthError {
        TwitchOauthError {
            status,
            message: message.into(),
            error: None,
        }
    }

    #[test]
    fn only_a_refused_grant_is_a_refusal() {
        let kind = |status, message| match classify_answer(&answer(status, message)) {
            OauthFailure::Refused(_) => "refused",
            OauthFailure::Misconfigured(_) => "misconfigured",
            OauthFailure::Unreachable(_) => "transient",
        };
        assert_eq!(kind(Some(400), "Invalid refresh token"), "refused");
        assert_eq!(kind(Some(400), "Invalid authorization code"), "refused");
        assert_eq!(kind(Some(400), "invalid client"), "misconfigured");
        assert_eq!(kind(Some(400), "Missing client secret"), "misconfigured");
        assert_eq!(kind(Some(403), "invalid client secret"), "misconfigured");
        assert_eq!(kind(Some(401), "unauthorized"), "misconfigured");
        assert_eq!(kind(Some(500), "Internal Server Error"), "transient");
        assert_eq!(kind(Some(503), "Service Unavailable"), "transient");
        assert_eq!(kind(Some(429), "Too Many Requests"), "transient");
        assert_eq!(kind(None, "oops"), "transient");
    }
}
