//! Storing a fetched listing: the capture's one transaction.

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::captures::{self, CaptureStatus, CaptureToRun, Listing};
use tca_common::db::jobs::QueueError;
use tca_common::db::presence::{self, Sighting};

use super::fetch::{BATCH, Fetched};

/// Writes the capture; `None` if another run already stored it, else the accounts new to
/// the session.
pub(super) async fn store_capture(
    pool: &MySqlPool,
    capture: &CaptureToRun,
    fetched: &Fetched,
    captured_at: DateTime<Utc>,
) -> Result<Option<u64>, sqlx::Error> {
    let now = Utc::now();
    let live = fetched.stream.as_ref().filter(|s| s.live);
    let mut tx = pool.begin().await?;
    let status = captures::lock_for_store(&mut tx, capture.session_id, capture.id).await?;
    if status.is_none_or(CaptureStatus::is_finished) {
        tx.rollback().await?;
        return Ok(None);
    }
    let sighting = Sighting {
        capture_id: capture.id,
        session_id: capture.session_id,
        session_channel_id: capture.session_channel_id,
        captured_at,
        offline: live.is_none(),
    };
    let mut new_in_session = 0u64;
    for batch in fetched.ids.chunks(BATCH) {
        new_in_session += presence::record_batch(&mut tx, &sighting, batch).await?;
    }
    let listing = Listing {
        chatters: fetched.ids.len() as u32,
        new_in_session: new_in_session as u32,
        pages: fetched.pages,
        live: live.map(|s| (s.viewer_count, s.title.clone(), s.game_name.clone())),
    };
    captures::mark_done(&mut tx, capture, &listing, captured_at, now).await?;
    captures::kick_enrichment(&mut *tx, now)
        .await
        .map_err(|e| match e {
            QueueError::Db(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        })?;
    tx.commit().await?;
    metrics::counter!("captures_total", "outcome" => "done").increment(1);
    Ok(Some(new_in_session))
}
