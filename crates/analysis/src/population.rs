//! A session's accounts with everything the analysis needs, scored. Loaded in one query,
//! cached per session and data version (the session's finished captures and the latest
//! enrichment), so repeated views and exports do not reload 200k rows.

use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::MySqlPool;

use crate::histogram::{self, BurstRule, Granularity};
use crate::scoring::{self, Facts, Score, ScoringConfig, SessionContext};

/// Accounts per creation day in a session (`?`: the session id).
pub const DAY_COUNTS_SQL: &str = "SELECT a.twitch_created_date, COUNT(*) FROM session_accounts sa \
     JOIN twitch_accounts a ON a.id = sa.account_id \
     WHERE sa.session_id = ? AND a.twitch_created_date IS NOT NULL GROUP BY a.twitch_created_date";

/// The accounts seen in some of a session's channels: the session id and
/// ` AND sc.broadcaster_id IN (…)` follow.
pub const CHANNEL_ACCOUNTS_SELECT: &str = "SELECT sca.account_id FROM session_channel_accounts sca \
     JOIN session_channels sc ON sc.id = sca.session_channel_id WHERE sc.session_id = ";

/// One row per account of a session (`WHERE sa.session_id = ?` and filters follow). `names`
/// is the ledger's count of distinct names, kept on the account by the worker.
pub const ACCOUNT_SELECT: &str = "SELECT a.id AS account_id, a.twitch_user_id, a.login, a.display_name, a.twitch_created_at, \
     a.default_avatar, a.description_empty, a.enriched_at IS NOT NULL AS enriched, \
     a.missing_since IS NOT NULL AS missing, sa.first_seen_at, sa.last_seen_at, sa.captures_seen, \
     sa.captures_seen_offline, sa.channels_seen, \
     a.names_count AS names \
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

/// One account of the session with its score.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    #[serde(skip)]
    pub row: AccountRow,
    pub score: Score,
}

impl Scored {
    /// Scores one account row in its session's context.
    pub fn new(
        row: AccountRow,
        context: &SessionContext,
        captures_done: u32,
        config: &ScoringConfig,
    ) -> Self {
        let facts = Facts {
            login: &row.login,
            created_at: row.twitch_created_at,
            default_avatar: row.default_avatar,
            description_empty: row.description_empty,
            missing: row.missing,
            first_seen_at: row.first_seen_at,
            captures_seen: row.captures_seen,
            captures_seen_offline: row.captures_seen_offline,
            channels_seen: u32::from(row.channels_seen),
            names: row.names.max(1),
            captures_possible: captures_done,
        };
        let score = scoring::score(&facts, context, config);
        Self { row, score }
    }

    pub fn renames(&self) -> u32 {
        self.row.names.max(1) - 1
    }
}

pub struct Population {
    pub accounts: Vec<Scored>,
    /// Accounts seen in a set of channels (sorted broadcaster ids), remembered for this data
    /// version: a dashboard filtered to a channel asks for the same set over and over.
    channel_accounts: Mutex<HashMap<Vec<String>, Arc<HashSet<u64>>>>,
    /// Whole JSON answers of this data version, by view and query: the dashboard asks the
    /// same questions on every view of the page, and each would walk every account again.
    answers: Mutex<HashMap<String, Bytes>>,
}

/// Channel sets remembered per population.
const REMEMBERED_CHANNEL_SETS: usize = 16;
/// Answers remembered per population (beyond that they are forgotten all at once).
const REMEMBERED_ANSWERS: usize = 128;

impl Population {
    /// The answer given earlier to `key` for this data version.
    pub fn answer(&self, key: &str) -> Option<Bytes> {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub fn remember_answer(&self, key: String, body: Bytes) {
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if answers.len() >= REMEMBERED_ANSWERS {
            answers.clear();
        }
        answers.insert(key, body);
    }

    /// The accounts seen in any of `broadcasters` (Twitch ids) in this session.
    pub async fn in_channels(
        &self,
        pool: &MySqlPool,
        session_id: u64,
        broadcasters: &[String],
    ) -> Result<Arc<HashSet<u64>>, sqlx::Error> {
        let mut key = broadcasters.to_vec();
        key.sort();
        key.dedup();
        if let Some(found) = self.remembered().get(&key) {
            return Ok(found.clone());
        }
        let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(CHANNEL_ACCOUNTS_SELECT);
        q.push_bind(session_id).push(" AND sc.broadcaster_id IN (");
        let mut list = q.separated(", ");
        for b in &key {
            list.push_bind(b.clone());
        }
        q.push(")");
        let ids: Vec<u64> = q.build_query_scalar().fetch_all(pool).await?;
        let set = Arc::new(ids.into_iter().collect::<HashSet<u64>>());
        let mut remembered = self.remembered();
        if remembered.len() >= REMEMBERED_CHANNEL_SETS {
            remembered.clear();
        }
        remembered.insert(key, set.clone());
        Ok(set)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<String>, Arc<HashSet<u64>>>> {
        self.channel_accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    captures_done: i64,
    last_finished: Option<DateTime<Utc>>,
    last_enriched: Option<DateTime<Utc>>,
}

/// What one query tells about a session before anything is loaded: whether it exists, its
/// channel count, and its data version.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Probe {
    live: bool,
    pub channels: i64,
    captures_done: i64,
    last_finished: Option<DateTime<Utc>>,
    last_enriched: Option<DateTime<Utc>>,
}

impl Probe {
    fn version(&self) -> Version {
        Version {
            captures_done: self.captures_done,
            last_finished: self.last_finished,
            last_enriched: self.last_enriched,
        }
    }
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<u64, (Version, Arc<Population>)>>,
}

/// Sessions kept in memory at once; beyond that an arbitrary one is dropped (and reloaded if
/// asked for again).
const CACHED_SESSIONS: usize = 16;

impl Cache {
    /// One round trip per request: `None` when the session does not exist (or was deleted).
    pub async fn probe(
        &self,
        pool: &MySqlPool,
        session_id: u64,
    ) -> Result<Option<Probe>, sqlx::Error> {
        let probe: Probe = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM analysis_sessions WHERE id = ? AND status <> 'deleted') AS live, \
                    (SELECT COUNT(*) FROM session_channels WHERE session_id = ?) AS channels, \
                    (SELECT COUNT(*) FROM captures WHERE session_id = ? AND status = 'done') AS captures_done, \
                    (SELECT MAX(finished_at) FROM captures WHERE session_id = ?) AS last_finished, \
                    (SELECT MAX(enriched_at) FROM twitch_accounts) AS last_enriched",
        )
        .bind(session_id)
        .bind(session_id)
        .bind(session_id)
        .bind(session_id)
        .fetch_one(pool)
        .await?;
        Ok(probe.live.then_some(probe))
    }

    /// The session's population for the data version `probe` saw, loaded if not cached.
    pub async fn get(
        &self,
        pool: &MySqlPool,
        session_id: u64,
        probe: &Probe,
        config: &ScoringConfig,
    ) -> Result<Arc<Population>, sqlx::Error> {
        let version = probe.version();
        if let Some((cached, population)) = self.lock().get(&session_id)
            && *cached == version
        {
            return Ok(population.clone());
        }
        let population =
            Arc::new(load(pool, session_id, version.captures_done as u32, config).await?);
        let mut entries = self.lock();
        if entries.len() >= CACHED_SESSIONS
            && let Some(evicted) = entries.keys().next().copied()
        {
            entries.remove(&evicted);
        }
        entries.insert(session_id, (version, population.clone()));
        Ok(population)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Version, Arc<Population>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn load(
    pool: &MySqlPool,
    session_id: u64,
    captures_done: u32,
    config: &ScoringConfig,
) -> Result<Population, sqlx::Error> {
    let started = std::time::Instant::now();
    let rows: Vec<AccountRow> = sqlx::QueryBuilder::<sqlx::MySql>::new(ACCOUNT_SELECT)
        .push(" WHERE sa.session_id = ")
        .push_bind(session_id)
        .build_query_as()
        .fetch_all(pool)
        .await?;
    // The rows are here: count days and prefixes from them rather than asking MariaDB to join
    // the session's accounts twice more (the export, which has no rows in memory, does).
    let mut counts = ContextCounts::default();
    for row in &rows {
        counts.add(row.twitch_created_at.map(|c| c.date_naive()), &row.login);
    }
    let context = counts.into_context(config);
    let fetched = started.elapsed();
    let accounts: Vec<Scored> = rows
        .into_iter()
        .map(|row| Scored::new(row, &context, captures_done, config))
        .collect();
    tracing::info!(
        session_id,
        accounts = accounts.len(),
        fetch_ms = fetched.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "population loaded"
    );
    Ok(Population {
        accounts,
        channel_accounts: Mutex::default(),
        answers: Mutex::default(),
    })
}

/// Creation days and same-day login prefixes, counted: what a session context is made of.
#[derive(Debug, Default)]
pub struct ContextCounts {
    days: BTreeMap<NaiveDate, u64>,
    prefixes: HashMap<(NaiveDate, String), usize>,
}

impl ContextCounts {
    /// Counts one account.
    pub fn add(&mut self, created: Option<NaiveDate>, login: &str) {
        let Some(day) = created else { return };
        *self.days.entry(day).or_default() += 1;
        if let Some(prefix) = scoring::digit_prefix(login) {
            *self.prefixes.entry((day, prefix.to_string())).or_default() += 1;
        }
    }

    /// Burst days from the day histogram; prefixes kept where enough accounts share them.
    pub fn into_context(self, config: &ScoringConfig) -> SessionContext {
        let burst_days = histogram::build(&self.days, Granularity::Day, BurstRule::default())
            .into_iter()
            .filter(|b| b.burst)
            .map(|b| b.start)
            .collect();
        let prefix_counts = self
            .prefixes
            .into_iter()
            .filter(|(_, shared)| *shared >= config.shared_prefix_min)
            .collect();
        SessionContext {
            burst_days,
            prefix_counts,
        }
    }
}

/// The session context without loading the session's accounts: MariaDB counts days and
/// same-day login prefixes (GROUP BY), so memory follows days and cohorts, not accounts. The
/// streamed export scores with it; it equals what `load` counts from the rows.
pub async fn session_context(
    pool: &MySqlPool,
    session_id: u64,
    config: &ScoringConfig,
) -> Result<SessionContext, sqlx::Error> {
    let days: Vec<(NaiveDate, i64)> = sqlx::query_as(DAY_COUNTS_SQL)
        .bind(session_id)
        .fetch_all(pool)
        .await?;
    // `scoring::digit_prefix` in SQL: 3+ trailing digits, the stem is what precedes them; the
    // stem's "3+ letters" rule is checked below, on the few groups that come back.
    let prefixes: Vec<(NaiveDate, String, i64)> = sqlx::query_as(
        "SELECT a.twitch_created_date, REGEXP_REPLACE(a.login, '[0-9]+$', '') AS stem, COUNT(*) \
         FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE sa.session_id = ? AND a.twitch_created_date IS NOT NULL AND a.login REGEXP '[0-9]{3}$' \
         GROUP BY a.twitch_created_date, stem HAVING COUNT(*) >= ?",
    )
    .bind(session_id)
    .bind(config.shared_prefix_min as u64)
    .fetch_all(pool)
    .await?;
    let counts = ContextCounts {
        days: days
            .into_iter()
            .map(|(day, n)| (day, n.max(0) as u64))
            .collect(),
        prefixes: prefixes
            .into_iter()
            .filter(|(_, stem, _)| {
                scoring::digit_prefix(&format!("{stem}000")) == Some(stem.as_str())
            })
            .map(|(day, stem, n)| ((day, stem), n.max(0) as usize))
            .collect(),
    };
    Ok(counts.into_context(config))
}

/// Which accounts a request looks at: channels (session channel ids) and a creation period.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub in_channels: Option<Arc<HashSet<u64>>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

impl Filter {
    pub fn keeps(&self, row: &AccountRow) -> bool {
        if let Some(accounts) = &self.in_channels
            && !accounts.contains(&row.account_id)
        {
            return false;
        }
        if self.created_from.is_some() || self.created_to.is_some() {
            let Some(created) = row.twitch_created_at else {
                return false;
            };
            if self.created_from.is_some_and(|from| created < from)
                || self.created_to.is_some_and(|to| created >= to)
            {
                return false;
            }
        }
        true
    }
}
