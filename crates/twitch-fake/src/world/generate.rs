//! Building a world from a scenario, deterministically from its seed: named accounts,
//! broadcasters, each channel's human audience and bot cohorts, then ids that grow with
//! creation time, as Twitch's do.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::humans;
use super::{
    Account, AccountIdx, Channel, ChannelIdx, CohortInfo, Member, Role, Rule, Schedule,
    ScheduledRename, World,
};
use crate::names;
use crate::rng::{self, Rng};
use crate::scenario::{
    self, Creation, DisplayNames, HumanCreation, LoginPattern, Presence, Scenario,
};

/// Generated ids start here and grow with creation time, as Twitch's do.
const FIRST_GENERATED_ID: u64 = 21_000_000;
const ID_STRIDE: u64 = 13;

struct Builder {
    now: DateTime<Utc>,
    accounts: Vec<Account>,
    explicit_ids: Vec<Option<u64>>,
    taken_logins: HashSet<String>,
    /// The scenario's named accounts and broadcasters, by login.
    by_scenario_login: HashMap<String, AccountIdx>,
    schedules: Vec<Schedule>,
    /// The current channel's humans follow the realistic curve.
    realistic: bool,
    surges: Vec<DateTime<Utc>>,
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

    /// A human's creation date (`humans`): version 1 worlds with the linear curve, channels
    /// with `creation = "realistic"` with Twitch's growth and the world's surge days.
    fn human_created_at(&self, rng: &mut Rng) -> DateTime<Utc> {
        if self.realistic {
            humans::realistic(self.now, &self.surges, rng)
        } else {
            humans::linear(self.now, rng)
        }
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
    /// The scenario's `[[users]]`, in order.
    fn named_users(&mut self, scenario: &Scenario, seed: u64) -> Vec<AccountIdx> {
        let mut users = Vec::new();
        for (n, user) in scenario.users.iter().enumerate() {
            let mut rng = Rng::stream(seed, &[1, n as u64]);
            let login = user.login.to_ascii_lowercase();
            self.taken_logins.insert(login.clone());
            let created_at = match user.created_at {
                Some(when) => when.resolve(self.now),
                None => self.human_created_at(&mut rng),
            };
            let idx = self.push(
                Account {
                    id: 0,
                    display_name: user
                        .display_name
                        .clone()
                        .unwrap_or_else(|| user.login.clone()),
                    created_at,
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
            self.by_scenario_login.insert(login, idx);
        }
        users
    }

    /// Each channel's broadcaster: a named user, or an account made for it.
    fn broadcasters(&mut self, scenario: &Scenario, seed: u64) -> Vec<AccountIdx> {
        let mut broadcasters = Vec::new();
        for (n, channel) in scenario.channels.iter().enumerate() {
            let login = channel.login.to_ascii_lowercase();
            let broadcaster_type = match channel.broadcaster_type.as_str() {
                "partner" => "partner",
                "affiliate" => "affiliate",
                _ => "",
            };
            let idx = match self.by_scenario_login.get(&login) {
                Some(&idx) => {
                    self.accounts[idx as usize].broadcaster_type = broadcaster_type;
                    idx
                }
                None => {
                    let mut rng = Rng::stream(seed, &[2, n as u64]);
                    self.taken_logins.insert(login.clone());
                    let created_at = self.human_created_at(&mut rng);
                    let idx = self.push(
                        Account {
                            id: 0,
                            display_name: channel
                                .display_name
                                .clone()
                                .unwrap_or_else(|| channel.login.clone()),
                            created_at,
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
                    self.by_scenario_login.insert(login, idx);
                    idx
                }
            };
            broadcasters.push(idx);
        }
        broadcasters
    }

    /// The scenario's `[[chat_bots]]`. Their own random stream and (usually) pinned ids keep
    /// the rest of the world as it was without them.
    fn chat_bots(&mut self, scenario: &Scenario, seed: u64) {
        for (n, bot) in scenario.chat_bots.iter().enumerate() {
            let mut rng = Rng::stream(seed, &[10, n as u64]);
            let login = bot.login.to_ascii_lowercase();
            self.taken_logins.insert(login.clone());
            let created_at = match bot.created_at {
                Some(when) => when.resolve(self.now),
                None => self.human_created_at(&mut rng),
            };
            let idx = self.push(
                Account {
                    id: 0,
                    display_name: bot
                        .display_name
                        .clone()
                        .unwrap_or_else(|| bot.login.clone()),
                    created_at,
                    description: bot.description.clone().unwrap_or_default(),
                    default_avatar: false,
                    broadcaster_type: "",
                    role: Role::ChatBot,
                    home_channel: None,
                    rename: None,
                    suspend_at_listing: None,
                    login: login.clone(),
                },
                bot.id.as_deref().and_then(|id| id.parse().ok()),
            );
            self.by_scenario_login.insert(login, idx);
        }
    }

    /// A channel's moderators among the scenario's named accounts, its chat bots included.
    fn moderators(&self, spec: &scenario::Channel) -> Vec<AccountIdx> {
        spec.moderators
            .iter()
            .chain(&spec.chat_bots)
            .filter_map(|m| self.by_scenario_login.get(&m.to_ascii_lowercase()).copied())
            .collect()
    }

    /// A channel's broadcaster (present while live) and moderators and chat bots (always
    /// present).
    fn staff(&self, spec: &scenario::Channel, broadcaster: AccountIdx) -> Vec<Member> {
        let mut members = vec![Member {
            account: broadcaster,
            rule: Rule::WhileLive,
        }];
        members.extend(self.moderators(spec).into_iter().map(|account| Member {
            account,
            rule: Rule::Always,
        }));
        members
    }

    /// A channel's humans: lurkers, renamers and accounts later suspended (always present),
    /// then a crowd large enough that `humans` are present on average despite the churn.
    fn audience(
        &mut self,
        rng: &mut Rng,
        home: ChannelIdx,
        audience: &scenario::Audience,
        members: &mut Vec<Member>,
    ) {
        let always = audience.lurkers + audience.renamers + audience.suspended;
        let presence = 1.0 - audience.churn;
        let crowd_expected = audience.humans.saturating_sub(always);
        let crowd_pool = (f64::from(crowd_expected) / presence).round() as u32;
        for k in 0..always + crowd_pool {
            let mut account = self.human(rng, home);
            let rule = if k < always {
                Rule::Always
            } else {
                Rule::Crowd
            };
            if k >= audience.lurkers && k < audience.lurkers + audience.renamers {
                let login = self.fresh_human_login(rng);
                account.rename = Some(ScheduledRename {
                    at_listing: audience.rename_at_listing.unwrap_or(2),
                    display_name: names::human_display_name(&login, rng),
                    login,
                });
            } else if k >= audience.lurkers + audience.renamers && k < always {
                account.suspend_at_listing = Some(audience.suspend_at_listing.unwrap_or(2));
            }
            let account = self.push(account, None);
            members.push(Member { account, rule });
        }
    }

    /// A cohort's accounts, with the presence rule they share. Version 1 cohorts draw from
    /// `crng` exactly as before version 2, so their worlds are unchanged.
    fn cohort(
        &mut self,
        crng: &mut Rng,
        home: ChannelIdx,
        cohort: &scenario::Cohort,
        cohort_idx: u16,
    ) -> Vec<(AccountIdx, Rule)> {
        let prefix = cohort
            .prefix
            .clone()
            .unwrap_or_else(|| names::cohort_prefix(crng));
        let rule = self.presence_rule(cohort, cohort_idx);
        let size = cohort.size();
        let mut accounts = Vec::with_capacity(size as usize);
        for i in 0..size {
            let pattern = match &cohort.logins {
                Some(shares) => pick_share(crng, shares),
                None => cohort.login_pattern.unwrap_or_default(),
            };
            let login = match pattern {
                LoginPattern::PrefixDigits => names::prefix_digits_login(&prefix, crng),
                LoginPattern::Random => names::random_login(crng),
                LoginPattern::WordWord => names::word_word_login(crng),
                LoginPattern::WordWordDigits => names::word_word_digits_login(crng),
                LoginPattern::Human => names::human_login(crng),
            };
            let login = names::unique(login, &mut self.taken_logins, crng);
            let created_at = self.cohort_created_at(crng, cohort, i);
            let description = match (cohort.bio, cohort.empty_bio.unwrap_or(true)) {
                (Some(share), _) if crng.chance(share) => names::bio(crng).to_string(),
                (Some(_), _) | (None, true) => String::new(),
                (None, false) => names::bio(crng).to_string(),
            };
            let default_avatar = match cohort.custom_avatar {
                Some(share) => !crng.chance(share),
                None => cohort.default_avatar.unwrap_or(true),
            };
            let display_name = match cohort.display_names {
                DisplayNames::Login => login.clone(),
                DisplayNames::Case => names::human_display_name(&login, crng),
            };
            let broadcaster_type = if cohort.affiliate > 0.0 && crng.chance(cohort.affiliate) {
                "affiliate"
            } else {
                ""
            };
            let rename = match cohort.rename_at_listing {
                Some(at_listing) if crng.chance(cohort.rename_share.unwrap_or(1.0)) => {
                    let login = self.fresh_human_login(crng);
                    Some(ScheduledRename {
                        at_listing,
                        display_name: names::human_display_name(&login, crng),
                        login,
                    })
                }
                _ => None,
            };
            let suspend_at_listing = cohort
                .suspend_at_listing
                .filter(|_| crng.chance(cohort.suspend_share.unwrap_or(1.0)));
            let account = self.push(
                Account {
                    id: 0,
                    display_name,
                    login,
                    created_at,
                    description,
                    default_avatar,
                    broadcaster_type,
                    role: Role::Cohort(cohort_idx),
                    home_channel: Some(home),
                    rename,
                    suspend_at_listing,
                },
                None,
            );
            accounts.push((account, rule));
        }
        accounts
    }

    /// The rule every member of the cohort follows.
    fn presence_rule(&mut self, cohort: &scenario::Cohort, cohort_idx: u16) -> Rule {
        if cohort.scheduled() {
            self.schedules.push(Schedule {
                cohort: cohort_idx,
                arrive: cohort.arrive_at_listing.unwrap_or(1),
                leave: cohort.leave_at_listing,
                probability: cohort.probability.unwrap_or(1.0),
                together: cohort.together,
                mode: cohort.presence,
            });
            return Rule::Schedule((self.schedules.len() - 1) as u16);
        }
        match cohort.presence {
            Presence::Always | Presence::LiveOnly => Rule::Always,
            Presence::OfflineOnly => Rule::OfflineOnly,
            Presence::Bursts => Rule::Bursts(cohort.burst_every.max(1)),
        }
    }

    /// The creation time of the cohort's `i`-th account.
    fn cohort_created_at(
        &self,
        crng: &mut Rng,
        cohort: &scenario::Cohort,
        i: u32,
    ) -> DateTime<Utc> {
        match cohort.creation() {
            Some(Creation::Window { from, within }) => {
                let offset = crng.below(within.as_secs().max(1)) as i64;
                from.resolve(self.now) + chrono::Duration::seconds(offset)
            }
            Some(Creation::Drip { from, drip }) => {
                let (start, end) = drip.window().unwrap_or((0, 86_400));
                let day = from
                    .resolve(self.now)
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc())
                    .unwrap_or(self.now)
                    + chrono::Duration::days(i64::from(i / drip.per_day.max(1)));
                let within = u64::from(end - start).max(1);
                let mut at =
                    day + chrono::Duration::seconds(i64::from(start) + crng.below(within) as i64);
                if let Some(jitter) = drip.jitter.filter(|j| !j.is_zero()) {
                    let j = jitter.as_secs() as i64;
                    at += chrono::Duration::seconds(crng.below(2 * j as u64 + 1) as i64 - j);
                }
                at
            }
            Some(Creation::LikeHumans) | None => self.human_created_at(crng),
        }
    }
}

/// A login style drawn by its share.
fn pick_share(rng: &mut Rng, shares: &BTreeMap<LoginPattern, f64>) -> LoginPattern {
    let draw = rng.unit();
    let mut acc = 0.0;
    for (pattern, share) in shares {
        acc += share;
        if draw < acc {
            return *pattern;
        }
    }
    shares.keys().last().copied().unwrap_or_default()
}

impl World {
    pub fn generate(scenario: &Scenario, seed: u64) -> Self {
        let now = scenario.world_now();
        let mut b = Builder {
            now,
            accounts: Vec::new(),
            explicit_ids: Vec::new(),
            taken_logins: HashSet::new(),
            by_scenario_login: HashMap::new(),
            schedules: Vec::new(),
            realistic: false,
            surges: humans::surge_days(seed, now),
        };
        // Named accounts first: they keep their names and may pin their ids.
        let users = b.named_users(scenario, seed);
        let broadcasters = b.broadcasters(scenario, seed);
        b.chat_bots(scenario, seed);
        let mut channels: Vec<Channel> = Vec::new();
        let mut cohorts: Vec<CohortInfo> = Vec::new();
        // Cohort members who also sit in other channels (`also_in`), added once every
        // channel exists.
        let mut shared_members: Vec<(ChannelIdx, Member)> = Vec::new();
        for (n, spec) in scenario.channels.iter().enumerate() {
            let home = n as ChannelIdx;
            let mut members = b.staff(spec, broadcasters[n]);
            let mut rng = Rng::stream(seed, &[3, n as u64]);
            b.realistic = spec.audience.creation == HumanCreation::Realistic;
            b.audience(&mut rng, home, &spec.audience, &mut members);
            for cohort in &spec.audience.cohorts {
                let cohort_idx = cohorts.len() as u16;
                cohorts.push(CohortInfo {
                    name: cohort.name.clone(),
                    kind: cohort.kind,
                });
                let mut crng = Rng::stream(seed, &[4, n as u64, rng::hash_str(&cohort.name)]);
                for (account, rule) in b.cohort(&mut crng, home, cohort, cohort_idx) {
                    members.push(Member { account, rule });
                    for other in &cohort.also_in {
                        if let Some(o) = scenario.channels.iter().position(|c| &c.login == other) {
                            shared_members.push((o as ChannelIdx, Member { account, rule }));
                        }
                    }
                }
            }
            b.realistic = false;
            channels.push(Channel {
                account: broadcasters[n],
                moderators: b.moderators(spec),
                live: spec.live,
                viewer_count: spec.viewer_count,
                title: spec.title.clone(),
                game: spec.game.clone(),
                members,
                human_presence: 1.0 - spec.audience.churn,
            });
        }
        for (channel, member) in shared_members {
            channels[channel as usize].members.push(member);
        }
        let accounts = assign_ids(seed, b.accounts, &b.explicit_ids);
        let (by_id, by_login) = index(&accounts);
        Self {
            seed,
            now,
            accounts,
            channels,
            cohorts,
            schedules: b.schedules,
            users,
            by_id,
            by_login,
        }
    }
}

/// Accounts by id, and by every login they have in the scenario (initial and scheduled).
fn index(accounts: &[Account]) -> (HashMap<u64, AccountIdx>, HashMap<String, Vec<AccountIdx>>) {
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
    (by_id, by_login)
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
