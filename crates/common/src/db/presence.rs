//! Who was present: `capture_chatters` (one row per account of a capture) and the presence
//! aggregates kept in the capture's transaction so analysis never scans capture rows —
//! `session_accounts` (per session) and `session_channel_accounts` (per channel of a session,
//! kept once the session has captures of two channels: `record_capture`).

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

/// Capture rows per multi-row INSERT (2 placeholders a row, far below 65,535).
const CAPTURE_ROWS_PER_STATEMENT: usize = 5000;

/// Records a capture's accounts (sorted, distinct: a stable lock order for the aggregates'
/// rows) in the caller's transaction, which holds the session's row lock (captures of one
/// session are stored one at a time): the capture's rows, then the presence aggregates, each
/// in **one** set-based statement read from those rows (docs/worker.md; tca-bench B3).
/// Returns how many accounts were new to the session.
///
/// Per-channel presence is kept only once the session has captures of two channels: until
/// then it would repeat `session_accounts` row for row, and readers take `session_accounts`
/// as the presence of the session's one captured channel (`presence_channel_id`). The first
/// capture of a second channel fills the first channel's rows from `session_accounts`.
pub async fn record_capture(
    conn: &mut MySqlConnection,
    sighting: &Sighting,
    ids: &[u64],
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    ensure_capture_rows(conn, sighting.capture_id, ids).await?;
    let per_channel = presence_mode(conn, sighting).await?;
    let offline = u32::from(sighting.offline);
    let mut upsert = sqlx::query(if per_channel {
        SESSION_UPSERT_PER_CHANNEL.as_str()
    } else {
        SESSION_UPSERT_ONE_CHANNEL.as_str()
    })
    .bind(sighting.session_id)
    .bind(sighting.captured_at)
    .bind(sighting.captured_at)
    .bind(offline);
    if per_channel {
        upsert = upsert.bind(sighting.session_channel_id);
    }
    let written = upsert
        .bind(sighting.capture_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // How many accounts are new to the session, from what that statement did: an upsert
    // counts 1 for a row it inserts and 2 for a row it changes, and every existing row
    // changes (`captures_seen` + 1). So of the capture's n rows, 2n - written are new — with
    // no second read of the 100k capture rows (B3).
    let new_in_session = (2 * ids.len() as u64).saturating_sub(written);
    if per_channel {
        sqlx::query(
            "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, \
             last_seen_at, captures_seen, captures_seen_offline) \
             SELECT ?, cc.account_id, ?, ?, ?, 1, ? FROM capture_chatters cc \
             WHERE cc.capture_id = ? ORDER BY cc.account_id \
             ON DUPLICATE KEY UPDATE \
             last_seen_at = GREATEST(session_channel_accounts.last_seen_at, VALUES(last_seen_at)), \
             captures_seen = session_channel_accounts.captures_seen + 1, \
             captures_seen_offline = session_channel_accounts.captures_seen_offline + VALUES(captures_seen_offline)",
        )
        .bind(sighting.session_channel_id)
        .bind(sighting.session_id)
        .bind(sighting.captured_at)
        .bind(sighting.captured_at)
        .bind(offline)
        .bind(sighting.capture_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(new_in_session)
}

/// Makes the capture's rows exactly `ids`. Normally the worker wrote them page by page
/// (`record_page`) and this only compares them with the listing, by a fingerprint read in
/// the caller's transaction (which holds the capture's row lock, so no page can be added
/// meanwhile). They differ when an earlier, interrupted run of the same capture left rows
/// behind that this run did not clear, or when a caller wrote none: then they are replaced
/// here, inside the transaction, as before pages were written on arrival.
async fn ensure_capture_rows(
    conn: &mut MySqlConnection,
    capture_id: u64,
    ids: &[u64],
) -> Result<(), sqlx::Error> {
    let stored: Fingerprint = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS UNSIGNED), CAST(COALESCE(SUM(account_id), 0) AS UNSIGNED), \
         CAST(COALESCE(SUM(MOD(account_id, ?) * ? % ?), 0) AS UNSIGNED) \
         FROM capture_chatters WHERE capture_id = ?",
    )
    .bind(FINGERPRINT_PRIME)
    .bind(FINGERPRINT_FACTOR)
    .bind(FINGERPRINT_PRIME)
    .bind(capture_id)
    .fetch_one(&mut *conn)
    .await?;
    if stored == fingerprint(ids) {
        return Ok(());
    }
    if stored.0 > 0 {
        tracing::info!(
            capture_id,
            stored = stored.0,
            listed = ids.len(),
            "the capture's rows differ from its listing: rewritten in its transaction"
        );
        sqlx::query("DELETE FROM capture_chatters WHERE capture_id = ?")
            .bind(capture_id)
            .execute(&mut *conn)
            .await?;
    }
    for chunk in ids.chunks(CAPTURE_ROWS_PER_STATEMENT) {
        let mut q =
            QueryBuilder::<MySql>::new("INSERT INTO capture_chatters (capture_id, account_id) ");
        q.push_values(chunk, |mut row, id| {
            row.push_bind(capture_id).push_bind(*id);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// (rows, sum of the ids, sum of a hash of each id) of a set of account ids: two different
/// sets agree on all three only by a coincidence far rarer than any fault it guards against
/// (a hash of 32 bits summed, on top of the count and the sum).
type Fingerprint = (u64, u64, u64);

/// The largest prime below 2^32, and Knuth's multiplicative hash factor: (id mod p) × f fits
/// in 64 unsigned bits on both sides, MariaDB's arithmetic and ours.
const FINGERPRINT_PRIME: u64 = 4_294_967_291;
const FINGERPRINT_FACTOR: u64 = 2_654_435_761;

fn fingerprint(ids: &[u64]) -> Fingerprint {
    ids.iter().fold((0, 0, 0), |(n, sum, hashed), id| {
        (
            n + 1,
            sum.wrapping_add(*id),
            hashed + (id % FINGERPRINT_PRIME) * FINGERPRINT_FACTOR % FINGERPRINT_PRIME,
        )
    })
}

/// Writes a page's accounts (sorted, distinct) as rows of a running capture as the page
/// arrives, so that the capture's final transaction does not write them (tca-bench B3b).
/// Rows of a capture that is not done are read by no one (each reader joins a done capture).
/// A capture no longer running (done, failed) gets none: under REPEATABLE READ an
/// `INSERT … SELECT` reads the capture's row with a shared lock, so it waits for a final
/// transaction under way and then sees the capture done. A chatter already written (listed
/// on two pages, or by a zombie run of the same capture) stays one row.
pub async fn record_page(
    pool: &MySqlPool,
    capture_id: u64,
    ids: &[u64],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(CAPTURE_ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO capture_chatters (capture_id, account_id) SELECT c.id, a.id \
             FROM captures c JOIN twitch_accounts a ON a.id IN (",
        );
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(") WHERE c.id = ").push_bind(capture_id).push(
            " AND c.status = 'running' ORDER BY a.id \
                 ON DUPLICATE KEY UPDATE account_id = capture_chatters.account_id",
        );
        q.build().execute(pool).await?;
    }
    Ok(())
}

/// The session's aggregate from the capture's rows. Per channel, it goes first: an account
/// counts one more channel when this channel's aggregate does not have it yet — which the
/// next statement changes. With one channel, every account has been seen in exactly it.
static SESSION_UPSERT_PER_CHANNEL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    session_upsert(
        "IF(sca.account_id IS NULL, 1, 0)",
        "LEFT JOIN session_channel_accounts sca \
         ON sca.session_channel_id = ? AND sca.account_id = cc.account_id",
        ", channels_seen = session_accounts.channels_seen + VALUES(channels_seen)",
    )
});
static SESSION_UPSERT_ONE_CHANNEL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| session_upsert("1", "", ""));

fn session_upsert(channels_seen: &str, join: &str, more_channels: &str) -> String {
    format!(
        "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
         captures_seen_offline, channels_seen) \
         SELECT ?, cc.account_id, ?, ?, 1, ?, {channels_seen} FROM capture_chatters cc {join} \
         WHERE cc.capture_id = ? ORDER BY cc.account_id \
         ON DUPLICATE KEY UPDATE \
         last_seen_at = GREATEST(session_accounts.last_seen_at, VALUES(last_seen_at)), \
         captures_seen = session_accounts.captures_seen + 1, \
         captures_seen_offline = session_accounts.captures_seen_offline + VALUES(captures_seen_offline)\
         {more_channels}"
    )
}

/// Whether the session keeps presence per channel, switching to it at the first capture of a
/// second channel (filling the first channel's rows from `session_accounts`, which so far
/// hold exactly that channel's presence), and naming this channel as the session's one
/// captured channel at its first capture.
async fn presence_mode(
    conn: &mut MySqlConnection,
    sighting: &Sighting,
) -> Result<bool, sqlx::Error> {
    // The caller holds this lock already; taken again so the mode cannot change under us.
    let (per_channel, only_channel): (bool, Option<u64>) = sqlx::query_as(
        "SELECT presence_per_channel, presence_channel_id FROM analysis_sessions WHERE id = ? FOR UPDATE",
    )
    .bind(sighting.session_id)
    .fetch_one(&mut *conn)
    .await?;
    match only_channel {
        _ if per_channel => Ok(true),
        None => {
            // Per-channel rows written by the previous version for a session created during
            // an upgrade's few seconds: the session stays per channel.
            let written_before: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM session_channel_accounts WHERE session_id = ?)",
            )
            .bind(sighting.session_id)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE analysis_sessions SET presence_channel_id = ?, presence_per_channel = ? \
                 WHERE id = ?",
            )
            .bind(sighting.session_channel_id)
            .bind(written_before)
            .bind(sighting.session_id)
            .execute(&mut *conn)
            .await?;
            Ok(written_before)
        }
        Some(only) if only == sighting.session_channel_id => Ok(false),
        Some(first) => {
            sqlx::query(
                "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, \
                 last_seen_at, captures_seen, captures_seen_offline) \
                 SELECT ?, account_id, session_id, first_seen_at, last_seen_at, captures_seen, captures_seen_offline \
                 FROM session_accounts WHERE session_id = ? ORDER BY account_id",
            )
            .bind(first)
            .bind(sighting.session_id)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE analysis_sessions SET presence_per_channel = TRUE WHERE id = ?")
                .bind(sighting.session_id)
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
    }
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
