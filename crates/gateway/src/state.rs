//! What every handler shares.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sqlx::MySqlPool;
use tca_common::analysis_api::AnalysisClient;
use tca_common::twitch_api::TwitchApiClient;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub pool: MySqlPool,
    pub twitch: TwitchApiClient,
    pub analysis: AnalysisClient,
    pub config: Arc<Config>,
    /// Per-IP limit on `/auth/*`.
    pub auth_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Cancelled at shutdown: live-update streams end so the server can drain.
    pub shutdown: CancellationToken,
    /// Live-update streams open, per web session and user (capped).
    pub streams: Arc<crate::streams::Streams>,
    /// One progress feed per followed session (live-update streams read from it).
    pub feeds: Arc<crate::routes::sessions::feed::Feeds>,
    /// Web sessions found in the last second (`auth::SessionCache`).
    pub web_sessions: Arc<crate::auth::SessionCache>,
    /// Analysis sessions read in the last second, by (user, public id)
    /// (`routes::sessions::viewed_session`).
    pub owned_sessions:
        Arc<crate::brief_cache::BriefCache<(u64, String), tca_common::db::sessions::Session>>,
    /// Dashboards rendered here, served again while analysis confirms their answer
    /// (`rendered`).
    pub dashboards:
        Arc<crate::rendered::RenderedPages<tca_common::analysis_api::response::Dashboard>>,
    /// The dashboard's channels and batches read in the last second, by session.
    pub dashboard_inputs:
        Arc<crate::brief_cache::BriefCache<u64, Arc<crate::rendered::DashboardInputs>>>,
    /// Wakes a worker when a user queues work (`WORKER_URL`; none when unset).
    pub worker_wake: Option<crate::wake::WorkerWake>,
}

impl AppState {
    pub fn new(
        pool: MySqlPool,
        config: Config,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let twitch =
            TwitchApiClient::new(config.twitch_api_url.clone(), config.internal_token.clone())?;
        let analysis =
            AnalysisClient::new(config.analysis_url.clone(), config.internal_token.clone())?;
        let worker_wake = config
            .worker_url
            .as_ref()
            .map(|url| crate::wake::WorkerWake::new(url, config.internal_token.clone()))
            .transpose()?;
        let per_minute = NonZeroU32::new(config.auth_rate_limit).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            pool,
            twitch,
            analysis,
            auth_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            config: Arc::new(config),
            shutdown,
            streams: Arc::default(),
            feeds: Arc::default(),
            web_sessions: Arc::default(),
            owned_sessions: Arc::default(),
            dashboards: Arc::default(),
            dashboard_inputs: Arc::default(),
            worker_wake,
        })
    }

    /// After work a user waits for was queued and committed: a worker starts it now.
    pub fn wake_worker(&self) {
        if let Some(wake) = &self.worker_wake {
            wake.wake();
        }
    }

    /// After a change to a session's channels or batches has committed here: the next
    /// dashboard reads them again.
    pub fn forget_dashboard_inputs(&self, session_id: u64) {
        self.dashboard_inputs
            .forget(|inputs| inputs.session_id == session_id);
    }
}
