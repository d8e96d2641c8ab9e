//! Claiming ready jobs with `FOR UPDATE SKIP LOCKED`, under a lease.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::pool::PoolConnection;
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};

use super::{JobId, MAX_CLAIM_BATCH, QueueError};
use crate::db::begin_read_committed_on;

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
/// [`claim_batch`]'s, from the head of the queue. Returns the ids whose completion was
/// recorded, and the claimed jobs. A claimer that claims again and again uses a [`Claimer`].
pub async fn complete_and_claim(
    pool: &MySqlPool,
    worker: &str,
    done: &[Lease],
    kinds: &[&str],
    limit: u32,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<(Vec<JobId>, Vec<ClaimedJob>), QueueError> {
    let mut claimer = Claimer::new(worker, kinds, lease);
    claimer.complete_and_claim(pool, done, limit, now).await
}

/// How often a [`Claimer`] claims from the head of the queue even when its cursor finds work:
/// the longest a job that sorts before the cursor (below) waits while the queue is busy.
pub const CLAIM_FROM_HEAD_EVERY: Duration = Duration::from_millis(100);

/// A claimer that remembers where its claims reached in the claim index.
///
/// Why: a claim turns the `queued` entry of `idx_jobs_claim` into a delete-marked one, which
/// stays at the head of the index until purge removes it, and a locking read from the head
/// steps over every one of them with a look into the clustered index (measured: ~1,150
/// buffer-pool page reads a job at ~850 jobs/s; docs/benchmarks.md, B1). Jobs are claimed in
/// index order, so this claimer's next job lies after the last one it claimed: its claim reads
/// ranges that start there, one per priority it has claimed from (MariaDB positions on the
/// range's first entry; the dead entries before it are never read).
///
/// What a job that sorts before the cursor does (enqueued with an earlier `run_at` than jobs
/// already claimed, a higher priority than any this claimer has seen, or left by a claim that
/// rolled back): the claimer also claims from the head whenever its ranges find fewer jobs
/// than it asked for, and at least every [`CLAIM_FROM_HEAD_EVERY`]. Such a job therefore waits
/// at most that long behind later ones while the queue is busy; order is otherwise unchanged,
/// and locking, leases and fencing are exactly those of the head claim.
#[derive(Debug)]
pub struct Claimer {
    worker: String,
    kinds: Vec<String>,
    lease: Duration,
    /// Per priority, the (run_at, id) of the furthest job this claimer has claimed.
    reached: BTreeMap<i16, (DateTime<Utc>, JobId)>,
    /// When this claimer last claimed from the head of the queue.
    from_head_at: Option<DateTime<Utc>>,
    /// The connection its claims run on, kept between them: a connection taken from the pool
    /// is checked with a round trip first, which a claimer that claims again and again would
    /// otherwise pay at every claim (docs/queue.md).
    conn: Option<PoolConnection<MySql>>,
}

impl Claimer {
    pub fn new(worker: &str, kinds: &[&str], lease: Duration) -> Self {
        Self {
            worker: worker.to_string(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            lease,
            reached: BTreeMap::new(),
            from_head_at: None,
            conn: None,
        }
    }

    /// [`complete_and_claim`], claiming past this claimer's cursor when it can.
    pub async fn complete_and_claim(
        &mut self,
        pool: &MySqlPool,
        done: &[Lease],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(Vec<JobId>, Vec<ClaimedJob>), QueueError> {
        let kinds: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
        let limit = if kinds.is_empty() {
            0
        } else {
            limit.min(MAX_CLAIM_BATCH)
        };
        if done.is_empty() && limit == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        // The held connection, or a fresh one from the pool (which checks it first).
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => pool.acquire().await?,
        };
        let outcome = self
            .complete_and_claim_on(&mut conn, done, &kinds, limit, now)
            .await;
        // Kept only while it works: after an error it goes back to the pool, whose check
        // before the next acquire drops it if the server went away.
        if outcome.is_ok() {
            self.conn = Some(conn);
        }
        let (completed, jobs, from_head) = outcome?;
        // Only what committed moves the cursor.
        if from_head {
            self.from_head_at = Some(now);
        }
        for job in &jobs {
            let key = (job.run_at, job.id);
            let reached = self.reached.entry(job.priority).or_insert(key);
            *reached = (*reached).max(key);
        }
        Ok((completed, jobs))
    }

    /// One transaction on `conn`: records `done`, claims, commits. Also says whether it
    /// claimed from the head.
    ///
    /// The completions come first, on purpose: a locking read that runs out of queued jobs
    /// also locks the index entry just past them, which can be the `running` entry of a job
    /// another claimer is completing; completing after claiming would then wait for that
    /// claimer while it waits for us (B1 deadlocked so; docs/decisions.md).
    async fn complete_and_claim_on(
        &self,
        conn: &mut MySqlConnection,
        done: &[Lease],
        kinds: &[&str],
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(Vec<JobId>, Vec<ClaimedJob>, bool), QueueError> {
        let mut tx = begin_read_committed_on(conn).await?;
        let completed = super::outcome::complete_many(&mut tx, done, now).await?;
        let mut jobs = Vec::new();
        let mut from_head = false;
        if limit > 0 {
            if !self.head_due(now) {
                jobs =
                    select_claimable(&mut tx, kinds, limit, now, Some(&self.reached), &[]).await?;
            }
            if jobs.len() < limit as usize {
                let taken: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
                let rest = limit - jobs.len() as u32;
                jobs.extend(select_claimable(&mut tx, kinds, rest, now, None, &taken).await?);
                from_head = true;
            }
            mark_running(&mut tx, &self.worker, &mut jobs, self.lease, now).await?;
        }
        tx.commit().await?;
        Ok((completed, jobs, from_head))
    }

    fn head_due(&self, now: DateTime<Utc>) -> bool {
        let every = chrono::Duration::from_std(CLAIM_FROM_HEAD_EVERY).unwrap_or_default();
        self.reached.is_empty()
            || self
                .from_head_at
                // A clock that went back also claims from the head.
                .is_none_or(|at| now < at || now - at >= every)
    }
}

/// Up to `limit` ready jobs of `kinds`, locked (`FOR UPDATE SKIP LOCKED`), in claim order:
/// from the head of the queue, or past `reached` (per priority) when given; never one of
/// `taken`.
async fn select_claimable(
    conn: &mut MySqlConnection,
    kinds: &[&str],
    limit: u32,
    now: DateTime<Utc>,
    reached: Option<&BTreeMap<i16, (DateTime<Utc>, JobId)>>,
    taken: &[JobId],
) -> Result<Vec<ClaimedJob>, QueueError> {
    let mut select = QueryBuilder::<MySql>::new(
        "SELECT id, kind, payload, attempts + 1 AS attempts, max_attempts, priority, run_at, \
         created_at FROM jobs",
    );
    // Only a range scan of the claim index positions on each range's first entry; left to
    // itself the optimizer reads from the head of `status = 'queued'` (a `ref` access) and
    // filters, which is the walk the cursor exists to avoid (a test checks the plan).
    if reached.is_some() {
        select.push(" FORCE INDEX (idx_jobs_claim)");
    }
    select
        .push(" WHERE status = 'queued' AND run_at <= ")
        .push_bind(now)
        .push(" AND kind IN (");
    let mut separated = select.separated(", ");
    for kind in kinds {
        separated.push_bind(*kind);
    }
    select.push(")");
    if let Some(reached) = reached {
        select.push(" AND (");
        for (n, (priority, (run_at, id))) in reached.iter().enumerate() {
            if n > 0 {
                select.push(" OR ");
            }
            select
                .push("(priority = ")
                .push_bind(*priority)
                .push(" AND (run_at > ")
                .push_bind(*run_at)
                .push(" OR (run_at = ")
                .push_bind(*run_at)
                .push(" AND id > ")
                .push_bind(*id)
                .push(")))");
        }
        select.push(")");
    }
    if !taken.is_empty() {
        select.push(" AND id NOT IN (");
        let mut separated = select.separated(", ");
        for id in taken {
            separated.push_bind(*id);
        }
        select.push(")");
    }
    select
        .push(" ORDER BY priority DESC, run_at, id LIMIT ")
        .push_bind(limit)
        .push(" FOR UPDATE SKIP LOCKED");
    Ok(select.build_query_as().fetch_all(&mut *conn).await?)
}

/// Marks the locked `jobs` running under this worker's lease, counting the attempt.
async fn mark_running(
    conn: &mut MySqlConnection,
    worker: &str,
    jobs: &mut [ClaimedJob],
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<(), QueueError> {
    if jobs.is_empty() {
        return Ok(());
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
    for job in jobs.iter() {
        separated.push_bind(job.id);
    }
    update.push(")");
    update.build().execute(&mut *conn).await?;
    for job in jobs.iter_mut() {
        job.locked_by = worker.to_string();
    }
    Ok(())
}
