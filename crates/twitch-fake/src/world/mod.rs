//! The generated world: every account and channel of a scenario, built deterministically from
//! its seed, plus who is present in each listing of each channel. Immutable once built; what
//! changes at run time (listing counters, renames and suspensions by the control API, live
//! state) lives in `state`.
//!
//! Here: the world's types and what a listing sees; `generate`: building it from a scenario;
//! `truth`: the ground truth tests and benchmarks compare against.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::rng;

mod generate;
mod humans;
mod truth;

pub use truth::{Truth, TruthAccount, TruthChannel, TruthRef, TruthRename};

pub type AccountIdx = u32;
pub type ChannelIdx = u16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Listed in `[[users]]`: can log in on the consent page.
    User,
    /// A channel's broadcaster not listed as a user.
    Broadcaster,
    /// A `[[chat_bots]]` account (Nightbot…): a moderator of its channels, always in chat.
    ChatBot,
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
    /// A cohort's presence schedule (`World::schedules`).
    Schedule(u16),
}

/// When a cohort with a version 2 presence schedule is in a channel's listings.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub cohort: u16,
    pub arrive: u32,
    /// The first listing it is gone from.
    pub leave: Option<u32>,
    pub probability: f64,
    /// One draw per listing for the whole cohort, or one per account.
    pub together: bool,
    pub mode: crate::scenario::Presence,
}

impl Schedule {
    /// Present in every listing from the first on, live or not.
    pub fn always(&self) -> bool {
        self.arrive <= 1
            && self.leave.is_none()
            && self.probability >= 1.0
            && self.mode == crate::scenario::Presence::Always
    }
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
    pub kind: crate::scenario::CohortKind,
}

#[derive(Debug)]
pub struct World {
    pub seed: u64,
    pub now: DateTime<Utc>,
    pub accounts: Vec<Account>,
    pub channels: Vec<Channel>,
    pub cohorts: Vec<CohortInfo>,
    pub schedules: Vec<Schedule>,
    pub users: Vec<AccountIdx>,
    by_id: HashMap<u64, AccountIdx>,
    /// Every login an account has in the scenario (initial and scheduled) → its account.
    by_login: HashMap<String, Vec<AccountIdx>>,
}

impl World {
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
            Rule::Schedule(s) => {
                self.scheduled(&self.schedules[s as usize], channel, listing, live, member)
            }
        }
    }

    fn scheduled(
        &self,
        s: &Schedule,
        channel: ChannelIdx,
        listing: u32,
        live: bool,
        member: &Member,
    ) -> bool {
        use crate::scenario::Presence;
        let state = match s.mode {
            Presence::Always => true,
            Presence::OfflineOnly => !live,
            Presence::LiveOnly => live,
            Presence::Bursts => true,
        };
        if !state || listing < s.arrive || s.leave.is_some_and(|leave| listing >= leave) {
            return false;
        }
        if s.probability >= 1.0 {
            return true;
        }
        // Together: one draw for the cohort in this listing; otherwise one per account.
        let who = if s.together {
            u64::MAX - u64::from(s.cohort)
        } else {
            u64::from(member.account)
        };
        let h = rng::hash(self.seed, &[7, u64::from(channel), who, u64::from(listing)]);
        rng::unit(h) < s.probability
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
