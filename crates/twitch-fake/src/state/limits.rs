//! Rate-limit buckets, injected faults, and request statistics.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::{Bucket, BucketReading, Fault, Inner, Subject};
use crate::rng;

impl Inner {
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
            self.stats.count_fault(kind);
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
