//! The queue's depth for metrics, and pruning of finished jobs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlPool};

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

/// Deletes up to `limit` jobs that ended with `status` before `before`; returns how many.
pub async fn prune_finished(
    executor: impl Executor<'_, Database = MySql>,
    status: super::JobStatus,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM jobs WHERE status = ? AND finished_at < ? LIMIT ?")
            .bind(status.as_str())
            .bind(before)
            .bind(limit)
            .execute(executor)
            .await?
            .rows_affected(),
    )
}
