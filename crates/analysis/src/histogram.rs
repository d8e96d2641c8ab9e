//! Creation histograms: how many accounts were created in each day, week or month, against a
//! baseline — what that bucket "should" hold given its neighbours — so a wave of accounts
//! created together stands out as excess.
//!
//! The baseline of a bucket is the median of the `2 * radius` buckets nearest to it (the
//! bucket itself left out, empty buckets counted as zeros; at either end of the series the
//! window shifts inward rather than inventing empty buckets beyond the data, which would make
//! the newest days look like waves). A median ignores other spikes nearby, and leaving the
//! bucket out means a spike cannot raise its own expectation. A bucket is a burst
//! when its excess is at least `min_excess` accounts and `sigmas` Poisson deviations above the
//! baseline: `excess ≥ max(min_excess, sigmas · √max(baseline, 1))` — by default 8 accounts and
//! 4σ: over thousands of sparse days, 3σ or 5 accounts would flag chance clusters.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    /// The first day of the bucket holding `day` (weeks start on Monday).
    pub fn bucket_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }

    fn next(self, bucket: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => bucket + Duration::days(1),
            Self::Week => bucket + Duration::days(7),
            Self::Month => {
                let (y, m) = if bucket.month() == 12 {
                    (bucket.year() + 1, 1)
                } else {
                    (bucket.year(), bucket.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(bucket + Duration::days(31))
            }
        }
    }

    /// Neighbours on each side used for the baseline.
    pub fn radius(self) -> usize {
        match self {
            Self::Day => 7,
            Self::Week => 4,
            Self::Month => 3,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BurstRule {
    pub min_excess: f64,
    pub sigmas: f64,
}

impl Default for BurstRule {
    fn default() -> Self {
        Self {
            min_excess: 8.0,
            sigmas: 4.0,
        }
    }
}

/// One period of the histogram (the API's type: the analysis answers it as is).
pub use tca_common::analysis_api::response::Bucket;

/// Buckets every period from the earliest to the latest creation day (empty ones included, so
/// charts have a continuous axis), with baseline, excess and burst flag.
pub fn build(
    days: &BTreeMap<NaiveDate, u64>,
    granularity: Granularity,
    rule: BurstRule,
) -> Vec<Bucket> {
    let mut counts: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for (day, n) in days {
        *counts.entry(granularity.bucket_of(*day)).or_default() += n;
    }
    let (Some(first), Some(last)) = (
        counts.keys().next().copied(),
        counts.keys().next_back().copied(),
    ) else {
        return Vec::new();
    };
    let mut series = Vec::new();
    let mut at = first;
    while at <= last {
        series.push((at, counts.get(&at).copied().unwrap_or(0)));
        at = granularity.next(at);
    }
    let radius = granularity.radius();
    let last = series.len() - 1;
    (0..series.len())
        .map(|i| {
            // 2·radius neighbours: centred when possible, shifted inward at either end rather
            // than inventing empty buckets beyond the data (which would make the newest days
            // look like waves).
            let hi = (i.saturating_sub(radius) + 2 * radius).min(last);
            let lo = hi.saturating_sub(2 * radius);
            let mut neighbours: Vec<u64> =
                (lo..=hi).filter(|&j| j != i).map(|j| series[j].1).collect();
            let baseline = median(&mut neighbours);
            let (start, count) = series[i];
            let excess = count as f64 - baseline;
            let burst = excess >= rule.min_excess.max(rule.sigmas * baseline.max(1.0).sqrt());
            Bucket {
                start,
                count,
                baseline,
                excess,
                burst,
            }
        })
        .collect()
}

fn median(values: &mut [u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_spike_over_a_flat_background_is_the_only_burst_with_the_right_excess() {
        let mut days = BTreeMap::new();
        for i in 0..30 {
            days.insert(day("2024-03-01") + Duration::days(i), 2);
        }
        days.insert(day("2024-03-14"), 302);
        let buckets = build(&days, Granularity::Day, BurstRule::default());
        assert_eq!(buckets.len(), 30);
        let bursts: Vec<&Bucket> = buckets.iter().filter(|b| b.burst).collect();
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].start, day("2024-03-14"));
        assert_eq!(bursts[0].baseline, 2.0);
        assert_eq!(bursts[0].excess, 300.0);
        // Its neighbours are not lifted by it: the median ignores the spike.
        assert!(
            buckets
                .iter()
                .all(|b| b.start == day("2024-03-14") || b.baseline <= 2.0)
        );
    }

    #[test]
    fn gaps_are_filled_and_noise_is_not_a_burst() {
        let days = BTreeMap::from([
            (day("2024-01-01"), 3),
            (day("2024-01-05"), 4),
            (day("2024-01-09"), 3),
        ]);
        let buckets = build(&days, Granularity::Day, BurstRule::default());
        assert_eq!(buckets.len(), 9, "every day from first to last");
        assert_eq!(buckets[1].count, 0);
        assert!(
            buckets.iter().all(|b| !b.burst),
            "3-4 accounts a day is not a wave"
        );
    }

    #[test]
    fn a_steady_rise_is_not_a_wave_at_the_newest_end() {
        let days: BTreeMap<NaiveDate, u64> = (0..60)
            .map(|i| (day("2025-11-01") + Duration::days(i), 5 + (i as u64) / 6))
            .collect();
        let buckets = build(&days, Granularity::Day, BurstRule::default());
        assert!(
            buckets.iter().all(|b| !b.burst),
            "{:?}",
            buckets.iter().filter(|b| b.burst).collect::<Vec<_>>()
        );
        let newest = buckets.last().expect("last");
        assert!(
            newest.baseline >= 12.0,
            "compared with the days before it: {newest:?}"
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        assert_eq!(
            Granularity::Week.bucket_of(day("2024-03-14")),
            day("2024-03-11")
        );
        assert_eq!(
            Granularity::Month.bucket_of(day("2024-03-14")),
            day("2024-03-01")
        );
        let days = BTreeMap::from([(day("2024-01-31"), 1), (day("2024-03-02"), 2)]);
        let months = build(&days, Granularity::Month, BurstRule::default());
        let starts: Vec<NaiveDate> = months.iter().map(|b| b.start).collect();
        assert_eq!(
            starts,
            vec![day("2024-01-01"), day("2024-02-01"), day("2024-03-01")]
        );
    }
}
