//! `capture_chatters`: one listing of one channel's chatters, stored.
//!
//! 1. Fetch the stream status and every chatter (streamed by twitch-api) as the moderator,
//! 2. while upserting the accounts of each page received, in sorted batches of autocommit
//!    statements, recording renames in the ledger. This part is idempotent on its own: a
//!    retry sees the same names.
//! 3. In one transaction, under the session's row lock (captures of one session are written
//!    one at a time): the capture's chatters, the session and channel presence counters, the
//!    capture row marked done, and an enrichment job. A crash before the commit leaves none of
//!    it; the capture row's own lock makes a second run that finds it done do nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, QueryBuilder};
use tca_common::db::audit::{Event, NameSeen, Subject};
use tca_common::db::captures::{self, CaptureJob, CaptureStatus, CaptureTrigger};
use tca_common::db::jobs::ClaimedJob;
use tca_common::db::jobs::JobKind;
use tca_common::db::session_channels;
use tca_common::db::sessions::SessionStatus;
use tca_common::db::{audit, jobs};
use tca_common::twitch_api::{Chatter, StreamStatus, TwitchApiError};

use crate::context::Context;
use crate::registry::JobError;

pub const KIND: &str = JobKind::CaptureChatters.as_str();

/// Rows per multi-row statement.
const BATCH: usize = 1000;

#[derive(Debug, sqlx::FromRow)]
struct CaptureRow {
    id: u64,
    session_id: u64,
    session_channel_id: u64,
    broadcaster_id: String,
    broadcaster_login: String,
    status: CaptureStatus,
    capture_trigger: CaptureTrigger,
    requested_by: Option<u64>,
    session_status: SessionStatus,
    moderator_twitch_id: Option<String>,
}

async fn load(pool: &MySqlPool, capture_id: u64) -> Result<Option<CaptureRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.session_id, c.session_channel_id, c.broadcaster_id, c.broadcaster_login, c.status, \
         c.capture_trigger, c.requested_by, s.status AS session_status, u.twitch_user_id AS moderator_twitch_id \
         FROM captures c JOIN analysis_sessions s ON s.id = c.session_id \
         LEFT JOIN users u ON u.id = c.requested_by WHERE c.id = ?",
    )
    .bind(capture_id)
    .fetch_optional(pool)
    .await
}

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> Result<(), JobError> {
    let CaptureJob { capture_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid capture payload: {e}")))?;
    let Some(capture) = load(&ctx.pool, capture_id).await? else {
        // The session (and its captures) was deleted meanwhile: nothing left to do.
        return Ok(());
    };
    if capture.status.is_finished() {
        return Ok(());
    }
    if matches!(
        capture.session_status,
        SessionStatus::Expired | SessionStatus::Deleted
    ) {
        fail_capture(
            &ctx.pool,
            &capture,
            "The session ended before this capture could run.",
            false,
        )
        .await?;
        return Ok(());
    }
    let Some(moderator) = capture.moderator_twitch_id.clone() else {
        fail_capture(
            &ctx.pool,
            &capture,
            "The account that asked for this capture no longer exists.",
            false,
        )
        .await?;
        return Ok(());
    };

    let started_at = Utc::now();
    sqlx::query("UPDATE captures SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ? AND status IN ('queued', 'running')")
        .bind(started_at)
        .bind(capture.id)
        .execute(&ctx.pool)
        .await?;

    let (ids, pages, stream) = match fetch_and_upsert(&ctx, &capture, &moderator, started_at).await
    {
        Ok(fetched) => fetched,
        Err(FetchError::Twitch(e)) => return Err(on_twitch_error(&ctx, &capture, &job, e).await),
        Err(FetchError::Database(e)) => return Err(e.into()),
    };
    // What is left once the last page is in: the capture's own rows, in one transaction.
    let timer = Instant::now();
    let outcome = store_capture(
        &ctx.pool,
        &capture,
        &ids,
        pages,
        stream.as_ref(),
        started_at,
    )
    .await?;
    if let Some(new_in_session) = outcome {
        let elapsed = timer.elapsed();
        metrics::histogram!("capture_chatters").record(ids.len() as f64);
        metrics::histogram!("capture_store_duration_seconds").record(elapsed.as_secs_f64());
        metrics::counter!("chatters_ingested_total").increment(ids.len() as u64);
        tracing::info!(
            capture_id = capture.id,
            channel = %capture.broadcaster_login,
            chatters = ids.len(),
            new_in_session,
            pages,
            store_ms = elapsed.as_millis() as u64,
            "capture stored"
        );
    }
    Ok(())
}

/// The listing's account ids (sorted, each once), its page count, and the stream status.
type Fetched = (Vec<u64>, u32, Option<StreamStatus>);

enum FetchError {
    Twitch(TwitchApiError),
    Database(sqlx::Error),
}

/// Fetches the stream status and the listing, upserting each page's accounts while the next
/// page is fetched: with Twitch answering slowly, the accounts are stored by the time the
/// last page arrives (tca-bench B3b). The upserts are idempotent, so a listing that fails
/// halfway leaves nothing that a retry would not write the same way.
async fn fetch_and_upsert(
    ctx: &Context,
    capture: &CaptureRow,
    moderator: &str,
    seen_at: DateTime<Utc>,
) -> Result<Fetched, FetchError> {
    let (pages_tx, pages_rx) = tokio::sync::mpsc::channel::<Vec<Chatter>>(2);
    let reader = async move {
        let pages_tx = pages_tx;
        let deadline = Some(ctx.settings.capture_deadline);
        let stream = ctx
            .twitch
            .streams(std::slice::from_ref(&capture.broadcaster_id))
            .await?
            .into_iter()
            .next();
        let mut listing = ctx
            .twitch
            .chatters(&capture.broadcaster_id, moderator, deadline)
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
        Ok((listing.summary().map_or(0, |s| s.pages), stream))
    };
    // The writer owns the receiving end: if it fails, the channel closes and the reader stops.
    let writer = async move {
        let mut pages_rx = pages_rx;
        let mut ids = Vec::new();
        while let Some(mut page) = pages_rx.recv().await {
            // Sorted within each statement: concurrent captures lock shared rows in order.
            page.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            page.dedup_by(|a, b| a.user_id == b.user_id);
            let batch: Vec<&Chatter> = page.iter().collect();
            ids.extend(
                retry_on_lock_conflict(|| upsert_batch(&ctx.pool, &batch, capture, seen_at))
                    .await?,
            );
        }
        Ok::<_, sqlx::Error>(ids)
    };
    let (read, written): (Result<_, TwitchApiError>, _) = tokio::join!(reader, writer);
    let mut ids = written.map_err(FetchError::Database)?;
    let (pages, stream) = read.map_err(FetchError::Twitch)?;
    // A chatter listed on two pages was upserted twice (harmlessly); it is one account.
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, pages, stream))
}

/// Turns a Twitch failure into the job's outcome, failing the capture when it is final.
async fn on_twitch_error(
    ctx: &Context,
    capture: &CaptureRow,
    job: &ClaimedJob,
    error: TwitchApiError,
) -> JobError {
    let channel = &capture.broadcaster_login;
    // (message for the user, stop auto-capture too)
    let permanent = match &error {
        TwitchApiError::NotModerator(_) => Some((
            format!(
                "You are not a moderator of {channel} (any more), so Twitch does not show its chatters."
            ),
            true,
        )),
        TwitchApiError::ReauthRequired(_) => Some((
            "Your Twitch authorization has ended (revoked or expired). Log in again to capture."
                .to_string(),
            true,
        )),
        TwitchApiError::NotFound(_) => Some((
            format!("The channel {channel} no longer exists on Twitch."),
            true,
        )),
        TwitchApiError::RateLimited { retry_after } => {
            return JobError::Defer {
                until: Utc::now()
                    + chrono::Duration::from_std(*retry_after)
                        .unwrap_or(chrono::Duration::seconds(60)),
                reason: format!("Twitch rate limit: capture of {channel} waits for the bucket"),
            };
        }
        TwitchApiError::BadRequest(_) | TwitchApiError::Unauthorized => Some((
            "The capture failed because of an internal error; it was logged.".to_string(),
            false,
        )),
        TwitchApiError::Unavailable(_)
        | TwitchApiError::Internal(_)
        | TwitchApiError::Transport(_)
        | TwitchApiError::Protocol(_) => None,
    };
    match permanent {
        Some((message, stop_auto)) => {
            if let Err(e) = fail_capture(&ctx.pool, capture, &message, stop_auto).await {
                return JobError::Retry(e.into());
            }
            if matches!(
                error,
                TwitchApiError::BadRequest(_) | TwitchApiError::Unauthorized
            ) {
                JobError::Fatal(anyhow::anyhow!("capture {} failed: {error}", capture.id))
            } else {
                JobError::Fail(message)
            }
        }
        None if job.is_last_attempt() => {
            let message = format!(
                "Twitch was unavailable after {} attempts; try again later. ({error})",
                job.attempts
            );
            if let Err(e) = fail_capture(&ctx.pool, capture, &message, false).await {
                return JobError::Retry(e.into());
            }
            JobError::Retry(anyhow::anyhow!(error))
        }
        None => JobError::Retry(anyhow::anyhow!(error)),
    }
}

/// Ends a capture as failed with a message the user can read, and, when the failure will
/// repeat, stops the channel's auto-capture with the same reason.
async fn fail_capture(
    pool: &MySqlPool,
    capture: &CaptureRow,
    message: &str,
    stop_auto: bool,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE captures SET status = 'failed', error = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')",
    )
    .bind(message)
    .bind(now)
    .bind(capture.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 {
        audit::record(
            &mut *tx,
            &Event::CaptureFail {
                capture_id: capture.id,
                channel: capture.broadcaster_login.clone(),
                error: message.to_string(),
            },
            Subject::session(capture.requested_by, capture.session_id),
            now,
        )
        .await?;
        metrics::counter!("captures_total", "outcome" => "failed").increment(1);
    }
    if stop_auto && capture.capture_trigger == CaptureTrigger::Auto {
        session_channels::stop_auto_capture(&mut *tx, capture.session_channel_id, message, now)
            .await?;
    }
    tx.commit().await
}

#[derive(sqlx::FromRow)]
struct KnownAccount {
    id: u64,
    twitch_user_id: String,
    login: String,
    display_name: String,
    last_seen_at: DateTime<Utc>,
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

async fn upsert_batch(
    pool: &MySqlPool,
    batch: &[&Chatter],
    capture: &CaptureRow,
    seen_at: DateTime<Utc>,
) -> Result<Vec<u64>, sqlx::Error> {
    let known = select_accounts(pool, batch.iter().map(|c| c.user_id.as_str())).await?;
    let by_twitch_id: HashMap<&str, &KnownAccount> = known
        .iter()
        .map(|a| (a.twitch_user_id.as_str(), a))
        .collect();
    let mut new: Vec<&Chatter> = Vec::new();
    let mut renamed: Vec<(&Chatter, &KnownAccount)> = Vec::new();
    let mut unchanged: Vec<u64> = Vec::new();
    for chatter in batch {
        match by_twitch_id.get(chatter.user_id.as_str()) {
            None => new.push(chatter),
            Some(a) if a.login != chatter.user_login || a.display_name != chatter.user_name => {
                renamed.push((chatter, a))
            }
            Some(a) => unchanged.push(a.id),
        }
    }

    if !unchanged.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "UPDATE twitch_accounts SET last_seen_at = GREATEST(last_seen_at, ",
        );
        q.push_bind(seen_at).push(") WHERE id IN (");
        let mut list = q.separated(", ");
        for id in &unchanged {
            list.push_bind(*id);
        }
        q.push(")");
        q.build().execute(pool).await?;
    }

    let mut ids: Vec<u64> = unchanged;
    if !new.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, first_seen_at, last_seen_at) ",
        );
        q.push_values(&new, |mut row, c| {
            row.push_bind(&c.user_id)
                .push_bind(&c.user_login)
                .push_bind(&c.user_name)
                .push_bind(seen_at)
                .push_bind(seen_at);
        });
        // Another capture may have inserted one of them a moment ago.
        q.push(
            " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))",
        );
        q.build().execute(pool).await?;
        let inserted = select_accounts(pool, new.iter().map(|c| c.user_id.as_str())).await?;
        let mut ledger = QueryBuilder::<MySql>::new(
            "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) ",
        );
        let names: HashMap<&str, &Chatter> = new.iter().map(|c| (c.user_id.as_str(), *c)).collect();
        ledger.push_values(&inserted, |mut row, a| {
            let c = names.get(a.twitch_user_id.as_str()).copied();
            row.push_bind(a.id)
                .push_bind(c.map_or(a.login.as_str(), |c| c.user_login.as_str()))
                .push_bind(c.map_or(a.display_name.as_str(), |c| c.user_name.as_str()))
                .push_bind(seen_at)
                .push_bind(seen_at);
        });
        ledger.push(
            " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))",
        );
        ledger.build().execute(pool).await?;
        ids.extend(inserted.iter().map(|a| a.id));
    }

    for (chatter, account) in renamed {
        record_rename(pool, chatter, account, capture, seen_at).await?;
        ids.push(account.id);
    }
    Ok(ids)
}

async fn select_accounts<'a>(
    pool: &MySqlPool,
    twitch_ids: impl Iterator<Item = &'a str>,
) -> Result<Vec<KnownAccount>, sqlx::Error> {
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT id, twitch_user_id, login, display_name, last_seen_at FROM twitch_accounts WHERE twitch_user_id IN (",
    );
    let mut list = q.separated(", ");
    let mut any = false;
    for id in twitch_ids {
        list.push_bind(id);
        any = true;
    }
    if !any {
        return Ok(Vec::new());
    }
    q.push(")");
    q.build_query_as().fetch_all(pool).await
}

/// A new login or display name: the account takes it, the ledger closes the old name at its
/// last sighting and opens the new one. A login held before by another account is a reuse.
async fn record_rename(
    pool: &MySqlPool,
    chatter: &Chatter,
    account: &KnownAccount,
    capture: &CaptureRow,
    seen_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE account_names SET last_seen_at = GREATEST(last_seen_at, ?) \
         WHERE account_id = ? AND login = ? AND display_name = ?",
    )
    .bind(account.last_seen_at)
    .bind(account.id)
    .bind(&account.login)
    .bind(&account.display_name)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) \
         VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))",
    )
    .bind(account.id)
    .bind(&chatter.user_login)
    .bind(&chatter.user_name)
    .bind(seen_at)
    .bind(seen_at)
    .execute(&mut *tx)
    .await?;
    // names_count is recounted, not incremented: a name taken again adds no ledger row.
    sqlx::query(
        "UPDATE twitch_accounts SET login = ?, display_name = ?, last_seen_at = GREATEST(last_seen_at, ?), \
         names_count = (SELECT COUNT(*) FROM account_names WHERE account_id = twitch_accounts.id) WHERE id = ?",
    )
    .bind(&chatter.user_login)
    .bind(&chatter.user_name)
    .bind(seen_at)
    .bind(account.id)
    .execute(&mut *tx)
    .await?;
    let previous_holders: Vec<u64> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM account_names WHERE login = ? AND account_id <> ?",
    )
    .bind(&chatter.user_login)
    .bind(account.id)
    .fetch_all(&mut *tx)
    .await?;
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

/// Writes the capture; `None` if another run already stored it.
async fn store_capture(
    pool: &MySqlPool,
    capture: &CaptureRow,
    ids: &[u64],
    pages: u32,
    stream: Option<&StreamStatus>,
    captured_at: DateTime<Utc>,
) -> Result<Option<u64>, sqlx::Error> {
    let now = Utc::now();
    let live = stream.is_some_and(|s| s.live);
    let offline = u32::from(!live);
    let mut tx = pool.begin().await?;
    // Lock order: the session, then the capture.
    sqlx::query("SELECT id FROM analysis_sessions WHERE id = ? FOR UPDATE")
        .bind(capture.session_id)
        .fetch_optional(&mut *tx)
        .await?;
    let status: Option<CaptureStatus> =
        sqlx::query_scalar("SELECT status FROM captures WHERE id = ? FOR UPDATE")
            .bind(capture.id)
            .fetch_optional(&mut *tx)
            .await?;
    if status.is_none_or(CaptureStatus::is_finished) {
        tx.rollback().await?;
        return Ok(None);
    }

    let mut new_in_session = 0u64;
    for batch in ids.chunks(BATCH) {
        let in_session = existing(
            &mut tx,
            "SELECT account_id FROM session_accounts WHERE session_id = ",
            capture.session_id,
            batch,
        )
        .await?;
        let in_channel = existing(
            &mut tx,
            "SELECT account_id FROM session_channel_accounts WHERE session_channel_id = ",
            capture.session_channel_id,
            batch,
        )
        .await?;
        new_in_session += (batch.len() - in_session.len()) as u64;

        let mut q =
            QueryBuilder::<MySql>::new("INSERT INTO capture_chatters (capture_id, account_id) ");
        q.push_values(batch, |mut row, id| {
            row.push_bind(capture.id).push_bind(*id);
        });
        q.build().execute(&mut *tx).await?;

        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, \
             last_seen_at, captures_seen, captures_seen_offline) ",
        );
        q.push_values(batch, |mut row, id| {
            row.push_bind(capture.session_channel_id)
                .push_bind(*id)
                .push_bind(capture.session_id)
                .push_bind(captured_at)
                .push_bind(captured_at)
                .push_bind(1u32)
                .push_bind(offline);
        });
        q.push(
            " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at)), \
             captures_seen = captures_seen + 1, \
             captures_seen_offline = captures_seen_offline + VALUES(captures_seen_offline)",
        );
        q.build().execute(&mut *tx).await?;

        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
             captures_seen_offline, channels_seen) ",
        );
        q.push_values(batch, |mut row, id| {
            row.push_bind(capture.session_id)
                .push_bind(*id)
                .push_bind(captured_at)
                .push_bind(captured_at)
                .push_bind(1u32)
                .push_bind(offline)
                .push_bind(u16::from(!in_channel.contains(id)));
        });
        q.push(
            " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at)), \
             captures_seen = captures_seen + 1, \
             captures_seen_offline = captures_seen_offline + VALUES(captures_seen_offline), \
             channels_seen = channels_seen + VALUES(channels_seen)",
        );
        q.build().execute(&mut *tx).await?;
    }

    sqlx::query(
        "UPDATE captures SET status = 'done', error = NULL, started_at = COALESCE(started_at, ?), finished_at = ?, \
         chatters_count = ?, new_in_session_count = ?, pages_fetched = ?, viewer_count = ?, stream_live = ?, \
         stream_title = ?, stream_game = ? WHERE id = ?",
    )
    .bind(captured_at)
    .bind(now)
    .bind(ids.len() as u32)
    .bind(new_in_session as u32)
    .bind(pages)
    .bind(stream.filter(|s| s.live).map(|s| s.viewer_count))
    .bind(live)
    .bind(stream.filter(|s| s.live).map(|s| truncate(&s.title, 255)))
    .bind(stream.filter(|s| s.live).map(|s| truncate(&s.game_name, 255)))
    .bind(capture.id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Event::CaptureComplete {
            capture_id: capture.id,
            channel: capture.broadcaster_login.clone(),
            chatters: ids.len() as u64,
            new_in_session,
        },
        Subject::session(capture.requested_by, capture.session_id),
        now,
    )
    .await?;
    captures::kick_enrichment(&mut *tx, now)
        .await
        .map_err(|e| match e {
            jobs::QueueError::Db(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        })?;
    tx.commit().await?;
    metrics::counter!("captures_total", "outcome" => "done").increment(1);
    Ok(Some(new_in_session))
}

/// Which of `ids` already have a row under `key` (a session or a session channel).
async fn existing(
    tx: &mut sqlx::Transaction<'static, MySql>,
    select_where_key_eq: &'static str,
    key: u64,
    ids: &[u64],
) -> Result<HashSet<u64>, sqlx::Error> {
    let mut q = QueryBuilder::<MySql>::new(select_where_key_eq);
    q.push_bind(key).push(" AND account_id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let found: Vec<u64> = q.build_query_scalar().fetch_all(&mut **tx).await?;
    Ok(found.into_iter().collect())
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
