//! What every service's `main` does: read the configuration (reporting every problem),
//! start logging, build the service, run it until SIGTERM or Ctrl-C, exit 0.

use std::fmt::Debug;
use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, EnvReader, FromEnv};
use crate::shutdown;
use crate::telemetry::{self, TelemetryConfig};

/// A service binary: its configuration, how it is built, and how it runs.
pub trait Service: Sized + Send + 'static {
    /// The binary's name, used in logs and messages.
    const NAME: &'static str;
    /// The variable holding the address it serves on, and the port it defaults to (on
    /// 127.0.0.1): `healthcheck` finds the service with them.
    const ADDR_VAR: &'static str;
    const DEFAULT_PORT: u16;
    type Config: FromEnv + Debug + Send + 'static;

    fn read_config(env: EnvReader) -> Result<Self::Config, ConfigError> {
        Self::Config::from_env(env)
    }

    /// Where the service listens: `ADDR_VAR`, or 127.0.0.1:`DEFAULT_PORT` (what `healthcheck`
    /// probes too).
    fn listen_addr(env: &mut EnvReader) -> std::net::SocketAddr {
        env.socket_addr_or(
            Self::ADDR_VAR,
            std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, Self::DEFAULT_PORT)),
        )
    }

    /// Connects, migrates, binds: everything that can fail before serving.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Runs until `shutdown` is cancelled, then drains and returns.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Its HTTP core (bound, not yet serving).
    fn http(&self) -> &crate::server::HttpCore;

    /// The address it is bound to (tests bind port 0 and ask).
    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.http().local_addr()
    }
}

/// The whole of a service's `main`. Exit codes: 0 after a clean shutdown, 2 for a
/// configuration problem, 1 for any other failure.
pub fn run_main<S: Service>() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck(S::ADDR_VAR, S::DEFAULT_PORT);
    }
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

/// `<binary> healthcheck`: exit 0 when the service on this host answers `GET /healthz` with
/// 200 within 3 seconds, 1 otherwise. For container healthchecks: no curl in the image.
fn healthcheck(addr_var: &str, default_port: u16) -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, SocketAddr, TcpStream};
    use std::time::Duration;

    let mut addr = std::env::var(addr_var)
        .ok()
        .and_then(|raw| raw.parse::<SocketAddr>().ok())
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, default_port)));
    // A service listening on every interface is reachable on loopback.
    if addr.ip().is_unspecified() {
        addr.set_ip(Ipv4Addr::LOCALHOST.into());
    }
    let timeout = Duration::from_secs(3);
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut head = [0u8; 32];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(head) if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        Ok(head) => {
            eprintln!(
                "unhealthy: {addr} answered {:?}",
                head.lines().next().unwrap_or("")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
