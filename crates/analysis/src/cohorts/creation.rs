//! Creation windows: stretches of time in which far more of a session's accounts were created
//! than the accounts created around them would lead one to expect.
//!
//! Why this shape: a farm is created by a script in a few hours (or a few hours a night for a
//! drip-fed farm), while a channel's real audience signed up over years, more in some years
//! than others. The day histogram's burst rule compares whole days with the session's median
//! day, which misses eight accounts a night and ignores the hour. Here every window of a few
//! widths (an hour to a day) is weighed against the *local* background — the accounts created
//! in the two months around it — with a Poisson tail: how unlikely that many accounts in that
//! little time would be if sign-ups came at the background rate. The threshold is a
//! probability corrected for the number of windows looked at, not a count fitted to a
//! scenario, so it means the same for 500 chatters and for 200,000.
//!
//! A window says "created together"; it does not say "bot": a launch-day crowd of real people
//! is a window too. What the members share besides their creation time decides that.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

/// How windows are looked for (configuration; defaults in docs/cohorts.md).
#[derive(Debug, Clone)]
pub struct WindowConfig {
    /// Window widths, in seconds, from the narrowest.
    pub widths_seconds: Vec<i64>,
    /// The background is measured over this many days on each side of a window's day.
    pub background_half_days: i64,
    /// A background day with a count this unlikely at the background rate is left out of it,
    /// so that a neighbouring burst (the next night of a drip) does not raise the bar for
    /// this one.
    pub background_outlier: f64,
    /// Fewest accounts in a window for it to count.
    pub min_members: usize,
    /// Chance of seeing one such window anywhere in the session at the background rate.
    pub false_alarm: f64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            widths_seconds: vec![3_600, 6 * 3_600, 24 * 3_600],
            background_half_days: 30,
            background_outlier: 0.001,
            min_members: 5,
            false_alarm: 0.01,
        }
    }
}

/// A stretch of creation times denser than its background.
#[derive(Debug, Clone, PartialEq)]
pub struct CreationWindow {
    /// Creation time of the first and last member.
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Indexes (into the slice given to `find`) of the accounts created in the window, in
    /// creation order.
    pub members: Vec<usize>,
    /// Accounts the background rate would put in the same span.
    pub expected: f64,
    /// log10 of the chance of so many accounts in the window's width at the background rate
    /// (negative; the smaller, the more surprising).
    pub log10_chance: f64,
}

/// The creation windows of a session's accounts (`created[i]` is account `i`'s creation time;
/// accounts Twitch has not described yet are `None` and belong to no window), earliest first.
pub fn find(created: &[Option<DateTime<Utc>>], config: &WindowConfig) -> Vec<CreationWindow> {
    let mut order: Vec<(i64, usize)> = created
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (c.timestamp(), i)))
        .collect();
    order.sort_unstable();
    if order.len() < config.min_members.max(1) {
        return Vec::new();
    }
    let log_factorials = log_factorials(order.len());
    let windows_looked_at = (order.len() * config.widths_seconds.len()).max(1) as f64;
    let threshold = (config.false_alarm / windows_looked_at).ln();
    // The background is what is left once the bursts are taken out: a first scan finds the
    // plainest windows, a second measures the background without their members, so that
    // five nights of a drip, close together, do not raise each other's bar.
    let everyone = Background::new(order.iter().map(|&(t, _)| t), config, &log_factorials);
    let first = scan(&order, &everyone, threshold, config, &log_factorials);
    let outside = order.iter().enumerate().filter_map(|(i, &(t, _))| {
        let in_window = first
            .range(..=i)
            .next_back()
            .is_some_and(|(_, (last, _))| *last >= i);
        (!in_window).then_some(t)
    });
    let background = Background::new(outside, config, &log_factorials);
    scan(&order, &background, threshold, config, &log_factorials)
        .into_iter()
        .map(|(start, (last, chance))| {
            let (from, to) = (order[start].0, order[last].0);
            // The span of the members, at least an hour: a background "expected" over the
            // seconds between two scripted sign-ups would be meaningless.
            let span = (to - from).max(3_600) as f64;
            CreationWindow {
                first: timestamp(from),
                last: timestamp(to),
                members: order[start..=last].iter().map(|&(_, i)| i).collect(),
                expected: background.rate_per_second(from) * span,
                log10_chance: chance / std::f64::consts::LN_10,
            }
        })
        .collect()
}

/// The windows of `order` (creation time, account) at `background`: first index → (last
/// index, ln chance), never overlapping.
fn scan(
    order: &[(i64, usize)],
    background: &Background<'_>,
    threshold: f64,
    config: &WindowConfig,
    log_factorials: &[f64],
) -> BTreeMap<usize, (usize, f64)> {
    // Every window dense enough is a candidate; the most surprising are kept first and any
    // candidate sharing an account with a kept one is dropped. A farm created over three hours
    // is seen by the hour, the six hours and the day: the width that fits it best wins. Two
    // nights of a drip stay two windows (a day-wide window straddling them is less surprising
    // than either night), to be linked later by what their members share.
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for &width in &config.widths_seconds {
        // A window is one stretch of sign-ups: it ends at the first quiet spell longer than a
        // third of its width (the end of one night of a drip, before the next night or a lone
        // sign-up hours later). `stretch_end[i]`: one past the last account of the stretch
        // that account i starts.
        let mut stretch_end = vec![order.len(); order.len()];
        for i in (0..order.len().saturating_sub(1)).rev() {
            let quiet = (order[i + 1].0 - order[i].0) * 3 > width;
            stretch_end[i] = if quiet { i + 1 } else { stretch_end[i + 1] };
        }
        let mut end = 0;
        for start in 0..order.len() {
            end = end.max(start);
            while end < order.len() && order[end].0 < order[start].0 + width {
                end += 1;
            }
            let last = end.min(stretch_end[start]);
            let count = last - start;
            if count < config.min_members {
                continue;
            }
            let expected = background.rate_per_second(order[start].0) * width as f64;
            let chance = log_poisson_tail(count, expected, log_factorials);
            if chance <= threshold {
                candidates.push((chance, start, last - 1));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then((b.2 - b.1).cmp(&(a.2 - a.1))));
    // Kept windows by first index → (last index, chance); they never overlap.
    let mut kept: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
    for (chance, start, last) in candidates {
        let overlaps = kept
            .range(..=last)
            .next_back()
            .is_some_and(|(_, (kept_last, _))| *kept_last >= start);
        if !overlaps {
            kept.insert(start, (last, chance));
        }
    }
    kept
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// The background sign-up rate around each day, the higher of two measures: the mean daily
/// count of the days before it, and of the days after it (days without sign-ups included,
/// days after the session's last creation not). Taking the higher side keeps the edge of a
/// busier period (Twitch's 2020, a channel's recent newcomers) from looking like a burst.
/// Each side leaves out the days that are outliers at its own rate, and the rate is never
/// below one account per background span: years without a sign-up in the session are not
/// evidence that none could happen.
struct Background<'a> {
    per_day: BTreeMap<NaiveDate, usize>,
    last_day: NaiveDate,
    rates: std::cell::RefCell<BTreeMap<NaiveDate, f64>>,
    half_days: i64,
    log_outlier: f64,
    log_factorials: &'a [f64],
}

/// A side of the background shorter than this (the last days before "now") is too noisy to
/// measure on its own; the other side measures alone.
const MIN_SIDE_DAYS: i64 = 7;

impl<'a> Background<'a> {
    /// The background of the accounts created at `times` (seconds).
    fn new(
        times: impl Iterator<Item = i64>,
        config: &WindowConfig,
        log_factorials: &'a [f64],
    ) -> Self {
        let mut per_day = BTreeMap::new();
        for t in times {
            *per_day.entry(timestamp(t).date_naive()).or_insert(0) += 1;
        }
        let last_day = per_day.keys().next_back().copied().unwrap_or_default();
        Self {
            per_day,
            last_day,
            rates: Default::default(),
            half_days: config.background_half_days.max(MIN_SIDE_DAYS),
            log_outlier: config.background_outlier.clamp(f64::MIN_POSITIVE, 1.0).ln(),
            log_factorials,
        }
    }

    fn rate_per_second(&self, t: i64) -> f64 {
        let day = timestamp(t).date_naive();
        if let Some(rate) = self.rates.borrow().get(&day) {
            return *rate;
        }
        let span = chrono::Duration::days(self.half_days);
        let before = self.side_mean(day - span, day);
        let after_end = (day + span).min(self.last_day);
        let after = ((after_end - day).num_days() + 1 >= MIN_SIDE_DAYS)
            .then(|| self.side_mean(day, after_end));
        let per_day = after
            .map_or(before, |after| after.max(before))
            .max(1.0 / (2 * self.half_days + 1) as f64);
        let rate = per_day / 86_400.0;
        self.rates.borrow_mut().insert(day, rate);
        rate
    }

    /// The mean daily count from `from` to `to` (inclusive), outlier days left out.
    fn side_mean(&self, from: NaiveDate, to: NaiveDate) -> f64 {
        let days = ((to - from).num_days() + 1) as f64;
        let busy: Vec<usize> = self.per_day.range(from..=to).map(|(_, n)| *n).collect();
        let mut total: usize = busy.iter().sum();
        let mut counted = days;
        // Twice is enough: the first pass drops the bursts, the second the days that only
        // stood out once the bursts had stopped inflating the mean.
        for _ in 0..2 {
            let mean = total as f64 / counted;
            let (kept, kept_days) = busy
                .iter()
                .filter(|&&n| log_poisson_tail(n, mean, self.log_factorials) > self.log_outlier)
                .fold((0, 0.0), |(sum, d), &n| (sum + n, d + 1.0));
            total = kept;
            counted = kept_days + (days - busy.len() as f64);
        }
        total as f64 / counted.max(1.0)
    }
}

/// ln(k!) for k in 0..=n.
fn log_factorials(n: usize) -> Vec<f64> {
    let mut table = Vec::with_capacity(n + 1);
    let mut sum = 0.0;
    table.push(0.0);
    for k in 1..=n {
        sum += (k as f64).ln();
        table.push(sum);
    }
    table
}

/// ln P(X ≥ k) for X ~ Poisson(λ); 0 (certainty) when k ≤ λ, where a window is not dense.
fn log_poisson_tail(k: usize, lambda: f64, log_factorials: &[f64]) -> f64 {
    if lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if (k as f64) <= lambda {
        return 0.0;
    }
    // P(X ≥ k) = P(X = k) · (1 + λ/(k+1) + λ²/((k+1)(k+2)) + …); the series converges
    // quickly since k > λ.
    let log_first = -lambda + k as f64 * lambda.ln() - log_factorials[k];
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut j = k;
    while term > 1e-12 * sum && j < k + 10_000 {
        j += 1;
        term *= lambda / j as f64;
        sum += term;
    }
    (log_first + sum.ln()).min(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: &str, seconds: i64) -> Option<DateTime<Utc>> {
        let start = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .expect("a test date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        Some(start + chrono::Duration::seconds(seconds))
    }

    /// One account every `every_days` days from 2016-01-01: a quiet, steady background.
    fn background(count: usize, every_days: i64) -> Vec<Option<DateTime<Utc>>> {
        (0..count)
            .map(|i| at("2016-01-01", i as i64 * every_days * 86_400 + 13 * 3_600))
            .collect()
    }

    #[test]
    fn poisson_tail_matches_hand_computed_values() {
        let table = log_factorials(20);
        // P(X ≥ 1; λ = 0.5) = 1 − e^−0.5 = 0.393 469 3
        assert!((log_poisson_tail(1, 0.5, &table).exp() - (1.0 - (-0.5f64).exp())).abs() < 1e-9);
        // P(X ≥ 3; λ = 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125) = 0.014 387 7
        let expected = 1.0 - (-0.5f64).exp() * (1.0 + 0.5 + 0.125);
        assert!((log_poisson_tail(3, 0.5, &table).exp() - expected).abs() < 1e-9);
        assert_eq!(
            log_poisson_tail(2, 3.0, &table),
            0.0,
            "k ≤ λ is no surprise"
        );
    }

    #[test]
    fn a_steady_background_has_no_window() {
        let created = background(1_000, 2);
        assert!(find(&created, &WindowConfig::default()).is_empty());
    }

    #[test]
    fn a_scripted_night_is_one_window_with_its_members_and_expectation() {
        let mut created = background(1_000, 2);
        // Eight accounts between 02:00 and 04:20 on a day of the background.
        let night: Vec<usize> = (0..8)
            .map(|i| {
                created.push(at("2018-06-10", 2 * 3_600 + i * 1_200));
                created.len() - 1
            })
            .collect();
        let windows = find(&created, &WindowConfig::default());
        assert_eq!(windows.len(), 1, "{windows:?}");
        let window = &windows[0];
        assert_eq!(window.members, night);
        assert_eq!(window.first, at("2018-06-10", 7_200).expect("time"));
        assert_eq!(
            window.last,
            at("2018-06-10", 7_200 + 7 * 1_200).expect("time")
        );
        // Background: one account every two days → 0.5 a day; 2 h 20 min of it.
        let hours = 7.0 * 1_200.0 / 3_600.0;
        assert!(
            (window.expected - 0.5 * hours / 24.0).abs() < 0.01,
            "{window:?}"
        );
        assert!(window.log10_chance < -8.0, "{window:?}");
    }

    #[test]
    fn nights_of_a_drip_are_separate_windows_and_do_not_hide_each_other() {
        let mut created = background(1_000, 2);
        for night in 0..5 {
            for i in 0..8 {
                created.push(at("2018-06-10", night * 86_400 + 2 * 3_600 + i * 1_200));
            }
        }
        let windows = find(&created, &WindowConfig::default());
        assert_eq!(windows.len(), 5, "{windows:?}");
        assert!(windows.iter().all(|w| w.members.len() == 8));
    }

    #[test]
    fn a_busy_but_steady_period_is_not_a_window_while_a_burst_within_it_is() {
        // 2020: 20 accounts a day, spread evenly over the day, for 200 days.
        let mut created: Vec<_> = (0..4_000).map(|i| at("2020-03-01", i * 4_320)).collect();
        assert!(find(&created, &WindowConfig::default()).is_empty());
        // 60 more in one afternoon stand out from that background.
        for i in 0..60 {
            created.push(at("2020-06-01", 14 * 3_600 + i * 60));
        }
        let windows = find(&created, &WindowConfig::default());
        assert_eq!(windows.len(), 1, "{windows:?}");
        assert!(windows[0].members.len() >= 60);
    }

    #[test]
    fn the_edge_of_a_busier_recent_period_is_not_a_window() {
        // Quiet years, then the channel's recent newcomers: 12 a day, evenly, for the last 60
        // days. The first busy days, measured against the quiet months before them alone,
        // would look like a burst; the days after them say otherwise.
        let mut created = background(1_000, 2);
        let last_quiet = created.last().copied().flatten().expect("a background");
        created.extend(
            (0..720).map(|i| Some(last_quiet + chrono::Duration::seconds(86_400 + i * 7_200))),
        );
        assert!(find(&created, &WindowConfig::default()).is_empty());
    }

    #[test]
    fn too_few_accounts_or_unknown_creation_make_no_window() {
        let created = vec![at("2024-01-01", 0), None, at("2024-01-01", 10), None];
        assert!(find(&created, &WindowConfig::default()).is_empty());
    }
}
