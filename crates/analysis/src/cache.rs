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
        insert_bounded(&mut self.lock(), session_id, version, population.clone());
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
        insert_bounded(
            &mut lock(&self.contexts),
            session_id,
            version,
            context.clone(),
        );
        Ok(context)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Version, Arc<Population>)>> {
        lock(&self.entries)
    }
}

/// Keeps `value` for the session, dropping an arbitrary other session's first when
/// `CACHED_SESSIONS` are already kept.
fn insert_bounded<T>(
    entries: &mut HashMap<u64, (Version, Arc<T>)>,
    session_id: u64,
    version: Version,
    value: Arc<T>,
) {
    if entries.len() >= CACHED_SESSIONS
        && !entries.contains_key(&session_id)
        && let Some(evicted) = entries.keys().next().copied()
    {
        entries.remove(&evicted);
    }
    entries.insert(session_id, (version, value));
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(n: u64) -> Version {
        Version {
            captures: Some(n.to_string()),
            last_enriched: None,
            moderation: n,
        }
    }

    #[test]
    fn a_full_cache_evicts_for_a_new_session_only() {
        let mut entries = HashMap::new();
        for session in 0..CACHED_SESSIONS as u64 {
            insert_bounded(&mut entries, session, version(0), Arc::new(session));
        }
        // A new version of a kept session replaces it and drops nobody.
        insert_bounded(&mut entries, 3, version(1), Arc::new(3));
        assert_eq!(entries.len(), CACHED_SESSIONS);
        assert!((0..CACHED_SESSIONS as u64).all(|s| entries.contains_key(&s)));
        assert_eq!(entries[&3].0, version(1));
        // A new session takes another's place.
        insert_bounded(&mut entries, 99, version(0), Arc::new(99));
        assert_eq!(entries.len(), CACHED_SESSIONS);
        assert!(entries.contains_key(&99));
    }
}
