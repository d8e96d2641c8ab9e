//! Large sessions written straight into MariaDB with `INSERT … SELECT` over MariaDB's sequence
//! tables (`seq_1_to_N`): millions of rows in seconds, shaped like real ones — creation dates
//! spread over ten years, a 2 % wave on one day with generated logins, renames, two channels.

use anyhow::Context;
use sqlx::MySqlPool;

/// Rows per `INSERT … SELECT`: large enough to be fast, small enough for a modest undo log.
const BATCH: u64 = 100_000;

pub struct Seeded {
    pub session_id: u64,
    pub accounts: u64,
    pub capture_rows: u64,
}

/// A session of `accounts` accounts (twitch ids from `first_id`), each seen in all `captures`
/// captures (alternating between two channels): `accounts × captures` capture rows.
pub async fn session(
    pool: &MySqlPool,
    name: &str,
    first_id: u64,
    accounts: u64,
    captures: u64,
) -> anyhow::Result<Seeded> {
    let now = "2026-01-01 12:00:00";
    let user: u64 = sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
    )
    .bind("1")
    .bind("bench_mod")
    .bind("bench_mod")
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?
    .last_insert_id();
    let session_id = sqlx::query(
        // Captures of two channels: presence kept per channel too.
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, last_activity_at, \
         presence_per_channel) VALUES (UUID(), ?, ?, 'saved', ?, ?, ?, TRUE)",
    )
    .bind(user)
    .bind(name)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?
    .last_insert_id();
    let mut channels = Vec::new();
    for broadcaster in ["100", "200"] {
        channels.push(
            sqlx::query(
                "INSERT INTO session_channels (session_id, broadcaster_id, broadcaster_login, broadcaster_name, created_at, updated_at) \
                 VALUES (?, ?, CONCAT('chan_', ?), CONCAT('chan_', ?), ?, ?)",
            )
            .bind(session_id)
            .bind(broadcaster)
            .bind(broadcaster)
            .bind(broadcaster)
            .bind(now)
            .bind(now)
            .execute(pool)
            .await?
            .last_insert_id(),
        );
    }
    for k in 0..captures {
        let channel = (k % 2) as usize;
        sqlx::query(
            "INSERT INTO captures (session_id, session_channel_id, broadcaster_id, broadcaster_login, capture_trigger, status, \
             queued_at, started_at, finished_at, chatters_count, new_in_session_count, viewer_count, stream_live) \
             VALUES (?, ?, ?, CONCAT('chan_', ?), 'auto', 'done', ? + INTERVAL ? MINUTE, ? + INTERVAL ? MINUTE, ? + INTERVAL ? MINUTE, ?, ?, ?, TRUE)",
        )
        .bind(session_id)
        .bind(channels[channel])
        .bind(["100", "200"][channel])
        .bind(["100", "200"][channel])
        .bind(now)
        .bind(k * 5)
        .bind(now)
        .bind(k * 5)
        .bind(now)
        .bind(k * 5 + 1)
        .bind(accounts as u32)
        // Everyone is seen in the first capture.
        .bind(if k == 0 { accounts as u32 } else { 0 })
        .bind((accounts * 3) as u32)
        .execute(pool)
        .await?;
    }
    let mut start = 1;
    while start <= accounts {
        let end = (start + BATCH - 1).min(accounts);
        let range = format!("seq_{start}_to_{end}");
        // 2 % of accounts are a wave: created within two hours of 2024-03-14, named brook_fanNNNN,
        // default profile. The rest: spread over ten years, their own logins and profiles.
        let sql = format!(
            "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, twitch_created_at, description_empty, \
             default_avatar, first_seen_at, last_seen_at, enriched_at) \
             SELECT {first_id} + seq, \
               IF(seq % 50 = 0, CONCAT('brook_fan', {first_id} + seq), CONCAT('viewer_', CONV({first_id} + seq, 10, 36))), \
               IF(seq % 50 = 0, CONCAT('brook_fan', {first_id} + seq), CONCAT('Viewer_', CONV({first_id} + seq, 10, 36))), \
               IF(seq % 50 = 0, '2024-03-14 02:10:00' + INTERVAL (seq % 7200) SECOND, \
                  '2015-01-01' + INTERVAL ((seq * 7919) % 3650) DAY + INTERVAL (seq % 86400) SECOND), \
               seq % 50 = 0 OR seq % 3 = 0, seq % 50 = 0 OR seq % 5 = 0, '{now}', '{now}', '{now}' \
             FROM {range}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .context("accounts")?;
        let ids = format!(
            "FROM twitch_accounts a WHERE a.twitch_user_id BETWEEN '{lo}' AND '{hi}' AND LENGTH(a.twitch_user_id) = LENGTH('{lo}')",
            lo = first_id + start,
            hi = first_id + end
        );
        // A former name for 1 %: their ledger holds it and the current one (an account never
        // renamed has no ledger row).
        let names = format!(
            "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) \
             SELECT a.id, a.login, a.display_name, '{now}', '{now}' {ids} AND a.id % 100 = 7"
        );
        sqlx::query(sqlx::AssertSqlSafe(names))
            .execute(pool)
            .await
            .context("names")?;
        let renames = format!(
            "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) \
             SELECT a.id, CONCAT('old_', a.login), CONCAT('old_', a.login), '2025-01-01', '2025-06-01' {ids} AND a.id % 100 = 7"
        );
        sqlx::query(sqlx::AssertSqlSafe(renames))
            .execute(pool)
            .await
            .context("renames")?;
        let counted = format!(
            "UPDATE twitch_accounts a SET a.names_count = 2 WHERE a.twitch_user_id BETWEEN '{lo}' AND '{hi}' \
             AND LENGTH(a.twitch_user_id) = LENGTH('{lo}') AND a.id % 100 = 7",
            lo = first_id + start,
            hi = first_id + end
        );
        sqlx::query(sqlx::AssertSqlSafe(counted))
            .execute(pool)
            .await
            .context("names count")?;
        let chatters = format!(
            "INSERT INTO capture_chatters (capture_id, account_id) SELECT c.id, a.id \
             FROM captures c JOIN twitch_accounts a WHERE c.session_id = {session_id} \
             AND a.twitch_user_id BETWEEN '{lo}' AND '{hi}' AND LENGTH(a.twitch_user_id) = LENGTH('{lo}')",
            lo = first_id + start,
            hi = first_id + end
        );
        sqlx::query(sqlx::AssertSqlSafe(chatters))
            .execute(pool)
            .await
            .context("chatters")?;
        let seen = format!(
            "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
             captures_seen_offline, channels_seen) SELECT {session_id}, a.id, '{now}', '{now}', {captures}, 0, {channels_seen} {ids}",
            channels_seen = captures.min(2)
        );
        sqlx::query(sqlx::AssertSqlSafe(seen))
            .execute(pool)
            .await
            .context("session accounts")?;
        for (i, channel) in channels.iter().enumerate().take(captures.min(2) as usize) {
            let per_channel = captures / 2 + u64::from((i as u64) < captures % 2);
            let seen = format!(
                "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, last_seen_at, \
                 captures_seen, captures_seen_offline) SELECT {channel}, a.id, {session_id}, '{now}', '{now}', {per_channel}, 0 {ids}"
            );
            sqlx::query(sqlx::AssertSqlSafe(seen))
                .execute(pool)
                .await
                .context("channel accounts")?;
        }
        start = end + 1;
    }
    Ok(Seeded {
        session_id,
        accounts,
        capture_rows: accounts * captures,
    })
}
