//! `moderation_batches` and `moderation_items`: bulk bans, timeouts and unbans
//! (docs/moderation.md). A batch is created as a draft with exactly who will be acted on and
//! who is left out; confirming it enqueues one `moderation_chunk` job per chunk of targets in
//! the same transaction; each item is recorded once (`pending` → its result), so a job run
//! twice after a worker died never acts twice on an account it already recorded, and an
//! account Twitch already banned (a lost answer) is "already", which counts as done.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, MySqlConnection, QueryBuilder};

use super::jobs::{self, JobKind, NewJob, QueueError};

/// Accounts per chunk job: small enough that a job ends well within its lease, large enough
/// that the queue does not dominate.
pub const CHUNK_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Ban,
    Timeout,
    Unban,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ban => "ban",
            Self::Timeout => "timeout",
            Self::Unban => "unban",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Ban, Self::Timeout, Self::Unban]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }
}

/// Why an account is left out of a batch (message keys `excluded-{why}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    Trusted,
    Broadcaster,
    Moderator,
    AlreadyBanned,
    NotBanned,
    NotInChannel,
}

impl Excluded {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Broadcaster => "broadcaster",
            Self::Moderator => "moderator",
            Self::AlreadyBanned => "already_banned",
            Self::NotBanned => "not_banned",
            Self::NotInChannel => "not_in_channel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Batch {
    pub id: u64,
    pub public_id: String,
    pub user_id: u64,
    pub session_id: u64,
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub action: String,
    pub duration_secs: Option<u32>,
    pub reason: String,
    pub selection: String,
    pub status: String,
    pub stopped_reason: Option<String>,
    pub undo_of: Option<u64>,
    pub targets: u32,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Batch {
    pub fn action(&self) -> Action {
        Action::parse(&self.action).unwrap_or(Action::Ban)
    }
}

const BATCH_COLUMNS: &str = "id, public_id, user_id, session_id, broadcaster_id, broadcaster_login, \
     action, duration_secs, reason, selection, status, stopped_reason, undo_of, targets, created_at, \
     confirmed_at, finished_at";

/// An account a batch names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub twitch_user_id: String,
    pub login: String,
}

/// A batch to preview.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub user_id: u64,
    pub session_id: u64,
    pub broadcaster_id: &'a str,
    pub broadcaster_login: &'a str,
    pub action: Action,
    pub duration_secs: Option<u32>,
    pub reason: &'a str,
    /// What was chosen, in words a reader of the audit log understands (`cohort 123`…).
    pub selection: &'a str,
    pub undo_of: Option<u64>,
}

/// Creates a draft batch: its targets (pending, in chunks) and the accounts left out with why.
pub async fn create_draft(
    conn: &mut MySqlConnection,
    batch: &NewBatch<'_>,
    targets: &[Target],
    excluded: &[(Target, Excluded)],
    now: DateTime<Utc>,
) -> Result<Batch, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let public_id = uuid::Uuid::new_v4().to_string();
    let done = sqlx::query(
        "INSERT INTO moderation_batches (public_id, user_id, session_id, broadcaster_id, \
         broadcaster_login, action, duration_secs, reason, selection, status, undo_of, targets, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)",
    )
    .bind(&public_id)
    .bind(batch.user_id)
    .bind(batch.session_id)
    .bind(batch.broadcaster_id)
    .bind(batch.broadcaster_login)
    .bind(batch.action.as_str())
    .bind(batch.duration_secs)
    .bind(batch.reason)
    .bind(batch.selection)
    .bind(batch.undo_of)
    .bind(targets.len() as u32)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let batch_id = done.last_insert_id();
    let rows: Vec<(&Target, usize, Option<Excluded>)> = targets
        .iter()
        .enumerate()
        .map(|(n, t)| (t, n / CHUNK_SIZE, None))
        .chain(excluded.iter().map(|(t, why)| (t, 0, Some(*why))))
        .collect();
    for chunk in rows.chunks(1000) {
        let mut insert = QueryBuilder::<MySql>::new(
            "INSERT INTO moderation_items (batch_id, twitch_user_id, login, chunk, status, excluded_why) ",
        );
        insert.push_values(chunk, |mut row, (target, n, why)| {
            row.push_bind(batch_id)
                .push_bind(&target.twitch_user_id)
                .push_bind(&target.login)
                .push_bind(*n as u32)
                .push_bind(if why.is_some() { "excluded" } else { "pending" })
                .push_bind(why.map(Excluded::as_str));
        });
        insert.build().execute(&mut *tx).await?;
    }
    let batch = find_by_id(&mut *tx, batch_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(batch)
}

pub async fn find_by_id(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
) -> Result<Option<Batch>, sqlx::Error> {
    super::select(BATCH_COLUMNS, "moderation_batches", "id = ?")
        .bind(batch_id)
        .fetch_optional(executor)
        .await
}

/// The user's batch by its public id (another user's is `None`).
pub async fn find_owned(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    public_id: &str,
) -> Result<Option<Batch>, sqlx::Error> {
    super::select(
        BATCH_COLUMNS,
        "moderation_batches",
        "public_id = ? AND user_id = ?",
    )
    .bind(public_id)
    .bind(user_id)
    .fetch_optional(executor)
    .await
}

/// The batch that undoes `batch_id` (a draft or not), the latest if several.
pub async fn undo_of(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
) -> Result<Option<Batch>, sqlx::Error> {
    super::select(
        BATCH_COLUMNS,
        "moderation_batches",
        "undo_of = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(batch_id)
    .fetch_optional(executor)
    .await
}

/// A session's batches (drafts left out), newest first.
pub async fn of_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<Vec<Batch>, sqlx::Error> {
    super::select(
        BATCH_COLUMNS,
        "moderation_batches",
        "session_id = ? AND status <> 'draft' ORDER BY id DESC LIMIT 50",
    )
    .bind(session_id)
    .fetch_all(executor)
    .await
}

/// The job of one chunk of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkJob {
    pub batch_id: u64,
    pub chunk: u32,
}

/// Attempts of a chunk job: Twitch's bad days are absorbed inside twitch-api; these cover
/// workers killed mid-chunk and long outages.
pub const CHUNK_MAX_ATTEMPTS: u32 = 25;

/// Confirms a draft: it runs, one job per chunk, enqueued in the same transaction. `false`
/// when the batch is no longer a draft (confirmed twice: nothing more happens).
pub async fn confirm(
    conn: &mut MySqlConnection,
    batch: &Batch,
    now: DateTime<Utc>,
) -> Result<bool, QueueError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let done = sqlx::query(
        "UPDATE moderation_batches SET status = 'running', confirmed_at = ? WHERE id = ? AND status = 'draft'",
    )
    .bind(now)
    .bind(batch.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let chunks = (batch.targets as usize).div_ceil(CHUNK_SIZE);
    let jobs: Vec<NewJob> = (0..chunks)
        .map(|chunk| {
            NewJob::new(
                JobKind::ModerationChunk.as_str(),
                &ChunkJob {
                    batch_id: batch.id,
                    chunk: chunk as u32,
                },
                now,
            )
            .map(|job| job.max_attempts(CHUNK_MAX_ATTEMPTS).priority(5))
        })
        .collect::<Result<_, _>>()?;
    jobs::enqueue_batch(&mut tx, &jobs, now).await?;
    if chunks == 0 {
        finish_if_complete(&mut *tx, batch.id, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Item {
    pub twitch_user_id: String,
    pub login: String,
    pub status: String,
    pub excluded_why: Option<String>,
    pub message: Option<String>,
    pub acted_at: Option<DateTime<Utc>>,
}

const ITEM_COLUMNS: &str = "twitch_user_id, login, status, excluded_why, message, acted_at";

/// The chunk's accounts not yet acted on.
pub async fn pending_in_chunk(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
    chunk: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    super::select(
        ITEM_COLUMNS,
        "moderation_items",
        "batch_id = ? AND chunk = ? AND status = 'pending' ORDER BY twitch_user_id",
    )
    .bind(batch_id)
    .bind(chunk)
    .fetch_all(executor)
    .await
}

/// What happened to one account: `done`, `already` or `refused` (with Twitch's words).
/// Recorded once: an item no longer pending is left as it is.
pub async fn record(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
    twitch_user_id: &str,
    status: &str,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE moderation_items SET status = ?, message = ?, acted_at = ? \
         WHERE batch_id = ? AND twitch_user_id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(message)
    .bind(now)
    .bind(batch_id)
    .bind(twitch_user_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends a running batch once none of its items is pending. `true` when this call ended it.
pub async fn finish_if_complete(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE moderation_batches SET status = 'done', finished_at = ? WHERE id = ? AND status = 'running' \
         AND NOT EXISTS (SELECT 1 FROM moderation_items WHERE batch_id = ? AND status = 'pending')",
    )
    .bind(now)
    .bind(batch_id)
    .bind(batch_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Stops a running batch (`reason` a message key): its pending items are skipped. `true`
/// when this call stopped it.
pub async fn stop(
    conn: &mut MySqlConnection,
    batch_id: u64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let done = sqlx::query(
        "UPDATE moderation_batches SET status = 'stopped', stopped_reason = ?, finished_at = ? \
         WHERE id = ? AND status = 'running'",
    )
    .bind(reason)
    .bind(now)
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    let stopped = done.rows_affected() > 0;
    if stopped {
        sqlx::query(
            "UPDATE moderation_items SET status = 'skipped', acted_at = ? WHERE batch_id = ? AND status = 'pending'",
        )
        .bind(now)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(stopped)
}

/// How many items of a batch are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub pending: u32,
    pub done: u32,
    pub already: u32,
    pub refused: u32,
    pub skipped: u32,
    pub excluded: u32,
}

pub async fn progress(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
) -> Result<Progress, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM moderation_items WHERE batch_id = ? GROUP BY status",
    )
    .bind(batch_id)
    .fetch_all(executor)
    .await?;
    let mut progress = Progress::default();
    for (status, n) in rows {
        let n = n as u32;
        match status.as_str() {
            "pending" => progress.pending = n,
            "done" => progress.done = n,
            "already" => progress.already = n,
            "refused" => progress.refused = n,
            "skipped" => progress.skipped = n,
            "excluded" => progress.excluded = n,
            _ => {}
        }
    }
    Ok(progress)
}

/// A batch's items of some states, by login.
pub async fn items(
    executor: impl Executor<'_, Database = MySql>,
    batch_id: u64,
    statuses: &[&str],
    limit: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    let mut query = QueryBuilder::<MySql>::new(format!(
        "SELECT {ITEM_COLUMNS} FROM moderation_items WHERE batch_id = "
    ));
    query.push_bind(batch_id).push(" AND status IN (");
    let mut list = query.separated(", ");
    for status in statuses {
        list.push_bind(*status);
    }
    query.push(") ORDER BY login LIMIT ").push_bind(limit);
    query.build_query_as().fetch_all(executor).await
}

/// Accounts our batches banned (permanently) in a channel and did not unban since: the
/// product's own record, since Twitch lets only the broadcaster list a channel's bans.
pub async fn banned_by_batches(
    executor: impl Executor<'_, Database = MySql>,
    broadcaster_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT i.twitch_user_id FROM moderation_items i JOIN moderation_batches b ON b.id = i.batch_id \
         WHERE b.broadcaster_id = ? AND i.status IN ('done', 'already') AND b.action IN ('ban', 'unban') \
         GROUP BY i.twitch_user_id \
         HAVING SUBSTRING(MAX(CONCAT(DATE_FORMAT(i.acted_at, '%Y%m%d%H%i%s%f'), b.action)), 21) = 'ban'",
    )
    .bind(broadcaster_id)
    .fetch_all(executor)
    .await
}

/// Deletes drafts never confirmed, older than `before` (housekeeping).
pub async fn delete_stale_drafts(
    executor: impl Executor<'_, Database = MySql>,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM moderation_batches WHERE status = 'draft' AND created_at < ?")
            .bind(before)
            .execute(executor)
            .await?;
    Ok(done.rows_affected())
}
