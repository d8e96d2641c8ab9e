//! twitch-fake: a faithful local Twitch (id.twitch.tv and the Helix endpoints this product
//! uses) for tests, demos and benchmarks. `main.rs` only calls [`tca_common::bootstrap`].

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader};
use tca_common::server::{self, HttpOptions, Readiness};
use tokio::net::TcpListener;
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
    listener: TcpListener,
}

impl TwitchFake {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    fn router(&self) -> Router {
        // It keeps no database: ready as soon as it serves.
        server::ops_router(Readiness::Serving)
    }
}

impl Service for TwitchFake {
    const NAME: &'static str = "twitch-fake";
    type Config = Config;

    fn read_config(env: EnvReader) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = server::bind(config.addr).await?;
        Ok(Self { listener })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let router = server::with_middleware(self.router(), &HttpOptions::default());
        server::serve(self.listener, router, shutdown).await?;
        Ok(())
    }
}
