//! The gateway: the public web application (pages, login, sessions, captures, exports).
//! `main.rs` only calls [`tca_common::bootstrap`].

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader};
use tca_common::db::DatabaseConfig;
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
}

impl Config {
    pub fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = env.socket_addr_or(
            "GATEWAY_ADDR",
            SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
        );
        let database = DatabaseConfig::read(&mut env);
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
            })
        })
    }
}

pub struct Gateway {
    core: HttpCore,
}

impl Gateway {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.core.local_addr()
    }

    /// The service's own routes (the ops routes are added when serving).
    fn routes(&self) -> Router {
        Router::new()
    }
}

impl Service for Gateway {
    const NAME: &'static str = "gateway";
    type Config = Config;

    fn read_config(env: EnvReader) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        // The gateway applies pending migrations at start-up (as does the worker).
        let core = HttpCore::with_database(config.addr, &config.database, true).await?;
        Ok(Self { core })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let routes = self.routes();
        self.core
            .serve(routes, HttpOptions::default(), shutdown)
            .await
    }
}
