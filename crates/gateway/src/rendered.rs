//! Dashboards the gateway rendered, kept with what they were rendered from, so that a view
//! whose inputs did not change is answered without rendering 60 KB of HTML again (tca-bench
//! B6). A kept page is never served stale: every view still asks analysis, on condition (the
//! tag of the answer the page was rendered from; analysis answers `304 Not Modified` after
//! its one-statement probe), and still reads the gateway's own inputs (the session's
//! channels and batches), whose fingerprint must match too. So a page is served from here
//! only when rendering it again would give the same bytes; the saving is the rendering, the
//! answer's transfer and its parsing. Each replica keeps its own pages.
//!
//! The gateway's own inputs are read once a second at most per session ([`DashboardInputs`],
//! a `BriefCache` like the web session's): a change made on this replica (a channel added, a
//! batch confirmed) forgets them at once; a batch's progress, written by the worker, shows
//! within the second.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use tca_common::db::moderation::Batch;
use tca_common::db::session_channels::SessionChannel;
use tca_common::i18n::Lang;

/// Which page: the analysis session, the viewer's web session (the page holds their name and
/// CSRF token), the query as typed (filter and page) and the language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub session_id: u64,
    pub web_session_id: u64,
    pub query: String,
    pub lang: Lang,
}

/// A rendered page and what it was rendered from (`A`: the analysis answer).
#[derive(Debug)]
pub struct Rendered<A> {
    /// The analysis answer's entity tag.
    pub tag: String,
    /// The answer itself: when only the gateway's inputs changed, the page is rendered again
    /// from it without asking analysis twice.
    pub answer: Arc<A>,
    /// [`fingerprint`] of the gateway's own inputs.
    pub inputs: u64,
    pub html: Bytes,
}

// Not derived: a derived `Clone` would ask `A: Clone`, and the answer is shared, not copied.
impl<A> Clone for Rendered<A> {
    fn clone(&self) -> Self {
        Self {
            tag: self.tag.clone(),
            answer: self.answer.clone(),
            inputs: self.inputs,
            html: self.html.clone(),
        }
    }
}

#[derive(Debug)]
pub struct RenderedPages<A> {
    entries: Mutex<HashMap<PageKey, (Instant, Rendered<A>)>>,
}

impl<A> Default for RenderedPages<A> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<A> RenderedPages<A> {
    /// Pages kept at once (each ~60 KB of HTML and its answer); beyond that the least
    /// recently viewed goes.
    const MAX_ENTRIES: usize = 64;

    fn lock(&self) -> MutexGuard<'_, HashMap<PageKey, (Instant, Rendered<A>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &PageKey) -> Option<Rendered<A>> {
        let mut entries = self.lock();
        let (used, rendered) = entries.get_mut(key)?;
        *used = Instant::now();
        Some(rendered.clone())
    }

    pub fn put(&self, key: PageKey, rendered: Rendered<A>) {
        let mut entries = self.lock();
        if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(&key) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (Instant::now(), rendered));
    }
}

/// What a dashboard shows from the gateway's own tables.
#[derive(Debug)]
pub struct DashboardInputs {
    pub session_id: u64,
    /// The session's channels, by login.
    pub channels: Vec<SessionChannel>,
    /// Its batches past the draft, newest first.
    pub batches: Vec<Batch>,
}

/// A fingerprint of what a page shows besides the analysis answer.
pub fn fingerprint(inputs: &impl Hash) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    inputs.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(session_id: u64) -> PageKey {
        PageKey {
            session_id,
            web_session_id: 1,
            query: String::new(),
            lang: Lang::default(),
        }
    }

    fn page(tag: &str) -> Rendered<()> {
        Rendered {
            tag: tag.to_string(),
            answer: Arc::new(()),
            inputs: 7,
            html: Bytes::from(format!("<p>{tag}</p>")),
        }
    }

    #[test]
    fn keeps_pages_by_key_and_drops_the_least_recently_viewed_when_full() {
        let pages = RenderedPages::<()>::default();
        let max = RenderedPages::<()>::MAX_ENTRIES as u64;
        for session in 0..max {
            pages.put(key(session), page(&format!("t{session}")));
        }
        let first = pages.get(&key(0)).expect("kept");
        assert_eq!((first.tag.as_str(), first.inputs), ("t0", 7));
        assert_eq!(first.html, Bytes::from("<p>t0</p>"));
        // Session 0 was just viewed: adding one more drops session 1, the least recent.
        pages.put(key(max), page("new"));
        assert!(pages.get(&key(0)).is_some());
        assert!(
            pages.get(&key(1)).is_none(),
            "the least recently viewed went"
        );
        assert!(pages.get(&key(max)).is_some());
        // Putting a page under a kept key replaces it and drops nothing.
        pages.put(key(0), page("again"));
        assert_eq!(pages.get(&key(0)).expect("kept").tag, "again");
        assert!(pages.get(&key(2)).is_some());
        // Another language or query is another page.
        let french = PageKey {
            lang: Lang::Fr,
            ..key(0)
        };
        assert!(pages.get(&french).is_none());
    }
}
