//! The tokens Helix calls carry: the app's (client credentials, renewed before expiry) and
//! users' (stored sealed, refreshed once on a 401 across callers); and validating and
//! revoking a token.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde::Deserialize;

use super::{APP_TOKEN_MARGIN, Twitch, TwitchError};
use crate::oauth::OauthFailure;
use crate::tokens::TokenStore;

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

impl Twitch {
    pub(super) async fn app_token(&self, renew: bool) -> Result<String, TwitchError> {
        let mut cached = self.app_token.lock().await;
        if !renew
            && let Some((token, expires)) = cached.as_ref()
            && *expires > Instant::now() + APP_TOKEN_MARGIN
        {
            return Ok(token.clone());
        }
        // A refusal of the client-credentials grant is about the app itself.
        let result = self
            .oauth
            .client_credentials(&self.http)
            .await
            .map_err(|e| match e {
                OauthFailure::Refused(m) => OauthFailure::Misconfigured(m),
                other => other,
            });
        let fresh = self
            .credentials_answer(result)
            .map_err(|e| TwitchError::Unavailable(e.to_string()))?;
        let lifetime = Duration::from_secs(fresh.expires_in.unwrap_or(3600));
        *cached = Some((fresh.access.clone(), Instant::now() + lifetime));
        Ok(fresh.access)
    }

    pub(super) async fn user_token(&self, user_id: &str) -> Result<String, TwitchError> {
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
        let now = Utc::now();
        // A refresh of this process whose answer was never stored: its tokens replace the
        // stored ones, which Twitch no longer accepts.
        let row_refresh = current.refresh.clone().unwrap_or_default();
        let (current_access, current_refresh) = match self.unstored(user_id, &row_refresh) {
            Some(fresh) if fresh.access != stale => {
                self.tokens
                    .store_refreshed(&mut tx, user_id, &fresh, now)
                    .await?;
                tx.commit().await?;
                self.forget_unstored(user_id);
                tracing::info!(user_id, "Twitch tokens of an earlier refresh stored");
                return Ok(fresh.access);
            }
            Some(fresh) => (fresh.access, fresh.refresh),
            None => (current.access, current.refresh),
        };
        if current_access != stale {
            tx.commit().await?;
            return Ok(current_access);
        }
        let Some(refresh) = current_refresh else {
            TokenStore::mark_invalid(&mut *tx, user_id, "expired and not refreshable", now).await?;
            tx.commit().await?;
            return Err(TwitchError::ReauthRequired(
                "the Twitch authorization expired".into(),
            ));
        };
        let answer = self.oauth.refresh(&self.http, &refresh).await;
        match self.credentials_answer(answer) {
            Ok(fresh) => {
                let stored = async {
                    self.tokens
                        .store_refreshed(&mut tx, user_id, &fresh, now)
                        .await?;
                    tx.commit().await?;
                    Ok::<_, crate::tokens::StoreError>(())
                }
                .await;
                if let Err(e) = stored {
                    // Twitch has rotated the grant: the stored refresh token is dead. Keep
                    // the new one for the next refresh here rather than lose the user.
                    tracing::warn!(user_id, error = %e, "storing refreshed Twitch tokens failed: kept until stored");
                    self.keep_unstored(user_id, &row_refresh, fresh);
                    return Err(e.into());
                }
                self.forget_unstored(user_id);
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
            // The app's credentials are rejected (an operator's mistake or a secret being
            // rotated) or Twitch is down: the user's tokens are kept, the caller retries.
            Err(failure @ OauthFailure::Misconfigured(_)) => {
                metrics::counter!("twitch_token_refreshes_total", "outcome" => "misconfigured")
                    .increment(1);
                Err(TwitchError::Unavailable(format!(
                    "refreshing the token failed, the token is kept: {failure}"
                )))
            }
            Err(OauthFailure::Unreachable(reason)) => {
                metrics::counter!("twitch_token_refreshes_total", "outcome" => "unreachable")
                    .increment(1);
                Err(TwitchError::Unavailable(format!(
                    "refreshing the token failed, the token is kept: {reason}"
                )))
            }
        }
    }

    fn keep_unstored(&self, user_id: &str, replaced: &str, fresh: crate::tokens::FreshTokens) {
        self.unstored
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), (replaced.to_string(), fresh));
    }

    /// The unstored tokens of `user_id` while the row still holds the refresh token they
    /// replace (`stored_refresh`); forgotten once it holds anything else.
    fn unstored(&self, user_id: &str, stored_refresh: &str) -> Option<crate::tokens::FreshTokens> {
        let mut unstored = self.unstored.lock().unwrap_or_else(|p| p.into_inner());
        match unstored.get(user_id) {
            Some((replaced, fresh)) if replaced == stored_refresh => Some(fresh.clone()),
            Some(_) => {
                unstored.remove(user_id);
                None
            }
            None => None,
        }
    }

    fn forget_unstored(&self, user_id: &str) {
        self.unstored
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_id);
    }

    /// Validates the app token (Twitch asks for it at start-up and hourly), renewing it when
    /// Twitch no longer accepts it. Getting one also tells at once whether id.twitch.tv
    /// accepts the app's credentials (readiness says so).
    pub async fn check_app_token(&self) -> Result<(), TwitchError> {
        let token = self.app_token(false).await?;
        if self.validate_token(&token).await?.is_none() {
            tracing::info!("Twitch no longer accepts the app token: renewing it");
            self.app_token(true).await?;
        }
        Ok(())
    }

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
            // Revoked; or the token was already invalid (400 `Invalid token`); or Twitch does
            // not know our client (404): nothing more revoking can do — logging out goes on.
            s if s.is_success() || s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND => {
                Ok(())
            }
            other => Err(TwitchError::Unavailable(format!("revoke answered {other}"))),
        }
    }
}
