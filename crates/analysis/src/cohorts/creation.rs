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

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

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
pub struct CreationWindow<K = usize> {
    /// Creation time of the first and last member.
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// The accounts created in the window, in creation order: indexes into the slice given to
    /// [`find`], or the keys given to [`Finder::push`].
    pub members: Vec<K>,
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
    find_in_order(&order, config).expect("sorted by creation time, then index")
}

/// [`find`] over creation times already in order — (seconds, key) sorted by time, then key —
/// the windows' members named by their keys.
pub fn find_in_order<K: Copy>(
    order: &[(i64, K)],
    config: &WindowConfig,
) -> Result<Vec<CreationWindow<K>>, NotInOrder> {
    let mut per_day = BTreeMap::new();
    for &(t, _) in order {
        *per_day.entry(timestamp(t).date_naive()).or_insert(0) += 1;
    }
    let mut finder = Finder::new(per_day, config);
    loop {
        for &(t, key) in order {
            finder.push(t, key)?;
        }
        if !finder.end_pass() {
            return Ok(finder.windows());
        }
    }
}
/// Creation times were given out of order to [`Finder::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotInOrder;

impl std::fmt::Display for NotInOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("creation times must come sorted by time (seconds), then key")
    }
}

/// Finds creation windows from creation times fed in order — (seconds, key) sorted by time,
/// then key — in two passes over the same times. It holds the sign-ups of the last day (the
/// widest window) and those of the windows' candidates, never the session: an export feeds
/// it straight from MariaDB (docs/cohorts.md "Found from a stream"); [`find`] from a slice.
///
/// The background is what is left once the bursts are taken out: the first pass finds the
/// plainest windows, the second measures the background without their members, so that five
/// nights of a drip, close together, do not raise each other's bar.
pub struct Finder<K> {
    config: WindowConfig,
    threshold: f64,
    background: Background,
    scan: Scan<K>,
    pass: Pass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Everyone,
    Outside,
    Done,
}

impl<K: Copy> Finder<K> {
    /// `per_day`: how many of the accounts with a creation time were created each day (UTC),
    /// the days of the times the passes will give.
    pub fn new(per_day: BTreeMap<NaiveDate, usize>, config: &WindowConfig) -> Self {
        let total: usize = per_day.values().sum();
        let windows_looked_at = (total * config.widths_seconds.len()).max(1) as f64;
        let pass = if total < config.min_members.max(1) {
            Pass::Done
        } else {
            Pass::Everyone
        };
        Self {
            config: config.clone(),
            threshold: (config.false_alarm / windows_looked_at).ln(),
            background: Background::new(per_day, config),
            scan: Scan::new(config.widths_seconds.len()),
            pass,
        }
    }

    /// The next account: its creation time in seconds and the key its window gives back.
    pub fn push(&mut self, seconds: i64, key: K) -> Result<(), NotInOrder> {
        if self.pass == Pass::Done {
            return Ok(());
        }
        self.scan
            .push(seconds, key, &self.background, self.threshold, &self.config)
    }

    /// Ends a pass over the times; true when the same times must be given once more.
    pub fn end_pass(&mut self) -> bool {
        match self.pass {
            Pass::Everyone => {
                let (kept, covered) = self.finish_scan();
                // The background without the first windows' members.
                let mut per_day = self.background.per_day.clone();
                for (&start, &(last, _)) in &kept {
                    for (t, _) in covered.range(start..=last).map(|(_, v)| v) {
                        let day = timestamp(*t).date_naive();
                        if let Some(n) = per_day.get_mut(&day) {
                            *n -= 1;
                            if *n == 0 {
                                per_day.remove(&day);
                            }
                        }
                    }
                }
                self.background = Background::new(per_day, &self.config);
                self.pass = Pass::Outside;
                true
            }
            Pass::Outside => {
                self.pass = Pass::Done;
                false
            }
            Pass::Done => false,
        }
    }

    /// The windows, earliest first, once [`Self::end_pass`] has said no more is needed.
    pub fn windows(mut self) -> Vec<CreationWindow<K>> {
        if self.scan.pushed == 0 {
            return Vec::new();
        }
        let (kept, covered) = self.finish_scan();
        kept.into_iter()
            .map(|(start, (last, chance))| {
                let members: Vec<(i64, K)> = covered.range(start..=last).map(|(_, &v)| v).collect();
                let (from, to) = (members[0].0, members[members.len() - 1].0);
                // The span of the members, at least an hour: a background "expected" over the
                // seconds between two scripted sign-ups would be meaningless.
                let span = (to - from).max(3_600) as f64;
                CreationWindow {
                    first: timestamp(from),
                    last: timestamp(to),
                    members: members.into_iter().map(|(_, key)| key).collect(),
                    expected: self.background.rate_per_second(from) * span,
                    log10_chance: chance / std::f64::consts::LN_10,
                }
            })
            .collect()
    }

    /// The windows of the pass just given (first index → last index, ln chance; never
    /// overlapping) and the accounts of its candidates by index; ready for the next pass.
    #[allow(clippy::type_complexity)]
    fn finish_scan(&mut self) -> (BTreeMap<usize, (usize, f64)>, BTreeMap<usize, (i64, K)>) {
        let mut scan =
            std::mem::replace(&mut self.scan, Scan::new(self.config.widths_seconds.len()));
        scan.finish(&self.background, self.threshold, &self.config);
        (scan.kept(), scan.covered)
    }
}

/// One pass over the creation times, every width at once. For each width, a window starts at
/// every account and runs to the first account created `width` later — or to the end of the
/// stretch, the first quiet spell longer than a third of the width (the end of one night of a
/// drip, before the next night or a lone sign-up hours later). A start is weighed as soon as
/// the account that ends it arrives, and an account is dropped once no width can start a
/// window before it, unless a candidate holds it.
struct Scan<K> {
    /// The accounts from the earliest start not yet weighed on: (seconds, key).
    buffer: VecDeque<(i64, K)>,
    /// The index of `buffer[0]` in creation order.
    buffer_base: usize,
    /// Accounts given so far, and the last one's time.
    pushed: usize,
    last_time: Option<i64>,
    /// Per width: the next start to weigh, the quiet spells (`j`: a quiet spell between
    /// accounts `j` and `j + 1`) from it on, and the candidates in start order (ln chance,
    /// first index, last index).
    next_start: Vec<usize>,
    quiet: Vec<VecDeque<usize>>,
    candidates: Vec<Vec<(f64, usize, usize)>>,
    /// The accounts of the candidates, by index, and the last index any candidate holds.
    covered: BTreeMap<usize, (i64, K)>,
    covered_through: Option<usize>,
}

impl<K: Copy> Scan<K> {
    fn new(widths: usize) -> Self {
        Self {
            buffer: VecDeque::new(),
            buffer_base: 0,
            pushed: 0,
            last_time: None,
            next_start: vec![0; widths],
            quiet: vec![VecDeque::new(); widths],
            candidates: vec![Vec::new(); widths],
            covered: BTreeMap::new(),
            covered_through: None,
        }
    }

    fn push(
        &mut self,
        seconds: i64,
        key: K,
        background: &Background,
        threshold: f64,
        config: &WindowConfig,
    ) -> Result<(), NotInOrder> {
        if self.last_time.is_some_and(|last| seconds < last) {
            return Err(NotInOrder);
        }
        let index = self.pushed;
        for (w, &width) in config.widths_seconds.iter().enumerate() {
            if let Some(last) = self.last_time
                && (seconds - last) * 3 > width
            {
                self.quiet[w].push_back(index - 1);
            }
        }
        self.buffer.push_back((seconds, key));
        self.pushed += 1;
        self.last_time = Some(seconds);
        for (w, &width) in config.widths_seconds.iter().enumerate() {
            while self.next_start[w] < index && self.time(self.next_start[w]) + width <= seconds {
                self.weigh(w, index, background, threshold, config);
            }
        }
        self.release(self.next_start.iter().copied().min().unwrap_or(index));
        Ok(())
    }

    /// Weighs the starts still open: their windows end with the last account.
    fn finish(&mut self, background: &Background, threshold: f64, config: &WindowConfig) {
        for w in 0..config.widths_seconds.len() {
            while self.next_start[w] < self.pushed {
                self.weigh(w, self.pushed, background, threshold, config);
            }
        }
        self.release(self.pushed);
    }

    fn time(&self, index: usize) -> i64 {
        self.buffer[index - self.buffer_base].0
    }

    /// Weighs width `w`'s next start, whose window `end`s (one past its last account) before
    /// the account at `end`, or sooner at a quiet spell.
    fn weigh(
        &mut self,
        w: usize,
        end: usize,
        background: &Background,
        threshold: f64,
        config: &WindowConfig,
    ) {
        let start = self.next_start[w];
        self.next_start[w] += 1;
        let quiet = &mut self.quiet[w];
        while quiet.front().is_some_and(|&j| j < start) {
            quiet.pop_front();
        }
        let stretch_end = quiet.front().map_or(self.pushed, |&j| j + 1);
        let last = end.min(stretch_end);
        let count = last - start;
        if count < config.min_members {
            return;
        }
        let from = self.time(start);
        let expected = background.rate_per_second(from) * config.widths_seconds[w] as f64;
        let chance = background.poisson_tail(count, expected);
        if chance <= threshold {
            self.candidates[w].push((chance, start, last - 1));
            self.covered_through = self.covered_through.max(Some(last - 1));
        }
    }

    /// Drops the accounts before index `keep_from`, keeping those a candidate holds (no later
    /// candidate can: they all start at or after `keep_from`).
    fn release(&mut self, keep_from: usize) {
        while self.buffer_base < keep_from {
            let Some(account) = self.buffer.pop_front() else {
                break;
            };
            if self.covered_through >= Some(self.buffer_base) {
                self.covered.insert(self.buffer_base, account);
            }
            self.buffer_base += 1;
        }
    }

    /// The windows kept among the candidates: first index → (last index, ln chance).
    fn kept(&mut self) -> BTreeMap<usize, (usize, f64)> {
        // Every window dense enough is a candidate; the most surprising are kept first and any
        // candidate sharing an account with a kept one is dropped. A farm created over three
        // hours is seen by the hour, the six hours and the day: the width that fits it best
        // wins. Two nights of a drip stay two windows (a day-wide window straddling them is
        // less surprising than either night), to be linked later by what their members share.
        // Ties keep the order of widths, then starts (a stable sort).
        let mut candidates: Vec<(f64, usize, usize)> =
            self.candidates.drain(..).flatten().collect();
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then((b.2 - b.1).cmp(&(a.2 - a.1))));
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
struct Background {
    per_day: BTreeMap<NaiveDate, usize>,
    last_day: NaiveDate,
    rates: RefCell<BTreeMap<NaiveDate, f64>>,
    half_days: i64,
    log_outlier: f64,
    log_factorials: LogFactorials,
}

/// A side of the background shorter than this (the last days before "now") is too noisy to
/// measure on its own; the other side measures alone.
const MIN_SIDE_DAYS: i64 = 7;

impl Background {
    /// The background of the accounts created `per_day` (days without sign-ups absent).
    fn new(per_day: BTreeMap<NaiveDate, usize>, config: &WindowConfig) -> Self {
        let last_day = per_day.keys().next_back().copied().unwrap_or_default();
        Self {
            per_day,
            last_day,
            rates: Default::default(),
            half_days: config.background_half_days.max(MIN_SIDE_DAYS),
            log_outlier: config.background_outlier.clamp(f64::MIN_POSITIVE, 1.0).ln(),
            log_factorials: LogFactorials::default(),
        }
    }

    fn poisson_tail(&self, k: usize, lambda: f64) -> f64 {
        log_poisson_tail(k, lambda, &self.log_factorials)
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
                .filter(|&&n| self.poisson_tail(n, mean) > self.log_outlier)
                .fold((0, 0.0), |(sum, d), &n| (sum + n, d + 1.0));
            total = kept;
            counted = kept_days + (days - busy.len() as f64);
        }
        total as f64 / counted.max(1.0)
    }
}

/// ln(k!), tabled up to the largest k asked for so far: the largest window or day, not the
/// session (the same sums, in the same order, as a table made in one go).
#[derive(Debug, Default)]
struct LogFactorials(RefCell<Vec<f64>>);

impl LogFactorials {
    fn get(&self, k: usize) -> f64 {
        let mut table = self.0.borrow_mut();
        if table.is_empty() {
            table.push(0.0);
        }
        while table.len() <= k {
            let next = table[table.len() - 1] + (table.len() as f64).ln();
            table.push(next);
        }
        table[k]
    }
}

/// ln P(X ≥ k) for X ~ Poisson(λ); 0 (certainty) when k ≤ λ, where a window is not dense.
fn log_poisson_tail(k: usize, lambda: f64, log_factorials: &LogFactorials) -> f64 {
    if lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if (k as f64) <= lambda {
        return 0.0;
    }
    // P(X ≥ k) = P(X = k) · (1 + λ/(k+1) + λ²/((k+1)(k+2)) + …); the series converges
    // quickly since k > λ.
    let log_first = -lambda + k as f64 * lambda.ln() - log_factorials.get(k);
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
        let table = LogFactorials::default();
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
