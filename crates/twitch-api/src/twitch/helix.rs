//! One Helix call with every protection: the bucket's limiter, a timeout, retries with backoff
//! for 5xx / 409 / timeouts / dropped connections / garbled bodies, waiting out 429s, and one
//! token renewal on a 401.

use std::time::{Duration, Instant};

use chrono::Utc;
use rand::RngExt;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tca_common::db::jobs::backoff_delay;

use super::{Actor, MAX_RATE_LIMITED_RETRIES, Twitch, TwitchError};

#[derive(Debug, Deserialize)]
struct HelixErrorBody {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Paged<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub pagination: Pagination,
    #[serde(default)]
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Pagination {
    #[serde(default)]
    pub cursor: Option<String>,
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

/// One Helix request to make: the method, the endpoint's metric label, the path under
/// `/helix/`, the query, and a JSON body for writes.
pub(super) struct Call<'a> {
    pub method: Method,
    pub endpoint: &'static str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<&'a serde_json::Value>,
}

/// The wait after the `n`-th 429 in a row that is not about our bucket: 1 s, doubling, at
/// most 30 s (Twitch publishes no figure for those limits).
fn per_resource_wait(n: u32) -> Duration {
    Duration::from_secs(1)
        .saturating_mul(1u32 << n.saturating_sub(1).min(5))
        .min(Duration::from_secs(30))
}

/// What one attempt of a Helix call came to, short of a final answer.
enum Attempt<T> {
    Done(T),
    /// A transient failure (network, 5xx, unreadable body): back off, try again.
    Transient(&'static str, String),
    /// Twitch said 429, with its `Ratelimit-*` headers (limit, remaining, reset).
    RateLimited(Option<u32>, Option<u32>, Option<Duration>),
    /// The token was refused: renew it once, try again.
    Unauthorized(String),
}

/// A refusal that no retry changes: 403 (not a moderator), 404, 400, anything unexpected.
async fn refusal(response: reqwest::Response) -> TwitchError {
    let status = response.status();
    if status == StatusCode::FORBIDDEN {
        return TwitchError::NotModerator(helix_message(response).await);
    }
    if status == StatusCode::NOT_FOUND {
        return TwitchError::NotFound(helix_message(response).await);
    }
    if status == StatusCode::BAD_REQUEST {
        // What a 400 means depends on the endpoint (its caller decides), never on the text.
        return TwitchError::BadRequest(helix_message(response).await);
    }
    TwitchError::Unavailable(format!("unexpected answer {status}"))
}

impl Twitch {
    /// One Helix GET with every protection (module docs). `endpoint` labels metrics.
    pub(super) async fn helix_get<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, &str)],
        deadline: Option<Instant>,
    ) -> Result<T, TwitchError> {
        self.helix_get_within(actor, endpoint, path, query, deadline, deadline)
            .await
    }

    /// `helix_get`, waiting for the rate-limit bucket only until `bucket_deadline` (sooner
    /// than `deadline`): past it the caller gets `RateLimited` with how long to wait, and can
    /// give its worker slot back instead of sleeping in it.
    pub(super) async fn helix_get_within<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, &str)],
        deadline: Option<Instant>,
        bucket_deadline: Option<Instant>,
    ) -> Result<T, TwitchError> {
        let call = Call {
            method: Method::GET,
            endpoint,
            path,
            query,
            body: None,
        };
        self.helix_call(actor, &call, deadline, bucket_deadline)
            .await
    }

    /// Any Helix call (`helix_get_within` for GETs). A 204 answers `T` from JSON `null`.
    pub(super) async fn helix_call<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        call: &Call<'_>,
        deadline: Option<Instant>,
        bucket_deadline: Option<Instant>,
    ) -> Result<T, TwitchError> {
        let Call { endpoint, path, .. } = *call;
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
        let mut renewed = false;
        let mut failures = 0u32;
        let mut rate_limited = 0u32;
        loop {
            if let Err(wait) = self.limiter.acquire(&bucket, bucket_deadline).await {
                return Err(TwitchError::RateLimited { retry_after: wait });
            }
            match self.attempt(actor, call, &url, &token).await? {
                Attempt::Done(body) => return Ok(body),
                Attempt::Transient(reason, detail) => {
                    self.pause_before_retry(endpoint, reason, &mut failures, deadline, &detail)
                        .await?;
                }
                Attempt::RateLimited(_, Some(remaining), _) if remaining > 0 => {
                    // A 429 while the bucket still has points is another limit (Ban User's
                    // per-broadcaster one): back off this call, leave the bucket alone.
                    rate_limited += 1;
                    let wait = per_resource_wait(rate_limited);
                    if rate_limited > MAX_RATE_LIMITED_RETRIES {
                        return Err(TwitchError::Unavailable("Twitch kept answering 429".into()));
                    }
                    if bucket_deadline.is_some_and(|d| Instant::now() + wait > d) {
                        return Err(TwitchError::RateLimited { retry_after: wait });
                    }
                    tokio::time::sleep(wait).await;
                }
                Attempt::RateLimited(limit, remaining, reset) => {
                    rate_limited += 1;
                    // Blocked until the point this call needs is back (doubling on repeats),
                    // not until the bucket is full again.
                    let wait = self.limiter.block_after_429(
                        &bucket,
                        limit,
                        remaining,
                        reset,
                        rate_limited,
                    );
                    if rate_limited > MAX_RATE_LIMITED_RETRIES {
                        return Err(TwitchError::Unavailable("Twitch kept answering 429".into()));
                    }
                    if bucket_deadline.is_some_and(|d| Instant::now() + wait > d) {
                        return Err(TwitchError::RateLimited { retry_after: wait });
                    }
                }
                Attempt::Unauthorized(message) if renewed => {
                    return Err(match actor {
                        Actor::User(_) => TwitchError::ReauthRequired(format!(
                            "Twitch refused the user's token: {message}"
                        )),
                        Actor::App => TwitchError::Internal(format!(
                            "Twitch refused the app token: {message}"
                        )),
                    });
                }
                Attempt::Unauthorized(_) => {
                    // Renewed once whatever Twitch's words (an expired token, a missing scope):
                    // a second 401 with the fresh token is the refusal, above.
                    renewed = true;
                    token = match actor {
                        Actor::User(id) => self.refresh_after_401(id, &token).await?,
                        Actor::App => self.app_token(true).await?,
                    };
                }
            }
        }
    }

    /// Sends one request, records its metrics and rate-limit headers, and says what came of
    /// it; a final refusal is the error.
    async fn attempt<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        call: &Call<'_>,
        url: &str,
        token: &str,
    ) -> Result<Attempt<T>, TwitchError> {
        let endpoint = call.endpoint;
        let started = Instant::now();
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .query(call.query)
            .header("Client-Id", &self.config.client_id)
            .bearer_auth(token);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let sent = request.send().await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                let reason = if e.is_timeout() {
                    "timeout"
                } else {
                    "connection"
                };
                metrics::counter!("twitch_requests_total", "endpoint" => endpoint, "status" => reason).increment(1);
                return Ok(Attempt::Transient(reason, e.to_string()));
            }
        };
        let status = response.status();
        metrics::counter!("twitch_requests_total", "endpoint" => endpoint, "status" => status.as_u16().to_string())
            .increment(1);
        metrics::histogram!("twitch_request_duration_seconds", "endpoint" => endpoint)
            .record(started.elapsed().as_secs_f64());
        let bucket = actor.bucket();
        self.limiter.observe(
            &bucket,
            header_u32(&response, "ratelimit-limit"),
            header_u32(&response, "ratelimit-remaining"),
            reset_in(&response),
        );
        Ok(match status {
            StatusCode::NO_CONTENT => match serde_json::from_value::<T>(serde_json::Value::Null) {
                Ok(body) => Attempt::Done(body),
                Err(e) => return Err(TwitchError::Internal(format!("204 for {endpoint}: {e}"))),
            },
            s if s.is_success() => match response.json::<T>().await {
                Ok(body) => Attempt::Done(body),
                // The connection died mid-body, or the body is garbled: try again.
                Err(e) => Attempt::Transient("body", e.to_string()),
            },
            StatusCode::TOO_MANY_REQUESTS => {
                metrics::counter!("twitch_retries_total", "endpoint" => endpoint, "reason" => "429")
                    .increment(1);
                Attempt::RateLimited(
                    header_u32(&response, "ratelimit-limit"),
                    header_u32(&response, "ratelimit-remaining"),
                    reset_in(&response),
                )
            }
            StatusCode::UNAUTHORIZED => Attempt::Unauthorized(helix_message(response).await),
            s if s.is_server_error() => {
                let message = helix_message(response).await;
                Attempt::Transient("5xx", format!("{s} {message}"))
            }
            // Someone else changed the same thing at that moment (Ban User): try again.
            StatusCode::CONFLICT => {
                let message = helix_message(response).await;
                Attempt::Transient("409", message)
            }
            _ => return Err(refusal(response).await),
        })
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
