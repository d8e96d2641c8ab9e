//! When humans created their accounts. Version 1 worlds spread them with a density rising
//! linearly to "now"; `creation = "realistic"` (version 2) follows Twitch's growth instead: a
//! slow start in 2011, steady growth, the 2020 lockdown bulge, a plateau, a stream of recent
//! newcomers, and a few surge days (a game launch, a big event) on which many real people
//! signed up — crowds a detector must not take for farms.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::rng::Rng;
use crate::scenario;

/// Version 1: linear density since Twitch's launch, plus 2 % newcomers of the last 30 days.
pub fn linear(now: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    let span = (now - scenario::twitch_launch()).num_seconds().max(86_400) as f64;
    let age = if rng.chance(0.02) {
        rng.unit() * 30.0 * 86_400.0
    } else {
        span * (1.0 - rng.unit().sqrt())
    };
    now - chrono::Duration::seconds(age as i64 + 60)
}

/// Relative sign-ups per year (a full year's weight; the current one is scaled by how much
/// of it has passed). From 2026 on, the plateau.
const YEARS: [(i32, f64); 15] = [
    (2011, 0.5),
    (2012, 1.5),
    (2013, 3.0),
    (2014, 4.5),
    (2015, 5.5),
    (2016, 6.5),
    (2017, 7.5),
    (2018, 8.5),
    (2019, 9.5),
    (2020, 16.0),
    (2021, 14.0),
    (2022, 10.5),
    (2023, 9.5),
    (2024, 9.0),
    (2025, 9.0),
];
const PLATEAU: f64 = 9.0;

fn year_start(year: i32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// The world's surge days: four days between a year after launch and three months ago.
pub fn surge_days(seed: u64, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut rng = Rng::stream(seed, &[10]);
    let from = scenario::twitch_launch() + chrono::Duration::days(365);
    let to = now - chrono::Duration::days(90);
    let days = (to - from).num_days().max(1) as u64;
    (0..4)
        .map(|_| {
            let day = from + chrono::Duration::days(rng.below(days) as i64);
            day.date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(day)
        })
        .collect()
}

/// Version 2: Twitch's growth, 3 % newcomers of the last 60 days, 2 % on a surge day.
pub fn realistic(now: DateTime<Utc>, surges: &[DateTime<Utc>], rng: &mut Rng) -> DateTime<Utc> {
    if rng.chance(0.03) {
        let age = rng.unit() * 60.0 * 86_400.0;
        return now - chrono::Duration::seconds(age as i64 + 60);
    }
    if !surges.is_empty() && rng.chance(0.02) {
        let day = surges[rng.below(surges.len() as u64) as usize];
        return day + chrono::Duration::seconds(rng.below(86_400) as i64);
    }
    let launch = scenario::twitch_launch();
    let weights: Vec<(DateTime<Utc>, DateTime<Utc>, f64)> = (2011..=now.year())
        .map(|year| {
            let full = YEARS
                .iter()
                .find(|(y, _)| *y == year)
                .map_or(PLATEAU, |(_, w)| *w);
            let start = year_start(year).max(launch);
            let end = year_start(year + 1).min(now);
            let share = (end - start).num_seconds().max(0) as f64
                / (year_start(year + 1) - year_start(year)).num_seconds() as f64;
            (start, end, full * share)
        })
        .filter(|(_, _, w)| *w > 0.0)
        .collect();
    let total: f64 = weights.iter().map(|(_, _, w)| w).sum();
    let mut draw = rng.unit() * total;
    let last = weights.len().saturating_sub(1);
    for (i, (start, end, weight)) in weights.iter().enumerate() {
        if draw < *weight || i == last {
            let span = (*end - *start).num_seconds().max(1) as u64;
            return *start + chrono::Duration::seconds(rng.below(span) as i64);
        }
        draw -= weight;
    }
    now - chrono::Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn realistic_creation_follows_the_growth_with_a_2020_bulge_and_surge_days() {
        let now = year_start(2026) + chrono::Duration::days(333);
        let surges = surge_days(9, now);
        let mut rng = Rng::new(9);
        let mut by_year: BTreeMap<i32, u32> = BTreeMap::new();
        let mut by_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        for _ in 0..50_000 {
            let t = realistic(now, &surges, &mut rng);
            assert!(t >= scenario::twitch_launch() && t <= now, "{t}");
            *by_year.entry(t.year()).or_default() += 1;
            *by_day.entry(t.date_naive()).or_default() += 1;
        }
        assert!(by_year[&2012] < by_year[&2016], "{by_year:?}");
        assert!(
            by_year[&2020] > by_year[&2019] + by_year[&2019] / 3,
            "{by_year:?}"
        );
        // Each surge day holds about 0.5 % of the humans, far above an ordinary day.
        for day in &surges {
            assert!(
                by_day[&day.date_naive()] > 150,
                "{day}: {:?}",
                by_day.get(&day.date_naive())
            );
        }
        let recent = by_day
            .range((now - chrono::Duration::days(60)).date_naive()..)
            .map(|(_, n)| n)
            .sum::<u32>();
        assert!(recent > 1_000, "newcomers: {recent}");
    }
}
