//! twitch-api's configuration (environment only; see .env.example).

use std::net::SocketAddr;

use std::time::Duration;
use tca_common::bootstrap::Service;

use tca_common::config::{ConfigError, EnvReader, FromEnv, Secret};
use tca_common::db::DatabaseConfig;
use tca_common::sealing::Sealer;
use url::Url;

#[derive(Debug, Clone)]
pub struct TwitchConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// id.twitch.tv (or twitch-fake): `/oauth2/*` live under it.
    pub auth_url: Url,
    /// api.twitch.tv/helix (or twitch-fake's `/helix`).
    pub helix_url: Url,
    /// Timeout of every request to Twitch.
    pub request_timeout: Duration,
    /// Retries of a Helix call after 5xx, timeouts and dropped connections.
    pub max_retries: u32,
    /// Points per window assumed for a bucket until Twitch's headers say otherwise.
    pub rate_limit: u32,
    /// The bucket's window: Twitch refills per minute.
    pub rate_window: Duration,
    /// Concurrent Twitch calls for one batched lookup (Get Users by 100).
    pub lookup_concurrency: usize,
    /// How long a user's channel list is reused.
    pub channels_cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
    pub internal_token: Secret,
    pub sealer: Sealer,
    pub twitch: TwitchConfig,
    /// EventSub over webhooks (docs/live.md); `None`: polling only.
    pub eventsub: Option<crate::eventsub::EventSubConfig>,
}

impl FromEnv for Config {
    fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = crate::TwitchApi::listen_addr(&mut env);
        let database = DatabaseConfig::read(&mut env);
        let internal_token = env.internal_token();
        let sealer = env.required_sealer("TOKEN_ENCRYPTION_KEY");
        let client_id = env.required_string("TWITCH_CLIENT_ID");
        let client_secret = env.required_secret("TWITCH_CLIENT_SECRET");
        let auth_url = url_or(&mut env, "TWITCH_AUTH_URL", "https://id.twitch.tv");
        let helix_url = url_or(&mut env, "TWITCH_HELIX_URL", "https://api.twitch.tv/helix");
        let request_timeout = env.duration_or("TWITCH_REQUEST_TIMEOUT", Duration::from_secs(10));
        let max_retries = env.u32_in("TWITCH_MAX_RETRIES", 4, 0, 20);
        let rate_limit = env.u32_in("TWITCH_RATE_LIMIT", 800, 1, 100_000);
        let rate_window = env.duration_or("TWITCH_RATE_WINDOW", Duration::from_secs(60));
        let lookup_concurrency = env.u32_in("TWITCH_LOOKUP_CONCURRENCY", 4, 1, 64) as usize;
        let channels_cache_ttl =
            env.duration_or("TWITCH_CHANNELS_CACHE_TTL", Duration::from_secs(60));
        let eventsub = eventsub_config(&mut env);
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
                internal_token: internal_token?,
                sealer: sealer?,
                twitch: TwitchConfig {
                    client_id: client_id?,
                    client_secret: client_secret?,
                    auth_url: auth_url?,
                    helix_url: helix_url?,
                    request_timeout,
                    max_retries,
                    rate_limit,
                    rate_window,
                    lookup_concurrency,
                    channels_cache_ttl,
                },
                eventsub,
            })
        })
    }
}

/// `EVENTSUB_SECRET` (10–100 ASCII characters, Twitch's rule) and `EVENTSUB_CALLBACK_URL`
/// together enable EventSub; neither: polling only; one without the other is a mistake.
fn eventsub_config(env: &mut EnvReader) -> Option<crate::eventsub::EventSubConfig> {
    let secret = env.optional_secret("EVENTSUB_SECRET");
    let callback = env.optional_string("EVENTSUB_CALLBACK_URL");
    match (secret, callback) {
        (None, None) => None,
        (Some(secret), Some(raw)) => {
            let valid_secret =
                (10..=100).contains(&secret.expose().len()) && secret.expose().is_ascii();
            if !valid_secret {
                env.problem("EVENTSUB_SECRET must be 10 to 100 ASCII characters".to_string());
                return None;
            }
            match Url::parse(&raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => {
                    Some(crate::eventsub::EventSubConfig {
                        secret,
                        callback: url,
                    })
                }
                _ => {
                    env.problem(format!(
                        "EVENTSUB_CALLBACK_URL is not an http(s) URL: '{raw}'"
                    ));
                    None
                }
            }
        }
        _ => {
            env.problem(
                "EventSub needs both EVENTSUB_SECRET and EVENTSUB_CALLBACK_URL (or neither: polling)"
                    .to_string(),
            );
            None
        }
    }
}

fn url_or(env: &mut EnvReader, name: &str, default: &str) -> Option<Url> {
    let raw = env.string_or(name, default);
    match Url::parse(raw.trim_end_matches('/')) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
        _ => {
            env.problem(format!("{name} is not an http(s) URL: '{raw}'"));
            None
        }
    }
}
