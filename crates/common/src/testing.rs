//! Helpers for the services' integration tests (feature `test-support`).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sqlx::MySqlPool;

/// The `DATABASE_URL` of the database `pool` is connected to: the server of the process's
/// `DATABASE_URL` with the database name of the pool (under `#[sqlx::test]`, the test's own).
pub async fn database_url_of(pool: &MySqlPool) -> String {
    let name: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(pool)
        .await
        .expect("the pool has a current database");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for tests");
    let mut url = url::Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Ports handed out by `free_addr` in this process.
static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

/// A port free right now on 127.0.0.1, for a child process to bind.
///
/// Chosen below Linux's ephemeral range (32768–60999), never twice in a process: a port the
/// kernel hands out for `bind(0)` may be taken, before the child binds it, as the source port
/// of one of the many outgoing connections (database pools, HTTP clients) a test opens, or be
/// handed out again for the next service of the same deployment ("Address already in use").
pub fn free_addr() -> SocketAddr {
    use rand::RngExt;
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    for _ in 0..1_000 {
        let port = rand::rng().random_range(20_000..32_000);
        if handed_out.contains(&port) {
            continue;
        }
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            handed_out.push(port);
            return listener.local_addr().expect("local addr");
        }
    }
    panic!("no free port found between 20000 and 32000");
}

/// A service binary running as a child process.
pub struct ChildService {
    pub child: Child,
    pub addr: SocketAddr,
}

impl ChildService {
    /// Starts `binary` with exactly `env` (plus PATH), serving on `addr`.
    pub fn spawn(binary: &str, addr: SocketAddr, env: &HashMap<String, String>) -> Self {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        let child = command.spawn().expect("spawn service binary");
        Self { child, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until `/readyz` answers 200, failing the test after `timeout`.
    pub async fn wait_ready(&mut self, timeout: Duration) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("service exited before becoming ready: {status}");
            }
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "service not ready after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self, timeout: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for child") {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "service did not exit within {timeout:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChildService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `binary` with `env` and waits for it to exit (for start-up failures).
pub fn run_to_exit(binary: &str, env: &HashMap<String, String>) -> std::process::Output {
    Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .expect("run service binary")
}

/// Checks the three endpoints every service serves.
pub async fn assert_ops_endpoints(service: &ChildService) {
    let client = reqwest::Client::new();
    for (path, expected) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = client.get(service.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.expect("body"), expected, "{path}");
    }
    let response = client
        .get(service.url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let body = response.text().await.expect("body");
    // The probes above went through the metrics middleware, so the counter exists.
    assert!(
        body.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
        "metrics body lacks the request counter:\n{body}"
    );
}

/// Starts `binary` serving on a free address given in `addr_var`, with `extra` variables;
/// checks `/healthz`, `/readyz` and `/metrics`; sends SIGTERM and expects exit code 0.
pub async fn assert_binary_serves_and_stops_cleanly(
    binary: &str,
    addr_var: &str,
    extra: &[(&str, &str)],
) {
    let addr = free_addr();
    let mut env: HashMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert(addr_var.to_string(), addr.to_string());
    env.insert("LOG_FORMAT".into(), "json".into());
    let mut service = ChildService::spawn(binary, addr, &env);
    service.wait_ready(Duration::from_secs(60)).await;
    assert_ops_endpoints(&service).await;
    // `healthcheck` (the container healthcheck) finds the service by the same variable.
    let healthcheck = |env: &HashMap<String, String>| {
        Command::new(binary)
            .arg("healthcheck")
            .env_clear()
            .envs(env)
            .output()
            .expect("run healthcheck")
    };
    let probe_env = HashMap::from([(addr_var.to_string(), addr.to_string())]);
    let healthy = healthcheck(&probe_env);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "healthcheck of a running service: {}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    let status = service.terminate(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    let gone = healthcheck(&probe_env);
    assert_eq!(
        gone.status.code(),
        Some(1),
        "healthcheck of a stopped service"
    );
    assert!(String::from_utf8_lossy(&gone.stderr).contains("unhealthy"));
}

/// Runs `binary` with `env` and expects exit code 2 with stderr naming each of `expected`.
pub fn assert_binary_refuses_config(binary: &str, env: &[(&str, &str)], expected: &[&str]) {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let output = run_to_exit(binary, &env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    for problem in expected {
        assert!(
            stderr.contains(problem),
            "stderr lacks '{problem}':\n{stderr}"
        );
    }
}
