//! `raids`: raids into channels, from EventSub (docs/live.md).

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

/// A raid as EventSub reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRaid<'a> {
    pub message_id: &'a str,
    pub broadcaster_id: &'a str,
    pub from_broadcaster_id: &'a str,
    pub from_login: &'a str,
    pub from_name: &'a str,
    pub viewers: u32,
    pub raided_at: DateTime<Utc>,
}

/// Records a raid once per EventSub message: `false` if it was recorded already.
pub async fn record(
    executor: impl Executor<'_, Database = MySql>,
    raid: &NewRaid<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT IGNORE INTO raids (message_id, broadcaster_id, from_broadcaster_id, from_login, from_name, \
         viewers, raided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(raid.message_id)
    .bind(raid.broadcaster_id)
    .bind(raid.from_broadcaster_id)
    .bind(raid.from_login)
    .bind(raid.from_name)
    .bind(raid.viewers)
    .bind(raid.raided_at)
    .execute(executor)
    .await?
    .rows_affected()
        == 1)
}
