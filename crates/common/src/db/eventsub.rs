//! `eventsub_messages`: the EventSub message ids already handled (docs/live.md), and the
//! hand-over of a notification to the queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, MySqlConnection};

use super::jobs::{self, JobKind, NewJob, QueueError};

/// What the worker gets for one notification (`event`: the notification's event) or one
/// revocation (`event`: the revoked subscription).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventJob {
    pub message_id: String,
    /// `notification` or `revocation`.
    pub message_type: String,
    pub subscription_type: String,
    /// When Twitch sent it (the message's timestamp header).
    pub sent_at: DateTime<Utc>,
    pub event: serde_json::Value,
}

/// Records a message id and, for a new one, queues `job` in the same transaction: `false`
/// when the id was handled before (a resend), and nothing is queued.
pub async fn accept(
    conn: &mut MySqlConnection,
    message_id: &str,
    message_type: &str,
    subscription_type: &str,
    job: Option<&EventJob>,
    now: DateTime<Utc>,
) -> Result<bool, QueueError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let inserted = sqlx::query(
        "INSERT IGNORE INTO eventsub_messages (message_id, message_type, subscription_type, received_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(message_id)
    .bind(message_type)
    .bind(subscription_type)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted && let Some(job) = job {
        let new = NewJob::new(JobKind::EventSubEvent.as_str(), job, now)?
            .priority(10)
            .max_attempts(10);
        jobs::enqueue(&mut *tx, &new, now).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Forgets message ids received before `before` (housekeeping).
pub async fn prune(
    executor: impl Executor<'_, Database = MySql>,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM eventsub_messages WHERE received_at < ? LIMIT ?")
            .bind(before)
            .bind(limit)
            .execute(executor)
            .await?
            .rows_affected(),
    )
}

/// The reconciler's job: `recurring` is the ten-minute singleton; otherwise a run asked for
/// now (a channel's auto-capture changed, Twitch revoked a subscription). One of each may be
/// pending (their dedupe keys).
pub fn reconcile_job(recurring: bool, now: DateTime<Utc>) -> Result<NewJob, QueueError> {
    let key = if recurring {
        "eventsub-reconcile"
    } else {
        "eventsub-reconcile-now"
    };
    Ok(NewJob::new(
        JobKind::EventSubReconcile.as_str(),
        &serde_json::json!({ "recurring": recurring }),
        now,
    )?
    .dedupe_key(key)
    .max_attempts(10))
}

/// Replaces the set of channels subscribed at Twitch (the reconciler's result).
pub async fn set_subscribed_channels(
    conn: &mut MySqlConnection,
    broadcaster_ids: &[String],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query("DELETE FROM eventsub_channels")
        .execute(&mut *tx)
        .await?;
    for id in broadcaster_ids {
        sqlx::query("INSERT INTO eventsub_channels (broadcaster_id, subscribed_at) VALUES (?, ?)")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Which of `broadcaster_ids` follow Twitch's live updates.
pub async fn subscribed_channels(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT broadcaster_id FROM eventsub_channels")
        .fetch_all(executor)
        .await
}
