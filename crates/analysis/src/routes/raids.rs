//! Raids into the session's channels and their forensics (docs/live.md).

use std::collections::HashMap;

use axum::Json;
use tca_common::analysis_api::response::{Raid, Raids};

use super::{ApiResult, Ask};
use crate::db;

pub async fn raids(ask: Ask) -> ApiResult<Json<Raids>> {
    let p = ask.prepare().await?;
    let pool = &ask.state.pool;
    let config = &ask.state.scoring;
    let index: HashMap<u64, usize> = p
        .population
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.row.account_id, i))
        .collect();
    let mut raids = Vec::new();
    for row in db::raids(pool, ask.session_id).await? {
        let after =
            db::first_capture_after(pool, ask.session_id, row.session_channel_id, row.raided_at)
                .await?;
        let (capture_id, newcomers) = match after {
            Some((capture, newcomers)) => (Some(capture), newcomers),
            None => (None, Vec::new()),
        };
        let (mut young, mut in_bot_cohort, mut flagged) = (0, 0, 0);
        for account in newcomers.iter().filter_map(|id| index.get(id)) {
            let a = &p.population.accounts[*account];
            if let Some(created) = a.row.twitch_created_at {
                young += u64::from((a.row.first_seen_at - created).num_days() < config.young_days);
            }
            in_bot_cohort += u64::from(a.cohort.as_ref().is_some_and(|c| c.strength > 0));
            flagged += u64::from(a.flagged(config.flag_threshold));
        }
        raids.push(Raid {
            raided_at: row.raided_at,
            broadcaster_login: row.broadcaster_login,
            from_login: row.from_login,
            from_name: row.from_name,
            viewers: row.viewers,
            capture_id,
            newcomers: newcomers.len() as u64,
            young,
            in_bot_cohort,
            flagged,
        });
    }
    Ok(Json(Raids { raids }))
}
