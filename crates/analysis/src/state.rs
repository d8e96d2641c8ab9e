//! What every handler shares.

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
}
