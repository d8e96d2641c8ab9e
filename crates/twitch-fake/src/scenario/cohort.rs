//! A cohort: accounts that share something a detector might see — a bot farm, or a crowd of
//! real people who signed up or arrived together (`kind`). Version 1 fields (one creation
//! window, one login pattern, one presence rule) keep their meaning; version 2 adds creation
//! schedules, shares of profiles and login styles, presence schedules, renames and
//! suspensions. docs/twitch-fake.md documents every field.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveTime, Timelike};
use serde::Deserialize;

use super::When;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    pub name: String,
    /// `bot` (a farm, the default) or `legit` (real people who share a creation day or an
    /// arrival: an event sign-up, a school class, a raid). Truth reports it per account.
    #[serde(default)]
    pub kind: CohortKind,
    /// Accounts; with `drip`, `days × per_day` when absent.
    #[serde(default)]
    pub size: Option<u32>,

    // --- creation: a window, a drip, or like humans -------------------------------------
    /// Start of the creation window (or of the drip's first day).
    #[serde(default)]
    pub created_from: Option<When>,
    /// Length of the creation window: a day, an hour, minutes ("1d", "2h", "15m").
    #[serde(default, deserialize_with = "optional_duration")]
    pub created_within: Option<Duration>,
    /// Created in daily batches from `created_from`'s day on.
    #[serde(default)]
    pub drip: Option<Drip>,
    /// Created at any time since Twitch opened, as humans are.
    #[serde(default)]
    pub created_like_humans: bool,

    // --- logins and profiles -------------------------------------------------------------
    /// One style for every login (version 1).
    #[serde(default)]
    pub login_pattern: Option<LoginPattern>,
    /// Shares of login styles, summing to 1: `{ stem_digits = 0.7, human = 0.3 }`.
    #[serde(default)]
    pub logins: Option<BTreeMap<LoginPattern, f64>>,
    /// The stem of `stem_digits` logins; generated from the seed when absent.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Every account keeps the default avatar (version 1; default true).
    #[serde(default)]
    pub default_avatar: Option<bool>,
    /// Every account has an empty bio (version 1; default true).
    #[serde(default)]
    pub empty_bio: Option<bool>,
    /// Share of accounts with an uploaded avatar.
    #[serde(default)]
    pub custom_avatar: Option<f64>,
    /// Share of accounts with a bio.
    #[serde(default)]
    pub bio: Option<f64>,
    /// `login` (the default: display name = login) or `case` (capitalised words, as humans).
    #[serde(default)]
    pub display_names: DisplayNames,
    /// Share of accounts that are affiliates.
    #[serde(default)]
    pub affiliate: f64,

    // --- presence ------------------------------------------------------------------------
    #[serde(default)]
    pub presence: Presence,
    /// For `bursts`: present in listings 1, 1 + n, 1 + 2n, …
    #[serde(default = "default_burst_every")]
    pub burst_every: u32,
    /// First listing the cohort is in (default 1).
    #[serde(default)]
    pub arrive_at_listing: Option<u32>,
    /// First listing the cohort is gone from (default: never leaves).
    #[serde(default)]
    pub leave_at_listing: Option<u32>,
    /// Chance of being present in a listing while there (default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// With `probability`: the whole cohort connects and disconnects at once (viewbot
    /// software, the default) or each account on its own (people).
    #[serde(default = "yes")]
    pub together: bool,

    // --- later changes -------------------------------------------------------------------
    /// From this listing of its channel on, `rename_share` of the cohort carry new,
    /// human-looking names (followbots sold on).
    #[serde(default)]
    pub rename_at_listing: Option<u32>,
    #[serde(default)]
    pub rename_share: Option<f64>,
    /// From this listing on, `suspend_share` of the cohort are suspended or deleted: gone from
    /// chat and from Get Users.
    #[serde(default)]
    pub suspend_at_listing: Option<u32>,
    #[serde(default)]
    pub suspend_share: Option<f64>,

    /// Other channels (logins) where the cohort is present too.
    #[serde(default)]
    pub also_in: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortKind {
    #[default]
    Bot,
    Legit,
}

impl CohortKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Legit => "legit",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drip {
    pub days: u32,
    pub per_day: u32,
    /// Time-of-day window of each day's batch, UTC (`"02:00-05:00"`; default the whole day).
    #[serde(default)]
    pub hours: Option<String>,
    /// Each creation moves by up to this much either way (`"20m"`).
    #[serde(default, deserialize_with = "optional_duration")]
    pub jitter: Option<Duration>,
}

impl Drip {
    /// The day's window as seconds after midnight: [start, end).
    pub fn window(&self) -> Result<(u32, u32), String> {
        let Some(hours) = &self.hours else {
            return Ok((0, 86_400));
        };
        let parse = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map(|t| t.num_seconds_from_midnight())
                .map_err(|_| format!("drip.hours '{hours}' is not like 02:00-05:00"))
        };
        let (from, to) = hours
            .split_once('-')
            .ok_or_else(|| format!("drip.hours '{hours}' is not like 02:00-05:00"))?;
        let (from, to) = (parse(from)?, parse(to)?);
        if from >= to {
            return Err(format!("drip.hours '{hours}' ends before it starts"));
        }
        Ok((from, to))
    }
}

/// How a cohort's accounts get their creation dates.
#[derive(Debug, Clone, Copy)]
pub enum Creation<'a> {
    Window { from: When, within: Duration },
    Drip { from: When, drip: &'a Drip },
    LikeHumans,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LoginPattern {
    /// A shared stem and digits: `xq_lurk48213`.
    #[default]
    #[serde(alias = "stem_digits")]
    PrefixDigits,
    /// High-entropy letters and digits: `k3v9qzt0wmx2`.
    Random,
    /// `silent_falcon`.
    WordWord,
    /// `silent_falcon_4821`.
    WordWordDigits,
    /// The same generator as the humans'.
    Human,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayNames {
    #[default]
    Login,
    Case,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// In every listing (within its arrival and departure).
    #[default]
    Always,
    /// Only in listings taken while the channel is offline.
    OfflineOnly,
    /// Only in listings taken while the channel is live.
    LiveOnly,
    /// Only in every `burst_every`-th listing.
    Bursts,
}

fn yes() -> bool {
    true
}

fn default_burst_every() -> u32 {
    3
}

fn optional_duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    super::duration(deserializer).map(Some)
}

impl Cohort {
    /// Accounts in the cohort.
    pub fn size(&self) -> u32 {
        self.size
            .or_else(|| self.drip.as_ref().map(|d| d.days * d.per_day))
            .unwrap_or(0)
    }

    pub fn creation(&self) -> Option<Creation<'_>> {
        match (
            self.created_from,
            self.created_within,
            &self.drip,
            self.created_like_humans,
        ) {
            (Some(from), Some(within), None, false) => Some(Creation::Window { from, within }),
            (Some(from), None, Some(drip), false) => Some(Creation::Drip { from, drip }),
            (None, None, None, true) => Some(Creation::LikeHumans),
            _ => None,
        }
    }

    /// Whether the version 2 presence schedule is used.
    pub fn scheduled(&self) -> bool {
        self.arrive_at_listing.is_some()
            || self.leave_at_listing.is_some()
            || self.probability.is_some()
            || self.presence == Presence::LiveOnly
    }

    /// Every problem of the cohort's own fields.
    pub fn check(&self, problems: &mut Vec<String>) {
        let mut problem =
            |message: String| problems.push(format!("cohort '{}': {message}", self.name));
        if self.burst_every == 0 {
            problem("burst_every must be >= 1".into());
        }
        match self.creation() {
            None => problem(
                "give created_from with created_within (one window) or with drip, or created_like_humans = true"
                    .into(),
            ),
            Some(Creation::Window { within, .. }) if within.is_zero() => {
                problem("created_within must be > 0".into());
            }
            Some(Creation::Drip { drip, .. }) => {
                if drip.days == 0 || drip.per_day == 0 {
                    problem("drip needs days and per_day of at least 1".into());
                }
                if let Err(e) = drip.window() {
                    problem(e);
                }
                if self.size.is_some_and(|s| s != drip.days * drip.per_day) {
                    problem("size must equal drip.days × drip.per_day (or be left out)".into());
                }
            }
            _ => {}
        }
        if self.drip.is_none() && self.size.is_none() {
            problem("size is required".into());
        }
        if self.login_pattern.is_some() && self.logins.is_some() {
            problem("give login_pattern or logins, not both".into());
        }
        if let Some(shares) = &self.logins {
            let total: f64 = shares.values().sum();
            if shares.values().any(|s| !(0.0..=1.0).contains(s)) || (total - 1.0).abs() > 1e-6 {
                problem("logins shares must be within 0..1 and add up to 1".into());
            }
        }
        if self.default_avatar.is_some() && self.custom_avatar.is_some() {
            problem("give default_avatar or custom_avatar, not both".into());
        }
        if self.empty_bio.is_some() && self.bio.is_some() {
            problem("give empty_bio or bio, not both".into());
        }
        for (field, share) in [
            ("custom_avatar", self.custom_avatar),
            ("bio", self.bio),
            ("affiliate", Some(self.affiliate)),
            ("probability", self.probability),
            ("rename_share", self.rename_share),
            ("suspend_share", self.suspend_share),
        ] {
            if share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                problem(format!("{field} must be within 0..1"));
            }
        }
        if self.presence == Presence::Bursts && self.scheduled() {
            problem("bursts cannot be combined with arrive/leave/probability".into());
        }
        let arrive = self.arrive_at_listing.unwrap_or(1);
        if arrive == 0 {
            problem("arrive_at_listing starts at 1".into());
        }
        if self.leave_at_listing.is_some_and(|leave| leave <= arrive) {
            problem("leave_at_listing must come after arrive_at_listing".into());
        }
        if self.rename_at_listing.is_some_and(|n| n < 2)
            || (self.rename_share.is_some() && self.rename_at_listing.is_none())
        {
            problem("renames need rename_at_listing >= 2".into());
        }
        if self.suspend_at_listing.is_some_and(|n| n < 2)
            || (self.suspend_share.is_some() && self.suspend_at_listing.is_none())
        {
            problem("suspensions need suspend_at_listing >= 2".into());
        }
    }
}
