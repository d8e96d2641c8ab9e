//! Cohorts (docs/cohorts.md): the session's list, and one cohort's accounts.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use tca_common::analysis_api::response::{Cohort, CohortList};

use super::accounts::{accounts_query, page};
use super::{ApiError, ApiResult, AppState, Ask, Prepared};
use crate::cohorts::Kind;
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
                evidence: c.evidence.to_string(),
                first_created: c.first_created,
                last_created: c.last_created,
            })
        })
        .collect()
}

/// One cohort's accounts kept by the filter, paged and sorted like the account list.
pub async fn accounts(
    State(state): State<AppState>,
    Path((session_id, raw_id)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let ask = Ask::new(state, session_id, raw);
    let cohort_id: u64 = raw_id
        .parse()
        .map_err(|_| ApiError::bad("cohort_id is a whole number (a cohort's id)"))?;
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
