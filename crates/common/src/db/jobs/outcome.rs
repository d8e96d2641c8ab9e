//! What becomes of a claimed job: heartbeats, the fenced finishing writes, and the reaper
//! that takes back jobs whose lease expired.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::mysql::MySqlQueryResult;
use sqlx::{Executor, MySql, MySqlConnection, MySqlPool, QueryBuilder};

use super::claim::{Lease, lease_end};
use super::{JobId, JobStatus, MAX_ERROR_LEN};
use crate::db::begin_read_committed;

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
pub async fn heartbeat(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    lease_len: Duration,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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
pub async fn reschedule_running(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    fenced(
        executor,
        fenced_sql!("UPDATE jobs SET run_at = ?, updated_at = ?"),
        |q| q.bind(run_at).bind(now),
        lease,
    )
    .await
}

/// Marks the job succeeded. `false`: the lease was lost and nothing was written.
pub async fn complete(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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

/// Marks the jobs of every lease succeeded in one statement, each fenced like [`complete`];
/// the ids whose lease still held (the others were taken back and are left alone).
pub async fn complete_many(
    conn: &mut MySqlConnection,
    leases: &[Lease],
    now: DateTime<Utc>,
) -> Result<Vec<JobId>, sqlx::Error> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    // `id IN (…)` lets MariaDB find the rows by primary key; the (id, locked_by, attempts)
    // triples are the fence of each.
    let fence = |q: &mut QueryBuilder<MySql>| {
        q.push(" WHERE id IN (");
        let mut ids = q.separated(", ");
        for lease in leases {
            ids.push_bind(lease.id);
        }
        q.push(") AND (id, locked_by, attempts) IN (");
        let mut triples = q.separated(", ");
        for lease in leases {
            triples.push("(");
            triples.push_bind_unseparated(lease.id);
            triples.push_unseparated(", ");
            triples.push_bind_unseparated(lease.worker.clone());
            triples.push_unseparated(", ");
            triples.push_bind_unseparated(lease.attempts);
            triples.push_unseparated(")");
        }
        q.push(")");
    };
    let mut update = QueryBuilder::<MySql>::new(
        "UPDATE jobs SET status = 'succeeded', locked_until = NULL, last_error = NULL, finished_at = ",
    );
    update.push_bind(now).push(", updated_at = ").push_bind(now);
    fence(&mut update);
    update.push(" AND status = 'running'");
    let applied = update.build().execute(&mut *conn).await?.rows_affected();
    if applied == leases.len() as u64 {
        return Ok(leases.iter().map(|l| l.id).collect());
    }
    // Some leases were lost: which completions landed is what this statement just wrote.
    let mut select = QueryBuilder::<MySql>::new("SELECT id FROM jobs");
    fence(&mut select);
    select
        .push(" AND status = 'succeeded' AND finished_at = ")
        .push_bind(now);
    select.build_query_scalar().fetch_all(&mut *conn).await
}

/// Puts the job back in the queue for another attempt at `run_at`, keeping the error.
pub async fn retry_later(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    run_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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
pub async fn defer(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    run_at: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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
pub async fn finish_unsuccessfully(
    executor: impl Executor<'_, Database = MySql>,
    lease: &Lease,
    status: JobStatus,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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
    // The candidates first, through idx_jobs_claim's few `running` entries: an UPDATE that
    // changes `status` does not read an index that holds it, and would scan the whole table.
    // Each UPDATE below checks the expiry again on the row's latest version, so a lease
    // extended meanwhile is left alone.
    let expired: Vec<JobId> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'running' AND locked_until < ?")
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
    if expired.is_empty() {
        return Ok(Reaped::default());
    }
    // Each statement ends with the same filter: one of `expired`, still expired.
    let of_expired = |update: &mut QueryBuilder<MySql>| {
        update.push(" WHERE id IN (");
        let mut ids = update.separated(", ");
        for id in &expired {
            ids.push_bind(*id);
        }
        update
            .push(") AND status = 'running' AND locked_until < ")
            .push_bind(now);
    };
    let mut dead = QueryBuilder::<MySql>::new(
        "UPDATE jobs SET status = 'dead', \
         last_error = CONCAT('lease expired on its last attempt (worker ', \
                             COALESCE(locked_by, '?'), ' stopped)'), \
         locked_until = NULL, finished_at = ",
    );
    dead.push_bind(now).push(", updated_at = ").push_bind(now);
    of_expired(&mut dead);
    dead.push(" AND attempts >= max_attempts");
    let dead = dead.build().execute(&mut *tx).await?.rows_affected();
    let mut requeued =
        QueryBuilder::<MySql>::new("UPDATE jobs SET status = 'queued', run_at = GREATEST(run_at, ");
    requeued
        .push_bind(now)
        .push(
            "), last_error = CONCAT('lease expired (worker ', COALESCE(locked_by, '?'), \
             ' stopped)'), locked_by = NULL, locked_until = NULL, updated_at = ",
        )
        .push_bind(now);
    of_expired(&mut requeued);
    let requeued = requeued.build().execute(&mut *tx).await?.rows_affected();
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

pub(super) fn truncate_error(error: &str) -> String {
    if error.len() <= MAX_ERROR_LEN {
        return error.to_string();
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}
