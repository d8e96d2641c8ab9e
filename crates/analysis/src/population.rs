//! A session's accounts with everything the analysis needs, scored: loaded in one query and
//! kept by `cache` per session and data version, so repeated views do not reload 200k rows.

use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::MySqlPool;
use tca_common::analysis_api::response::{Account, Reason};
use tca_common::twitch_id::TwitchId;

use crate::db::{self, AccountRow};
use crate::histogram::{self, BurstRule, Granularity};
use crate::scoring::{self, Facts, Score, ScoringConfig, SessionContext};

/// One account of the session with its score.
#[derive(Debug, Clone)]
pub struct Scored {
    pub row: AccountRow,
    pub score: Score,
}

impl Scored {
    /// Scores one account row in its session's context. `captures_possible` is the number of
    /// finished captures of the channels the account was seen in.
    pub fn new(
        row: AccountRow,
        context: &SessionContext,
        captures_possible: u32,
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
            captures_possible,
        };
        let score = scoring::score(&facts, context, config);
        Self { row, score }
    }

    pub fn renames(&self) -> u32 {
        self.row.names.max(1) - 1
    }

    /// The account as the API shows it.
    pub fn to_account(&self) -> Account {
        Account {
            twitch_user_id: self.row.twitch_user_id.clone(),
            login: self.row.login.clone(),
            display_name: self.row.display_name.clone(),
            created_at: self.row.twitch_created_at,
            first_seen_at: self.row.first_seen_at,
            last_seen_at: self.row.last_seen_at,
            captures_seen: self.row.captures_seen,
            captures_seen_offline: self.row.captures_seen_offline,
            channels_seen: self.row.channels_seen,
            renames: self.renames(),
            default_avatar: self.row.default_avatar,
            empty_bio: self.row.description_empty,
            missing: self.row.missing,
            score: self.score.score,
            reasons: self
                .score
                .reasons
                .iter()
                .map(|r| Reason {
                    code: r.code.to_string(),
                    points: r.points,
                    sentence: r.sentence.clone(),
                })
                .collect(),
        }
    }
}

pub struct Population {
    pub accounts: Vec<Scored>,
    /// Accounts seen in a set of channels (sorted broadcaster ids), remembered for this data
    /// version: a dashboard filtered to a channel asks for the same set over and over.
    channel_accounts: Mutex<HashMap<Vec<TwitchId>, Arc<HashSet<u64>>>>,
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
        lock(&self.answers).get(key).cloned()
    }

    pub fn remember_answer(&self, key: String, body: Bytes) {
        let mut answers = lock(&self.answers);
        if answers.len() >= REMEMBERED_ANSWERS {
            answers.clear();
        }
        answers.insert(key, body);
    }

    /// The accounts seen in any of `broadcasters` in this session.
    pub async fn in_channels(
        &self,
        pool: &MySqlPool,
        session_id: u64,
        broadcasters: &[TwitchId],
    ) -> Result<Arc<HashSet<u64>>, sqlx::Error> {
        let mut key = broadcasters.to_vec();
        key.sort();
        key.dedup();
        if let Some(found) = lock(&self.channel_accounts).get(&key) {
            return Ok(found.clone());
        }
        let ids = db::accounts_in_channels(pool, session_id, &key).await?;
        let set = Arc::new(ids.into_iter().collect::<HashSet<u64>>());
        let mut remembered = lock(&self.channel_accounts);
        if remembered.len() >= REMEMBERED_CHANNEL_SETS {
            remembered.clear();
        }
        remembered.insert(key, set.clone());
        Ok(set)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Loads and scores a session's accounts.
pub async fn load(
    pool: &MySqlPool,
    session_id: u64,
    config: &ScoringConfig,
) -> Result<Population, sqlx::Error> {
    let started = std::time::Instant::now();
    let rows = db::session_accounts(pool, session_id).await?;
    let possible = CapturesPossible::load(pool, session_id).await?;
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
        .map(|row| {
            let possible = possible.of(row.account_id);
            Scored::new(row, &context, possible, config)
        })
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

/// The finished captures of the channels each account was seen in. With captures in one
/// channel only, that is every finished capture of the session for every account, and no
/// per-account rows are read.
enum CapturesPossible {
    Same(u32),
    PerAccount(HashMap<u64, u32>),
}

impl CapturesPossible {
    async fn load(pool: &MySqlPool, session_id: u64) -> Result<Self, sqlx::Error> {
        let per_channel = db::done_captures_per_channel(pool, session_id).await?;
        if per_channel.len() <= 1 {
            return Ok(Self::Same(per_channel.values().sum()));
        }
        let mut per_account: HashMap<u64, u32> = HashMap::new();
        for (account, channel) in db::account_channels(pool, session_id).await? {
            *per_account.entry(account).or_default() +=
                per_channel.get(&channel).copied().unwrap_or(0);
        }
        Ok(Self::PerAccount(per_account))
    }

    fn of(&self, account_id: u64) -> u32 {
        match self {
            Self::Same(n) => *n,
            Self::PerAccount(map) => map.get(&account_id).copied().unwrap_or(0),
        }
    }
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
    let days = db::creation_day_counts(pool, session_id).await?;
    let prefixes = db::same_day_stems(pool, session_id, config.shared_prefix_min).await?;
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

/// Which accounts a request looks at: channels (account ids seen there) and a creation period.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub in_channels: Option<Arc<HashSet<u64>>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

impl Selection {
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

    /// The population's accounts this selection keeps.
    pub fn of<'a>(&'a self, population: &'a Population) -> impl Iterator<Item = &'a Scored> + 'a {
        population.accounts.iter().filter(|a| self.keeps(&a.row))
    }
}
