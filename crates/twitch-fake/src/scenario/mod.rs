//! Scenario files (TOML): who can log in, which channels exist, who moderates them, and the
//! audience of each channel — humans, lurkers, bot cohorts, renames, suspensions — plus token
//! lifetimes, the rate-limit bucket and injected faults. Every field is documented in
//! docs/twitch-fake.md. Unknown fields are errors, so a typo cannot silently do nothing.

mod cohort;
mod when;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

pub use cohort::{Cohort, CohortKind, Creation, DisplayNames, Drip, LoginPattern, Presence};
pub use when::When;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of every generated account; `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// "Now" of the generated world (account ages are relative to it). Default: today at
    /// 00:00 UTC, so the demo always has young accounts.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    pub app: App,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub rate_limit: RateLimit,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub eventsub: EventSub,
    #[serde(default)]
    pub users: Vec<User>,
    /// Chat bots (Nightbot, StreamElements…): accounts that moderate the channels naming
    /// them in `chat_bots` and sit in their chat, but cannot log in on the consent page.
    #[serde(default)]
    pub chat_bots: Vec<User>,
    #[serde(default)]
    pub channels: Vec<Channel>,
}

fn default_seed() -> u64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
    /// Exact redirect URIs accepted by /oauth2/authorize and the code exchange.
    pub redirect_uris: Vec<String>,
    /// Shown on the consent page.
    #[serde(default = "default_app_name")]
    pub name: String,
}

fn default_app_name() -> String {
    "Twitch Chatters Analyser".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    #[serde(default = "default_user_token_lifetime", deserialize_with = "duration")]
    pub user_token_lifetime: Duration,
    #[serde(default = "default_app_token_lifetime", deserialize_with = "duration")]
    pub app_token_lifetime: Duration,
    #[serde(default = "default_code_lifetime", deserialize_with = "duration")]
    pub code_lifetime: Duration,
}

fn default_user_token_lifetime() -> Duration {
    Duration::from_secs(4 * 3600)
}
fn default_app_token_lifetime() -> Duration {
    Duration::from_secs(60 * 86_400)
}
fn default_code_lifetime() -> Duration {
    Duration::from_secs(600)
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            user_token_lifetime: default_user_token_lifetime(),
            app_token_lifetime: default_app_token_lifetime(),
            code_lifetime: default_code_lifetime(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Bucket size, refilled over `window`, per token's bucket (each user; the app).
    #[serde(default = "default_points_per_minute")]
    pub points_per_minute: u32,
    /// Twitch's window is a minute; tests shorten it to exercise pacing in seconds.
    #[serde(default = "default_window", deserialize_with = "duration")]
    pub window: Duration,
    /// Ban User and Unban User calls per broadcaster per `bans_window` (Twitch's own number
    /// is unpublished; 100 per 30 s is twitch4j's empirical one); past it: 429.
    #[serde(default = "default_bans_per_window")]
    pub bans_per_window: u32,
    #[serde(default = "default_bans_window", deserialize_with = "duration")]
    pub bans_window: Duration,
}

fn default_bans_per_window() -> u32 {
    100
}

fn default_bans_window() -> Duration {
    Duration::from_secs(30)
}

fn default_window() -> Duration {
    Duration::from_secs(60)
}

fn default_points_per_minute() -> u32 {
    800
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            points_per_minute: default_points_per_minute(),
            window: default_window(),
            bans_per_window: default_bans_per_window(),
            bans_window: default_bans_window(),
        }
    }
}

/// Hostile-Twitch knobs, applied to Helix requests. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Added to every Helix answer.
    pub latency_ms: u64,
    /// Uniform extra latency in 0..=jitter.
    pub latency_jitter_ms: u64,
    /// Share (0..1) of Helix requests answered 500 or 503.
    pub error_rate: f64,
    /// After every `burst_429_every` Helix requests, the next `burst_429_length` get 429.
    pub burst_429_every: u64,
    pub burst_429_length: u64,
    /// Seconds until the injected 429s say the bucket is full again (`Ratelimit-Reset`);
    /// 0: one second. Twitch's own resets reach a minute.
    pub reset_429_secs: u64,
    /// Share of Helix requests whose connection drops mid-answer.
    pub drop_rate: f64,
    /// Share of Helix requests that stall `stall_ms` before answering.
    pub stall_rate: f64,
    pub stall_ms: u64,
    /// id.twitch.tv's bad days: every `/oauth2/token`, `/oauth2/validate` and
    /// `/oauth2/revoke` request answers this status (500, 503, 429…) with Twitch's
    /// `{"status", "message"}` body. 0: off.
    pub oauth_status: u16,
    /// Every id.twitch.tv request's connection drops before an answer.
    pub oauth_drop: bool,
    /// Every id.twitch.tv request stalls this long before answering.
    pub oauth_stall_ms: u64,
    /// Cursor-paged lists (Get Chatters, Get Moderated Channels) answer a page with the very
    /// cursor they were asked with: a client that trusts cursors loops forever.
    pub repeat_cursor: bool,
    /// Get Chatters' list changes between the pages of one pass (as Twitch's live list does
    /// under churn): each page after the first comes from a fresh listing, at the same offset.
    pub churn_mid_pass: bool,
    /// Share of Ban User / Unban User calls answered 409 (someone else is changing this
    /// user's ban state at the same moment), before anything changes.
    pub ban_conflict_rate: f64,
}

/// EventSub over webhooks (reference §14): what Twitch leaves undocumented is set here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventSub {
    /// The cost ceiling of the app's subscriptions (Twitch: 10,000).
    pub max_total_cost: u32,
    /// Twitch accepts only `https://` callbacks on port 443; the fake also delivers to plain
    /// http (local tests and the demo) unless this is set.
    pub require_https: bool,
    /// Attempts per message beyond the first when the callback fails or is slow.
    pub retries: u32,
    #[serde(deserialize_with = "duration")]
    pub retry_delay: Duration,
    /// How long the callback may take to answer.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
    /// Messages in a row given up on before the subscription is revoked
    /// (`notification_failures_exceeded`).
    pub failure_threshold: u32,
    /// Share of notifications delivered twice (the same message id): Twitch's "at least once".
    pub duplicate_rate: f64,
}

impl Default for EventSub {
    fn default() -> Self {
        Self {
            max_total_cost: 10_000,
            require_https: false,
            retries: 3,
            retry_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            failure_threshold: 5,
            duplicate_rate: 0.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub login: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Twitch user id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// An absolute time or one relative to the world's "now" (`"-3y"`).
    #[serde(default)]
    pub created_at: Option<When>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The broadcaster's login; a `[[users]]` entry with this login is the same account.
    pub login: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    /// Logins (of `[[users]]` or channels) who moderate this channel.
    #[serde(default)]
    pub moderators: Vec<String>,
    /// Logins of `[[chat_bots]]` in this channel: moderators, present in every listing.
    #[serde(default)]
    pub chat_bots: Vec<String>,
    #[serde(default)]
    pub live: bool,
    #[serde(default)]
    pub viewer_count: u32,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub game: String,
    #[serde(default = "default_broadcaster_type")]
    pub broadcaster_type: String,
    #[serde(default)]
    pub audience: Audience,
}

fn default_broadcaster_type() -> String {
    "affiliate".to_string()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audience {
    /// Humans present in a typical listing (lurkers and renamers included).
    pub humans: u32,
    /// Share of the present humans replaced between two listings (0..1).
    pub churn: f64,
    /// Humans present in every listing.
    pub lurkers: u32,
    /// Humans (always present) who change login and display name at `rename_at_listing`.
    pub renamers: u32,
    pub rename_at_listing: Option<u32>,
    /// Humans (always present until then) suspended from `suspend_at_listing` on: gone from
    /// chat and from Get Users.
    pub suspended: u32,
    pub suspend_at_listing: Option<u32>,
    /// How the channel's humans' creation dates spread: `linear` (version 1) or `realistic`
    /// (version 2: Twitch's growth, the 2020 bulge, recent newcomers, surge days).
    pub creation: HumanCreation,
    pub cohorts: Vec<Cohort>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanCreation {
    #[default]
    Linear,
    Realistic,
}

pub(crate) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(deserializer)?;
    tca_common::config::parse_duration(&raw).ok_or_else(|| {
        serde::de::Error::custom(format!("'{raw}' is not a duration (e.g. 30s, 15m, 2h, 1d)"))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ScenarioError::Invalid {
            path: shown,
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The world's "now".
    pub fn world_now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(|| {
            Utc::now()
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now)
        })
    }

    fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.app.redirect_uris.is_empty() {
            problems.push("[app] needs at least one redirect_uris entry".to_string());
        }
        if self.rate_limit.points_per_minute == 0 {
            problems.push("rate_limit.points_per_minute must be at least 1".to_string());
        }
        if self.rate_limit.window.is_zero() {
            problems.push("rate_limit.window must be longer than 0".to_string());
        }
        if self.rate_limit.bans_per_window == 0 || self.rate_limit.bans_window.is_zero() {
            problems.push("rate_limit.bans_per_window and bans_window must be above 0".to_string());
        }
        let known: Vec<&str> = self
            .users
            .iter()
            .map(|u| u.login.as_str())
            .chain(self.channels.iter().map(|c| c.login.as_str()))
            .collect();
        for bot in &self.chat_bots {
            if !is_valid_login(&bot.login) {
                problems.push(format!("chat bot '{}' is not a Twitch login", bot.login));
            }
            if known.contains(&bot.login.as_str()) {
                problems.push(format!(
                    "chat bot '{}' is also a user or a channel",
                    bot.login
                ));
            }
        }
        for login in &known {
            if !is_valid_login(login) {
                problems.push(format!(
                    "'{login}' is not a Twitch login (a-z, 0-9, _; 1-25)"
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for channel in &self.channels {
            if !seen.insert(channel.login.as_str()) {
                problems.push(format!("channel '{}' is listed twice", channel.login));
            }
            for moderator in &channel.moderators {
                if !known.contains(&moderator.as_str()) {
                    problems.push(format!(
                        "channel '{}': moderator '{moderator}' is neither a user nor a channel",
                        channel.login
                    ));
                }
            }
            for bot in &channel.chat_bots {
                if !self.chat_bots.iter().any(|b| &b.login == bot) {
                    problems.push(format!(
                        "channel '{}': chat bot '{bot}' is not in [[chat_bots]]",
                        channel.login
                    ));
                }
            }
            let a = &channel.audience;
            if !(0.0..1.0).contains(&a.churn) {
                problems.push(format!(
                    "channel '{}': churn must be in [0, 1)",
                    channel.login
                ));
            }
            if a.lurkers + a.renamers + a.suspended > a.humans {
                problems.push(format!(
                    "channel '{}': lurkers + renamers + suspended exceed humans",
                    channel.login
                ));
            }
            if a.renamers > 0 && a.rename_at_listing.is_none_or(|n| n < 2) {
                problems.push(format!(
                    "channel '{}': renamers need rename_at_listing >= 2",
                    channel.login
                ));
            }
            if a.suspended > 0 && a.suspend_at_listing.is_none_or(|n| n < 2) {
                problems.push(format!(
                    "channel '{}': suspended needs suspend_at_listing >= 2",
                    channel.login
                ));
            }
            for cohort in &a.cohorts {
                cohort.check(&mut problems);
                for other in &cohort.also_in {
                    if !self.channels.iter().any(|c| &c.login == other) {
                        problems.push(format!(
                            "cohort '{}': also_in names unknown channel '{other}'",
                            cohort.name
                        ));
                    }
                }
            }
        }
        for (field, rate) in [
            ("error_rate", self.faults.error_rate),
            ("drop_rate", self.faults.drop_rate),
            ("ban_conflict_rate", self.faults.ban_conflict_rate),
            ("stall_rate", self.faults.stall_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                problems.push(format!("faults.{field} must be within 0..1"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Twitch logins: 1–25 of a-z, 0-9 and underscore (we also accept upper case on input).
pub fn is_valid_login(login: &str) -> bool {
    (1..=25).contains(&login.len()) && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The earliest creation date the generator uses for humans (Twitch opened in June 2011).
pub fn twitch_launch() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2011, 6, 6)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}
