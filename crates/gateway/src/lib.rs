//! The gateway: the public web application. Server-rendered pages (askama), the Twitch login,
//! analysis sessions, capture requests and their live progress. `main.rs` only calls the
//! bootstrap.

pub mod auth;
pub mod brief_cache;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod display;
pub mod error;
pub mod i18n;
pub mod rendered;
pub mod routes;
pub mod state;
pub mod streams;
pub mod views;
pub mod wake;

use std::time::Duration;

use sqlx::MySqlPool;
use tca_common::bootstrap::Service;
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use state::AppState;

pub struct Gateway {
    core: HttpCore,
    pool: MySqlPool,
    config: Config,
}

impl Service for Gateway {
    const NAME: &'static str = "gateway";
    const ADDR_VAR: &'static str = "GATEWAY_ADDR";
    const DEFAULT_PORT: u16 = 8080;
    type Config = Config;

    fn http(&self) -> &HttpCore {
        &self.core
    }

    /// Connects, applies pending migrations (as does the worker), binds.
    async fn build(config: Config) -> anyhow::Result<Self> {
        let (core, pool) = HttpCore::with_database(config.addr, &config.database, true).await?;
        Ok(Self { core, pool, config })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = AppState::new(self.pool, self.config, shutdown.clone())?;
        let routes = routes::router(state);
        self.core
            .serve(
                routes,
                HttpOptions {
                    request_timeout: Duration::from_secs(30),
                    ..HttpOptions::default()
                },
                shutdown,
            )
            .await
    }
}
