//! The gateway: the public web application (pages, login, sessions, captures, exports).
//! `main.rs` only calls [`tca_common::bootstrap`].

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use sqlx::MySqlPool;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader};
use tca_common::db::{self, DatabaseConfig};
use tca_common::server::{self, HttpOptions, Readiness};
use tokio::net::TcpListener;
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
    listener: TcpListener,
    pool: MySqlPool,
}

impl Gateway {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    fn router(&self) -> Router {
        server::ops_router(Readiness::Database(self.pool.clone()))
    }
}

impl Service for Gateway {
    const NAME: &'static str = "gateway";
    type Config = Config;

    fn read_config(env: EnvReader) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    /// Binds, and connects to the database, applies pending migrations.
    async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database).await?;
        db::migrate(&pool).await?;
        let listener = server::bind(config.addr).await?;
        Ok(Self { listener, pool })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let router = server::with_middleware(self.router(), &HttpOptions::default());
        server::serve(self.listener, router, shutdown).await?;
        self.pool.close().await;
        Ok(())
    }
}
