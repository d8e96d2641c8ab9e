//! The worker: consumes the job queue. `main.rs` only calls [`tca_common::bootstrap`].

pub mod context;
pub mod handlers;
pub mod registry;
pub mod runner;

use std::net::SocketAddr;
use std::time::Duration;

use sqlx::MySqlPool;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader, FromEnv};
use tca_common::db::DatabaseConfig;
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

pub use registry::{JobError, JobHandler, Registry};
pub use runner::{Runner, RunnerConfig};

#[derive(Debug, Clone)]
pub struct Config {
    /// Health and metrics only: the worker serves no other HTTP.
    pub addr: SocketAddr,
    pub database: DatabaseConfig,
    pub runner: RunnerConfig,
    pub twitch_api_url: url::Url,
    pub analysis_url: url::Url,
    pub public_url: url::Url,
    pub alerts: tca_common::webhooks::AlertConfig,
    pub internal_token: tca_common::config::Secret,
    pub settings: context::Settings,
}

impl FromEnv for Config {
    fn from_env(mut env: EnvReader) -> Result<Self, ConfigError> {
        let addr = Worker::listen_addr(&mut env);
        let database = DatabaseConfig::read(&mut env);
        let mut runner = RunnerConfig::new(
            env.optional_string("WORKER_ID")
                .unwrap_or_else(default_worker_id),
        );
        runner.concurrency = env.u32_in("WORKER_CONCURRENCY", runner.concurrency, 1, 256);
        runner.claim_batch = env.u32_in("WORKER_CLAIM_BATCH", runner.claim_batch, 1, 1000);
        runner.poll_interval = env.duration_or("WORKER_POLL_INTERVAL", runner.poll_interval);
        runner.lease = env.duration_or("JOB_LEASE", runner.lease);
        runner.reap_interval = env.duration_or("WORKER_REAP_INTERVAL", runner.reap_interval);
        runner.drain_timeout = env.duration_or("WORKER_DRAIN_TIMEOUT", runner.drain_timeout);
        runner.backoff_base = env.duration_or("JOB_BACKOFF_BASE", runner.backoff_base);
        runner.backoff_max = env.duration_or("JOB_BACKOFF_MAX", runner.backoff_max);
        let twitch_api_url = env.required_url("TWITCH_API_URL");
        let analysis_url = env.required_url("ANALYSIS_URL");
        let public_url = env.required_url("PUBLIC_URL");
        let alerts = tca_common::webhooks::AlertConfig::read(&mut env);
        let internal_token = env.internal_token();
        let settings = context::Settings::read(&mut env);
        if runner.lease < Duration::from_secs(1) {
            // Heartbeats run every third of the lease; below a second they would hammer the DB.
            env.problem(format!(
                "JOB_LEASE must be at least 1s, got {:?}",
                runner.lease
            ));
        }
        env.finish(|| {
            Some(Self {
                addr,
                database: database?,
                runner,
                twitch_api_url: twitch_api_url?,
                analysis_url: analysis_url?,
                public_url: public_url?,
                alerts: alerts?,
                internal_token: internal_token?,
                settings,
            })
        })
    }
}

/// `<host>-<pid>-<random>`: unique per process even when containers share a hostname.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    let suffix: u16 = rand::random();
    format!("{host}-{}-{suffix:04x}", std::process::id())
}

pub struct Worker {
    core: HttpCore,
    pool: MySqlPool,
    config: Config,
    registry: Registry,
}

impl Worker {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.core.local_addr()
    }
}

/// The worker's counters, at 0 until their first event (alert rules need the series).
pub fn register_metrics() {
    tca_common::telemetry::register_counters(&[
        ("captures_total", &[("outcome", "done")]),
        ("captures_total", &[("outcome", "failed")]),
        ("tokens_invalidated_total", &[]),
        ("renames_detected_total", &[]),
        ("accounts_missing_total", &[]),
    ]);
}

impl Service for Worker {
    const NAME: &'static str = "worker";
    const ADDR_VAR: &'static str = "WORKER_ADDR";
    const DEFAULT_PORT: u16 = 8082;
    type Config = Config;

    fn http(&self) -> &HttpCore {
        &self.core
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        let (core, pool) = HttpCore::with_database(config.addr, &config.database, true).await?;
        register_metrics();
        let context = context::Context::new(pool.clone(), &config)?;
        Ok(Self {
            core,
            pool,
            registry: handlers::registry(context),
            config,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Every worker makes sure the housekeeping singleton exists; the dedupe key lets one
        // of them succeed.
        if let Err(e) =
            handlers::housekeeping::ensure_scheduled(&self.pool, chrono::Utc::now()).await
        {
            tracing::warn!(error = %e, "could not schedule housekeeping; will retry on the next start");
        }
        // And the EventSub reconciler (it does nothing when EventSub is not configured).
        let now = chrono::Utc::now();
        match tca_common::db::eventsub::reconcile_job(true, now) {
            Ok(job) => {
                if let Err(e) = tca_common::db::jobs::enqueue(&self.pool, &job, now).await {
                    tracing::warn!(error = %e, "could not schedule the EventSub reconciler");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not schedule the EventSub reconciler"),
        }
        let runner = Runner::new(self.pool, self.registry, self.config.runner);
        // /healthz, /readyz, /metrics and the internal `POST /v1/wake`; they stay up until
        // the runner has drained.
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(self.core.serve(
            wake_routes(runner.waker(), self.config.internal_token.clone()),
            HttpOptions::default(),
            http_stop.clone(),
        ));
        runner.run(shutdown).await;
        http_stop.cancel();
        http.await?
    }
}

/// `POST /v1/wake` (internal token): the gateway queued work a user waits for; an idle runner
/// claims at once instead of at its next poll (tca-bench B3b, docs/queue.md). Answers 204
/// whether or not the runner was idle: a busy one claims as soon as a slot frees anyway.
fn wake_routes(
    wake: std::sync::Arc<tokio::sync::Notify>,
    token: tca_common::config::Secret,
) -> axum::Router {
    axum::Router::new()
        .route(
            "/v1/wake",
            axum::routing::post(move || async move {
                wake.notify_one();
                axum::http::StatusCode::NO_CONTENT
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            token,
            tca_common::server::require_internal_token,
        ))
}
