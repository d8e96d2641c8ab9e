//! `noop`: does nothing (optionally for a while). The queue's own smoke test and the unit of
//! work of the queue benchmarks (tca-bench B1); it touches no table but `jobs`.

use std::time::Duration;

use serde::Deserialize;
use tca_common::db::jobs::ClaimedJob;

use crate::registry::JobError;

pub const KIND: &str = tca_common::db::jobs::JobKind::Noop.as_str();

/// The longest a noop job may sleep: longer would only hold a worker slot hostage.
const MAX_SLEEP_MS: u64 = 60_000;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoopPayload {
    /// Simulated work, in milliseconds.
    pub sleep_ms: u64,
}

pub async fn run(job: ClaimedJob) -> Result<(), JobError> {
    let payload: NoopPayload = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid noop payload: {e}")))?;
    if payload.sleep_ms > MAX_SLEEP_MS {
        return Err(JobError::Fail(format!(
            "sleep_ms must be at most {MAX_SLEEP_MS}, got {}",
            payload.sleep_ms
        )));
    }
    if payload.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(payload.sleep_ms)).await;
    }
    Ok(())
}
