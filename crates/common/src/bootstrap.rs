//! What every service's `main` does: read the configuration (reporting every problem),
//! start logging, build the service, run it until SIGTERM or Ctrl-C, exit 0.

use std::fmt::Debug;
use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, EnvReader};
use crate::shutdown;
use crate::telemetry::{self, TelemetryConfig};

/// A service binary: its configuration, how it is built, and how it runs.
pub trait Service: Sized + Send + 'static {
    /// The binary's name, used in logs and messages.
    const NAME: &'static str;
    type Config: Debug + Send + 'static;

    fn read_config(env: EnvReader) -> Result<Self::Config, ConfigError>;

    /// Connects, migrates, binds: everything that can fail before serving.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Runs until `shutdown` is cancelled, then drains and returns.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service's `main`. Exit codes: 0 after a clean shutdown, 2 for a
/// configuration problem, 1 for any other failure.
pub fn run_main<S: Service>() -> ExitCode {
    let mut env = EnvReader::from_process();
    let telemetry_config = TelemetryConfig::read(&mut env);
    let config = S::read_config(env);
    telemetry::init_logging(S::NAME, &telemetry_config);
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", S::NAME);
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        service = S::NAME,
        version = env!("CARGO_PKG_VERSION"),
        ?config,
        "starting"
    );

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = shutdown::token_cancelled_on_signal();
        let service = S::build(config).await?;
        service.run(shutdown).await
    });
    match result {
        Ok(()) => {
            tracing::info!(service = S::NAME, "stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(service = S::NAME, error = format!("{e:#}"), "fatal error");
            eprintln!("{}: {e:#}", S::NAME);
            ExitCode::FAILURE
        }
    }
}
