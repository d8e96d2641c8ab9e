//! Storing a fetched listing: the capture's one transaction.

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::alerts;
use tca_common::db::captures::{self, CaptureStatus, CaptureToRun, Listing};
use tca_common::db::jobs::{self, QueueError};
use tca_common::db::presence::{self, Sighting};

use super::fetch::Fetched;

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
    let new_in_session = presence::record_capture(&mut tx, &sighting, &fetched.ids).await?;
    let listing = Listing {
        chatters: fetched.ids.len() as u32,
        new_in_session: new_in_session as u32,
        pages: fetched.pages,
        live: live.map(|s| (s.viewer_count, s.title.clone(), s.game_name.clone())),
    };
    captures::mark_done(&mut tx, capture, &listing, captured_at, now).await?;
    captures::kick_enrichment(&mut *tx, now)
        .await
        .map_err(queue_error)?;
    // A live channel's capture is checked for alerts once its accounts are enriched
    // (docs/live.md); queued here so that a stored capture is never left unchecked.
    if live.is_some()
        && alerts::any_for_session_channel(&mut *tx, capture.session_channel_id).await?
    {
        let job = alerts::check_job(capture.id, now).map_err(queue_error)?;
        jobs::enqueue(&mut *tx, &job, now)
            .await
            .map_err(queue_error)?;
    }
    tx.commit().await?;
    metrics::counter!("captures_total", "outcome" => "done").increment(1);
    Ok(Some(new_in_session))
}

fn queue_error(e: QueueError) -> sqlx::Error {
    match e {
        QueueError::Db(e) => e,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
