//! The job queue: a MariaDB table claimed with `FOR UPDATE SKIP LOCKED` (docs/queue.md).
//!
//! Protocol, in short:
//! - **enqueue** inserts a `queued` row, inside the caller's transaction when given one;
//!   a dedupe key admits one unfinished job per (kind, key);
//! - **claim** picks ready rows in `(priority DESC, run_at, id)` order with
//!   `FOR UPDATE SKIP LOCKED` at READ COMMITTED, marks them `running` with a lease
//!   (`locked_by`, `locked_until`) and counts the attempt, all in one short transaction;
//! - the owner **heartbeats** to extend the lease; the **reaper** puts rows whose lease
//!   expired back to `queued` (or `dead` when out of attempts);
//! - every finishing write is **fenced** on `(id, status='running', locked_by, attempts)`, so a
//!   worker that lost its lease cannot overwrite the result of the job's new owner.
//!
//! Functions take `now` from the caller: the queue's logic depends on time, and tests pass a
//! clock instead of sleeping.
//!
//! Here: the job's types and enqueueing; `claim`: claiming and leases; `outcome`: heartbeats,
//! the fenced finishing writes and the reaper; `maintenance`: statistics and pruning.

mod claim;
mod maintenance;
mod outcome;
#[cfg(test)]
mod tests;

pub use claim::{
    CLAIM_FROM_HEAD_EVERY, ClaimedJob, Claimer, Lease, claim_batch, complete_and_claim,
};
pub use maintenance::{QueueStats, prune_finished, stats};
pub use outcome::{
    Reaped, backoff_delay, complete, complete_many, defer, finish_unsuccessfully, heartbeat,
    reap_expired, reschedule_running, retry_later,
};

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Executor, MySql, QueryBuilder};

use super::is_unique_violation;

/// Rows a claim may take at once.
pub const MAX_CLAIM_BATCH: u32 = 1000;
/// Rows per multi-row INSERT in [`enqueue_batch`] (7 placeholders a row, far below 65,535).
const ENQUEUE_BATCH_ROWS: usize = 500;
/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// `last_error` is a TEXT column; longer messages are cut (on a char boundary).
const MAX_ERROR_LEN: usize = 4000;

/// The product's job kinds, named once. The queue itself takes any kind (tests and
/// benchmarks use their own); workers claim only the kinds they register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// One listing of one channel's chatters (`captures::CaptureJob`).
    CaptureChatters,
    /// The enrichment singleton: Get Users for accounts never or long ago enriched.
    EnrichAccounts,
    /// A channel's recurring auto-capture (`session_channels::AutoCaptureJob`).
    AutoCapture,
    /// The housekeeping singleton.
    Housekeeping,
    /// Does nothing (or sleeps): queue tests and benchmarks.
    Noop,
    /// One chunk of a moderation batch (`moderation::ChunkJob`).
    ModerationChunk,
    /// Trusts the common chat bots for a new user (`marks`), ids resolved through twitch-api.
    TrustCommonBots,
    /// One EventSub notification to act on (`eventsub::EventJob`), handed over by the callback.
    EventSubEvent,
    /// Makes Twitch's EventSub subscriptions what the auto-captured channels need
    /// (`eventsub::reconcile_job`): every ten minutes, and at once after a change.
    EventSubReconcile,
    /// What a capture of a live channel found, checked against its webhooks (`alerts`).
    AlertCheck,
    /// One alert sent to one webhook (`alerts`), retried with backoff.
    AlertDelivery,
}

impl JobKind {
    pub const ALL: [Self; 11] = [
        Self::CaptureChatters,
        Self::EnrichAccounts,
        Self::AutoCapture,
        Self::Housekeeping,
        Self::Noop,
        Self::ModerationChunk,
        Self::TrustCommonBots,
        Self::EventSubEvent,
        Self::EventSubReconcile,
        Self::AlertCheck,
        Self::AlertDelivery,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CaptureChatters => "capture_chatters",
            Self::EnrichAccounts => "enrich_accounts",
            Self::AutoCapture => "auto_capture",
            Self::Housekeeping => "housekeeping",
            Self::Noop => "noop",
            Self::ModerationChunk => "moderation_chunk",
            Self::TrustCommonBots => "trust_common_bots",
            Self::EventSubEvent => "eventsub_event",
            Self::EventSubReconcile => "eventsub_reconcile",
            Self::AlertCheck => "alert_check",
            Self::AlertDelivery => "alert_delivery",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[sqlx(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    /// Ended by the handler as a permanent, expected failure (bad input, lost rights).
    Failed,
    /// Given up: attempts exhausted, or an unexpected fatal error. Worth an operator's look.
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            other => return Err(format!("unknown job status '{other}'")),
        })
    }
}

crate::sql_string_enum!(JobStatus);

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("job payload cannot be encoded as JSON: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(&'static str),
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub priority: i16,
    pub run_at: DateTime<Utc>,
    pub max_attempts: u32,
    pub dedupe_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` with a JSON-encoded `payload`, ready at `now`.
    pub fn new(
        kind: impl Into<String>,
        payload: &impl Serialize,
        now: DateTime<Utc>,
    ) -> Result<Self, QueueError> {
        Ok(Self {
            kind: kind.into(),
            payload: serde_json::to_string(payload)?,
            priority: 0,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedupe_key: None,
        })
    }

    /// Higher runs first.
    pub fn priority(mut self, priority: i16) -> Self {
        self.priority = priority;
        self
    }

    pub fn run_at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = run_at;
        self
    }

    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// At most one unfinished (queued or running) job of this kind has this key.
    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Created(JobId),
    /// An unfinished job with the same kind and dedupe key exists; nothing was inserted.
    Duplicate,
}

/// Inserts one job. Pass `&mut *tx` to make it part of the caller's transaction: the job then
/// exists if and only if the caller's writes commit. A dedupe conflict is not an error, and
/// in MariaDB it does not abort the surrounding transaction.
pub async fn enqueue(
    executor: impl Executor<'_, Database = MySql>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Enqueued, QueueError> {
    let result = sqlx::query(
        "INSERT INTO jobs (kind, payload, status, priority, run_at, max_attempts, dedupe_key, \
         created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.priority)
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(&job.dedupe_key)
    .bind(now)
    .bind(now)
    .execute(executor)
    .await;
    match result {
        Ok(done) => Ok(Enqueued::Created(JobId(done.last_insert_id()))),
        Err(e) if is_unique_violation(&e) => Ok(Enqueued::Duplicate),
        Err(e) => Err(e.into()),
    }
}

/// Inserts many jobs with multi-row statements. Jobs with dedupe keys are refused: one
/// conflict would fail its whole statement; enqueue those one by one with [`enqueue`].
pub async fn enqueue_batch(
    conn: &mut sqlx::MySqlConnection,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<u64, QueueError> {
    if jobs.iter().any(|j| j.dedupe_key.is_some()) {
        return Err(QueueError::Invalid(
            "enqueue_batch does not take jobs with a dedupe key; use enqueue",
        ));
    }
    let mut inserted = 0;
    for chunk in jobs.chunks(ENQUEUE_BATCH_ROWS) {
        let mut query = QueryBuilder::<MySql>::new(
            "INSERT INTO jobs (kind, payload, status, priority, run_at, max_attempts, \
             created_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, job| {
            row.push_bind(&job.kind)
                .push_bind(&job.payload)
                .push("'queued'")
                .push_bind(job.priority)
                .push_bind(job.run_at)
                .push_bind(job.max_attempts)
                .push_bind(now)
                .push_bind(now);
        });
        inserted += query.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}
