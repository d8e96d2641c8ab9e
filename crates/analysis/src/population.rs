//! A session's accounts with everything the analysis needs, scored: loaded in one query and
//! kept by `cache` per session and data version, so repeated views do not reload 200k rows.

use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::MySqlPool;
use tca_common::analysis_api::response::{Account, Reason};
use tca_common::i18n::{self, Texts};
use tca_common::twitch_id::TwitchId;

use crate::cohorts::{
    self,
    evidence::{EarlierName, Member},
};
use crate::db::{self, AccountRow};
use crate::scoring::{
    self, CohortMark, Facts, Label, ListMatch, MarkView, Moderation, Score, ScoringConfig,
    SessionContext,
};

/// One account of the session with its score.
#[derive(Debug, Clone)]
pub struct Scored {
    pub row: AccountRow,
    pub score: Score,
    pub cohort: Option<CohortMark>,
    /// The moderator's mark in force in the session.
    pub mark: Option<MarkView>,
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
        let cohort = context.cohorts.get(&row.account_id).cloned();
        let moderation = context.moderation.get(&row.account_id).cloned();
        let score = scoring::score(&facts, cohort.as_ref(), moderation.as_ref(), config);
        Self {
            row,
            score,
            cohort,
            mark: moderation.and_then(|m| m.mark),
        }
    }

    pub fn flagged(&self, threshold: u32) -> bool {
        self.score.flagged(threshold)
    }

    /// The account's label, `trusted`/`bot`/`watch`.
    pub fn label(&self) -> Option<Label> {
        self.mark.as_ref().and_then(|m| m.label)
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
                    sentence: r.sentence(i18n::current()),
                })
                .collect(),
            cohort_id: self.cohort.as_ref().map(|c| c.cohort_id),
            cohort_strength: self.cohort.as_ref().map(|c| c.strength),
            label: self.label().map(|l| l.as_str().to_string()),
            note: self
                .mark
                .as_ref()
                .map(|m| m.note.clone())
                .filter(|n| !n.is_empty()),
            marked_by: self.mark.as_ref().map(|m| m.by.clone()),
            marked_at: self.mark.as_ref().map(|m| m.at),
            trusted: self.score.trusted,
        }
    }
}

pub struct Population {
    pub accounts: Vec<Scored>,
    /// Cohorts and each account's cohort (the streamed export scores with it too).
    pub context: Arc<SessionContext>,
    /// The session's cohorts, bot cohorts strongest first (docs/cohorts.md).
    pub cohorts: Vec<CohortSummary>,
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

/// A cohort as the session keeps it: its id, kind, strength, evidence and members.
#[derive(Debug, Clone)]
pub struct CohortSummary {
    pub cohort_id: u64,
    pub kind: cohorts::Kind,
    pub strength: u32,
    pub evidence: Arc<Texts>,
    /// Account ids, in creation order.
    pub members: Vec<u64>,
    pub first_created: DateTime<Utc>,
    pub last_created: DateTime<Utc>,
}

/// Loads a session's accounts, finds their cohorts and scores them.
pub async fn load(
    pool: &MySqlPool,
    session_id: u64,
    config: &ScoringConfig,
) -> Result<Population, sqlx::Error> {
    let started = std::time::Instant::now();
    // Independent reads, on their own connections at once: MariaDB reads the accounts and
    // the account-to-channel rows on both cores while this process decodes (B5 cold).
    let (rows, possible, said) = tokio::try_join!(
        db::session_accounts(pool, session_id),
        CapturesPossible::load(pool, session_id),
        Said::load(pool, session_id),
    )?;
    let renamed: Vec<(u64, &str)> = rows
        .iter()
        .filter(|r| r.names > 1)
        .map(|r| (r.account_id, r.login.as_str()))
        .collect();
    let earlier = earlier_names(pool, &renamed).await?;
    let fetched = started.elapsed();
    let members: Vec<Member<'_>> = rows.iter().map(|r| member(r, &earlier)).collect();
    let found = cohorts::detect(&members, &config.cohorts);
    drop(members);
    let (mut context, cohorts) = marked(&found, |i| rows[i].account_id);
    context.moderation = if said.marks.is_empty() {
        said.resolve(|_| None)
    } else {
        let by_twitch_id: HashMap<&str, u64> = rows
            .iter()
            .map(|r| (r.twitch_user_id.as_str(), r.account_id))
            .collect();
        said.resolve(|twitch_id| by_twitch_id.get(twitch_id).copied())
    };
    let found = started.elapsed();
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
        cohorts = cohorts.len(),
        fetch_ms = fetched.as_millis() as u64,
        cohorts_ms = (found - fetched).as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "population loaded"
    );
    Ok(Population {
        accounts,
        context: Arc::new(context),
        cohorts,
        channel_accounts: Mutex::default(),
        answers: Mutex::default(),
    })
}

/// What moderators said that applies in a session: the marks in force and the owner's bot
/// lists, before they are matched to the session's accounts.
struct Said {
    owner: Option<u64>,
    marks: Vec<tca_common::db::marks::Mark>,
    lists: Vec<tca_common::db::bot_lists::ListMatch>,
}

impl Said {
    async fn load(pool: &MySqlPool, session_id: u64) -> Result<Self, sqlx::Error> {
        let owner: Option<u64> =
            sqlx::query_scalar("SELECT user_id FROM analysis_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(pool)
                .await?;
        Ok(Self {
            owner,
            marks: tca_common::db::marks::in_session(pool, session_id).await?,
            lists: tca_common::db::bot_lists::matches_in_session(pool, session_id).await?,
        })
    }

    /// The Twitch ids marked (marks are keyed by Twitch id: an account renamed since keeps
    /// them).
    fn marked_twitch_ids(&self) -> HashSet<&str> {
        self.marks
            .iter()
            .map(|m| m.twitch_user_id.as_str())
            .collect()
    }

    /// By account id, given the session's account of a Twitch id.
    fn resolve(self, account_of: impl Fn(&str) -> Option<u64>) -> HashMap<u64, Moderation> {
        let mut moderation: HashMap<u64, Moderation> = HashMap::new();
        for mark in self.marks {
            if let Some(account) = account_of(mark.twitch_user_id.as_str()) {
                moderation.entry(account).or_default().mark = Some(MarkView {
                    label: mark.label(),
                    shared: Some(mark.user_id) != self.owner,
                    note: mark.note,
                    by: mark.author_login,
                    at: mark.updated_at,
                });
            }
        }
        for list in self.lists {
            moderation
                .entry(list.account_id)
                .or_default()
                .lists
                .push(ListMatch {
                    name: list.name,
                    points: u32::from(list.points),
                    imported_at: list.imported_at,
                });
        }
        moderation
    }
}

/// Ledger lookups per query: an `IN` list this long stays well under the packet limit.
const NAMES_PER_QUERY: usize = 5_000;

/// The names each renamed account held before its current one, by account id, given the
/// accounts the worker counted more than one name for, with their current login.
async fn earlier_names(
    pool: &MySqlPool,
    renamed: &[(u64, &str)],
) -> Result<HashMap<u64, Vec<EarlierName>>, sqlx::Error> {
    let current: HashMap<u64, &str> = renamed.iter().copied().collect();
    let ids: Vec<u64> = current.keys().copied().collect();
    let mut earlier: HashMap<u64, Vec<EarlierName>> = HashMap::new();
    for chunk in ids.chunks(NAMES_PER_QUERY) {
        for name in db::names_of(pool, chunk).await? {
            if current.get(&name.account_id) != Some(&name.login.as_str()) {
                earlier
                    .entry(name.account_id)
                    .or_default()
                    .push(EarlierName {
                        login: name.login,
                        display_name: name.display_name,
                    });
            }
        }
    }
    Ok(earlier)
}

/// What cohort detection reads of an account row.
fn member<'a>(row: &'a AccountRow, earlier: &'a HashMap<u64, Vec<EarlierName>>) -> Member<'a> {
    Member {
        login: &row.login,
        display_name: &row.display_name,
        earlier_names: earlier.get(&row.account_id).map_or(&[], Vec::as_slice),
        created_at: row.twitch_created_at,
        default_avatar: row.default_avatar,
        empty_bio: row.description_empty,
        first_seen_at: row.first_seen_at,
        last_seen_at: row.last_seen_at,
        captures_seen: row.captures_seen,
        captures_seen_offline: row.captures_seen_offline,
        channels_seen: row.channels_seen,
    }
}

/// Each member's mark and the session's cohort list, from the cohorts found among accounts
/// whose ids `account_id` gives by index.
fn marked(
    found: &[cohorts::Cohort],
    account_id: impl Fn(usize) -> u64,
) -> (SessionContext, Vec<CohortSummary>) {
    let mut context = SessionContext::default();
    let mut summaries = Vec::new();
    for cohort in found {
        let Some(&earliest) = cohort.members.first() else {
            continue;
        };
        let cohort_id = account_id(earliest);
        // Shown on every member's row: written once per language.
        let evidence = Arc::new(Texts::new(|lang| cohort.evidence(lang)));
        for &i in &cohort.members {
            // An account is in at most one window, but recruited members of one bot cohort
            // could sit in another's span: the stronger (earlier in this order) keeps it.
            context
                .cohorts
                .entry(account_id(i))
                .or_insert_with(|| CohortMark {
                    cohort_id,
                    strength: cohort.strength,
                    evidence: evidence.clone(),
                });
        }
        summaries.push(CohortSummary {
            cohort_id,
            kind: cohort.kind,
            strength: cohort.strength,
            evidence,
            members: cohort.members.iter().map(|&i| account_id(i)).collect(),
            first_created: cohort.first_created,
            last_created: cohort.last_created,
        });
    }
    (context, summaries)
}

/// What an export scores its streamed rows with — each account's cohort and what moderators
/// said of it — found without holding the session's rows: the creation windows from the
/// session's creation times streamed in creation order, twice ([`cohorts::creation::Finder`]:
/// it holds a day of sign-ups and the windows' candidates); then the rows stream by once, each
/// counted in the baseline and dropped unless created in a period cohort detection looks at
/// ([`cohorts::periods_looked_at`]). The cohorts are those [`load`] finds (a test holds both
/// to it); memory follows the accounts created around bursts, not the session.
pub async fn context(
    pool: &MySqlPool,
    session_id: u64,
    config: &ScoringConfig,
) -> Result<SessionContext, sqlx::Error> {
    use futures::TryStreamExt;
    let started = std::time::Instant::now();
    // Every read of the session's accounts sees one snapshot: the windows found over the
    // creation times name accounts the rows' stream must give.
    // (Our connections default to READ COMMITTED, where each statement sees its own.)
    let mut tx = pool
        .begin_with(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
             START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        )
        .await?;
    let per_day = db::session_creation_days(&mut tx, session_id).await?;
    let mut finder = cohorts::creation::Finder::new(per_day, &config.cohorts.windows);
    loop {
        let mut times = db::session_creation_order(&mut tx, session_id);
        while let Some((seconds, account_id)) = times.try_next().await? {
            finder
                .push(seconds, account_id)
                .map_err(|e| sqlx::Error::Protocol(format!("session {session_id}: {e}")))?;
        }
        drop(times);
        if !finder.end_pass() {
            break;
        }
    }
    let windows = finder.windows();
    let renamed_logins = db::session_renamed(&mut tx, session_id).await?;
    let renamed: Vec<(u64, &str)> = renamed_logins
        .iter()
        .map(|(id, login)| (*id, login.as_str()))
        .collect();
    let earlier = earlier_names(pool, &renamed).await?;
    let said = Said::load(pool, session_id).await?;
    let marked_ids = said.marked_twitch_ids();

    let mut detection = cohorts::StreamedDetection::new(windows, &config.cohorts);
    let mut kept: Vec<AccountRow> = Vec::new();
    let mut marked_accounts: HashMap<String, u64> = HashMap::new();
    let mut rows = db::session_accounts_streamed(&mut tx, session_id);
    let mut accounts = 0;
    while let Some(row) = rows.try_next().await? {
        if marked_ids.contains(row.twitch_user_id.as_str()) {
            marked_accounts.insert(row.twitch_user_id.clone(), row.account_id);
        }
        if detection.offer(row.account_id, &member(&row, &earlier)) {
            kept.push(row);
        }
        accounts += 1;
    }
    drop(rows);
    tx.commit().await?;
    drop(marked_ids);

    let members: Vec<Member<'_>> = kept.iter().map(|r| member(r, &earlier)).collect();
    let found = detection.finish(&members, &config.cohorts);
    let (mut context, _) = marked(&found, |i| kept[i].account_id);
    context.moderation = said.resolve(|twitch_id| marked_accounts.get(twitch_id).copied());
    tracing::info!(
        session_id,
        accounts,
        kept = kept.len(),
        cohorts = found.len(),
        total_ms = started.elapsed().as_millis() as u64,
        "export context found"
    );
    Ok(context)
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
