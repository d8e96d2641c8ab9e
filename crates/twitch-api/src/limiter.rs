//! One limiter per Twitch rate-limit bucket (the app's, and each user's).
//!
//! Three rules, all of which must allow a call:
//! 1. a GCRA bucket (governor) of `limit` points refilled over `window` — Twitch's own model;
//! 2. at most `limit` calls in any rolling `window` — so no minute ever sees more than the
//!    bucket holds, even when our bucket starts full while Twitch's is not;
//! 3. what Twitch last said: `Ratelimit-Remaining: 0` or a 429 blocks the bucket until the
//!    next point is back — points refill continuously, and `Ratelimit-Reset` is when the
//!    bucket is *full* again, so a call needing one point waits `reset / limit`, not until
//!    the reset (`wait_for_points`); repeated 429s back off exponentially from there. A
//!    different `Ratelimit-Limit` replaces our assumption.
//!
//! A caller with a deadline gets `Err(wait)` instead of waiting past it.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bucket {
    App,
    User(String),
}

impl Bucket {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::App => "app",
            Self::User(_) => "user",
        }
    }
}

struct BucketState {
    limit: u32,
    gcra: DefaultDirectRateLimiter,
    recent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl BucketState {
    fn new(limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let burst = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(window / limit)
            .unwrap_or_else(|| Quota::per_minute(burst))
            .allow_burst(burst);
        Self {
            limit,
            gcra: RateLimiter::direct(quota),
            recent: VecDeque::with_capacity(limit as usize),
            blocked_until: None,
        }
    }

    /// Admits a call now, or says how long to wait.
    fn try_admit(
        &mut self,
        now: Instant,
        window: Duration,
        clock: &DefaultClock,
    ) -> Option<Duration> {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Some(until - now);
            }
            self.blocked_until = None;
        }
        while self
            .recent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= window)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.limit as usize {
            let oldest = self.recent.front().copied().unwrap_or(now);
            return Some(
                (oldest + window)
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            );
        }
        if let Err(not_until) = self.gcra.check() {
            return Some(
                not_until
                    .wait_time_from(clock.now())
                    .max(Duration::from_millis(1)),
            );
        }
        self.recent.push_back(now);
        None
    }
}

pub struct Limiter {
    buckets: Mutex<HashMap<Bucket, BucketState>>,
    default_limit: u32,
    window: Duration,
    clock: DefaultClock,
}

/// Twitch counts calls when they arrive, we when they leave: transit jitter could put one
/// call too many in Twitch's window. A window 2 % longer (at most 1 s) absorbs it and still
/// uses more than 98 % of the bucket.
fn guarded(window: Duration) -> Duration {
    window + (window / 50).min(Duration::from_secs(1))
}

impl Limiter {
    pub fn new(default_limit: u32, window: Duration) -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
            default_limit,
            window: guarded(window),
            clock: DefaultClock::default(),
        }
    }

    fn with_bucket<T>(&self, bucket: &Bucket, f: impl FnOnce(&mut BucketState) -> T) -> T {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let state = buckets
            .entry(bucket.clone())
            .or_insert_with(|| BucketState::new(self.default_limit, self.window));
        f(state)
    }

    /// Waits until the bucket admits one call. `Err(wait)` if that would pass `deadline`.
    pub async fn acquire(
        &self,
        bucket: &Bucket,
        deadline: Option<Instant>,
    ) -> Result<(), Duration> {
        let mut waited = Duration::ZERO;
        loop {
            let now = Instant::now();
            let wait = self.with_bucket(bucket, |s| s.try_admit(now, self.window, &self.clock));
            let Some(wait) = wait else {
                if !waited.is_zero() {
                    metrics::counter!("twitch_rate_limit_waits_total", "bucket" => bucket.kind())
                        .increment(1);
                    metrics::histogram!("twitch_rate_limit_wait_seconds", "bucket" => bucket.kind())
                        .record(waited.as_secs_f64());
                }
                return Ok(());
            };
            if deadline.is_some_and(|d| now + wait > d) {
                metrics::counter!("twitch_rate_limit_deadline_exceeded_total", "bucket" => bucket.kind())
                    .increment(1);
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// Learns from a Helix answer's `Ratelimit-*` headers.
    pub fn observe(
        &self,
        bucket: &Bucket,
        limit: Option<u32>,
        remaining: Option<u32>,
        reset_in: Option<Duration>,
    ) {
        let window = self.window;
        self.with_bucket(bucket, |state| {
            if let Some(limit) = limit.filter(|&l| l > 0 && l != state.limit) {
                // Keep what we know of recent calls; restart the GCRA at the new size.
                let recent = std::mem::take(&mut state.recent);
                *state = BucketState::new(limit, window);
                state.recent = recent;
            }
            if remaining == Some(0) {
                let wait = wait_for_points(state.limit, Some(0), reset_in, 1);
                let until = Instant::now() + wait;
                state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
            }
            if let Some(remaining) = remaining {
                metrics::gauge!("twitch_bucket_remaining", "bucket" => bucket.kind())
                    .set(f64::from(remaining));
            }
        });
    }

    /// After a 429 (the `consecutive`-th in a row for this call): blocks the bucket until the
    /// point the call needs is back, doubled for each repeat; returns the wait.
    pub fn block_after_429(
        &self,
        bucket: &Bucket,
        limit: Option<u32>,
        remaining: Option<u32>,
        reset_in: Option<Duration>,
        consecutive: u32,
    ) -> Duration {
        let mut wait = Duration::ZERO;
        self.with_bucket(bucket, |state| {
            let limit = limit.filter(|&l| l > 0).unwrap_or(state.limit);
            wait = wait_for_points(limit, remaining, reset_in, consecutive);
            let until = Instant::now() + wait;
            state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
        });
        wait
    }
}

/// The shortest wait Twitch's answer allows before one more point is in the bucket.
const MIN_WAIT: Duration = Duration::from_millis(100);

/// How long until the one point a call needs is back: the bucket refills `limit` points by
/// `reset_in` (when it is full again), so one point takes `reset_in / (limit - remaining)` at
/// worst — `reset_in / limit` from empty. The `consecutive`-th 429 in a row doubles it each
/// time (Twitch disagrees with our arithmetic: back off), never past the full reset.
pub fn wait_for_points(
    limit: u32,
    remaining: Option<u32>,
    reset_in: Option<Duration>,
    consecutive: u32,
) -> Duration {
    let reset = reset_in.unwrap_or(Duration::from_secs(1));
    let missing = limit.max(1).saturating_sub(remaining.unwrap_or(0)).max(1);
    let one_point = (reset / missing).max(MIN_WAIT);
    let doubled = one_point.saturating_mul(1u32 << consecutive.saturating_sub(1).min(16));
    doubled.min(reset.max(MIN_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_429_a_call_waits_for_its_point_not_for_the_full_bucket() {
        let reset = Some(Duration::from_secs(60));
        // 800 points a minute, empty: one point is back in 75 ms (the floor is 100 ms).
        assert_eq!(wait_for_points(800, Some(0), reset, 1), MIN_WAIT);
        // 30 points a minute, empty: 2 s.
        assert_eq!(
            wait_for_points(30, Some(0), reset, 1),
            Duration::from_secs(2)
        );
        // Repeated 429s double it, never past the reset.
        assert_eq!(
            wait_for_points(30, Some(0), reset, 2),
            Duration::from_secs(4)
        );
        assert_eq!(
            wait_for_points(30, Some(0), reset, 3),
            Duration::from_secs(8)
        );
        assert_eq!(
            wait_for_points(30, Some(0), reset, 20),
            Duration::from_secs(60)
        );
        // No headers: a second at most.
        assert!(wait_for_points(800, None, None, 1) <= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn never_admits_more_than_the_limit_in_any_window() {
        let window = Duration::from_millis(400);
        let limiter = Limiter::new(5, window);
        let bucket = Bucket::App;
        let mut admitted = Vec::new();
        for _ in 0..12 {
            limiter.acquire(&bucket, None).await.expect("no deadline");
            admitted.push(Instant::now());
        }
        for (i, t) in admitted.iter().enumerate() {
            let in_window = admitted[i..]
                .iter()
                .filter(|u| u.duration_since(*t) < window)
                .count();
            assert!(in_window <= 5, "{in_window} calls within one window");
        }
        // 12 calls at 5 per window need at least two full windows after the first burst.
        assert!(admitted[11].duration_since(admitted[0]) >= window * 2);
    }

    #[tokio::test]
    async fn a_deadline_shorter_than_the_wait_is_refused_at_once() {
        let limiter = Limiter::new(2, Duration::from_secs(60));
        let bucket = Bucket::User("1".into());
        limiter.acquire(&bucket, None).await.expect("first");
        limiter.acquire(&bucket, None).await.expect("second");
        let started = Instant::now();
        let wait = limiter
            .acquire(&bucket, Some(Instant::now() + Duration::from_millis(50)))
            .await
            .expect_err("would wait ~60 s");
        assert!(wait > Duration::from_secs(20));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused without waiting"
        );
        // Other buckets are independent.
        limiter
            .acquire(&Bucket::User("2".into()), Some(Instant::now()))
            .await
            .expect("own bucket");
    }

    #[tokio::test]
    async fn twitchs_headers_block_until_the_next_point_not_the_full_reset() {
        let limiter = Limiter::new(30, Duration::from_secs(60));
        let bucket = Bucket::App;
        // Empty, full again in 30 s at 30 points a minute: one point is back in 1 s.
        limiter.observe(&bucket, Some(30), Some(0), Some(Duration::from_secs(30)));
        let wait = limiter
            .acquire(&bucket, Some(Instant::now() + Duration::from_millis(200)))
            .await
            .expect_err("blocked until the next point");
        assert!(
            wait > Duration::from_millis(700) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        let started = Instant::now();
        limiter
            .acquire(&bucket, Some(Instant::now() + Duration::from_secs(5)))
            .await
            .expect("admitted once the point is back");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not the 30 s reset"
        );
    }
}
