//! What changes while the fake runs: listing counters, live flags, tokens and codes, rate-limit
//! buckets, renames and suspensions made through the control API, faults, and statistics.
//! One mutex guards it all; every critical section is short and never awaits.

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

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub helix_requests: u64,
    pub by_endpoint: HashMap<String, u64>,
    pub by_status: HashMap<u16, u64>,
    /// Faults injected, by kind: `429`, `5xx`, `drop`.
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
    renamed: HashMap<AccountIdx, (String, String)>,
    login_overrides: HashMap<String, AccountIdx>,
    suspended: HashMap<AccountIdx, bool>,
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshGrant>,
    buckets: HashMap<Subject, Bucket>,
    pub faults: Faults,
    helix_counter: u64,
    pub stats: Stats,
    token_rng: Rng,
}

pub struct State {
    pub world: Arc<World>,
    pub scenario: Scenario,
    pub points_per_minute: u32,
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
            renamed: HashMap::new(),
            login_overrides: HashMap::new(),
            suspended: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            buckets: HashMap::new(),
            faults,
            helix_counter: 0,
            stats: Stats::default(),
            // Tokens need only be unpredictable enough for tests; mixing in the clock keeps
            // two fakes from minting the same ones.
            token_rng: Rng::new(rng::hash(
                world.seed,
                &[now.timestamp_nanos_opt().unwrap_or(0) as u64],
            )),
        };
        Self {
            world,
            scenario,
            points_per_minute,
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
        world.channels[channel as usize]
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
            .collect()
    }

    // --- OAuth --------------------------------------------------------------------------

    fn random_token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.token_rng.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    pub fn issue_code(
        &mut self,
        account: AccountIdx,
        scopes: Vec<String>,
        redirect_uri: String,
        lifetime: Duration,
    ) -> String {
        let code = self.random_token(30);
        self.codes.insert(
            code.clone(),
            Code {
                account,
                scopes,
                redirect_uri,
                expires_at: Utc::now() + to_chrono(lifetime),
            },
        );
        code
    }

    /// Consumes a code (single use): `Err` says why it is refused.
    pub fn redeem_code(
        &mut self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(AccountIdx, Vec<String>), &'static str> {
        let Some(found) = self.codes.remove(code) else {
            return Err("Invalid authorization code");
        };
        if found.expires_at <= Utc::now() {
            return Err("Invalid authorization code");
        }
        if found.redirect_uri != redirect_uri {
            return Err("Parameter redirect_uri does not match registered URI");
        }
        Ok((found.account, found.scopes))
    }

    pub fn issue_user_tokens(
        &mut self,
        account: AccountIdx,
        scopes: Vec<String>,
        lifetime: Duration,
    ) -> TokenResponse {
        let refresh = self.random_token(50);
        self.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                account,
                scopes: scopes.clone(),
            },
        );
        let access = self.random_token(30);
        self.access.insert(
            access.clone(),
            AccessToken {
                subject: Subject::User(account),
                scopes: scopes.clone(),
                expires_at: Utc::now() + to_chrono(lifetime),
                revoked: false,
                grant: Some(refresh.clone()),
            },
        );
        TokenResponse {
            access_token: access,
            expires_in: lifetime.as_secs(),
            refresh_token: Some(refresh),
            scope: Some(scopes),
            token_type: "bearer",
        }
    }

    /// Rotates a refresh token: the old one stops working, a new pair is issued.
    pub fn refresh(&mut self, refresh_token: &str, lifetime: Duration) -> Option<TokenResponse> {
        let grant = self.refresh.remove(refresh_token)?;
        Some(self.issue_user_tokens(grant.account, grant.scopes, lifetime))
    }

    pub fn issue_app_token(&mut self, lifetime: Duration) -> TokenResponse {
        let access = self.random_token(30);
        self.access.insert(
            access.clone(),
            AccessToken {
                subject: Subject::App,
                scopes: Vec::new(),
                expires_at: Utc::now() + to_chrono(lifetime),
                revoked: false,
                grant: None,
            },
        );
        TokenResponse {
            access_token: access,
            expires_in: lifetime.as_secs(),
            refresh_token: None,
            scope: None,
            token_type: "bearer",
        }
    }

    /// A usable access token (known, not revoked, not expired).
    pub fn valid_token(&self, token: &str) -> Option<&AccessToken> {
        self.access
            .get(token)
            .filter(|t| !t.revoked && t.expires_at > Utc::now())
    }

    /// Revokes an access token and, for a user, the grant it came from (the user
    /// disconnected the app). `false` if the token is unknown.
    pub fn revoke(&mut self, token: &str) -> bool {
        let grant = match self.access.get_mut(token) {
            Some(found) => {
                found.revoked = true;
                found.grant.clone()
            }
            None => return false,
        };
        if let Some(grant) = grant {
            self.refresh.remove(&grant);
        }
        true
    }

    /// The live access and refresh tokens of `account` (for tests that look for them).
    pub fn tokens_of(&self, account: AccountIdx) -> (Vec<String>, Vec<String>) {
        let now = Utc::now();
        let access = self
            .access
            .iter()
            .filter(|(_, t)| {
                t.subject == Subject::User(account) && !t.revoked && t.expires_at > now
            })
            .map(|(token, _)| token.clone())
            .collect();
        let refresh = self
            .refresh
            .iter()
            .filter(|(_, g)| g.account == account)
            .map(|(token, _)| token.clone())
            .collect();
        (access, refresh)
    }

    /// Expires now every access token of `account` (or the one given). Returns how many.
    pub fn expire_tokens(&mut self, account: Option<AccountIdx>, token: Option<&str>) -> usize {
        let now = Utc::now();
        let mut expired = 0;
        for (value, t) in &mut self.access {
            let matches = token.is_some_and(|tok| tok == value)
                || account.is_some_and(|a| t.subject == Subject::User(a));
            if matches {
                t.expires_at = now - chrono::Duration::seconds(1);
                expired += 1;
            }
        }
        expired
    }

    /// Invalidates every refresh token of `account` (as if the user changed password).
    pub fn revoke_grants(&mut self, account: AccountIdx) -> usize {
        let before = self.refresh.len();
        self.refresh.retain(|_, g| g.account != account);
        before - self.refresh.len()
    }

    // --- rate limits, faults, stats -------------------------------------------------------

    /// Takes one point from `subject`'s bucket if it has one. `name` labels the bucket in
    /// the statistics ("app" or the user's Twitch id).
    pub fn take_point(
        &mut self,
        subject: Subject,
        name: String,
        limit: u32,
        window: Duration,
    ) -> BucketReading {
        let now = Instant::now();
        let rate = f64::from(limit) / window.as_secs_f64();
        let bucket = self.buckets.entry(subject).or_insert(Bucket {
            tokens: f64::from(limit),
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(f64::from(limit));
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
            let calls = self.stats.windows.entry(subject).or_default();
            calls.push_back(now);
            while calls
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                calls.pop_front();
            }
            let max = self.stats.max_calls_per_window.entry(name).or_default();
            *max = (*max).max(calls.len() as u64);
        }
        let missing = f64::from(limit) - bucket.tokens;
        BucketReading {
            allowed,
            limit,
            remaining: bucket.tokens.floor().max(0.0) as u32,
            reset: Utc::now().timestamp() + (missing / rate).ceil() as i64,
        }
    }

    pub fn reset_buckets(&mut self) {
        self.buckets.clear();
    }

    /// Decides the injected fault of the next Helix request, and its added delay.
    pub fn next_fault(&mut self, seed: u64) -> (Fault, Duration) {
        self.helix_counter += 1;
        let n = self.helix_counter;
        let f = &self.faults;
        let roll = |k: u64| rng::unit(rng::hash(seed, &[7, n, k]));
        let mut delay = Duration::from_millis(f.latency_ms);
        if f.latency_jitter_ms > 0 {
            delay += Duration::from_millis((roll(1) * f.latency_jitter_ms as f64) as u64);
        }
        if f.stall_rate > 0.0 && roll(2) < f.stall_rate {
            delay += Duration::from_millis(f.stall_ms);
        }
        let fault = if f.burst_429_every > 0
            && f.burst_429_length > 0
            && (n - 1) % (f.burst_429_every + f.burst_429_length) >= f.burst_429_every
        {
            Fault::TooManyRequests
        } else if f.error_rate > 0.0 && roll(3) < f.error_rate {
            Fault::ServerError(if roll(4) < 0.5 { 500 } else { 503 })
        } else if f.drop_rate > 0.0 && roll(5) < f.drop_rate {
            Fault::Drop
        } else {
            Fault::None
        };
        let kind = match fault {
            Fault::None => None,
            Fault::TooManyRequests => Some("429"),
            Fault::ServerError(_) => Some("5xx"),
            Fault::Drop => Some("drop"),
        };
        if let Some(kind) = kind {
            *self.stats.faults_injected.entry(kind).or_default() += 1;
        }
        (fault, delay)
    }

    pub fn record(&mut self, endpoint: &str, status: u16) {
        self.stats.helix_requests += 1;
        *self
            .stats
            .by_endpoint
            .entry(endpoint.to_string())
            .or_default() += 1;
        *self.stats.by_status.entry(status).or_default() += 1;
    }
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
