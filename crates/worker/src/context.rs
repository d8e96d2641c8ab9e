//! What job handlers share: the database, the twitch-api and analysis clients, what alerts
//! need, and their settings.

use std::sync::Arc;
use std::time::Duration;

use sqlx::MySqlPool;
use tca_common::analysis_api::AnalysisClient;
use tca_common::config::EnvReader;
use tca_common::twitch_api::TwitchApiClient;
use tca_common::webhooks::AlertConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Accounts are enriched again when their profile is older than this.
    pub enrich_ttl: Duration,
    /// Finished jobs are deleted this long after they finished.
    pub job_retention: Duration,
    pub housekeeping_interval: Duration,
    /// Twitch requires every stored token to be validated at least hourly.
    pub token_validation_interval: Duration,
    /// How long a capture may wait for the Twitch rate limit before it is deferred.
    pub capture_deadline: Duration,
    /// Rows deleted per statement when purging an expired session.
    pub purge_batch: u32,
}

impl Settings {
    pub fn read(env: &mut EnvReader) -> Self {
        Self {
            enrich_ttl: env.duration_or("ENRICH_TTL", Duration::from_secs(7 * 86_400)),
            job_retention: env.duration_or("JOB_RETENTION", Duration::from_secs(7 * 86_400)),
            housekeeping_interval: env
                .duration_or("HOUSEKEEPING_INTERVAL", Duration::from_secs(60)),
            token_validation_interval: env
                .duration_or("TOKEN_VALIDATION_INTERVAL", Duration::from_secs(3600)),
            capture_deadline: env.duration_or("CAPTURE_RATE_LIMIT_WAIT", Duration::from_secs(30)),
            purge_batch: env.u32_in("PURGE_BATCH_SIZE", 5000, 100, 100_000),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::read(&mut EnvReader::from_map(
            std::iter::empty::<(String, String)>(),
        ))
    }
}

#[derive(Clone)]
pub struct Context {
    pub pool: MySqlPool,
    pub twitch: TwitchApiClient,
    /// What a capture found, for the alerts.
    pub analysis: AnalysisClient,
    /// The gateway's public address: the links in alerts.
    pub public_url: url::Url,
    pub alerts: AlertConfig,
    pub settings: Settings,
}

impl Context {
    pub fn new(pool: MySqlPool, config: &crate::Config) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            pool,
            twitch: TwitchApiClient::new(
                config.twitch_api_url.clone(),
                config.internal_token.clone(),
            )?,
            analysis: AnalysisClient::new(
                config.analysis_url.clone(),
                config.internal_token.clone(),
            )?,
            public_url: config.public_url.clone(),
            alerts: config.alerts.clone(),
            settings: config.settings.clone(),
        }))
    }
}
