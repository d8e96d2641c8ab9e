//! Cohorts (docs/cohorts.md): the session's list, and one cohort's accounts.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Duration, DurationRound, Utc};
use tca_common::analysis_api::response::{
    Cohort, CohortDetail, CohortList, CohortPresence, CreatedBin,
};

use super::accounts::{accounts_query, page};
use super::{ApiError, ApiResult, AppState, Ask, Prepared};
use crate::cohorts::Kind;
use crate::db;
use crate::population::Scored;

fn kind(kind: Kind) -> &'static str {
    match kind {
        Kind::Bot => "bot",
        Kind::Crowd => "crowd",
    }
}

/// The cohorts with at least one member kept by the filter, in the population's order.
pub async fn list(ask: Ask) -> ApiResult<Response> {
    ask.answer("cohorts", async |p: &Prepared| {
        Ok(CohortList { cohorts: kept(p) })
    })
    .await
}

/// The cohorts with a member the request's filter keeps, with how many it keeps.
pub(super) fn kept(p: &Prepared) -> Vec<Cohort> {
    let mut kept: HashMap<u64, u64> = HashMap::new();
    for a in p.selection.of(&p.population) {
        if let Some(mark) = &a.cohort {
            *kept.entry(mark.cohort_id).or_default() += 1;
        }
    }
    p.population
        .cohorts
        .iter()
        .filter_map(|c| {
            let size = kept.get(&c.cohort_id).copied()?;
            Some(Cohort {
                cohort_id: c.cohort_id,
                kind: kind(c.kind).to_string(),
                strength: c.strength,
                size,
                total_size: c.members.len() as u64,
                evidence: c.evidence.get(tca_common::i18n::current()).to_string(),
                first_created: c.first_created,
                last_created: c.last_created,
            })
        })
        .collect()
}

fn parse_cohort_id(raw: &str) -> ApiResult<u64> {
    raw.parse().map_err(|_| {
        ApiError::bad(tca_common::i18n::current().t_args("error-cohort-id", &[("raw", raw.into())]))
    })
}

/// One cohort (its members kept by the filter): the list's row, the members' creation times
/// binned, and how many of them each finished capture saw.
pub async fn detail(
    State(state): State<AppState>,
    Path((session_id, raw_id)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let ask = Ask::new(state, session_id, raw);
    let cohort_id = parse_cohort_id(&raw_id)?;
    let pool = ask.state.pool.clone();
    ask.answer(&format!("cohorts/{cohort_id}"), async |p: &Prepared| {
        let Some(cohort) = kept(p).into_iter().find(|c| c.cohort_id == cohort_id) else {
            return Err(
                if p.population
                    .cohorts
                    .iter()
                    .any(|c| c.cohort_id == cohort_id)
                {
                    ApiError::not_found("no member of this cohort matches the filter")
                } else {
                    ApiError::not_found("no such cohort in this session")
                },
            );
        };
        let members: Vec<&Scored> = p
            .selection
            .of(&p.population)
            .filter(|a| a.cohort.as_ref().is_some_and(|c| c.cohort_id == cohort_id))
            .collect();
        let (bin, created) = created_bins(members.iter().filter_map(|a| a.row.twitch_created_at));
        let captures = db::finished_captures(&pool, session_id, &p.filter.broadcaster_ids).await?;
        let capture_ids: Vec<u64> = captures.iter().map(|c| c.id).collect();
        let account_ids: Vec<u64> = members.iter().map(|a| a.row.account_id).collect();
        let seen = db::presence_in_captures(&pool, &capture_ids, &account_ids).await?;
        let presence = captures
            .into_iter()
            .map(|c| CohortPresence {
                present: seen.get(&c.id).copied().unwrap_or(0),
                capture_id: c.id,
                broadcaster_login: c.broadcaster_login,
                finished_at: c.finished_at,
                chatters: c.chatters_count,
            })
            .collect();
        Ok(CohortDetail {
            cohort,
            bin: bin.to_string(),
            created,
            presence,
        })
    })
    .await
}

/// The creation times binned by minute (spans up to 3 hours), hour (up to 7 days) or day,
/// every bin from the first to the last.
fn created_bins(times: impl Iterator<Item = DateTime<Utc>>) -> (&'static str, Vec<CreatedBin>) {
    let times: Vec<DateTime<Utc>> = times.collect();
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
        return ("day", Vec::new());
    };
    let span = *last - *first;
    let (name, width) = if span <= Duration::hours(3) {
        ("minute", Duration::minutes(1))
    } else if span <= Duration::days(7) {
        ("hour", Duration::hours(1))
    } else {
        ("day", Duration::days(1))
    };
    let start = first.duration_trunc(width).unwrap_or(*first);
    let bins = ((*last - start).num_seconds() / width.num_seconds()) as usize + 1;
    let mut counts = vec![0u64; bins];
    for t in &times {
        let i = ((*t - start).num_seconds() / width.num_seconds()) as usize;
        counts[i.min(bins - 1)] += 1;
    }
    let created = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| CreatedBin {
            start: start + width * i as i32,
            count,
        })
        .collect();
    (name, created)
}

/// One cohort's accounts kept by the filter, paged and sorted like the account list.
pub async fn accounts(
    State(state): State<AppState>,
    Path((session_id, raw_id)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let ask = Ask::new(state, session_id, raw);
    let cohort_id = parse_cohort_id(&raw_id)?;
    let view = format!("cohorts/{cohort_id}/accounts");
    ask.answer(&view, async |p: &Prepared| {
        if !p
            .population
            .cohorts
            .iter()
            .any(|c| c.cohort_id == cohort_id)
        {
            return Err(ApiError::not_found("no such cohort in this session"));
        }
        let query = accounts_query(p)?;
        let list: Vec<&Scored> = p
            .selection
            .of(&p.population)
            .filter(|a| a.cohort.as_ref().is_some_and(|c| c.cohort_id == cohort_id))
            .collect();
        Ok(page(list, &query))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[test]
    fn creation_bins_fit_the_span() {
        let (bin, created) = created_bins(
            [
                "2024-03-14T02:00:10Z",
                "2024-03-14T02:00:50Z",
                "2024-03-14T02:03:00Z",
            ]
            .into_iter()
            .map(at),
        );
        assert_eq!(bin, "minute");
        let counts: Vec<u64> = created.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![2, 0, 0, 1]);
        assert_eq!(created[0].start, at("2024-03-14T02:00:00Z"));

        let (bin, created) = created_bins(
            ["2024-03-14T02:10:00Z", "2024-03-15T01:00:00Z"]
                .into_iter()
                .map(at),
        );
        assert_eq!(bin, "hour");
        assert_eq!(created.len(), 24);
        assert_eq!(created[23].count, 1);

        let (bin, created) = created_bins(
            ["2024-03-01T23:00:00Z", "2024-03-14T02:00:00Z"]
                .into_iter()
                .map(at),
        );
        assert_eq!(bin, "day");
        assert_eq!(created.len(), 14);
        assert_eq!(
            created.first().map(|b| b.start),
            Some(at("2024-03-01T00:00:00Z"))
        );

        assert_eq!(created_bins(std::iter::empty()).1, Vec::new());
    }
}
