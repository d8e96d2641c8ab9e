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

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::mysql::MySqlQueryResult;
use sqlx::{Executor, MySql, MySqlPool, QueryBuilder};

use super::{begin_read_committed, is_unique_violation};

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
}

impl JobKind {
    pub const ALL: [Self; 5] = [
        Self::CaptureChatters,
        Self::EnrichAccounts,
        Self::AutoCapture,
        Self::Housekeeping,
        Self::Noop,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CaptureChatters => "capture_chatters",
            Self::EnrichAccounts => "enrich_accounts",
            Self::AutoCapture => "auto_capture",
            Self::Housekeeping => "housekeeping",
            Self::Noop => "noop",
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
pub async fn enqueue<'e, E>(
    executor: E,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Enqueued, QueueError>
where
    E: Executor<'e, Database = MySql>,
{
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

/// A job this worker holds a lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    /// The attempt now running, counting from 1.
    pub attempts: u32,
    pub max_attempts: u32,
    pub priority: i16,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub locked_by: String,
}

impl ClaimedJob {
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    /// What fences this worker's finishing writes.
    pub fn lease(&self) -> Lease {
        Lease {
            id: self.id,
            worker: self.locked_by.clone(),
            attempts: self.attempts,
        }
    }

    pub fn is_last_attempt(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

/// Identifies one attempt of one job by one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: JobId,
    pub worker: String,
    pub attempts: u32,
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX)
}

/// Claims up to `limit` ready jobs of the given kinds for `worker`, with a lease of `lease`.
///
/// One short READ COMMITTED transaction: the locking read skips rows other claimers hold, so
/// concurrent claimers never wait for each other and never get the same row.
pub async fn claim_batch(
    pool: &MySqlPool,
    worker: &str,
    kinds: &[&str],
    limit: u32,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<ClaimedJob>, QueueError> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let limit = limit.min(MAX_CLAIM_BATCH);
    let mut tx = begin_read_committed(pool).await?;

    let mut select = QueryBuilder::<MySql>::new(
        "SELECT id, kind, payload, attempts + 1 AS attempts, max_attempts, priority, run_at, \
         created_at FROM jobs WHERE status = 'queued' AND run_at <= ",
    );
    select.push_bind(now).push(" AND kind IN (");
    let mut separated = select.separated(", ");
    for kind in kinds {
        separated.push_bind(*kind);
    }
    select
        .push(") ORDER BY priority DESC, run_at, id LIMIT ")
        .push_bind(limit)
        .push(" FOR UPDATE SKIP LOCKED");
    let mut jobs: Vec<ClaimedJob> = select.build_query_as().fetch_all(&mut *tx).await?;
    if jobs.is_empty() {
        tx.commit().await?;
        return Ok(jobs);
    }

    let mut update = QueryBuilder::<MySql>::new(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ",
    );
    update
        .push_bind(worker)
        .push(", locked_until = ")
        .push_bind(lease_end(now, lease))
        .push(", updated_at = ")
        .push_bind(now)
        .push(" WHERE id IN (");
    let mut separated = update.separated(", ");
    for job in &jobs {
        separated.push_bind(job.id);
    }
    update.push(")");
    update.build().execute(&mut *tx).await?;
    tx.commit().await?;

    for job in &mut jobs {
        job.locked_by = worker.to_string();
    }
    Ok(jobs)
}

/// Fenced update: applies only while `lease` still owns the job.
async fn fenced<'e, E>(
    executor: E,
    set: &'static str,
    binds: impl FnOnce(
        sqlx::query::Query<'static, MySql, sqlx::mysql::MySqlArguments>,
    ) -> sqlx::query::Query<'static, MySql, sqlx::mysql::MySqlArguments>,
    lease: &Lease,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    let query = binds(sqlx::query(set));
    let done: MySqlQueryResult = query
        .bind(lease.id)
        .bind(lease.worker.clone())
        .bind(lease.attempts)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

// Every finishing statement ends with the fence; `fenced` binds its three values last.
macro_rules! fenced_sql {
    ($set:literal) => {
        concat!(
            $set,
            " WHERE id = ? AND status = 'running' AND locked_by = ? AND attempts = ?"
        )
    };
}

/// Extends the lease. `false`: the job is no longer ours (the reaper took it back).
pub async fn heartbeat<'e, E>(
    executor: E,
    lease: &Lease,
    lease_len: Duration,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    let until = lease_end(now, lease_len);
    fenced(
        executor,
        fenced_sql!("UPDATE jobs SET locked_until = ?, updated_at = ?"),
        |q| q.bind(until).bind(now),
        lease,
    )
    .await
}

/// Sets when a running job runs next, in the caller's transaction, so that the change commits
/// together with what the job did. A recurring job that did its slot's work calls this before
/// committing: if its worker then dies before the runner re-queues it, the reaper re-queues it
/// for the next slot (it never moves `run_at` back), not for the slot just done.
/// `false`: the job is no longer ours.
pub async fn reschedule_running<'e, E>(
    executor: E,
    lease: &Lease,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    fenced(
        executor,
        fenced_sql!("UPDATE jobs SET run_at = ?, updated_at = ?"),
        |q| q.bind(run_at).bind(now),
        lease,
    )
    .await
}

/// Marks the job succeeded. `false`: the lease was lost and nothing was written.
pub async fn complete<'e, E>(
    executor: E,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    fenced(
        executor,
        fenced_sql!(
            "UPDATE jobs SET status = 'succeeded', locked_until = NULL, last_error = NULL, \
             finished_at = ?, updated_at = ?"
        ),
        |q| q.bind(now).bind(now),
        lease,
    )
    .await
}

/// Puts the job back in the queue for another attempt at `run_at`, keeping the error.
pub async fn retry_later<'e, E>(
    executor: E,
    lease: &Lease,
    run_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    let error = truncate_error(error);
    fenced(
        executor,
        fenced_sql!(
            "UPDATE jobs SET status = 'queued', run_at = ?, locked_by = NULL, \
             locked_until = NULL, last_error = ?, updated_at = ?"
        ),
        |q| q.bind(run_at).bind(error).bind(now),
        lease,
    )
    .await
}

/// Re-queues the job for `run_at` without spending an attempt: for waits that are nobody's
/// fault (a rate limit, a shutdown).
pub async fn defer<'e, E>(
    executor: E,
    lease: &Lease,
    run_at: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    let reason = truncate_error(reason);
    fenced(
        executor,
        fenced_sql!(
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_at = ?, \
             locked_by = NULL, locked_until = NULL, last_error = ?, updated_at = ?"
        ),
        |q| q.bind(run_at).bind(reason).bind(now),
        lease,
    )
    .await
}

/// Ends the job as `failed` or `dead` with its error.
pub async fn finish_unsuccessfully<'e, E>(
    executor: E,
    lease: &Lease,
    status: JobStatus,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    debug_assert!(matches!(status, JobStatus::Failed | JobStatus::Dead));
    let error = truncate_error(error);
    fenced(
        executor,
        fenced_sql!(
            "UPDATE jobs SET status = ?, locked_until = NULL, last_error = ?, \
             finished_at = ?, updated_at = ?"
        ),
        |q| q.bind(status).bind(error).bind(now).bind(now),
        lease,
    )
    .await
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    pub requeued: u64,
    pub dead: u64,
}

/// Takes back jobs whose lease expired before `now` (their worker died or hung): out of
/// attempts → `dead`, otherwise `queued` to run again at once. Safe to run on every worker.
pub async fn reap_expired(pool: &MySqlPool, now: DateTime<Utc>) -> Result<Reaped, sqlx::Error> {
    let mut tx = begin_read_committed(pool).await?;
    let dead = sqlx::query(
        "UPDATE jobs SET status = 'dead', \
         last_error = CONCAT('lease expired on its last attempt (worker ', \
                             COALESCE(locked_by, '?'), ' stopped)'), \
         locked_until = NULL, finished_at = ?, updated_at = ? \
         WHERE status = 'running' AND locked_until < ? AND attempts >= max_attempts",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let requeued = sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = GREATEST(run_at, ?), \
         last_error = CONCAT('lease expired (worker ', COALESCE(locked_by, '?'), ' stopped)'), \
         locked_by = NULL, locked_until = NULL, updated_at = ? \
         WHERE status = 'running' AND locked_until < ?",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Reaped { requeued, dead })
}

/// Exponential backoff with jitter for the attempt that just failed (1-based): the delay
/// doubles from `base` up to `cap`, and the actual wait is drawn uniformly from its upper
/// half, so retries of jobs that failed together spread out.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, unit_random: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exponent).min(cap);
    let jitter = unit_random.clamp(0.0, 1.0);
    full.mul_f64(0.5 + 0.5 * jitter)
}

/// How many jobs are in each state, and how long the oldest ready job has waited.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct QueueStats {
    pub queued_ready: u64,
    pub queued_later: u64,
    pub running: u64,
    pub oldest_ready_age: Duration,
}

/// Reads the queue's depth through the claim index (cheap even with millions of finished rows).
pub async fn stats(pool: &MySqlPool, now: DateTime<Utc>) -> Result<QueueStats, sqlx::Error> {
    let (queued_ready, queued_later, oldest): (i64, i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(run_at <= ?), 0) AS SIGNED), \
                CAST(COALESCE(SUM(run_at > ?), 0) AS SIGNED), \
                MIN(CASE WHEN run_at <= ? THEN run_at END) \
         FROM jobs WHERE status = 'queued'",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await?;
    let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'running'")
        .fetch_one(pool)
        .await?;
    let oldest_ready_age = oldest
        .and_then(|t| (now - t).to_std().ok())
        .unwrap_or_default();
    Ok(QueueStats {
        queued_ready: queued_ready.max(0) as u64,
        queued_later: queued_later.max(0) as u64,
        running: running.max(0) as u64,
        oldest_ready_age,
    })
}

fn truncate_error(error: &str) -> String {
    if error.len() <= MAX_ERROR_LEN {
        return error.to_string();
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_within_the_upper_half() {
        let base = Duration::from_secs(2);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff_delay(1, base, cap, 1.0), Duration::from_secs(2));
        assert_eq!(backoff_delay(2, base, cap, 1.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(3, base, cap, 1.0), Duration::from_secs(8));
        assert_eq!(backoff_delay(3, base, cap, 0.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(10, base, cap, 1.0), cap);
        assert_eq!(backoff_delay(u32::MAX, base, cap, 0.0), cap / 2);
    }

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_ERROR_LEN);
        let cut = truncate_error(&long);
        assert!(cut.len() <= MAX_ERROR_LEN + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
