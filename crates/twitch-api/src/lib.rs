//! twitch-api: the only process that holds the Twitch client secret and users' tokens, and
//! the only one that calls Twitch. Others ask it over the internal API (`routes`), through
//! `tca_common::twitch_api::TwitchApiClient`. `main.rs` only calls the bootstrap.

pub mod config;
pub mod eventsub;
pub mod limiter;
pub mod oauth;
pub mod routes;
pub mod tokens;
pub mod twitch;

use std::sync::Arc;

use tca_common::bootstrap::Service;

use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

pub use config::Config;

use crate::routes::AppState;
use crate::tokens::TokenStore;
use crate::twitch::Twitch;

/// How often the app token is validated (Twitch: at least hourly).
const APP_TOKEN_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

pub struct TwitchApi {
    core: HttpCore,
    state: AppState,
}

impl Service for TwitchApi {
    const NAME: &'static str = "twitch-api";
    const ADDR_VAR: &'static str = "TWITCH_API_ADDR";
    const DEFAULT_PORT: u16 = 8081;
    type Config = Config;

    fn http(&self) -> &HttpCore {
        &self.core
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        // Migrations are applied by the gateway and the worker; `/readyz` waits for them.
        let (core, pool) = HttpCore::with_database(config.addr, &config.database, false).await?;
        tca_common::telemetry::register_counters(&[
            ("twitch_rate_limit_waits_total", &[("bucket", "app")]),
            ("twitch_rate_limit_waits_total", &[("bucket", "user")]),
            ("twitch_rate_limit_deadline_exceeded_total", &[]),
        ]);
        // 0 until id.twitch.tv rejects the app's credentials (the alert needs the series).
        metrics::gauge!("twitch_credentials_rejected").set(0.0);
        let tokens = TokenStore::new(pool, config.sealer.clone());
        let twitch = Arc::new(Twitch::new(config.twitch.clone(), tokens)?);
        // Not ready while id.twitch.tv rejects the app's credentials (docs/operations.md).
        let watched = twitch.clone();
        let core = core.with_readiness(Arc::new(move || watched.readiness()));
        Ok(Self {
            core,
            state: AppState {
                twitch,
                internal_token: config.internal_token,
                eventsub: config.eventsub.map(Arc::new),
            },
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Twitch's rule: validate tokens at start-up and hourly. Users' tokens are due for
        // validation now (the worker's housekeeping validates them within its interval, then
        // hourly); the app token is checked here, now and every hour.
        if let Err(e) =
            tca_common::db::tokens::due_for_validation(self.state.twitch.tokens.pool()).await
        {
            tracing::warn!(error = %e, "could not mark the stored tokens due for validation");
        }
        let twitch = self.state.twitch.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = twitch.check_app_token().await {
                    tracing::warn!(error = %e, "checking the app token failed; trying again in a minute");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(60)) => continue,
                    }
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(APP_TOKEN_CHECK_INTERVAL) => {}
                }
            }
        });
        let routes = routes::router(self.state);
        self.core
            .serve(routes, HttpOptions::default(), shutdown)
            .await
    }
}
