//! twitch-fake: a faithful local Twitch (id.twitch.tv and the Helix endpoints this product
//! uses) for tests, demos and benchmarks. `main.rs` only calls [`tca_common::bootstrap`].

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader};
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
}

impl Config {
    pub fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = env.socket_addr_or(
            "TWITCH_FAKE_ADDR",
            SocketAddr::from((Ipv4Addr::LOCALHOST, 8900)),
        );
        env.finish(|| Some(Self { addr }))
    }
}

pub struct TwitchFake {
    core: HttpCore,
}

impl TwitchFake {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.core.local_addr()
    }

    fn routes(&self) -> Router {
        Router::new()
    }
}

impl Service for TwitchFake {
    const NAME: &'static str = "twitch-fake";
    type Config = Config;

    fn read_config(env: EnvReader) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        // It keeps no database: ready as soon as it serves.
        let core = HttpCore::without_database(config.addr).await?;
        Ok(Self { core })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let routes = self.routes();
        self.core
            .serve(routes, HttpOptions::default(), shutdown)
            .await
    }
}
