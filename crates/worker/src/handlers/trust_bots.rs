//! `trust_common_bots`: after a user's first login, marks the common chat bots trusted for
//! them (docs/moderation.md), by Twitch id resolved through twitch-api: Nightbot and the
//! others are then never flagged and never acted on. A bot the user marked otherwise meanwhile
//! keeps the user's mark; the user can edit or remove these marks like any.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tca_common::db::jobs::{ClaimedJob, JobKind};
use tca_common::db::marks::{self, Label, MarkInput, ORIGIN_COMMON_BOT};
use tca_common::twitch_api::TwitchApiError;

use crate::context::Context;
use crate::registry::{Done, JobError, JobResult};

pub const KIND: &str = JobKind::TrustCommonBots.as_str();

/// The chat bots most channels run (docs/moderation.md): trusted for every new user.
pub const COMMON_CHAT_BOTS: &[&str] = &[
    "nightbot",
    "streamelements",
    "streamlabs",
    "moobot",
    "fossabot",
    "sery_bot",
    "wizebot",
    "botisimo",
    "soundalerts",
    "pretzelrocks",
    "kofistreambot",
    "blerp",
];

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TrustBotsJob {
    pub user_id: u64,
}

pub async fn run(ctx: Arc<Context>, job: ClaimedJob) -> JobResult {
    let TrustBotsJob { user_id } = job
        .payload()
        .map_err(|e| JobError::Fail(format!("invalid trust-bots payload: {e}")))?;
    if !marks::common_bots_pending(&ctx.pool, user_id).await? {
        return Ok(Done::Finished);
    }
    let logins: Vec<String> = COMMON_CHAT_BOTS.iter().map(|l| (*l).to_string()).collect();
    let bots = match ctx
        .twitch
        .users_by_login(&logins, None, Some(Duration::from_secs(20)))
        .await
    {
        Ok(bots) => bots,
        Err(TwitchApiError::RateLimited { retry_after }) => {
            return Err(JobError::Defer {
                until: Utc::now()
                    + chrono::Duration::from_std(retry_after)
                        .unwrap_or(chrono::Duration::seconds(60)),
                reason: "Twitch rate limit: trusting the chat bots waits".into(),
            });
        }
        Err(e) => return Err(JobError::Retry(anyhow::anyhow!(e))),
    };
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    for bot in &bots {
        let mark = MarkInput {
            twitch_user_id: &bot.id,
            login: &bot.login,
            label: Some(Label::Trusted),
            note: "",
            shared_channel_id: None,
            origin: ORIGIN_COMMON_BOT,
        };
        marks::save_if_absent(&mut *tx, user_id, &mark, now).await?;
    }
    marks::common_bots_done(&mut *tx, user_id, now).await?;
    tx.commit().await?;
    tracing::info!(user_id, bots = bots.len(), "common chat bots trusted");
    Ok(Done::Finished)
}
