//! The session at a glance: summary, creation histograms, top creation days, scores.

use std::collections::{BTreeMap, HashMap};

use axum::Json;

use axum::response::Response;
use chrono::{Duration, NaiveDate, Timelike};
use tca_common::analysis_api::request::parse_day;
use tca_common::analysis_api::response::{
    Histogram, Hours, ScoreBucket, Scores, Summary, TopDay, TopDays,
};
use tca_common::query::QueryString;

use super::{ApiError, ApiResult, Ask, Prepared, share};
use crate::db;
use crate::histogram::{self, BurstRule, Granularity};
use crate::population::{Population, Scored, Selection};

pub async fn summary(ask: Ask) -> ApiResult<Response> {
    ask.answer("summary", async |p: &Prepared| summary_of(&ask, p).await)
        .await
}

pub(super) async fn summary_of(ask: &Ask, p: &Prepared) -> ApiResult<Summary> {
    let threshold = ask.state.scoring.flag_threshold;
    let (mut total, mut young7, mut young30, mut enriched, mut flagged, mut trusted) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for a in p.selection.of(&p.population) {
        total += 1;
        if let Some(created) = a.row.twitch_created_at {
            let age = a.row.first_seen_at - created;
            young7 += usize::from(age < Duration::days(7));
            young30 += usize::from(age < Duration::days(30));
        }
        enriched += usize::from(a.row.enriched);
        flagged += usize::from(a.flagged(threshold));
        trusted += usize::from(a.score.trusted);
    }
    let captures =
        db::finished_captures(&ask.state.pool, ask.session_id, &p.filter.broadcaster_ids).await?;
    Ok(Summary {
        accounts: total as u64,
        captures: captures.len() as u64,
        channels: p.channels.max(0) as u64,
        last_capture_at: captures.iter().filter_map(|c| c.finished_at).max(),
        young_7d: young7 as u64,
        young_30d: young30 as u64,
        enriched_share: share(enriched, total),
        flagged: flagged as u64,
        flagged_share: share(flagged, total),
        flag_threshold: threshold,
        trusted: trusted as u64,
    })
}

fn counts_by_day<'a>(accounts: impl Iterator<Item = &'a Scored>) -> BTreeMap<NaiveDate, u64> {
    let mut days = BTreeMap::new();
    for a in accounts {
        if let Some(created) = a.row.twitch_created_at {
            *days.entry(created.date_naive()).or_default() += 1;
        }
    }
    days
}

/// The creation histogram by `bucket=day|week|month` (day when absent).
pub(super) fn buckets(
    population: &Population,
    selection: &Selection,
    query: &QueryString,
) -> ApiResult<Vec<histogram::Bucket>> {
    let granularity = match query.one("bucket") {
        None => Granularity::Day,
        Some(raw) => Granularity::parse(raw).ok_or_else(|| {
            ApiError::bad(
                tca_common::i18n::current().t_args("error-param-bucket", &[("raw", raw.into())]),
            )
        })?,
    };
    Ok(histogram::build(
        &counts_by_day(selection.of(population)),
        granularity,
        BurstRule::default(),
    ))
}

pub async fn histogram(ask: Ask) -> ApiResult<Response> {
    ask.answer("histogram", async |p: &Prepared| {
        Ok(Histogram {
            buckets: buckets(&p.population, &p.selection, &p.query)?,
        })
    })
    .await
}

pub async fn hours(ask: Ask) -> ApiResult<Json<Hours>> {
    let p = ask.prepare().await?;
    let day = p
        .query
        .one("day")
        .ok_or_else(|| ApiError::bad(tca_common::i18n::current().t("error-param-day-required")))?;
    let wanted = parse_day(day, "day").map_err(ApiError::bad)?;
    let mut hours = vec![0u64; 24];
    for a in p.selection.of(&p.population) {
        if let Some(created) = a.row.twitch_created_at
            && created.date_naive() == wanted
        {
            hours[created.hour() as usize] += 1;
        }
    }
    Ok(Json(Hours { day: wanted, hours }))
}

pub async fn top_days(ask: Ask) -> ApiResult<Response> {
    ask.answer("top-days", async |p: &Prepared| top_days_of(p))
        .await
}

pub(super) fn top_days_of(p: &Prepared) -> ApiResult<TopDays> {
    let total = p.selection.of(&p.population).count();
    let mut days = histogram::build(
        &counts_by_day(p.selection.of(&p.population)),
        Granularity::Day,
        BurstRule::default(),
    );
    days.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.excess.total_cmp(&a.excess))
            .then(a.start.cmp(&b.start))
    });
    // Gap days (count 0) fill the histogram's axis; they are never a "top" day.
    let top: Vec<&histogram::Bucket> = days.iter().filter(|d| d.count > 0).take(10).collect();
    // Each top day's members of bot cohorts, by cohort: a burst made by a farm and a
    // burst made by a crowd look the same in a histogram.
    let mut bots: HashMap<NaiveDate, HashMap<u64, u64>> =
        top.iter().map(|d| (d.start, HashMap::new())).collect();
    for a in p.selection.of(&p.population) {
        if let (Some(created), Some(mark)) = (a.row.twitch_created_at, &a.cohort)
            && mark.strength > 0
            && let Some(day) = bots.get_mut(&created.date_naive())
        {
            *day.entry(mark.cohort_id).or_default() += 1;
        }
    }
    let days = top
        .into_iter()
        .map(|d| {
            let cohorts = &bots[&d.start];
            TopDay {
                day: d.start,
                count: d.count,
                share: share(d.count as usize, total),
                baseline: d.baseline,
                excess: d.excess,
                burst: d.burst,
                in_bot_cohorts: cohorts.values().sum(),
                bot_cohort_id: cohorts
                    .iter()
                    .max_by_key(|&(id, n)| (*n, std::cmp::Reverse(*id)))
                    .map(|(id, _)| *id),
            }
        })
        .collect();
    Ok(TopDays { days })
}

/// How many accounts score 0–9, 10–19, …, 90–100 (the last bucket also holds 100).
pub async fn scores(ask: Ask) -> ApiResult<Json<Scores>> {
    let p = ask.prepare().await?;
    let mut counts = [0u64; 10];
    for a in p.selection.of(&p.population) {
        counts[(a.score.score / 10).min(9) as usize] += 1;
    }
    let buckets = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| ScoreBucket {
            from: i as u32 * 10,
            to: if i == 9 { 100 } else { i as u32 * 10 + 9 },
            count,
        })
        .collect();
    Ok(Json(Scores {
        buckets,
        flag_threshold: ask.state.scoring.flag_threshold,
    }))
}
