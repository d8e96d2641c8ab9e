//! What every handler shares.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use sqlx::MySqlPool;
use tca_common::config::Secret;

use crate::cache::Cache;
use crate::scoring::ScoringConfig;

#[derive(Clone)]
pub struct AppState {
    pub pool: MySqlPool,
    pub internal_token: Secret,
    pub scoring: Arc<ScoringConfig>,
    pub cache: Arc<Cache>,
    /// What the answers depend on besides the data: this build and its scoring settings. The
    /// dashboard's entity tag starts from it, so an analysis restarted with other thresholds
    /// (or another version) never confirms a page the gateway rendered from the old ones.
    pub answers_seed: u64,
}

impl AppState {
    pub fn new(pool: MySqlPool, internal_token: Secret, scoring: ScoringConfig) -> Self {
        let mut seed = std::hash::DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut seed);
        // Every setting, as the settings print themselves: a new field counts without
        // anyone remembering to add it here.
        format!("{scoring:?}").hash(&mut seed);
        Self {
            pool,
            internal_token,
            scoring: Arc::new(scoring),
            cache: Arc::default(),
            answers_seed: seed.finish(),
        }
    }
}
