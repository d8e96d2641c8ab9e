//! One change feed per session (and language): a single task reads the session's progress
//! every second while someone follows it, and every live-update stream of that session reads
//! the latest snapshot from it — ten open tabs make one database poll a second, not ten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tca_common::i18n::Lang;
use tokio::sync::watch;

use super::page::progress;
use crate::i18n::in_language;
use crate::state::AppState;

/// How often a followed session's progress is read.
const POLL_EVERY: Duration = Duration::from_millis(1000);

/// The feeds running now, by session and language.
#[derive(Default)]
pub struct Feeds {
    running: Mutex<HashMap<(u64, Lang), watch::Receiver<String>>>,
}

impl Feeds {
    /// The session's feed in `lang`, started if nobody follows it yet. The value is the
    /// latest progress as JSON ("" until the first read).
    pub fn follow(&self, state: &AppState, session_id: u64, lang: Lang) -> watch::Receiver<String> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(feed) = running.get(&(session_id, lang))
            && feed.has_changed().is_ok()
        {
            return feed.clone();
        }
        let (tx, rx) = watch::channel(String::new());
        running.insert((session_id, lang), rx.clone());
        metrics::gauge!("live_feeds").set(running.len() as f64);
        tokio::spawn(poll(state.clone(), session_id, lang, tx));
        rx
    }

    fn forget(&self, session_id: u64, lang: Lang) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&(session_id, lang));
        metrics::gauge!("live_feeds").set(running.len() as f64);
    }
}

/// Reads the session's progress every second and publishes what changed, until only the
/// registry's own receiver is left (every stream ended) or the server shuts down.
async fn poll(state: AppState, session_id: u64, lang: Lang, tx: watch::Sender<String>) {
    loop {
        // The registry holds one receiver; more means a stream still follows.
        if tx.receiver_count() <= 1 || state.shutdown.is_cancelled() {
            break;
        }
        metrics::counter!("live_feed_polls_total").increment(1);
        match in_language(lang, progress(&state, session_id)).await {
            Ok(p) => {
                let snapshot = serde_json::to_string(&p).unwrap_or_default();
                tx.send_if_modified(|current| {
                    let changed = *current != snapshot;
                    if changed {
                        *current = snapshot;
                    }
                    changed
                });
            }
            Err(e) => tracing::warn!(error = %e, session_id, "live update failed"),
        }
        tokio::select! {
            () = state.shutdown.cancelled() => break,
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
    state.feeds.forget(session_id, lang);
}
