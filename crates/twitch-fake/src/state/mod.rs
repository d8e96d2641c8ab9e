//! What changes while the fake runs: listing counters, live flags, tokens and codes, rate-limit
//! buckets, renames and suspensions made through the control API, faults, and statistics.
//! One mutex guards it all; every critical section is short and never awaits.
//!
//! Here: the state and what a listing sees (accounts, listings); `oauth`: codes and tokens;
//! `limits`: rate-limit buckets, faults and statistics.

pub mod eventsub;
mod limits;
mod moderation;
mod oauth;

pub use moderation::{Ban, BanRefusal};

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::rng::{self, Rng};
use crate::scenario::{Faults, Scenario};
use crate::world::{AccountIdx, ChannelIdx, World};

/// Listings kept per channel; older ones are recomputed on demand (they are deterministic).
const LISTINGS_KEPT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Subject {
    User(AccountIdx),
    App,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub subject: Subject,
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The refresh token of the grant this access token belongs to.
    pub grant: Option<String>,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    account: AccountIdx,
    scopes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Code {
    account: AccountIdx,
    scopes: Vec<String>,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

/// What the token endpoint answers.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    pub token_type: &'static str,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// What a rate-limit check answers, for the `Ratelimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub struct BucketReading {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the bucket is full again.
    pub reset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    TooManyRequests,
    ServerError(u16),
    Drop,
}

impl Stats {
    /// Counts one injected fault of `kind`.
    pub fn count_fault(&mut self, kind: &'static str) {
        *self.faults_injected.entry(kind).or_default() += 1;
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub helix_requests: u64,
    pub by_endpoint: HashMap<String, u64>,
    pub by_status: HashMap<u16, u64>,
    /// Faults injected, by kind: `429`, `5xx`, `drop`, `409` (ban conflicts), `oauth-…`.
    pub faults_injected: HashMap<&'static str, u64>,
    /// Most Helix calls admitted in any rate-limit window (a minute unless the scenario
    /// says otherwise), per bucket ("app" or a user id).
    pub max_calls_per_window: HashMap<String, u64>,
    #[serde(skip)]
    windows: HashMap<Subject, VecDeque<Instant>>,
}

pub struct Inner {
    pub listing_counts: Vec<u32>,
    pub live: Vec<bool>,
    pub viewer_counts: Vec<u32>,
    pub started_at: Vec<DateTime<Utc>>,
    listings: HashMap<(ChannelIdx, u32), Arc<Vec<AccountIdx>>>,
    /// Viewers a raid brought into a channel, present from a listing on (they stay).
    raiders: HashMap<ChannelIdx, Vec<RaidArrival>>,
    renamed: HashMap<AccountIdx, (String, String)>,
    login_overrides: HashMap<String, AccountIdx>,
    suspended: HashMap<AccountIdx, bool>,
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshGrant>,
    buckets: HashMap<Subject, Bucket>,
    pub faults: Faults,
    moderation: moderation::Moderation,
    eventsub: eventsub::EventSubs,
    /// The app's client secret after a "rotation" (`/_fake/app/secret`); the scenario's until
    /// then.
    rotated_secret: Option<String>,
    helix_counter: u64,
    pub stats: Stats,
    token_rng: Rng,
}

impl Inner {
    /// The client secret `/oauth2/token` accepts now.
    pub fn client_secret(&self, scenario_secret: &str) -> String {
        self.rotated_secret
            .clone()
            .unwrap_or_else(|| scenario_secret.to_string())
    }

    /// Rotates the app's client secret (`None`: back to the scenario's).
    pub fn rotate_secret(&mut self, secret: Option<String>) {
        self.rotated_secret = secret;
    }
}

/// A raid's viewers in the raided channel: from which listing, and who.
type RaidArrival = (u32, Arc<Vec<AccountIdx>>);

pub struct State {
    pub world: Arc<World>,
    pub scenario: Scenario,
    pub points_per_minute: u32,
    /// Delivers EventSub messages to callbacks (`crate::eventsub`).
    pub http: reqwest::Client,
    /// Where alerts are sent in tests and the demo (`crate::webhooks`).
    pub sinks: Arc<crate::webhooks::Sinks>,
    inner: Mutex<Inner>,
}

impl State {
    pub fn new(
        scenario: Scenario,
        world: Arc<World>,
        faults: Faults,
        points_per_minute: u32,
    ) -> Self {
        let n = world.channels.len();
        let now = Utc::now();
        let inner = Inner {
            listing_counts: vec![0; n],
            live: world.channels.iter().map(|c| c.live).collect(),
            viewer_counts: world.channels.iter().map(|c| c.viewer_count).collect(),
            // Live channels went live a while before the fake started.
            started_at: (0..n)
                .map(|i| now - chrono::Duration::minutes(37 + 11 * i as i64))
                .collect(),
            listings: HashMap::new(),
            raiders: HashMap::new(),
            renamed: HashMap::new(),
            login_overrides: HashMap::new(),
            suspended: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            buckets: HashMap::new(),
            faults,
            moderation: moderation::Moderation::default(),
            eventsub: eventsub::EventSubs::default(),
            rotated_secret: None,
            helix_counter: 0,
            stats: Stats::default(),
            // Tokens need only be unpredictable enough for tests; mixing in the clock keeps
            // two fakes from minting the same ones.
            token_rng: Rng::new(rng::hash(
                world.seed,
                &[now.timestamp_nanos_opt().unwrap_or(0) as u64],
            )),
        };
        let http = reqwest::Client::builder()
            .timeout(scenario.eventsub.timeout)
            // Twitch does not follow redirects from a callback.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            world,
            scenario,
            points_per_minute,
            http,
            sinks: Arc::default(),
            inner: Mutex::new(inner),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    // --- accounts -----------------------------------------------------------------------

    fn home_listing(&self, world: &World, idx: AccountIdx) -> u32 {
        world
            .account(idx)
            .home_channel
            .map_or(0, |h| self.listing_counts[h as usize])
    }

    /// Current login and display name.
    pub fn names(&self, world: &World, idx: AccountIdx) -> (String, String) {
        if let Some((login, display)) = self.renamed.get(&idx) {
            return (login.clone(), display.clone());
        }
        let (login, display) = world.names_at(idx, self.home_listing(world, idx));
        (login.to_string(), display.to_string())
    }

    pub fn is_suspended(&self, world: &World, idx: AccountIdx) -> bool {
        self.suspended
            .get(&idx)
            .copied()
            .unwrap_or_else(|| world.suspended_at(idx, self.home_listing(world, idx)))
    }

    /// The account that holds `login` now.
    pub fn resolve_login(&self, world: &World, login: &str) -> Option<AccountIdx> {
        let login = login.to_ascii_lowercase();
        let holds = |idx: &AccountIdx| self.names(world, *idx).0 == login;
        self.login_overrides
            .get(&login)
            .filter(|idx| holds(idx))
            .copied()
            .or_else(|| {
                world
                    .by_login(&login)
                    .iter()
                    .find(|idx| holds(idx))
                    .copied()
            })
    }

    pub fn rename(&mut self, idx: AccountIdx, login: &str, display_name: &str) {
        let login = login.to_ascii_lowercase();
        self.login_overrides.insert(login.clone(), idx);
        self.renamed.insert(idx, (login, display_name.to_string()));
    }

    pub fn set_suspended(&mut self, idx: AccountIdx, suspended: bool) {
        self.suspended.insert(idx, suspended);
    }

    // --- listings -----------------------------------------------------------------------

    /// Starts a new listing of `channel` (a first-page request): churn shows between
    /// listings, never within one.
    pub fn start_listing(
        &mut self,
        world: &World,
        channel: ChannelIdx,
    ) -> (u32, Arc<Vec<AccountIdx>>) {
        let c = channel as usize;
        self.listing_counts[c] += 1;
        let number = self.listing_counts[c];
        let members = Arc::new(self.compute_listing(world, channel, number));
        self.listings.insert((channel, number), members.clone());
        if number as usize > LISTINGS_KEPT {
            self.listings
                .remove(&(channel, number - LISTINGS_KEPT as u32));
        }
        (number, members)
    }

    /// A listing already started (for a cursor), recomputed if it was evicted.
    pub fn listing(
        &mut self,
        world: &World,
        channel: ChannelIdx,
        number: u32,
    ) -> Arc<Vec<AccountIdx>> {
        if let Some(members) = self.listings.get(&(channel, number)) {
            return members.clone();
        }
        Arc::new(self.compute_listing(world, channel, number))
    }

    fn compute_listing(&self, world: &World, channel: ChannelIdx, number: u32) -> Vec<AccountIdx> {
        let live = self.live[channel as usize];
        let mut seen = std::collections::HashSet::new();
        let mut members: Vec<AccountIdx> = world.channels[channel as usize]
            .members
            .iter()
            .filter(|m| match self.suspended.get(&m.account) {
                Some(true) => false,
                // Unsuspended through the control API: back by its usual rule.
                Some(false) => world.present_by_rule(channel, number, live, m),
                None => world.present(channel, number, live, m),
            })
            .filter(|m| seen.insert(m.account))
            .map(|m| m.account)
            .collect();
        for (from_listing, raiders) in self.raiders.get(&channel).into_iter().flatten() {
            if *from_listing <= number {
                members.extend(
                    raiders
                        .iter()
                        .filter(|&&a| self.suspended.get(&a) != Some(&true))
                        .filter(|&&a| seen.insert(a)),
                );
            }
        }
        members
    }

    /// A raid from `from` into `to`: the raiding channel's audience now (a listing of it)
    /// arrives in `to`'s chat from its next listing on. Returns who arrived.
    pub fn raid(
        &mut self,
        world: &World,
        from: ChannelIdx,
        to: ChannelIdx,
    ) -> Arc<Vec<AccountIdx>> {
        let listing = self.listing_counts[from as usize].max(1);
        let audience = Arc::new(self.compute_listing(world, from, listing));
        let next = self.listing_counts[to as usize] + 1;
        self.raiders
            .entry(to)
            .or_default()
            .push((next, audience.clone()));
        // Listings of `to` computed ahead of the raid no longer hold.
        self.listings.retain(|(c, n), _| *c != to || *n < next);
        audience
    }
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
