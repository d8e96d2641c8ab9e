//! Every query of the analysis service (all reads; the tables are written by the gateway and
//! the worker through `tca_common::db`). The SQL constants are public so that `tca-bench`
//! can EXPLAIN exactly what runs here.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};
use tca_common::analysis_api::response::{CapturePoint, Name, Sighting};
use tca_common::twitch_id::TwitchId;

/// Pushes the query of the accounts seen in any of `broadcasters` in a session: its
/// per-channel rows, or, while the session has captures of one channel only, its accounts
/// when that channel is asked for (`tca_common::db::presence::record_capture`).
pub fn push_channel_accounts(
    q: &mut QueryBuilder<MySql>,
    session_id: u64,
    broadcasters: &[TwitchId],
) {
    let list = || broadcasters.iter().map(|b| b.as_str().to_string());
    q.push(
        "SELECT sca.account_id FROM session_channel_accounts sca \
         JOIN session_channels sc ON sc.id = sca.session_channel_id WHERE sc.session_id = ",
    )
    .push_bind(session_id)
    .push(" AND sc.broadcaster_id IN ");
    push_list(q, list());
    q.push(
        " UNION ALL SELECT sa.account_id FROM analysis_sessions s \
         JOIN session_channels sc ON sc.id = s.presence_channel_id \
         JOIN session_accounts sa ON sa.session_id = s.id \
         WHERE s.id = ",
    )
    .push_bind(session_id)
    .push(" AND NOT s.presence_per_channel AND sc.broadcaster_id IN ");
    push_list(q, list());
}

/// One row per account of a session (`WHERE sa.session_id = ?` and filters follow). `names`
/// is the ledger's count of distinct names, kept on the account by the worker.
pub const ACCOUNT_SELECT: &str = "SELECT a.id AS account_id, a.twitch_user_id, a.login, a.display_name, a.twitch_created_at, \
     a.default_avatar, a.description_empty, a.enriched_at IS NOT NULL AS enriched, \
     a.missing_since IS NOT NULL AS missing, sa.first_seen_at, sa.last_seen_at, sa.captures_seen, \
     sa.captures_seen_offline, sa.channels_seen, \
     a.names_count AS names \
     FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id";

/// `ACCOUNT_SELECT` with, per account, the finished captures of the channels it was seen in
/// (what "present in every capture of its channels" is measured against). Used by the
/// streamed export, which holds no per-account map; the cached population counts the same
/// thing in memory (`captures_possible`).
const ACCOUNT_WITH_POSSIBLE_SELECT: &str = "SELECT a.id AS account_id, a.twitch_user_id, a.login, a.display_name, a.twitch_created_at, \
     a.default_avatar, a.description_empty, a.enriched_at IS NOT NULL AS enriched, \
     a.missing_since IS NOT NULL AS missing, sa.first_seen_at, sa.last_seen_at, sa.captures_seen, \
     sa.captures_seen_offline, sa.channels_seen, \
     a.names_count AS names, \
     (SELECT COUNT(*) FROM session_channel_accounts sca JOIN captures c \
        ON c.session_channel_id = sca.session_channel_id AND c.status = 'done' \
      WHERE sca.session_id = sa.session_id AND sca.account_id = sa.account_id) \
     + (SELECT COUNT(*) FROM analysis_sessions s JOIN captures c ON c.session_id = s.id AND c.status = 'done' \
      WHERE s.id = sa.session_id AND NOT s.presence_per_channel AND s.presence_channel_id IS NOT NULL) AS captures_possible \
     FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: u64,
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub twitch_created_at: Option<DateTime<Utc>>,
    pub default_avatar: Option<bool>,
    pub description_empty: Option<bool>,
    pub enriched: bool,
    pub missing: bool,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub captures_seen: u32,
    pub captures_seen_offline: u32,
    pub channels_seen: u16,
    pub names: u32,
}

/// An account row with the finished captures of its channels.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportedAccountRow {
    #[sqlx(flatten)]
    pub row: AccountRow,
    pub captures_possible: i64,
}

/// What one query tells about a session before anything is loaded: its channel count, and its
/// data version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Probe {
    pub channels: i64,
    /// The session's finished captures and the last finish, as `done/last`: a capture that
    /// finishes changes it.
    pub captures_version: Option<String>,
    pub last_enriched: Option<DateTime<Utc>>,
    /// A checksum of what moderators wrote that applies here (marks: how many and the last
    /// change; the owner's bot lists: how many and the last import): any change of a label,
    /// a note or a list changes it, and so the scores.
    pub moderation_version: u64,
    /// The session's raids as `count/last id`; read by [`probe_with_raids`] only.
    #[sqlx(default)]
    pub raids_version: Option<String>,
}

/// One round trip per request: `None` when the session does not exist (or was deleted).
///
/// Asked on every analysis request, so it is built to cost the server little (B6 in
/// docs/benchmarks.md): each table is read once — the session row joined, each aggregate pair
/// in one subquery — seven table reads where there were fifteen, half the server's time.
pub async fn probe(pool: &MySqlPool, session_id: u64) -> Result<Option<Probe>, sqlx::Error> {
    probe_query(&PROBE, pool, session_id).await
}

/// [`probe`] and the version of the session's raids (how many, the last one's id): what the
/// dashboard's answer depends on besides the data version (raids are only ever added).
pub async fn probe_with_raids(
    pool: &MySqlPool,
    session_id: u64,
) -> Result<Option<Probe>, sqlx::Error> {
    probe_query(&PROBE_WITH_RAIDS, pool, session_id).await
}

async fn probe_query(
    sql: &'static str,
    pool: &MySqlPool,
    session_id: u64,
) -> Result<Option<Probe>, sqlx::Error> {
    sqlx::query_as(sql)
        .bind(session_id)
        .fetch_optional(pool)
        .await
}

static PROBE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| probe_sql(""));
static PROBE_WITH_RAIDS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    probe_sql(
        ", (SELECT CONCAT_WS('/', COUNT(*), MAX(r.id)) FROM raids r \
           JOIN session_channels sc ON sc.broadcaster_id = r.broadcaster_id \
           WHERE sc.session_id = s.id AND r.raided_at >= s.created_at) AS raids_version",
    )
});

fn probe_sql(more: &str) -> String {
    format!(
        "SELECT (SELECT COUNT(*) FROM session_channels WHERE session_id = s.id) AS channels, \
                (SELECT CONCAT_WS('/', SUM(c.status = 'done'), MAX(c.finished_at)) \
                   FROM captures c WHERE c.session_id = s.id) AS captures_version, \
                (SELECT MAX(enriched_at) FROM twitch_accounts) AS last_enriched, \
                CAST(CRC32(CONCAT_WS('/', \
                  (SELECT CONCAT_WS('/', COUNT(*), MAX(m.updated_at)) FROM account_marks m \
                    WHERE m.user_id = s.user_id \
                       OR m.shared_channel_id IN (SELECT broadcaster_id FROM session_channels WHERE session_id = s.id)), \
                  (SELECT CONCAT_WS('/', COUNT(*), MAX(l.imported_at)) FROM bot_lists l WHERE l.user_id = s.user_id) \
                )) AS UNSIGNED) AS moderation_version{more} \
         FROM analysis_sessions s WHERE s.id = ? AND s.status <> 'deleted'"
    )
}

/// Every account of a session.
pub async fn session_accounts(
    pool: &MySqlPool,
    session_id: u64,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(SESSION_ACCOUNTS_SELECT.as_str())
        .bind(session_id)
        .fetch_all(pool)
        .await
}

/// A session's accounts in account order (the primary key's: no sort), whole or streamed.
static SESSION_ACCOUNTS_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{ACCOUNT_SELECT} WHERE sa.session_id = ? ORDER BY sa.account_id")
});

/// Every account of a session, one at a time, in the order of [`session_accounts`].
pub fn session_accounts_streamed(
    conn: &mut MySqlConnection,
    session_id: u64,
) -> futures::stream::BoxStream<'_, Result<AccountRow, sqlx::Error>> {
    sqlx::query_as(SESSION_ACCOUNTS_SELECT.as_str())
        .bind(session_id)
        .fetch(conn)
}

/// How many of a session's accounts were created each day (UTC; accounts Twitch has not
/// described left out): what [`cohorts::creation::Finder`](crate::cohorts::creation::Finder)
/// starts from.
pub async fn session_creation_days(
    conn: &mut MySqlConnection,
    session_id: u64,
) -> Result<BTreeMap<NaiveDate, usize>, sqlx::Error> {
    let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(
        "SELECT DATE(a.twitch_created_at) AS day, COUNT(*) \
         FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE sa.session_id = ? AND a.twitch_created_at IS NOT NULL GROUP BY day",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, n)| (day, n.max(0) as usize))
        .collect())
}

/// A session's accounts with a creation time as (seconds since 1970, account id), sorted by
/// both: the order [`cohorts::creation::Finder`](crate::cohorts::creation::Finder) takes.
/// Whole seconds, as the finder counts them (creation times carry microseconds, which would
/// order accounts of one second otherwise than their ids do).
pub fn session_creation_order(
    conn: &mut MySqlConnection,
    session_id: u64,
) -> futures::stream::BoxStream<'_, Result<(i64, u64), sqlx::Error>> {
    sqlx::query_as(
        "SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', a.twitch_created_at) AS seconds, \
         sa.account_id FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE sa.session_id = ? AND a.twitch_created_at IS NOT NULL \
         ORDER BY seconds, sa.account_id",
    )
    .bind(session_id)
    .fetch(conn)
}

/// The current login of each renamed account of a session (for its earlier names).
pub async fn session_renamed(
    conn: &mut MySqlConnection,
    session_id: u64,
) -> Result<Vec<(u64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sa.account_id, a.login \
         FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE sa.session_id = ? AND a.names_count > 1",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await
}

/// Finished captures per channel of a session (session channel id → count).
pub async fn done_captures_per_channel(
    pool: &MySqlPool,
    session_id: u64,
) -> Result<HashMap<u64, u32>, sqlx::Error> {
    let rows: Vec<(u64, i64)> = sqlx::query_as(
        "SELECT session_channel_id, COUNT(*) FROM captures WHERE session_id = ? AND status = 'done' \
         GROUP BY session_channel_id",
    )
    .bind(session_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(channel, n)| (channel, n.max(0) as u32))
        .collect())
}

/// (account, session channel) for every account of a session and each channel it was seen in.
pub async fn account_channels(
    pool: &MySqlPool,
    session_id: u64,
) -> Result<Vec<(u64, u64)>, sqlx::Error> {
    // While the session has captures of one channel, its accounts were all seen there.
    sqlx::query_as(
        "SELECT account_id, session_channel_id FROM session_channel_accounts WHERE session_id = ? \
         UNION ALL SELECT sa.account_id, s.presence_channel_id FROM analysis_sessions s \
         JOIN session_accounts sa ON sa.session_id = s.id \
         WHERE s.id = ? AND NOT s.presence_per_channel AND s.presence_channel_id IS NOT NULL",
    )
    .bind(session_id)
    .bind(session_id)
    .fetch_all(pool)
    .await
}

/// The accounts seen in any of `broadcasters` in a session.
pub async fn accounts_in_channels(
    pool: &MySqlPool,
    session_id: u64,
    broadcasters: &[TwitchId],
) -> Result<Vec<u64>, sqlx::Error> {
    let mut q = QueryBuilder::<MySql>::new("");
    push_channel_accounts(&mut q, session_id, broadcasters);
    q.build_query_scalar().fetch_all(pool).await
}

/// A name of the rename ledger, with its account.
#[derive(Debug, sqlx::FromRow)]
pub struct LedgerName {
    pub account_id: u64,
    pub login: String,
    pub display_name: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl From<&LedgerName> for Name {
    fn from(n: &LedgerName) -> Self {
        Self {
            login: n.login.clone(),
            display_name: n.display_name.clone(),
            first_seen_at: n.first_seen_at,
            last_seen_at: n.last_seen_at,
        }
    }
}

/// Pushes `(v1, v2, …)` with each value bound: the list of an `IN`.
fn push_list<'t, T>(q: &mut QueryBuilder<MySql>, values: impl IntoIterator<Item = T>)
where
    T: sqlx::Encode<'t, MySql> + sqlx::Type<MySql>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    q.push(")");
}

/// Every name these accounts held, oldest first: the rename ledger, and for an account never
/// renamed (no ledger row) the name on its account row (docs/architecture.md).
pub async fn names_of(pool: &MySqlPool, ids: &[u64]) -> Result<Vec<LedgerName>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT account_id, login, display_name, first_seen_at, last_seen_at, id AS ledger_id \
         FROM account_names WHERE account_id IN ",
    );
    push_list(&mut q, ids.iter().copied());
    q.push(
        " UNION ALL SELECT a.id, a.login, a.display_name, a.first_seen_at, a.last_seen_at, 0 \
         FROM twitch_accounts a WHERE a.id IN ",
    );
    push_list(&mut q, ids.iter().copied());
    q.push(
        " AND NOT EXISTS (SELECT 1 FROM account_names n WHERE n.account_id = a.id) \
         ORDER BY account_id, first_seen_at, ledger_id",
    );
    q.build_query_as().fetch_all(pool).await
}

/// (login, Twitch id) for every account that ever held one of these logins: in a ledger, or
/// as its current name.
pub async fn login_holders(
    pool: &MySqlPool,
    logins: &[&str],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if logins.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT n.login, a.twitch_user_id FROM account_names n \
         JOIN twitch_accounts a ON a.id = n.account_id WHERE n.login IN ",
    );
    push_list(&mut q, logins.iter().copied());
    q.push(" UNION SELECT login, twitch_user_id FROM twitch_accounts WHERE login IN ");
    push_list(&mut q, logins.iter().copied());
    q.push(" ORDER BY 1, 2");
    q.build_query_as().fetch_all(pool).await
}

/// The captures of a session an account was seen in, oldest first.
pub async fn sightings(
    pool: &MySqlPool,
    session_id: u64,
    account_id: u64,
) -> Result<Vec<Sighting>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: u64,
        broadcaster_login: String,
        finished_at: Option<DateTime<Utc>>,
        stream_live: Option<bool>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.broadcaster_login, c.finished_at, c.stream_live FROM capture_chatters cc \
         JOIN captures c ON c.id = cc.capture_id WHERE cc.account_id = ? AND c.session_id = ? \
         AND c.status = 'done' ORDER BY c.id",
    )
    .bind(account_id)
    .bind(session_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Sighting {
            capture_id: r.id,
            channel: r.broadcaster_login,
            at: r.finished_at,
            live: r.stream_live,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct CaptureRow {
    id: u64,
    broadcaster_login: String,
    finished_at: Option<DateTime<Utc>>,
    chatters_count: Option<u32>,
    new_in_session_count: Option<u32>,
    viewer_count: Option<u32>,
    stream_live: Option<bool>,
}

/// The session's finished captures (of these channels, when any), in the order they finished.
pub async fn finished_captures(
    pool: &MySqlPool,
    session_id: u64,
    broadcasters: &[TwitchId],
) -> Result<Vec<CapturePoint>, sqlx::Error> {
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT c.id, c.broadcaster_login, c.finished_at, c.chatters_count, c.new_in_session_count, c.viewer_count, \
         c.stream_live FROM captures c JOIN session_channels sc ON sc.id = c.session_channel_id \
         WHERE c.status = 'done' AND c.session_id = ",
    );
    q.push_bind(session_id);
    if !broadcasters.is_empty() {
        q.push(" AND sc.broadcaster_id IN ");
        push_list(&mut q, broadcasters.iter().map(|b| b.as_str().to_string()));
    }
    q.push(" ORDER BY c.finished_at, c.id");
    let rows: Vec<CaptureRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|c| CapturePoint {
            chatters_per_viewer: CapturePoint::ratio(c.chatters_count, c.viewer_count),
            id: c.id,
            broadcaster_login: c.broadcaster_login,
            finished_at: c.finished_at,
            chatters_count: c.chatters_count,
            new_in_session_count: c.new_in_session_count,
            viewer_count: c.viewer_count,
            stream_live: c.stream_live,
        })
        .collect())
}

/// Accounts per presence query: an `IN` list this long stays well under the packet limit.
const PRESENCE_IDS_PER_QUERY: usize = 5_000;

/// How many of `accounts` each of these captures saw, by capture id (captures that saw none
/// are absent).
pub async fn presence_in_captures(
    pool: &MySqlPool,
    captures: &[u64],
    accounts: &[u64],
) -> Result<HashMap<u64, u64>, sqlx::Error> {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    if captures.is_empty() {
        return Ok(seen);
    }
    for chunk in accounts.chunks(PRESENCE_IDS_PER_QUERY) {
        let mut q = QueryBuilder::<MySql>::new(
            "SELECT capture_id, CAST(COUNT(*) AS UNSIGNED) FROM capture_chatters WHERE capture_id IN ",
        );
        push_list(&mut q, captures.iter().copied());
        q.push(" AND account_id IN ");
        push_list(&mut q, chunk.iter().copied());
        q.push(" GROUP BY capture_id");
        let rows: Vec<(u64, u64)> = q.build_query_as().fetch_all(pool).await?;
        for (capture, n) in rows {
            *seen.entry(capture).or_default() += n;
        }
    }
    Ok(seen)
}

/// Which of a session's accounts an export holds.
#[derive(Debug, Clone, Default)]
pub struct AccountSelection {
    pub session_id: u64,
    /// Accounts seen in any of these channels; empty: all.
    pub broadcasters: Vec<TwitchId>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// The query of the selected accounts in account order, for the caller to stream
/// (`build_query_as::<ExportedAccountRow>().fetch(pool)`).
pub fn selected_accounts_query(selection: &AccountSelection) -> QueryBuilder<MySql> {
    let mut q = QueryBuilder::<MySql>::new(ACCOUNT_WITH_POSSIBLE_SELECT);
    q.push(" WHERE sa.session_id = ")
        .push_bind(selection.session_id);
    if !selection.broadcasters.is_empty() {
        q.push(" AND sa.account_id IN (");
        push_channel_accounts(&mut q, selection.session_id, &selection.broadcasters);
        q.push(")");
    }
    if let Some(from) = selection.created_from {
        q.push(" AND a.twitch_created_at >= ").push_bind(from);
    }
    if let Some(to) = selection.created_to {
        q.push(" AND a.twitch_created_at < ").push_bind(to);
    }
    q.push(" ORDER BY sa.session_id, sa.account_id");
    q
}

/// A raid into a channel of the session (since the session began).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RaidRow {
    pub session_channel_id: u64,
    pub broadcaster_login: String,
    pub from_login: String,
    pub from_name: String,
    pub viewers: u32,
    pub raided_at: DateTime<Utc>,
}

pub async fn raids(pool: &MySqlPool, session_id: u64) -> Result<Vec<RaidRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sc.id AS session_channel_id, sc.broadcaster_login, r.from_login, r.from_name, r.viewers, r.raided_at \
         FROM raids r JOIN session_channels sc ON sc.broadcaster_id = r.broadcaster_id \
         JOIN analysis_sessions s ON s.id = sc.session_id \
         WHERE sc.session_id = ? AND r.raided_at >= s.created_at ORDER BY r.raided_at, r.id",
    )
    .bind(session_id)
    .fetch_all(pool)
    .await
}

/// The first finished capture of a session channel queued at or after `at`, and the accounts
/// it saw that no capture of the session finished before `at` had seen: what the raid
/// brought. (Not "first seen at or after `at`": a capture under way when the raid landed
/// starts before it and lists the raiders after it.)
pub async fn first_capture_after(
    pool: &MySqlPool,
    session_id: u64,
    session_channel_id: u64,
    at: DateTime<Utc>,
) -> Result<Option<(u64, Vec<u64>)>, sqlx::Error> {
    let capture: Option<u64> = sqlx::query_scalar(
        "SELECT id FROM captures WHERE session_channel_id = ? AND status = 'done' AND queued_at >= ? \
         ORDER BY queued_at, id LIMIT 1",
    )
    .bind(session_channel_id)
    .bind(at)
    .fetch_optional(pool)
    .await?;
    let Some(capture) = capture else {
        return Ok(None);
    };
    let newcomers: Vec<u64> = sqlx::query_scalar(
        "SELECT cc.account_id FROM capture_chatters cc WHERE cc.capture_id = ? AND NOT EXISTS ( \
           SELECT 1 FROM capture_chatters seen JOIN captures k ON k.id = seen.capture_id \
           WHERE seen.account_id = cc.account_id AND k.session_id = ? AND k.status = 'done' \
             AND k.finished_at < ?)",
    )
    .bind(capture)
    .bind(session_id)
    .bind(at)
    .fetch_all(pool)
    .await?;
    Ok(Some((capture, newcomers)))
}

/// A finished capture of the session: its channel, its chatters, and those it saw for the
/// first time in the session (first seen at or after the capture started). `None` if the
/// capture is not a finished capture of this session.
pub async fn capture_newcomers(
    pool: &MySqlPool,
    session_id: u64,
    capture_id: u64,
) -> Result<Option<CaptureSeen>, sqlx::Error> {
    let capture: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT broadcaster_login, started_at FROM captures WHERE id = ? AND session_id = ? AND status = 'done'",
    )
    .bind(capture_id)
    .bind(session_id)
    .fetch_optional(pool)
    .await?;
    let Some((broadcaster_login, Some(started_at))) = capture else {
        return Ok(None);
    };
    let rows: Vec<(u64, bool)> = sqlx::query_as(
        "SELECT cc.account_id, sa.first_seen_at >= ? FROM capture_chatters cc \
         JOIN session_accounts sa ON sa.session_id = ? AND sa.account_id = cc.account_id \
         WHERE cc.capture_id = ?",
    )
    .bind(started_at)
    .bind(session_id)
    .bind(capture_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(CaptureSeen {
        broadcaster_login,
        started_at,
        newcomers: rows
            .iter()
            .filter(|(_, new)| *new)
            .map(|(id, _)| *id)
            .collect(),
        chatters: rows.into_iter().map(|(id, _)| id).collect(),
    }))
}

pub struct CaptureSeen {
    pub broadcaster_login: String,
    pub started_at: DateTime<Utc>,
    pub chatters: Vec<u64>,
    pub newcomers: Vec<u64>,
}
