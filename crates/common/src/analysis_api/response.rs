//! Every answer of `/v1/sessions/{id}/…`, as the analysis service writes it and the gateway
//! reads it. A field renamed here is renamed on both sides at once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// `summary`: the session's headline numbers under the filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub accounts: u64,
    pub captures: u64,
    pub channels: u64,
    pub last_capture_at: Option<DateTime<Utc>>,
    pub young_7d: u64,
    pub young_30d: u64,
    pub enriched_share: f64,
    pub flagged: u64,
    pub flagged_share: f64,
    pub flag_threshold: u32,
    /// Accounts a moderator trusts (never in `flagged`).
    #[serde(default)]
    pub trusted: u64,
}

/// One period of the creation histogram, with the burst rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start: NaiveDate,
    pub count: u64,
    pub baseline: f64,
    pub excess: f64,
    pub burst: bool,
}

/// `histogram?bucket=day|week|month`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub buckets: Vec<Bucket>,
}

/// `histogram/hours?day=…`: accounts created in each hour (UTC) of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    pub day: NaiveDate,
    pub hours: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopDay {
    pub day: NaiveDate,
    pub count: u64,
    pub share: f64,
    pub baseline: f64,
    pub excess: f64,
    pub burst: bool,
    /// The day's accounts that are members of a bot cohort. A burst day without any holds a
    /// crowd (sign-ups that arrived, left and look independently): "burst, no shared arrival".
    #[serde(default)]
    pub in_bot_cohorts: u64,
    /// The bot cohort holding most of the day's accounts.
    #[serde(default)]
    pub bot_cohort_id: Option<u64>,
}

/// `top-days`: the ten creation days with the most accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopDays {
    pub days: Vec<TopDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreBucket {
    pub from: u32,
    pub to: u32,
    pub count: u64,
}

/// `scores`: how many accounts score 0–9, 10–19, …, 90–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub buckets: Vec<ScoreBucket>,
    pub flag_threshold: u32,
}

/// A group of accounts found by the evidence they share (docs/cohorts.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// Stable within the session: the account id of its earliest-created member.
    pub cohort_id: u64,
    /// `bot` (created together and alike: what a script makes) or `crowd` (created together,
    /// otherwise as diverse as everyone: a launch day, a class).
    pub kind: String,
    /// 0–100, the points its members get; 0 for a crowd.
    pub strength: u32,
    /// Members kept by the request's filter.
    pub size: u64,
    /// Members in the whole session.
    pub total_size: u64,
    /// The evidence in numbers.
    pub evidence: String,
    pub first_created: DateTime<Utc>,
    pub last_created: DateTime<Utc>,
}

/// `cohorts`: bot cohorts strongest and largest first, then crowds, largest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortList {
    pub cohorts: Vec<Cohort>,
}

/// `cohorts/{cohort_id}`: one cohort with what its charts draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortDetail {
    pub cohort: Cohort,
    /// `minute`, `hour` or `day`: the width of `created`'s bins, chosen from the members'
    /// creation span so that a farm made in minutes shows as more than one bar.
    pub bin: String,
    /// The members' creation times, one bin per period from the first to the last (empty
    /// ones included).
    pub created: Vec<CreatedBin>,
    /// Every finished capture of the filter's channels, with how many members it saw.
    pub presence: Vec<CohortPresence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedBin {
    pub start: DateTime<Utc>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortPresence {
    pub capture_id: u64,
    pub broadcaster_login: String,
    pub finished_at: Option<DateTime<Utc>>,
    /// Members of the cohort (kept by the filter) seen in this capture.
    pub present: u64,
    /// Everyone seen in this capture.
    pub chatters: Option<u32>,
}

/// One signal of an account's suspicion score, with its points and a sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub points: u32,
    pub sentence: String,
}

/// One account of a session, scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub captures_seen: u32,
    pub captures_seen_offline: u32,
    pub channels_seen: u16,
    pub renames: u32,
    pub default_avatar: Option<bool>,
    pub empty_bio: Option<bool>,
    pub missing: bool,
    pub score: u32,
    pub reasons: Vec<Reason>,
    /// The account's cohort (docs/cohorts.md), if it is in one: its id within the session
    /// and its strength (0 for a crowd: created together, otherwise diverse).
    #[serde(default)]
    pub cohort_id: Option<u64>,
    #[serde(default)]
    pub cohort_strength: Option<u32>,
    /// What a moderator wrote on the account (docs/moderation.md): `trusted`, `bot` or
    /// `watch`, a note, who and when. The session owner's mark, else one shared with a
    /// channel of the session.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub marked_by: Option<String>,
    #[serde(default)]
    pub marked_at: Option<DateTime<Utc>>,
    /// Trusted: never flagged, never acted on, counted apart.
    #[serde(default)]
    pub trusted: bool,
}

/// `accounts` and `days/{day}/accounts`: one page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountList {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub accounts: Vec<Account>,
}

impl AccountList {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page.max(1))).max(1)
    }
    pub fn has_next(&self) -> bool {
        u64::from(self.page) < self.pages()
    }
}

/// One name of an account's rename ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Name {
    pub login: String,
    pub display_name: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Renamed {
    pub twitch_user_id: String,
    pub login: String,
    pub renames: u32,
    pub names: Vec<Name>,
}

/// A login held by several accounts over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginReuse {
    pub login: String,
    pub held_by: Vec<String>,
}

/// `renames?limit=…`: renamed accounts, most renamed first, and logins held by several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Renames {
    pub total: u64,
    pub accounts: Vec<Renamed>,
    pub login_reuse: Vec<LoginReuse>,
}

/// A capture an account was seen in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    pub capture_id: u64,
    pub channel: String,
    pub at: Option<DateTime<Utc>>,
    pub live: Option<bool>,
}

/// `accounts/{twitch_user_id}`: one account, its names and where it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: Account,
    pub flag_threshold: u32,
    pub names: Vec<Name>,
    pub seen_in: Vec<Sighting>,
}

/// One finished capture on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturePoint {
    pub id: u64,
    pub broadcaster_login: String,
    pub finished_at: Option<DateTime<Utc>>,
    pub chatters_count: Option<u32>,
    pub new_in_session_count: Option<u32>,
    pub viewer_count: Option<u32>,
    pub stream_live: Option<bool>,
    pub chatters_per_viewer: Option<f64>,
}

impl CapturePoint {
    /// Chatters per viewer, to three decimals, when the stream had viewers.
    pub fn ratio(chatters: Option<u32>, viewers: Option<u32>) -> Option<f64> {
        match (chatters, viewers) {
            (Some(c), Some(v)) if v > 0 => {
                Some((f64::from(c) / f64::from(v) * 1000.0).round() / 1000.0)
            }
            _ => None,
        }
    }
}

/// `timeline`: the session's finished captures, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub captures: Vec<CapturePoint>,
}

/// Every error answer: a code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// A raid into one of the session's channels and what came with it (docs/live.md): the
/// accounts first seen in the first capture queued after it, and how many of them are young,
/// in a bot cohort, or flagged — a friendly raid and a hate raid do not look alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raid {
    pub raided_at: DateTime<Utc>,
    pub broadcaster_login: String,
    pub from_login: String,
    pub from_name: String,
    /// Viewers the raid announced.
    pub viewers: u32,
    /// The first finished capture of the channel queued at or after the raid; none yet.
    pub capture_id: Option<u64>,
    /// Accounts that capture saw for the first time in the session.
    pub newcomers: u64,
    pub young: u64,
    pub in_bot_cohort: u64,
    pub flagged: u64,
}

/// `raids`: the session's raids, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raids {
    pub raids: Vec<Raid>,
}

/// `dashboard`: what the gateway's dashboard shows, in one answer (one probe of the data
/// version instead of one per view). The query takes the filter, the flagged list's page
/// (`page`, `per_page`, `flagged_only`) and the renames' `limit`. The answer has an `ETag`; a
/// request with `If-None-Match` set to it gets `304 Not Modified` while the answer would be
/// the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Remembered per data version, like each view's own answer.
    pub views: DashboardViews,
    /// Remembered per data version and raids version: a raid is news before any capture
    /// changes the data.
    pub raids: Vec<Raid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardViews {
    pub summary: Summary,
    pub cohorts: Vec<Cohort>,
    pub top_days: TopDays,
    pub accounts: AccountList,
    pub renames: Renames,
}

/// `captures/{capture_id}/findings`: what one finished capture brought (the alerts' input,
/// docs/live.md): its newcomers to the session, the young ones among them, and every bot
/// cohort with a member in the capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureFindings {
    pub capture_id: u64,
    pub broadcaster_login: String,
    pub captured_at: DateTime<Utc>,
    pub chatters: u64,
    pub newcomers: u64,
    /// Newcomers created less than the scoring's young-account age before they were seen.
    pub young: u64,
    /// Bot cohorts with a member in the capture, largest first.
    pub cohorts: Vec<CapturedCohort>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedCohort {
    pub cohort_id: u64,
    pub strength: u32,
    /// Members in the whole session.
    pub size: u64,
    /// Members in this capture.
    pub in_capture: u64,
    pub first_created: DateTime<Utc>,
    pub last_created: DateTime<Utc>,
    /// Every member's account id (the alerts remember whom they told about).
    pub members: Vec<u64>,
}
