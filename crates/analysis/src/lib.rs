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

use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader, FromEnv, Secret};
use tca_common::db::DatabaseConfig;
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

use crate::cohorts::CohortConfig;
use crate::cohorts::creation::WindowConfig;
use crate::cohorts::evidence::EvidenceConfig;
use crate::scoring::ScoringConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
    pub internal_token: Secret,
    pub scoring: ScoringConfig,
    /// Variables set that this version no longer reads, logged at start.
    pub retired: Vec<&'static str>,
}

/// Variables of earlier versions, replaced by cohort detection (docs/cohorts.md): an
/// operator who still sets them is told, not silently ignored.
const RETIRED_VARS: [&str; 3] = [
    "SCORE_WEIGHT_CREATION_BURST",
    "SCORE_WEIGHT_GENERATED_LOGIN",
    "SCORE_SHARED_PREFIX_MIN",
];

/// Cohort detection's thresholds and points (docs/cohorts.md). Shares are whole percents.
fn cohort_config(env: &mut EnvReader, d: &CohortConfig) -> CohortConfig {
    let pct = |share: f64| (share * 100.0).round() as u32;
    let share = |percent: u32| f64::from(percent) / 100.0;
    let evidence = EvidenceConfig {
        shared_share: share(env.u32_in(
            "COHORT_SHARED_PERCENT",
            pct(d.evidence.shared_share),
            1,
            100,
        )),
        min_lift: share(env.u32_in("COHORT_MIN_LIFT_PERCENT", pct(d.evidence.min_lift), 1, 100)),
        min_odds_ratio: f64::from(env.u32_in(
            "COHORT_MIN_ODDS_RATIO",
            d.evidence.min_odds_ratio as u32,
            1,
            1000,
        )),
        candidate_share: share(env.u32_in(
            "COHORT_CANDIDATE_PERCENT",
            pct(d.evidence.candidate_share),
            1,
            100,
        )),
        core_of_excess: share(env.u32_in(
            "COHORT_CORE_OF_EXCESS_PERCENT",
            pct(d.evidence.core_of_excess),
            1,
            100,
        )),
    };
    let link_similarity = share(env.u32_in(
        "COHORT_LINK_SIMILARITY_PERCENT",
        pct(d.link_similarity),
        1,
        100,
    ));
    let windows = WindowConfig {
        min_members: env.u32_in(
            "COHORT_MIN_MEMBERS",
            d.windows.min_members as u32,
            2,
            100_000,
        ) as usize,
        ..d.windows.clone()
    };
    CohortConfig {
        windows,
        evidence,
        link_similarity,
        link_days: i64::from(env.u32_in("COHORT_LINK_DAYS", d.link_days as u32, 0, 3650)),
        recruit_hours: i64::from(env.u32_in(
            "COHORT_RECRUIT_HOURS",
            d.recruit_hours as u32,
            0,
            24 * 365,
        )),
        strength_window: env.u32_in("COHORT_POINTS_WINDOW", d.strength_window, 0, 100),
        strength_family: env.u32_in("COHORT_POINTS_FAMILY", d.strength_family, 0, 100),
        strength_trait: env.u32_in("COHORT_POINTS_TRAIT", d.strength_trait, 0, 100),
    }
}

impl FromEnv for Config {
    fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = Analysis::listen_addr(&mut env);
        let database = DatabaseConfig::read(&mut env);
        let internal_token = env.internal_token();
        let d = ScoringConfig::default();
        let scoring = ScoringConfig {
            young_at_first_sight: env.u32_in("SCORE_WEIGHT_YOUNG", d.young_at_first_sight, 0, 100),
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
            bot_label: env.u32_in("SCORE_WEIGHT_BOT_LABEL", d.bot_label, 0, 100),
            young_days: i64::from(env.u32_in("SCORE_YOUNG_DAYS", d.young_days as u32, 1, 3650)),
            always_present_min_captures: env.u32_in(
                "SCORE_ALWAYS_PRESENT_MIN_CAPTURES",
                d.always_present_min_captures,
                1,
                1000,
            ),
            flag_threshold: env.u32_in("SCORE_FLAG_THRESHOLD", d.flag_threshold, 1, 100),
            cohorts: cohort_config(&mut env, &d.cohorts),
        };
        let retired = RETIRED_VARS
            .into_iter()
            .filter(|name| env.optional_string(name).is_some())
            .collect();
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
                internal_token: internal_token?,
                scoring,
                retired,
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
        for name in &self.config.retired {
            tracing::warn!(
                variable = name,
                "no longer read: cohort detection replaces the creation-burst and same-day \
                 login signals (docs/cohorts.md); remove it"
            );
        }
        let state = state::AppState::new(
            self.pool,
            self.config.internal_token.clone(),
            self.config.scoring.clone(),
        );
        self.core
            .serve(routes::router(state), HttpOptions::default(), shutdown)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&str, &str)]) -> EnvReader {
        let mut vars = vec![
            ("DATABASE_URL", "mysql://root@127.0.0.1:3306/test"),
            ("INTERNAL_API_TOKEN", "0123456789abcdef0123456789abcdef-x"),
        ];
        vars.extend_from_slice(extra);
        EnvReader::from_map(vars)
    }

    #[test]
    fn cohort_settings_are_read_as_percents_and_retired_variables_are_named() {
        let config = Config::from_env(env(&[
            ("COHORT_SHARED_PERCENT", "80"),
            ("COHORT_LINK_DAYS", "10"),
            ("SCORE_WEIGHT_CREATION_BURST", "35"),
        ]))
        .expect("config");
        assert_eq!(config.scoring.cohorts.evidence.shared_share, 0.8);
        assert_eq!(config.scoring.cohorts.evidence.min_lift, 0.25, "default");
        assert_eq!(config.scoring.cohorts.link_days, 10);
        assert_eq!(config.retired, ["SCORE_WEIGHT_CREATION_BURST"]);
        let defaults = Config::from_env(env(&[])).expect("config");
        assert!(defaults.retired.is_empty());
        assert!(Config::from_env(env(&[("COHORT_SHARED_PERCENT", "0")])).is_err());
    }
}
