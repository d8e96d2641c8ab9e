//! The gateway's configuration (environment only; see .env.example).

use std::net::SocketAddr;

use std::path::PathBuf;
use std::time::Duration;
use tca_common::bootstrap::Service;

use tca_common::config::{ConfigError, EnvReader, FromEnv, Secret};
use tca_common::db::DatabaseConfig;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
    /// Where browsers reach the app; the OAuth redirect is this + `/auth/callback`, and cookies
    /// are `Secure` when it is https.
    pub public_url: Url,
    pub twitch_api_url: Url,
    pub analysis_url: Url,
    /// The workers' service, woken when a user queues work (`wake`); unset: workers start it
    /// at their next poll.
    pub worker_url: Option<Url>,
    pub internal_token: Secret,
    /// An active analysis session expires after this long without activity.
    pub session_ttl: Duration,
    /// A web session ends after this long idle…
    pub web_session_idle: Duration,
    /// …and after this long in any case.
    pub web_session_max: Duration,
    pub saved_sessions_limit: u32,
    /// Captures one user may have queued or running at once (fairness, docs/queue.md).
    pub captures_per_user: u32,
    /// Live-update streams one browser session, and one user, may hold open at once.
    pub streams_per_session: u32,
    pub streams_per_user: u32,
    /// The most accounts one moderation batch may act on (docs/moderation.md).
    pub moderation_batch_max: u32,
    /// Sealing alert webhook URLs as they are saved, and where they may point (docs/live.md).
    pub alerts: tca_common::webhooks::AlertConfig,
    /// Requests a minute one IP may make to `/auth/*`.
    pub auth_rate_limit: u32,
    /// Take the client's IP from the last `X-Forwarded-For` entry (behind Traefik).
    pub trust_forwarded_for: bool,
    pub static_dir: PathBuf,
}

impl FromEnv for Config {
    fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = crate::Gateway::listen_addr(&mut env);
        let database = DatabaseConfig::read(&mut env);
        let public_url = env.required_url("PUBLIC_URL");
        let twitch_api_url = env.required_url("TWITCH_API_URL");
        let analysis_url = env.required_url("ANALYSIS_URL");
        let worker_url = env.optional_url("WORKER_URL");
        let internal_token = env.internal_token();
        let session_ttl = env.duration_or("SESSION_TTL", Duration::from_secs(24 * 3600));
        let web_session_idle = env.duration_or("WEB_SESSION_IDLE", Duration::from_secs(7 * 86_400));
        let web_session_max =
            env.duration_or("WEB_SESSION_MAX_AGE", Duration::from_secs(30 * 86_400));
        let saved_sessions_limit = env.u32_in("SAVED_SESSIONS_LIMIT", 10, 1, 1000);
        let captures_per_user = env.u32_in("CAPTURES_PER_USER", 4, 1, 100);
        let streams_per_session = env.u32_in("SSE_STREAMS_PER_SESSION", 4, 1, 100);
        let streams_per_user = env.u32_in("SSE_STREAMS_PER_USER", 8, 1, 1000);
        let moderation_batch_max = env.u32_in("MODERATION_BATCH_MAX", 5000, 1, 100_000);
        let alerts = tca_common::webhooks::AlertConfig::read(&mut env);
        let auth_rate_limit = env.u32_in("AUTH_RATE_LIMIT", 30, 1, 10_000);
        let trust_forwarded_for = env.bool_or("TRUST_FORWARDED_FOR", false);
        let static_dir = PathBuf::from(env.string_or("STATIC_DIR", "web/static"));
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
                public_url: public_url?,
                twitch_api_url: twitch_api_url?,
                analysis_url: analysis_url?,
                worker_url,
                internal_token: internal_token?,
                session_ttl,
                web_session_idle,
                web_session_max,
                saved_sessions_limit,
                captures_per_user,
                streams_per_session,
                streams_per_user,
                moderation_batch_max,
                alerts: alerts?,
                auth_rate_limit,
                trust_forwarded_for,
                static_dir,
            })
        })
    }
}

impl Config {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/auth/callback",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// `scheme://host[:port]`, what browsers send as `Origin`.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}
