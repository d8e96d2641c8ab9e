//! Claiming ready jobs with `FOR UPDATE SKIP LOCKED`, under a lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};

use super::{JobId, MAX_CLAIM_BATCH, QueueError};
use crate::db::begin_read_committed;

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

pub(super) fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
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
    let (_, claimed) = complete_and_claim(pool, worker, &[], kinds, limit, lease, now).await?;
    Ok(claimed)
}

/// Records the jobs of `done` succeeded and claims the next ones, in **one** transaction: a
/// worker that finished jobs pays one commit for both (docs/queue.md). The completions are
/// fenced like [`super::complete`] (a lease lost meanwhile writes nothing); the claim is
/// [`claim_batch`]'s. Returns the ids whose completion was recorded, and the claimed jobs.
pub async fn complete_and_claim(
    pool: &MySqlPool,
    worker: &str,
    done: &[Lease],
    kinds: &[&str],
    limit: u32,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<(Vec<JobId>, Vec<ClaimedJob>), QueueError> {
    if done.is_empty() && (kinds.is_empty() || limit == 0) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut tx = begin_read_committed(pool).await?;
    let completed = super::outcome::complete_many(&mut tx, done, now).await?;
    let claimed = claim_in(&mut tx, worker, kinds, limit, lease, now).await?;
    tx.commit().await?;
    Ok((completed, claimed))
}

/// The claim itself, in the caller's transaction.
async fn claim_in(
    conn: &mut MySqlConnection,
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
    let mut jobs: Vec<ClaimedJob> = select.build_query_as().fetch_all(&mut *conn).await?;
    if jobs.is_empty() {
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
    update.build().execute(&mut *conn).await?;

    for job in &mut jobs {
        job.locked_by = worker.to_string();
    }
    Ok(jobs)
}
