//! The ground truth of a world: every account's role and cohort, every channel's members.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AccountIdx, ChannelIdx, Role, Rule, World};

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
    /// `bot` (a farm's), `legit` (a crowd of real people's) or `human` (everyone else).
    pub kind: &'static str,
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
                kind: match a.role {
                    Role::Cohort(c) => self.cohorts[c as usize].kind.as_str(),
                    _ => "human",
                },
                role: match a.role {
                    Role::User => "user",
                    Role::Broadcaster => "broadcaster",
                    Role::ChatBot => "chat_bot",
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
                    .filter(|m| match m.rule {
                        Rule::Always => true,
                        Rule::Schedule(s) => self.schedules[s as usize].always(),
                        _ => false,
                    })
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
