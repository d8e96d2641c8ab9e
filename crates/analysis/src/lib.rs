//! analysis: aggregations, suspicion scores and exports over a session's data (read-only).
//! The gateway calls it over the internal API (`routes`). `main.rs` only calls the bootstrap.

pub mod cache;
pub mod cohorts;
pub mod db;
pub mod error;
pub mod export;
pub mod histogram;
pub mod population;
pub mod routes;
pub mod scoring;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader, FromEnv, Secret};
use tca_common::db::DatabaseConfig;
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

use crate::scoring::ScoringConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
    pub internal_token: Secret,
    pub scoring: ScoringConfig,
}

impl FromEnv for Config {
    fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = Analysis::listen_addr(&mut env);
        let database = DatabaseConfig::read(&mut env);
        let internal_token = env.internal_token();
        let d = ScoringConfig::default();
        let scoring = ScoringConfig {
            creation_burst: env.u32_in("SCORE_WEIGHT_CREATION_BURST", d.creation_burst, 0, 100),
            young_at_first_sight: env.u32_in("SCORE_WEIGHT_YOUNG", d.young_at_first_sight, 0, 100),
            generated_login: env.u32_in("SCORE_WEIGHT_GENERATED_LOGIN", d.generated_login, 0, 100),
            default_profile: env.u32_in("SCORE_WEIGHT_DEFAULT_PROFILE", d.default_profile, 0, 100),
            repeated_renames: env.u32_in("SCORE_WEIGHT_RENAMES", d.repeated_renames, 0, 100),
            always_present: env.u32_in("SCORE_WEIGHT_ALWAYS_PRESENT", d.always_present, 0, 100),
            present_while_offline: env.u32_in(
                "SCORE_WEIGHT_OFFLINE",
                d.present_while_offline,
                0,
                100,
            ),
            multi_channel: env.u32_in("SCORE_WEIGHT_MULTI_CHANNEL", d.multi_channel, 0, 100),
            missing: env.u32_in("SCORE_WEIGHT_MISSING", d.missing, 0, 100),
            young_days: i64::from(env.u32_in("SCORE_YOUNG_DAYS", d.young_days as u32, 1, 3650)),
            shared_prefix_min: env.u32_in(
                "SCORE_SHARED_PREFIX_MIN",
                d.shared_prefix_min as u32,
                2,
                100_000,
            ) as usize,
            always_present_min_captures: env.u32_in(
                "SCORE_ALWAYS_PRESENT_MIN_CAPTURES",
                d.always_present_min_captures,
                1,
                1000,
            ),
            flag_threshold: env.u32_in("SCORE_FLAG_THRESHOLD", d.flag_threshold, 1, 100),
        };
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
                internal_token: internal_token?,
                scoring,
            })
        })
    }
}

pub struct Analysis {
    core: HttpCore,
    pool: sqlx::MySqlPool,
    config: Config,
}

impl Service for Analysis {
    const NAME: &'static str = "analysis";
    const ADDR_VAR: &'static str = "ANALYSIS_ADDR";
    const DEFAULT_PORT: u16 = 8083;
    type Config = Config;

    fn http(&self) -> &HttpCore {
        &self.core
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        // Migrations are applied by the gateway and the worker; `/readyz` waits for them.
        let (core, pool) = HttpCore::with_database(config.addr, &config.database, false).await?;
        Ok(Self { core, pool, config })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = state::AppState {
            pool: self.pool,
            internal_token: self.config.internal_token.clone(),
            scoring: Arc::new(self.config.scoring.clone()),
            cache: Arc::default(),
        };
        self.core
            .serve(routes::router(state), HttpOptions::default(), shutdown)
            .await
    }
}
