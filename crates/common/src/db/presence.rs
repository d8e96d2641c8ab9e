//! Who was present: `capture_chatters` (one row per account of a capture) and the presence
//! aggregates kept in the capture's transaction so analysis never scans capture rows —
//! `session_accounts` (per session) and `session_channel_accounts` (per channel of a session).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};

/// Where and when a capture saw its accounts.
#[derive(Debug, Clone, Copy)]
pub struct Sighting {
    pub capture_id: u64,
    pub session_id: u64,
    pub session_channel_id: u64,
    pub captured_at: DateTime<Utc>,
    /// The stream was offline during the capture.
    pub offline: bool,
}

/// Records one batch of a capture's accounts (sorted, distinct) in the caller's transaction:
/// the capture's rows and both presence aggregates. Returns how many of them were new to
/// the session.
pub async fn record_batch(
    conn: &mut MySqlConnection,
    sighting: &Sighting,
    batch: &[u64],
) -> Result<u64, sqlx::Error> {
    if batch.is_empty() {
        return Ok(0);
    }
    let in_session = existing(
        conn,
        "SELECT account_id FROM session_accounts WHERE session_id = ",
        sighting.session_id,
        batch,
    )
    .await?;
    let in_channel = existing(
        conn,
        "SELECT account_id FROM session_channel_accounts WHERE session_channel_id = ",
        sighting.session_channel_id,
        batch,
    )
    .await?;
    let offline = u32::from(sighting.offline);

    let mut q =
        QueryBuilder::<MySql>::new("INSERT INTO capture_chatters (capture_id, account_id) ");
    q.push_values(batch, |mut row, id| {
        row.push_bind(sighting.capture_id).push_bind(*id);
    });
    q.build().execute(&mut *conn).await?;

    let mut q = QueryBuilder::<MySql>::new(
        "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, \
         last_seen_at, captures_seen, captures_seen_offline) ",
    );
    q.push_values(batch, |mut row, id| {
        row.push_bind(sighting.session_channel_id)
            .push_bind(*id)
            .push_bind(sighting.session_id)
            .push_bind(sighting.captured_at)
            .push_bind(sighting.captured_at)
            .push_bind(1u32)
            .push_bind(offline);
    });
    q.push(
        " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at)), \
         captures_seen = captures_seen + 1, \
         captures_seen_offline = captures_seen_offline + VALUES(captures_seen_offline)",
    );
    q.build().execute(&mut *conn).await?;

    let mut q = QueryBuilder::<MySql>::new(
        "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
         captures_seen_offline, channels_seen) ",
    );
    q.push_values(batch, |mut row, id| {
        row.push_bind(sighting.session_id)
            .push_bind(*id)
            .push_bind(sighting.captured_at)
            .push_bind(sighting.captured_at)
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
    q.build().execute(&mut *conn).await?;
    Ok((batch.len() - in_session.len()) as u64)
}

/// Which of `ids` already have a row under `key` (a session or a session channel).
async fn existing(
    conn: &mut MySqlConnection,
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
    let found: Vec<u64> = q.build_query_scalar().fetch_all(conn).await?;
    Ok(found.into_iter().collect())
}

/// Deletes a session's presence rows (capture rows first), `batch` rows per statement so no
/// statement holds locks for long.
pub async fn purge_session(
    pool: &MySqlPool,
    session_id: u64,
    batch: u32,
) -> Result<(), sqlx::Error> {
    for statement in [
        "DELETE FROM capture_chatters WHERE capture_id IN \
         (SELECT id FROM captures WHERE session_id = ?) LIMIT ?",
        "DELETE FROM session_channel_accounts WHERE session_id = ? LIMIT ?",
        "DELETE FROM session_accounts WHERE session_id = ? LIMIT ?",
    ] {
        loop {
            let deleted = sqlx::query(statement)
                .bind(session_id)
                .bind(batch)
                .execute(pool)
                .await?
                .rows_affected();
            if deleted < u64::from(batch) {
                break;
            }
        }
    }
    Ok(())
}
