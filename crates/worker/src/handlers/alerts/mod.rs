//! Alerts (docs/live.md): `alert_check` decides, after a capture of a live channel, whether
//! the capture's owner's webhooks for that channel hear of it; `alert_delivery` sends one
//! alert to one webhook.

mod deliver;
mod message;

use std::sync::Arc;

use chrono::Utc;
use tca_common::analysis_api::AnalysisError;
use tca_common::db::alerts::{self, CheckJob, Findings, FoundCohort};
use tca_common::db::jobs::{ClaimedJob, JobKind};

pub use deliver::deliver;

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const CHECK_KIND: &str = JobKind::AlertCheck.as_str();
pub const DELIVERY_KIND: &str = JobKind::AlertDelivery.as_str();

/// How long a check waits for the capture's accounts to be enriched (cohorts are found by
/// creation dates) before it judges what is there.
const ENRICHMENT_WAIT: chrono::Duration = chrono::Duration::minutes(10);
/// How often it looks again meanwhile.
const ENRICHMENT_POLL: chrono::Duration = chrono::Duration::seconds(2);
/// Below this many newcomers a share says little (2 young of 3 is not a flood).
pub const MIN_NEWCOMERS_FOR_SHARE: u64 = 10;
/// One young-share alert per webhook in this time: the same flood is one piece of news.
const YOUNG_SHARE_QUIET: chrono::Duration = chrono::Duration::hours(1);

pub async fn check(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let CheckJob { capture_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid alert-check payload: {e}")))?;
    let Some(capture) = alerts::capture_to_check(&ctx.pool, capture_id).await? else {
        // The session was deleted meanwhile: nothing to tell.
        return Ok(Done::Finished);
    };
    let now = Utc::now();
    if alerts::unenriched_in_capture(&ctx.pool, capture_id).await? > 0
        && now - capture.finished_at < ENRICHMENT_WAIT
    {
        return Err(JobError::Defer {
            until: now + ENRICHMENT_POLL,
            reason: "waiting for the capture's accounts to be enriched".into(),
        });
    }
    let found = match ctx
        .analysis
        .capture_findings(capture.session_id, capture_id)
        .await
    {
        Ok(found) => found,
        Err(AnalysisError::NotFound) => return Ok(Done::Finished),
        Err(e) => return Err(JobError::Retry(e.into())),
    };

    let mut tx = ctx.pool.begin().await?;
    let hooks = alerts::lock_webhooks(&mut tx, capture.user_id, &capture.broadcaster_id).await?;
    let mut raised = 0u64;
    for hook in hooks {
        let mut cohorts = Vec::new();
        let mut members = Vec::new();
        for c in found
            .cohorts
            .iter()
            .filter(|c| c.size >= u64::from(hook.min_cohort))
        {
            if alerts::knows_any(&mut tx, hook.id, &c.members).await? {
                continue;
            }
            members.extend_from_slice(&c.members);
            cohorts.push(FoundCohort {
                cohort_id: c.cohort_id,
                size: c.size,
                in_capture: c.in_capture,
                strength: c.strength,
                first_created: c.first_created,
                last_created: c.last_created,
            });
        }
        let young_passed = young_share_passed(found.young, found.newcomers, hook.young_share_pct)
            && !alerts::young_alert_since(&mut tx, hook.id, now - YOUNG_SHARE_QUIET).await?;
        if cohorts.is_empty() && !young_passed {
            continue;
        }
        let findings = Findings {
            test: false,
            broadcaster_login: capture.broadcaster_login.clone(),
            session_public_id: Some(capture.session_public_id.clone()),
            capture_id: Some(capture_id),
            captured_at: Some(found.captured_at),
            cohorts,
            newcomers: found.newcomers,
            young: found.young,
            young_share_pct: young_passed.then_some(hook.young_share_pct),
        };
        if alerts::raise(
            &mut tx,
            hook.id,
            capture.session_id,
            &findings,
            &members,
            now,
        )
        .await
        .map_err(|e| JobError::Retry(e.into()))?
        .is_some()
        {
            raised += 1;
        }
    }
    tx.commit().await?;
    if raised > 0 {
        metrics::counter!("alerts_raised_total").increment(raised);
        tracing::info!(capture_id, raised, "alerts raised");
    }
    Ok(Done::Finished)
}

/// `young` of `newcomers` is more than `pct` percent, with enough newcomers to say so; a
/// threshold of 0 is the rule turned off.
fn young_share_passed(young: u64, newcomers: u64, pct: u8) -> bool {
    pct > 0 && newcomers >= MIN_NEWCOMERS_FOR_SHARE && young * 100 > u64::from(pct) * newcomers
}

#[cfg(test)]
mod tests {
    use super::young_share_passed;

    #[test]
    fn the_young_share_needs_enough_newcomers_and_a_threshold() {
        assert!(young_share_passed(60, 100, 50));
        assert!(!young_share_passed(50, 100, 50), "passing means above");
        assert!(!young_share_passed(9, 9, 50), "too few newcomers to judge");
        assert!(!young_share_passed(100, 100, 0), "0 turns the rule off");
    }
}
