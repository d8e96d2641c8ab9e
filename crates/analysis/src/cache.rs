//! Populations kept in memory per session and data version. The version is what the
//! request's probe saw (finished captures, the last finish, the last enrichment, what
//! moderators wrote): any new data changes it, so a cached population is never stale for the
//! request that uses it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;

use crate::db::Probe;
use crate::population::{self, Population};
use crate::scoring::ScoringConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    captures_done: i64,
    last_finished: Option<DateTime<Utc>>,
    last_enriched: Option<DateTime<Utc>>,
    moderation: u64,
}

impl From<&Probe> for Version {
    fn from(probe: &Probe) -> Self {
        Self {
            captures_done: probe.captures_done,
            last_finished: probe.last_finished,
            last_enriched: probe.last_enriched,
            moderation: probe.moderation_version,
        }
    }
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<u64, (Version, Arc<Population>)>>,
}

/// Sessions kept in memory at once; beyond that an arbitrary one is dropped (and reloaded if
/// asked for again).
const CACHED_SESSIONS: usize = 16;

impl Cache {
    /// The session's population for the data version `probe` saw, loaded if not cached.
    pub async fn get(
        &self,
        pool: &MySqlPool,
        session_id: u64,
        probe: &Probe,
        config: &ScoringConfig,
    ) -> Result<Arc<Population>, sqlx::Error> {
        let version = Version::from(probe);
        if let Some((cached, population)) = self.lock().get(&session_id)
            && *cached == version
        {
            return Ok(population.clone());
        }
        let population = Arc::new(population::load(pool, session_id, config).await?);
        let mut entries = self.lock();
        if entries.len() >= CACHED_SESSIONS
            && let Some(evicted) = entries.keys().next().copied()
        {
            entries.remove(&evicted);
        }
        entries.insert(session_id, (version, population.clone()));
        Ok(population)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Version, Arc<Population>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
