//! Bans and timeouts per channel, the per-broadcaster ban rate limit, and the count of bans
//! each account received (what "banned exactly once" is checked against).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::Inner;
use crate::world::{AccountIdx, World};

/// A ban (no end) or a timeout (an end) of one account in one channel.
#[derive(Debug, Clone)]
pub struct Ban {
    pub moderator: AccountIdx,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl Ban {
    fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.ends_at.is_none_or(|end| end > now)
    }
}

/// What the fake remembers of moderation, keyed by (broadcaster, user).
#[derive(Debug, Default)]
pub struct Moderation {
    bans: HashMap<(AccountIdx, AccountIdx), Ban>,
    /// Successful Ban User calls per (broadcaster, user) that made a permanent ban.
    ban_counts: HashMap<(AccountIdx, AccountIdx), u32>,
    /// Successful Unban User calls per (broadcaster, user).
    unban_counts: HashMap<(AccountIdx, AccountIdx), u32>,
    /// Ban and unban calls admitted per broadcaster, for the per-broadcaster limit.
    calls: HashMap<AccountIdx, VecDeque<Instant>>,
    /// Moderators added or removed through the control API, by (channel's account, user).
    moderator_changes: HashMap<(AccountIdx, AccountIdx), bool>,
}

/// Why a ban or unban was refused (the endpoint turns each into Twitch's 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanRefusal {
    AlreadyBanned,
    NotBanned,
}

impl Inner {
    /// Whether `who` moderates `broadcaster`'s channel now: the scenario's moderators and chat
    /// bots, as changed through the control API.
    pub fn is_moderator(&self, world: &World, broadcaster: AccountIdx, who: AccountIdx) -> bool {
        if let Some(&changed) = self.moderation.moderator_changes.get(&(broadcaster, who)) {
            return changed;
        }
        world
            .channel_by_account(broadcaster)
            .is_some_and(|c| world.channels[c as usize].moderators.contains(&who))
    }

    /// Makes `who` a moderator of `broadcaster`'s channel, or no longer one.
    pub fn set_moderator(&mut self, broadcaster: AccountIdx, who: AccountIdx, moderator: bool) {
        self.moderation
            .moderator_changes
            .insert((broadcaster, who), moderator);
    }

    /// Whether this ban or unban call meets an injected 409 (`ban_conflict_rate`).
    pub fn ban_conflict(&mut self, seed: u64) -> bool {
        let rate = self.faults.ban_conflict_rate;
        let conflict = rate > 0.0
            && crate::rng::unit(crate::rng::hash(seed, &[11, self.helix_counter])) < rate;
        if conflict {
            self.stats.count_fault("409");
        }
        conflict
    }

    /// The ban or timeout in force on `user` in `broadcaster`'s channel.
    pub fn ban_of(&self, broadcaster: AccountIdx, user: AccountIdx) -> Option<&Ban> {
        let now = Utc::now();
        self.moderation
            .bans
            .get(&(broadcaster, user))
            .filter(|b| b.in_force(now))
    }

    /// Admits one ban or unban call against the broadcaster's limit.
    pub fn admit_ban_call(
        &mut self,
        broadcaster: AccountIdx,
        limit: u32,
        window: Duration,
    ) -> bool {
        let now = Instant::now();
        let calls = self.moderation.calls.entry(broadcaster).or_default();
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            calls.pop_front();
        }
        if calls.len() >= limit as usize {
            return false;
        }
        calls.push_back(now);
        true
    }

    /// Bans (`duration` none) or times out `user`. A timeout may be renewed or upgraded to a
    /// ban; a ban cannot be changed into a timeout, nor banned again.
    pub fn ban(
        &mut self,
        broadcaster: AccountIdx,
        user: AccountIdx,
        moderator: AccountIdx,
        duration: Option<u32>,
        reason: &str,
    ) -> Result<Ban, BanRefusal> {
        if self
            .ban_of(broadcaster, user)
            .is_some_and(|b| b.ends_at.is_none())
        {
            return Err(BanRefusal::AlreadyBanned);
        }
        let now = Utc::now();
        let ban = Ban {
            moderator,
            reason: reason.to_string(),
            created_at: now,
            ends_at: duration.map(|s| now + chrono::Duration::seconds(i64::from(s))),
        };
        self.moderation
            .bans
            .insert((broadcaster, user), ban.clone());
        if duration.is_none() {
            *self
                .moderation
                .ban_counts
                .entry((broadcaster, user))
                .or_default() += 1;
        }
        Ok(ban)
    }

    /// Lifts a ban or a timeout.
    pub fn unban(&mut self, broadcaster: AccountIdx, user: AccountIdx) -> Result<(), BanRefusal> {
        if self.ban_of(broadcaster, user).is_none() {
            return Err(BanRefusal::NotBanned);
        }
        self.moderation.bans.remove(&(broadcaster, user));
        *self
            .moderation
            .unban_counts
            .entry((broadcaster, user))
            .or_default() += 1;
        Ok(())
    }

    /// The bans and timeouts in force in `broadcaster`'s channel, by user.
    pub fn bans_in(&self, broadcaster: AccountIdx) -> Vec<(AccountIdx, &Ban)> {
        let now = Utc::now();
        self.moderation
            .bans
            .iter()
            .filter(|((b, _), ban)| *b == broadcaster && ban.in_force(now))
            .map(|((_, user), ban)| (*user, ban))
            .collect()
    }

    /// How many times each user of `broadcaster`'s channel was banned and unbanned.
    pub fn ban_counts_in(&self, broadcaster: AccountIdx) -> HashMap<AccountIdx, (u32, u32)> {
        let mut counts: HashMap<AccountIdx, (u32, u32)> = HashMap::new();
        for (&(b, user), &n) in &self.moderation.ban_counts {
            if b == broadcaster {
                counts.entry(user).or_default().0 = n;
            }
        }
        for (&(b, user), &n) in &self.moderation.unban_counts {
            if b == broadcaster {
                counts.entry(user).or_default().1 = n;
            }
        }
        counts
    }
}
