//! What the gateway remembers for a second: rows every request of a page view reads (the web
//! session, the analysis session it owns), so that a page and the requests its scripts make at
//! once cost one lookup each, not one per request (tca-bench B6). A change made on this
//! replica removes the entry at once; a change made elsewhere (another replica, the worker)
//! is seen within [`BriefCache::TTL`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

#[derive(Debug)]
pub struct BriefCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for BriefCache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> BriefCache<K, V> {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(1);
    /// More entries than this and the cache starts afresh (a second's worth of readers).
    const MAX_ENTRIES: usize = 10_000;

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (at, value) = entries.get(key)?;
        (at.elapsed() < Self::TTL).then(|| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    /// Forgets every entry `stale` says changed here.
    pub fn forget(&self, stale: impl Fn(&V) -> bool) {
        self.lock().retain(|_, (_, value)| !stale(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_for_a_second_and_forgets_what_changed_here() {
        let cache: BriefCache<u32, (u64, &str)> = BriefCache::default();
        cache.put(1, (10, "old name"));
        cache.put(2, (20, "other"));
        assert_eq!(cache.get(&1), Some((10, "old name")));
        cache.forget(|(session, _)| *session == 10);
        assert_eq!(cache.get(&1), None, "a change made here is seen at once");
        assert_eq!(cache.get(&2), Some((20, "other")), "the others stay");
        std::thread::sleep(BriefCache::<u32, (u64, &str)>::TTL);
        assert_eq!(cache.get(&2), None, "after a second, read again");
    }
}
