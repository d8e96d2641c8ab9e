//! Fetching a listing while its accounts are upserted page by page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::db::accounts::{self, KnownAccount, ListedName};
use tca_common::db::audit::{self, Event, NameSeen, Subject};
use tca_common::db::captures::CaptureToRun;
use tca_common::db::presence;
use tca_common::twitch_api::{Chatter, StreamStatus, TwitchApiError};

use crate::context::Context;

/// How long a capture may wait for Twitch's rate limit in its worker slot before it is
/// deferred instead (docs/queue.md, fairness).
const CAPTURE_MAX_BUCKET_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Chatters per page handed from the reader to the writer (a Helix page's most).
const BATCH: usize = 1000;

/// Pages the writer upserts together when they are waiting for it: when Twitch answers faster
/// than MariaDB writes, fewer and larger statements (5,000 rows × 5 values stay far below the
/// 65,535 placeholders of a statement); when Twitch is slow, each page as it comes (B3, B3b).
const PAGES_PER_UPSERT: usize = 5;

/// What a listing found: its account ids (sorted, each once), its page count and the stream.
pub(super) struct Fetched {
    pub ids: Vec<u64>,
    pub pages: u32,
    pub stream: Option<StreamStatus>,
}

pub(super) enum FetchError {
    Twitch(TwitchApiError),
    Database(sqlx::Error),
}

/// Fetches the stream status and the listing, upserting each page's accounts and writing its
/// capture rows while the next page is fetched: with Twitch answering slowly, both are stored
/// by the time the last page arrives (tca-bench B3b). The upserts are idempotent, so a listing that fails
/// halfway leaves nothing that a retry would not write the same way; its capture rows are
/// read by no one until the capture is done, cleared when a run starts, and checked against
/// the listing by the final transaction.
pub(super) async fn fetch_and_upsert(
    ctx: &Context,
    capture: &CaptureToRun,
    moderator: &str,
    seen_at: DateTime<Utc>,
) -> Result<Fetched, FetchError> {
    let (pages_tx, pages_rx) = tokio::sync::mpsc::channel::<Vec<Chatter>>(PAGES_PER_UPSERT);
    // The stream's status is asked while the listing starts: one Twitch round trip less
    // before the first page (B3b).
    let stream = async {
        Ok::<_, TwitchApiError>(
            ctx.twitch
                .streams(std::slice::from_ref(&capture.broadcaster_id))
                .await?
                .into_iter()
                .next(),
        )
    };
    let listed = async move {
        let pages_tx = pages_tx;
        let deadline = Some(ctx.settings.capture_deadline);
        // A capture that would wait for its user's rate limit gives its worker slot back
        // (twitch-api answers rate-limited, the job is deferred) rather than sleep in it.
        let mut listing = ctx
            .twitch
            .chatters_within(
                &capture.broadcaster_id,
                moderator,
                deadline,
                Some(CAPTURE_MAX_BUCKET_WAIT),
            )
            .await?;
        let mut page = Vec::with_capacity(BATCH);
        while let Some(chatter) = listing.next().await? {
            page.push(chatter);
            // A closed channel means the writer failed; its error is the one reported.
            if page.len() == BATCH && pages_tx.send(std::mem::take(&mut page)).await.is_err() {
                break;
            }
        }
        if !page.is_empty() {
            let _ = pages_tx.send(page).await;
        }
        Ok(listing.summary().map_or(0, |s| s.pages))
    };
    let reader = async { tokio::try_join!(listed, stream) };
    // The writer owns the receiving end: if it fails, the channel closes and the reader stops.
    let writer = async move {
        let mut pages_rx = pages_rx;
        let mut ids = Vec::new();
        while let Some(mut page) = pages_rx.recv().await {
            for _ in 1..PAGES_PER_UPSERT {
                match pages_rx.try_recv() {
                    Ok(waiting) => page.extend(waiting),
                    Err(_) => break,
                }
            }
            // Sorted within each statement: concurrent captures lock shared rows in order.
            page.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            page.dedup_by(|a, b| a.user_id == b.user_id);
            let mut written =
                retry_on_lock_conflict(|| upsert_batch(&ctx.pool, &page, capture, seen_at)).await?;
            // The page's capture rows too, while the next page is fetched: the final
            // transaction then only checks them (`presence::record_page`).
            written.sort_unstable();
            retry_on_lock_conflict(|| presence::record_page(&ctx.pool, capture.id, &written))
                .await?;
            ids.extend(written);
        }
        Ok::<_, sqlx::Error>(ids)
    };
    let (read, written): (Result<_, TwitchApiError>, _) = tokio::join!(reader, writer);
    let mut ids = written.map_err(FetchError::Database)?;
    let (pages, stream) = read.map_err(FetchError::Twitch)?;
    // A chatter listed on two pages was upserted twice (harmlessly); it is one account.
    ids.sort_unstable();
    ids.dedup();
    Ok(Fetched { ids, pages, stream })
}

/// Retries a statement that lost a deadlock or timed out waiting for a lock: with accounts
/// shared by every session, two captures can meet on the same rows.
async fn retry_on_lock_conflict<T, F, Fut>(mut attempt: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(sqlx::Error::Database(e)) if tries < 5 && is_lock_conflict(e.as_ref()) => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * tries)).await;
            }
            other => return other,
        }
    }
}

/// MariaDB 1213 (deadlock, SQLSTATE 40001) or 1205 (lock wait timeout).
fn is_lock_conflict(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.code().as_deref() == Some("40001") || error.message().contains("Lock wait timeout")
}

fn listed(chatter: &Chatter) -> ListedName<'_> {
    ListedName {
        twitch_user_id: &chatter.user_id,
        login: &chatter.user_login,
        display_name: &chatter.user_name,
    }
}

/// One page's accounts: unchanged ones are touched, new ones inserted (no ledger row),
/// renamed ones take their new name. Returns their account ids.
async fn upsert_batch(
    pool: &MySqlPool,
    batch: &[Chatter],
    capture: &CaptureToRun,
    seen_at: DateTime<Utc>,
) -> Result<Vec<u64>, sqlx::Error> {
    let known =
        accounts::find_by_twitch_ids(pool, batch.iter().map(|c| c.user_id.as_str())).await?;
    let by_twitch_id: HashMap<&str, &KnownAccount> = known
        .iter()
        .map(|a| (a.twitch_user_id.as_str(), a))
        .collect();
    let mut new: Vec<ListedName<'_>> = Vec::new();
    let mut renamed: Vec<(&Chatter, &KnownAccount)> = Vec::new();
    let mut ids: Vec<u64> = Vec::new();
    for chatter in batch {
        match by_twitch_id.get(chatter.user_id.as_str()) {
            None => new.push(listed(chatter)),
            Some(a) if a.login != chatter.user_login || a.display_name != chatter.user_name => {
                renamed.push((chatter, a))
            }
            Some(a) => ids.push(a.id),
        }
    }
    accounts::touch_seen(pool, &ids, seen_at).await?;
    if !new.is_empty() {
        let mut conn = pool.acquire().await?;
        let inserted = accounts::insert_new(&mut conn, &new, seen_at).await?;
        ids.extend(inserted.iter().map(|a| a.id));
    }
    for (chatter, account) in renamed {
        record_rename(pool, chatter, account, capture, seen_at).await?;
        ids.push(account.id);
    }
    Ok(ids)
}

/// A rename, with its audit entry (login reuse included), in one transaction.
async fn record_rename(
    pool: &MySqlPool,
    chatter: &Chatter,
    account: &KnownAccount,
    capture: &CaptureToRun,
    seen_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let previous_holders = accounts::rename(&mut tx, account, listed(chatter), seen_at).await?;
    audit::record(
        &mut *tx,
        &Event::RenameDetected {
            twitch_user_id: chatter.user_id.clone(),
            from: NameSeen {
                login: account.login.clone(),
                display_name: account.display_name.clone(),
            },
            to: NameSeen {
                login: chatter.user_login.clone(),
                display_name: chatter.user_name.clone(),
            },
            login_previously_held_by_accounts: previous_holders,
        },
        Subject::session(capture.requested_by, capture.session_id),
        seen_at,
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("renames_detected_total").increment(1);
    Ok(())
}
