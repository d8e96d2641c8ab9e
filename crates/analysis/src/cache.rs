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
use crate::scoring::{ScoringConfig, SessionContext};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    captures: Option<String>,
    last_enriched: Option<DateTime<Utc>>,
    moderation: u64,
}

impl From<&Probe> for Version {
    fn from(probe: &Probe) -> Self {
        Self {
            captures: probe.captures_version.clone(),
            last_enriched: probe.last_enriched,
            moderation: probe.moderation_version,
        }
    }
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<u64, (Version, Arc<Population>)>>,
    /// Export contexts of sessions whose population is not loaded (`context`).
    contexts: Mutex<HashMap<u64, (Version, Arc<SessionContext>)>>,
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

    /// What an export scores with for the data version `probe` saw: the loaded population's
    /// context when there is one, else one found without loading it (`population::context`),
    /// kept apart — an export alone does not put a whole session in memory.
    pub async fn context(
        &self,
        pool: &MySqlPool,
        session_id: u64,
        probe: &Probe,
        config: &ScoringConfig,
    ) -> Result<Arc<SessionContext>, sqlx::Error> {
        let version = Version::from(probe);
        if let Some((cached, population)) = self.lock().get(&session_id)
            && *cached == version
        {
            return Ok(population.context.clone());
        }
        if let Some((cached, context)) = lock(&self.contexts).get(&session_id)
            && *cached == version
        {
            return Ok(context.clone());
        }
        let context = Arc::new(population::context(pool, session_id, config).await?);
        let mut contexts = lock(&self.contexts);
        if contexts.len() >= CACHED_SESSIONS
            && let Some(evicted) = contexts.keys().next().copied()
        {
            contexts.remove(&evicted);
        }
        contexts.insert(session_id, (version, context.clone()));
        Ok(context)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Version, Arc<Population>)>> {
        lock(&self.entries)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
