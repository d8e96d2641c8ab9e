//! The generated world: every account and channel of a scenario, built deterministically from
//! its seed, plus who is present in each listing of each channel. Immutable once built; what
//! changes at run time (listing counters, renames and suspensions by the control API, live
//! state) lives in `state`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::names;
use crate::rng::{self, Rng};
use crate::scenario::{self, LoginPattern, Presence, Scenario};

pub type AccountIdx = u32;
pub type ChannelIdx = u16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Listed in `[[users]]`: can log in on the consent page.
    User,
    /// A channel's broadcaster not listed as a user.
    Broadcaster,
    Human,
    Cohort(u16),
}

#[derive(Debug, Clone)]
pub struct ScheduledRename {
    /// From this listing of the account's home channel on.
    pub at_listing: u32,
    pub login: String,
    pub display_name: String,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub login: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub description: String,
    pub default_avatar: bool,
    pub broadcaster_type: &'static str,
    pub role: Role,
    /// The channel whose listings drive its scheduled rename or suspension.
    pub home_channel: Option<ChannelIdx>,
    pub rename: Option<ScheduledRename>,
    pub suspend_at_listing: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Always,
    /// The broadcaster: in chat while live.
    WhileLive,
    /// A human of the churning crowd: present with probability `human_presence`.
    Crowd,
    OfflineOnly,
    /// Present in listings 1, 1 + n, 1 + 2n, …
    Bursts(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub account: AccountIdx,
    pub rule: Rule,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub account: AccountIdx,
    pub moderators: Vec<AccountIdx>,
    pub live: bool,
    pub viewer_count: u32,
    pub title: String,
    pub game: String,
    pub members: Vec<Member>,
    pub human_presence: f64,
}

#[derive(Debug, Clone)]
pub struct CohortInfo {
    pub name: String,
}

#[derive(Debug)]
pub struct World {
    pub seed: u64,
    pub now: DateTime<Utc>,
    pub accounts: Vec<Account>,
    pub channels: Vec<Channel>,
    pub cohorts: Vec<CohortInfo>,
    pub users: Vec<AccountIdx>,
    by_id: HashMap<u64, AccountIdx>,
    /// Every login an account has in the scenario (initial and scheduled) → its account.
    by_login: HashMap<String, Vec<AccountIdx>>,
}

/// Generated ids start here and grow with creation time, as Twitch's do.
const FIRST_GENERATED_ID: u64 = 21_000_000;
const ID_STRIDE: u64 = 13;

struct Builder {
    now: DateTime<Utc>,
    accounts: Vec<Account>,
    explicit_ids: Vec<Option<u64>>,
    taken_logins: HashSet<String>,
}

impl Builder {
    fn push(&mut self, account: Account, explicit_id: Option<u64>) -> AccountIdx {
        self.accounts.push(account);
        self.explicit_ids.push(explicit_id);
        (self.accounts.len() - 1) as AccountIdx
    }

    /// A human-style login not used by anyone else in the world.
    fn fresh_human_login(&mut self, rng: &mut Rng) -> String {
        let login = names::human_login(rng);
        names::unique(login, &mut self.taken_logins, rng)
    }

    /// A human's creation date: anywhere since Twitch's launch, more often in recent years
    /// (the density rises linearly to twice the average at "now"), plus 2 % genuine newcomers
    /// spread over the last 30 days. No spike at any date: waves come from cohorts only.
    fn human_created_at(&self, rng: &mut Rng) -> DateTime<Utc> {
        let span = (self.now - scenario::twitch_launch())
            .num_seconds()
            .max(86_400) as f64;
        let age = if rng.chance(0.02) {
            rng.unit() * 30.0 * 86_400.0
        } else {
            span * (1.0 - rng.unit().sqrt())
        };
        self.now - chrono::Duration::seconds(age as i64 + 60)
    }

    fn human(&mut self, rng: &mut Rng, home: ChannelIdx) -> Account {
        let login = self.fresh_human_login(rng);
        let display_name = names::human_display_name(&login, rng);
        let broadcaster_type = match rng.below(1000) {
            0..=2 => "partner",
            3..=34 => "affiliate",
            _ => "",
        };
        Account {
            id: 0,
            display_name,
            login,
            created_at: self.human_created_at(rng),
            description: if rng.chance(0.55) {
                String::new()
            } else {
                names::bio(rng).to_string()
            },
            default_avatar: rng.chance(0.12),
            broadcaster_type,
            role: Role::Human,
            home_channel: Some(home),
            rename: None,
            suspend_at_listing: None,
        }
    }
}

impl World {
    pub fn generate(scenario: &Scenario, seed: u64) -> Self {
        let now = scenario.world_now();
        let mut b = Builder {
            now,
            accounts: Vec::new(),
            explicit_ids: Vec::new(),
            taken_logins: HashSet::new(),
        };
        let mut users = Vec::new();
        let mut by_scenario_login: HashMap<String, AccountIdx> = HashMap::new();

        // Named accounts first: they keep their names and may pin their ids.
        for (n, user) in scenario.users.iter().enumerate() {
            let mut rng = Rng::stream(seed, &[1, n as u64]);
            let login = user.login.to_ascii_lowercase();
            b.taken_logins.insert(login.clone());
            let idx = b.push(
                Account {
                    id: 0,
                    display_name: user
                        .display_name
                        .clone()
                        .unwrap_or_else(|| user.login.clone()),
                    created_at: user
                        .created_at
                        .unwrap_or_else(|| b.human_created_at(&mut rng)),
                    description: user.description.clone().unwrap_or_default(),
                    default_avatar: false,
                    broadcaster_type: "",
                    role: Role::User,
                    home_channel: None,
                    rename: None,
                    suspend_at_listing: None,
                    login: login.clone(),
                },
                user.id.as_deref().and_then(|id| id.parse().ok()),
            );
            users.push(idx);
            by_scenario_login.insert(login, idx);
        }
        let mut channel_accounts = Vec::new();
        for (n, channel) in scenario.channels.iter().enumerate() {
            let login = channel.login.to_ascii_lowercase();
            let broadcaster_type = match channel.broadcaster_type.as_str() {
                "partner" => "partner",
                "affiliate" => "affiliate",
                _ => "",
            };
            let idx = match by_scenario_login.get(&login) {
                Some(&idx) => {
                    b.accounts[idx as usize].broadcaster_type = broadcaster_type;
                    idx
                }
                None => {
                    let mut rng = Rng::stream(seed, &[2, n as u64]);
                    b.taken_logins.insert(login.clone());
                    let idx = b.push(
                        Account {
                            id: 0,
                            display_name: channel
                                .display_name
                                .clone()
                                .unwrap_or_else(|| channel.login.clone()),
                            created_at: b.human_created_at(&mut rng),
                            description: names::bio(&mut rng).to_string(),
                            default_avatar: false,
                            broadcaster_type,
                            role: Role::Broadcaster,
                            home_channel: None,
                            rename: None,
                            suspend_at_listing: None,
                            login: login.clone(),
                        },
                        channel.id.as_deref().and_then(|id| id.parse().ok()),
                    );
                    by_scenario_login.insert(login, idx);
                    idx
                }
            };
            channel_accounts.push(idx);
        }

        let mut channels: Vec<Channel> = Vec::new();
        let mut cohorts: Vec<CohortInfo> = Vec::new();
        let mut shared_members: Vec<(ChannelIdx, Member)> = Vec::new();
        for (n, spec) in scenario.channels.iter().enumerate() {
            let home = n as ChannelIdx;
            let mut rng = Rng::stream(seed, &[3, n as u64]);
            let broadcaster = channel_accounts[n];
            let moderators: Vec<AccountIdx> = spec
                .moderators
                .iter()
                .filter_map(|m| by_scenario_login.get(&m.to_ascii_lowercase()).copied())
                .collect();
            let mut members = vec![Member {
                account: broadcaster,
                rule: Rule::WhileLive,
            }];
            members.extend(moderators.iter().map(|&account| Member {
                account,
                rule: Rule::Always,
            }));

            let audience = &spec.audience;
            let always = audience.lurkers + audience.renamers + audience.suspended;
            let presence = 1.0 - audience.churn;
            let crowd_expected = audience.humans.saturating_sub(always);
            let crowd_pool = (f64::from(crowd_expected) / presence).round() as u32;
            for k in 0..always + crowd_pool {
                let mut account = b.human(&mut rng, home);
                let rule = if k < always {
                    Rule::Always
                } else {
                    Rule::Crowd
                };
                if k >= audience.lurkers && k < audience.lurkers + audience.renamers {
                    let login = b.fresh_human_login(&mut rng);
                    account.rename = Some(ScheduledRename {
                        at_listing: audience.rename_at_listing.unwrap_or(2),
                        display_name: names::human_display_name(&login, &mut rng),
                        login,
                    });
                } else if k >= audience.lurkers + audience.renamers && k < always {
                    account.suspend_at_listing = Some(audience.suspend_at_listing.unwrap_or(2));
                }
                let account = b.push(account, None);
                members.push(Member { account, rule });
            }

            for cohort in &audience.cohorts {
                let cohort_idx = cohorts.len() as u16;
                cohorts.push(CohortInfo {
                    name: cohort.name.clone(),
                });
                let mut crng = Rng::stream(seed, &[4, n as u64, rng::hash_str(&cohort.name)]);
                let prefix = cohort
                    .prefix
                    .clone()
                    .unwrap_or_else(|| names::cohort_prefix(&mut crng));
                let window = cohort.created_within.as_secs().max(1);
                let rule = match cohort.presence {
                    Presence::Always => Rule::Always,
                    Presence::OfflineOnly => Rule::OfflineOnly,
                    Presence::Bursts => Rule::Bursts(cohort.burst_every.max(1)),
                };
                for _ in 0..cohort.size {
                    let login = match cohort.login_pattern {
                        LoginPattern::PrefixDigits => {
                            names::prefix_digits_login(&prefix, &mut crng)
                        }
                        LoginPattern::Random => names::random_login(&mut crng),
                        LoginPattern::WordWordDigits => names::word_word_digits_login(&mut crng),
                    };
                    let login = names::unique(login, &mut b.taken_logins, &mut crng);
                    let offset = crng.below(window) as i64;
                    let account = b.push(
                        Account {
                            id: 0,
                            display_name: login.clone(),
                            login,
                            created_at: cohort.created_from + chrono::Duration::seconds(offset),
                            description: if cohort.empty_bio {
                                String::new()
                            } else {
                                names::bio(&mut crng).to_string()
                            },
                            default_avatar: cohort.default_avatar,
                            broadcaster_type: "",
                            role: Role::Cohort(cohort_idx),
                            home_channel: Some(home),
                            rename: None,
                            suspend_at_listing: None,
                        },
                        None,
                    );
                    members.push(Member { account, rule });
                    for other in &cohort.also_in {
                        if let Some(o) = scenario.channels.iter().position(|c| &c.login == other) {
                            shared_members.push((o as ChannelIdx, Member { account, rule }));
                        }
                    }
                }
            }
            channels.push(Channel {
                account: broadcaster,
                moderators,
                live: spec.live,
                viewer_count: spec.viewer_count,
                title: spec.title.clone(),
                game: spec.game.clone(),
                members,
                human_presence: presence,
            });
        }
        for (channel, member) in shared_members {
            channels[channel as usize].members.push(member);
        }

        let accounts = assign_ids(seed, b.accounts, &b.explicit_ids);
        let mut by_id = HashMap::with_capacity(accounts.len());
        let mut by_login: HashMap<String, Vec<AccountIdx>> = HashMap::with_capacity(accounts.len());
        for (idx, account) in accounts.iter().enumerate() {
            by_id.insert(account.id, idx as AccountIdx);
            by_login
                .entry(account.login.clone())
                .or_default()
                .push(idx as AccountIdx);
            if let Some(rename) = &account.rename {
                by_login
                    .entry(rename.login.clone())
                    .or_default()
                    .push(idx as AccountIdx);
            }
        }
        Self {
            seed,
            now,
            accounts,
            channels,
            cohorts,
            users,
            by_id,
            by_login,
        }
    }

    pub fn account(&self, idx: AccountIdx) -> &Account {
        &self.accounts[idx as usize]
    }

    pub fn by_id(&self, id: u64) -> Option<AccountIdx> {
        self.by_id.get(&id).copied()
    }

    /// Accounts that have (or will have) this login in the scenario.
    pub fn by_login(&self, login: &str) -> &[AccountIdx] {
        self.by_login.get(login).map_or(&[], Vec::as_slice)
    }

    pub fn channel_by_account(&self, account: AccountIdx) -> Option<ChannelIdx> {
        self.channels
            .iter()
            .position(|c| c.account == account)
            .map(|i| i as ChannelIdx)
    }

    /// Login and display name at a given listing count of the account's home channel.
    pub fn names_at(&self, idx: AccountIdx, home_listing: u32) -> (&str, &str) {
        let account = self.account(idx);
        match &account.rename {
            Some(r) if home_listing >= r.at_listing => (&r.login, &r.display_name),
            _ => (&account.login, &account.display_name),
        }
    }

    pub fn suspended_at(&self, idx: AccountIdx, home_listing: u32) -> bool {
        self.account(idx)
            .suspend_at_listing
            .is_some_and(|at| home_listing >= at)
    }

    /// Whether the scenario puts `member` in `channel`'s listing number `listing` (1-based),
    /// before any control-API change. `live` is the channel's state when the listing starts.
    pub fn present(&self, channel: ChannelIdx, listing: u32, live: bool, member: &Member) -> bool {
        let home_listing = listing_of_home(self, member.account, channel, listing);
        !self.suspended_at(member.account, home_listing)
            && self.present_by_rule(channel, listing, live, member)
    }

    /// The presence rule alone, suspensions aside.
    pub fn present_by_rule(
        &self,
        channel: ChannelIdx,
        listing: u32,
        live: bool,
        member: &Member,
    ) -> bool {
        match member.rule {
            Rule::Always => true,
            Rule::WhileLive => live,
            Rule::OfflineOnly => !live,
            Rule::Bursts(every) => (listing.max(1) - 1).is_multiple_of(every),
            Rule::Crowd => {
                let h = rng::hash(
                    self.seed,
                    &[
                        5,
                        u64::from(channel),
                        u64::from(member.account),
                        u64::from(listing),
                    ],
                );
                rng::unit(h) < self.channels[channel as usize].human_presence
            }
        }
    }
}

/// The listing count of the account's home channel, as far as this listing can tell: for an
/// account listed in its home channel, that listing's number; elsewhere 0 (its scheduled
/// changes are driven by its home channel only).
fn listing_of_home(world: &World, account: AccountIdx, channel: ChannelIdx, listing: u32) -> u32 {
    match world.account(account).home_channel {
        Some(home) if home == channel => listing,
        _ => 0,
    }
}

/// Ids grow with creation time, as Twitch's do (accounts of one creation wave get close ids);
/// scenario-pinned ids are kept.
fn assign_ids(seed: u64, mut accounts: Vec<Account>, explicit: &[Option<u64>]) -> Vec<Account> {
    let pinned: HashSet<u64> = explicit.iter().flatten().copied().collect();
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    order.sort_by_key(|&i| (accounts[i].created_at, i));
    let mut next = FIRST_GENERATED_ID;
    for i in order {
        accounts[i].id = match explicit[i] {
            Some(id) => id,
            None => {
                let mut id = next + rng::hash(seed, &[6, i as u64]) % ID_STRIDE;
                while pinned.contains(&id) {
                    id += 1;
                }
                next += ID_STRIDE;
                id
            }
        };
    }
    accounts
}

// ---------------------------------------------------------------------------------------
// Ground truth

#[derive(Debug, Serialize)]
pub struct Truth {
    pub seed: u64,
    pub now: DateTime<Utc>,
    pub accounts: Vec<TruthAccount>,
    pub channels: Vec<TruthChannel>,
}

#[derive(Debug, Serialize)]
pub struct TruthAccount {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    /// The cohort's name, or null for a human (users and broadcasters included).
    pub cohort: Option<String>,
    pub role: &'static str,
    pub default_avatar: bool,
    pub empty_bio: bool,
    /// Scheduled renames: from which listing of `channel` the new names apply.
    pub renames: Vec<TruthRename>,
    pub suspended: bool,
    pub suspended_from_listing: Option<u32>,
    pub home_channel: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TruthRename {
    pub channel: String,
    pub from_listing: u32,
    pub login: String,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct TruthChannel {
    pub id: String,
    pub login: String,
    pub live: bool,
    pub moderators: Vec<TruthRef>,
    /// Every account that can appear in this channel's chatter listings.
    pub audience: Vec<String>,
    /// Those present in every listing (suspensions aside).
    pub always_present: Vec<String>,
    /// With `--listings N`: the account ids of listings 1..=N, with the scenario's live state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listings: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct TruthRef {
    pub id: String,
    pub login: String,
}

impl World {
    /// The members of `channel` in listing `listing`, in listing order.
    pub fn scenario_listing(
        &self,
        channel: ChannelIdx,
        listing: u32,
        live: bool,
    ) -> Vec<AccountIdx> {
        let mut seen = HashSet::new();
        self.channels[channel as usize]
            .members
            .iter()
            .filter(|m| self.present(channel, listing, live, m))
            .filter(|m| seen.insert(m.account))
            .map(|m| m.account)
            .collect()
    }

    pub fn truth(&self, listings: u32) -> Truth {
        let name_of = |idx: AccountIdx| {
            self.channels
                .get(idx as usize)
                .map(|c| self.account(c.account).login.clone())
        };
        let accounts = self
            .accounts
            .iter()
            .map(|a| TruthAccount {
                id: a.id.to_string(),
                login: a.login.clone(),
                display_name: a.display_name.clone(),
                created_at: a.created_at,
                cohort: match a.role {
                    Role::Cohort(c) => Some(self.cohorts[c as usize].name.clone()),
                    _ => None,
                },
                role: match a.role {
                    Role::User => "user",
                    Role::Broadcaster => "broadcaster",
                    Role::Human => "human",
                    Role::Cohort(_) => "cohort",
                },
                default_avatar: a.default_avatar,
                empty_bio: a.description.is_empty(),
                renames: a
                    .rename
                    .iter()
                    .map(|r| TruthRename {
                        channel: a
                            .home_channel
                            .and_then(|h| name_of(u32::from(h)))
                            .unwrap_or_default(),
                        from_listing: r.at_listing,
                        login: r.login.clone(),
                        display_name: r.display_name.clone(),
                    })
                    .collect(),
                suspended: a.suspend_at_listing.is_some(),
                suspended_from_listing: a.suspend_at_listing,
                home_channel: a.home_channel.and_then(|h| name_of(u32::from(h))),
            })
            .collect();
        let channels = self
            .channels
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let id = |idx: AccountIdx| self.account(idx).id.to_string();
                let mut seen = HashSet::new();
                let audience = c
                    .members
                    .iter()
                    .filter(|m| seen.insert(m.account))
                    .map(|m| id(m.account))
                    .collect();
                let always_present = c
                    .members
                    .iter()
                    .filter(|m| m.rule == Rule::Always)
                    .map(|m| id(m.account))
                    .collect();
                TruthChannel {
                    id: id(c.account),
                    login: self.account(c.account).login.clone(),
                    live: c.live,
                    moderators: c
                        .moderators
                        .iter()
                        .map(|&m| TruthRef {
                            id: id(m),
                            login: self.account(m).login.clone(),
                        })
                        .collect(),
                    audience,
                    always_present,
                    listings: (1..=listings)
                        .map(|l| {
                            self.scenario_listing(n as ChannelIdx, l, c.live)
                                .into_iter()
                                .map(id)
                                .collect()
                        })
                        .collect(),
                }
            })
            .collect();
        Truth {
            seed: self.seed,
            now: self.now,
            accounts,
            channels,
        }
    }
}
