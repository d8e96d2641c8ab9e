//! Live events (docs/live.md): raids into the session's channels with their forensics, and
//! what one capture brought (the alerts' input).

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use tca_common::analysis_api::response::{CaptureFindings, CapturedCohort, Raid, Raids};

use super::{ApiError, ApiResult, AppState, Ask};
use crate::db;
use crate::population::{Population, Scored};
use crate::scoring::ScoringConfig;

/// Newcomers to the session as the raids and alerts count them.
#[derive(Debug, Default)]
struct Newcomers {
    young: u64,
    in_bot_cohort: u64,
    flagged: u64,
}

impl Newcomers {
    fn count<'a>(accounts: impl Iterator<Item = &'a Scored>, config: &ScoringConfig) -> Self {
        let mut counts = Self::default();
        for a in accounts {
            if let Some(created) = a.row.twitch_created_at {
                counts.young +=
                    u64::from((a.row.first_seen_at - created).num_days() < config.young_days);
            }
            counts.in_bot_cohort += u64::from(a.cohort.as_ref().is_some_and(|c| c.strength > 0));
            counts.flagged += u64::from(a.flagged(config.flag_threshold));
        }
        counts
    }
}

/// The population's accounts among `ids` (one pass; no index of the whole population is built
/// per request — the dashboard asks for the raids on every view).
fn among<'a>(population: &'a Population, ids: &[u64]) -> impl Iterator<Item = &'a Scored> {
    let wanted: HashSet<u64> = ids.iter().copied().collect();
    population
        .accounts
        .iter()
        .filter(move |a| wanted.contains(&a.row.account_id))
}

pub async fn raids(ask: Ask) -> ApiResult<Json<Raids>> {
    let rows = db::raids(&ask.state.pool, ask.session_id).await?;
    if rows.is_empty() {
        // Most sessions: no population needed.
        ask.session_exists().await?;
        return Ok(Json(Raids { raids: Vec::new() }));
    }
    let p = ask.prepare().await?;
    Ok(Json(Raids {
        raids: forensics(&ask, &p.population, rows).await?,
    }))
}

/// Each raid with what came with it: the first capture after it and its newcomers, counted
/// in the session's scored population.
pub(super) async fn forensics(
    ask: &Ask,
    population: &Population,
    rows: Vec<db::RaidRow>,
) -> ApiResult<Vec<Raid>> {
    let pool = &ask.state.pool;
    let mut raids = Vec::with_capacity(rows.len());
    for row in rows {
        let after =
            db::first_capture_after(pool, ask.session_id, row.session_channel_id, row.raided_at)
                .await?;
        let (capture_id, newcomers) = match after {
            Some((capture, newcomers)) => (Some(capture), newcomers),
            None => (None, Vec::new()),
        };
        let counts = Newcomers::count(among(population, &newcomers), &ask.state.scoring);
        raids.push(Raid {
            raided_at: row.raided_at,
            broadcaster_login: row.broadcaster_login,
            from_login: row.from_login,
            from_name: row.from_name,
            viewers: row.viewers,
            capture_id,
            newcomers: newcomers.len() as u64,
            young: counts.young,
            in_bot_cohort: counts.in_bot_cohort,
            flagged: counts.flagged,
        });
    }
    Ok(raids)
}

/// `captures/{capture_id}/findings`: the capture's newcomers, the young ones, and the bot
/// cohorts it saw members of.
pub async fn capture_findings(
    State(state): State<AppState>,
    Path((session_id, raw_id)): Path<(u64, String)>,
) -> ApiResult<Json<CaptureFindings>> {
    let capture_id: u64 = raw_id
        .parse()
        .map_err(|_| ApiError::bad(format!("'{raw_id}' is not a capture id")))?;
    let ask = Ask::new(state, session_id, None);
    let p = ask.prepare().await?;
    let seen = db::capture_newcomers(&ask.state.pool, session_id, capture_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such finished capture in this session"))?;
    let newcomers = Newcomers::count(among(&p.population, &seen.newcomers), &ask.state.scoring);
    let in_capture: HashSet<u64> = seen.chatters.iter().copied().collect();
    let mut cohorts: Vec<CapturedCohort> = p
        .population
        .cohorts
        .iter()
        .filter(|c| c.strength > 0)
        .filter_map(|c| {
            let present = c.members.iter().filter(|m| in_capture.contains(m)).count() as u64;
            (present > 0).then(|| CapturedCohort {
                cohort_id: c.cohort_id,
                strength: c.strength,
                size: c.members.len() as u64,
                in_capture: present,
                first_created: c.first_created,
                last_created: c.last_created,
                members: c.members.clone(),
            })
        })
        .collect();
    cohorts.sort_by(|a, b| b.size.cmp(&a.size).then(a.cohort_id.cmp(&b.cohort_id)));
    Ok(Json(CaptureFindings {
        capture_id,
        broadcaster_login: seen.broadcaster_login,
        captured_at: seen.started_at,
        chatters: seen.chatters.len() as u64,
        newcomers: seen.newcomers.len() as u64,
        young: newcomers.young,
        cohorts,
    }))
}
