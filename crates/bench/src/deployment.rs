//! The product as it runs in production: twitch-fake and the four service binaries as separate
//! processes on free ports of 127.0.0.1, over one database, each with its own log file. The
//! benchmarks measure each process's memory, and chaos kills and restarts them.

use std::collections::HashMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::MySqlPool;
use tca_common::config::Secret;
use tca_common::testing::free_addr;
use tca_common::twitch_api::TwitchApiClient;
use tca_stack::Driver;

pub const INTERNAL_TOKEN: &str = "bench-internal-token-0123456789abcdef0123";
const SEAL_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const ALERT_KEY: &str = "YWxlcnRzLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=";
pub const CLIENT_ID: &str = "bench-client";
pub const CLIENT_SECRET: &str = "bench-secret";

/// One service binary running as a child process.
/// How long a process may take to exit after SIGTERM: a worker's drain timeout (30 s by
/// default) and a margin.
pub const EXIT_WITHIN: Duration = Duration::from_secs(45);

pub struct Process {
    pub name: String,
    pub addr: SocketAddr,
    child: Child,
    binary: PathBuf,
    env: HashMap<String, String>,
    args: Vec<String>,
    log: PathBuf,
}

impl Process {
    fn spawn(
        name: &str,
        binary: PathBuf,
        addr: SocketAddr,
        env: HashMap<String, String>,
        args: Vec<String>,
    ) -> anyhow::Result<Self> {
        let log = log_dir()?.join(format!("{name}.log"));
        let child = start(&binary, &env, &args, &log)?;
        Ok(Self {
            name: name.to_string(),
            addr,
            child,
            binary,
            env,
            args,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The last event logged with `message` and every field of `matching` (the processes log
    /// JSON lines, fields flattened), e.g. the timings the analysis logs when it loads a
    /// session's population.
    pub fn last_logged(
        &self,
        message: &str,
        matching: &[(&str, serde_json::Value)],
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let text = std::fs::read_to_string(&self.log)?;
        Ok(text
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|event| {
                event["message"] == message
                    && matching.iter().all(|(name, value)| event[*name] == *value)
            }))
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited before it was ready ({status}); see {}",
                    self.name,
                    self.log.display()
                );
            }
            if self.ready(&http).await {
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!(
                    "{} not ready after {timeout:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Does `/readyz` answer 200 now?
    pub async fn ready(&self, http: &reqwest::Client) -> bool {
        http.get(self.url("/readyz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// `kill -9`, then the same command again (same address, same environment).
    pub fn kill_and_restart(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        self.child = start(&self.binary, &self.env, &self.args, &self.log)?;
        Ok(())
    }

    /// SIGTERM, then waits for a clean exit.
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.name);
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("{} exited with {status} after SIGTERM", self.name);
                }
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!("{} did not exit within {timeout:?} of SIGTERM", self.name);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(
    binary: &Path,
    env: &HashMap<String, String>,
    args: &[String],
    log: &Path,
) -> anyhow::Result<Child> {
    let out = File::options().create(true).append(true).open(log)?;
    Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("start {}", binary.display()))
}

/// Where the processes' logs go: `$TCA_BENCH_LOGS`, else `<target>/tca-bench-logs`.
fn log_dir() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("TCA_BENCH_LOGS") {
        Some(dir) => PathBuf::from(dir),
        None => binary_dir()?.join("tca-bench-logs"),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The release directory this tool was built into, which holds the service binaries.
fn binary_dir() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .context("the tool's directory")?
        .to_path_buf())
}

pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = binary_dir()?.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: scripts/bench builds every service binary before the tool runs",
            path.display()
        );
    }
    Ok(path)
}

/// The `WORKER_ID` of worker `index` (kept when chaos restarts it).
pub fn worker_id(index: usize) -> String {
    format!("bench-worker-{index}")
}

/// Per-service settings on top of the defaults.
#[derive(Default)]
pub struct Tuning {
    pub workers: usize,
    /// Extra variables for every worker.
    pub worker_env: Vec<(&'static str, String)>,
    /// Extra variables for twitch-api (`{public_url}` is replaced by the gateway's).
    pub twitch_api_env: Vec<(&'static str, String)>,
}

/// twitch-fake plus gateway, twitch-api, analysis and `workers` workers.
pub struct Deployment {
    pub fake: Process,
    pub twitch_api: Process,
    pub analysis: Process,
    pub gateway: Process,
    pub workers: Vec<Process>,
    pub driver: Driver,
    /// The scenario file twitch-fake serves (for `twitch-fake truth`).
    pub scenario: PathBuf,
}

impl Deployment {
    /// Starts everything on the database `url` (already migrated). `scenario` receives the
    /// gateway's callback URL, which it must register as a redirect URI.
    pub async fn start(
        pool: &MySqlPool,
        url: &url::Url,
        scenario: impl FnOnce(&str) -> String,
        tuning: Tuning,
    ) -> anyhow::Result<Self> {
        let gateway_addr = free_addr();
        let public_url = format!("http://{gateway_addr}");
        let redirect_uri = format!("{public_url}/auth/callback");
        let scenario_path = log_dir()?.join("scenario.toml");
        std::fs::write(&scenario_path, scenario(&redirect_uri))?;

        let fake_addr = free_addr();
        let fake = Process::spawn(
            "twitch-fake",
            binary("twitch-fake")?,
            fake_addr,
            HashMap::from([("LOG_FORMAT".into(), "json".into())]),
            vec![
                "--addr".into(),
                fake_addr.to_string(),
                "--scenario".into(),
                scenario_path.display().to_string(),
            ],
        )?;
        let common = |addr_var: &str, addr: SocketAddr| {
            HashMap::from([
                ("DATABASE_URL".to_string(), url.to_string()),
                ("INTERNAL_API_TOKEN".to_string(), INTERNAL_TOKEN.to_string()),
                ("LOG_FORMAT".to_string(), "json".to_string()),
                ("RUST_LOG".to_string(), "info,sqlx=warn".to_string()),
                (addr_var.to_string(), addr.to_string()),
            ])
        };
        let twitch_api_addr = free_addr();
        let mut env = common("TWITCH_API_ADDR", twitch_api_addr);
        env.extend([
            ("TOKEN_ENCRYPTION_KEY".to_string(), SEAL_KEY.to_string()),
            ("TWITCH_CLIENT_ID".to_string(), CLIENT_ID.to_string()),
            (
                "TWITCH_CLIENT_SECRET".to_string(),
                CLIENT_SECRET.to_string(),
            ),
            ("TWITCH_AUTH_URL".to_string(), format!("http://{fake_addr}")),
            (
                "TWITCH_HELIX_URL".to_string(),
                format!("http://{fake_addr}/helix"),
            ),
        ]);
        // `{public_url}` in a value is the gateway's public URL (EventSub's callback).
        env.extend(
            tuning
                .twitch_api_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.replace("{public_url}", &public_url))),
        );
        let twitch_api = Process::spawn(
            "twitch-api",
            binary("twitch-api")?,
            twitch_api_addr,
            env,
            vec![],
        )?;
        let twitch_api_url = format!("http://{twitch_api_addr}/");

        let analysis_addr = free_addr();
        let analysis = Process::spawn(
            "analysis",
            binary("analysis")?,
            analysis_addr,
            common("ANALYSIS_ADDR", analysis_addr),
            vec![],
        )?;

        // Worker addresses first: the gateway wakes the first worker when a user queues work,
        // as it would reach one replica of the `worker` service in docker-compose.yml.
        let worker_addrs: Vec<SocketAddr> = (0..tuning.workers).map(|_| free_addr()).collect();
        let mut env = common("GATEWAY_ADDR", gateway_addr);
        if let Some(first) = worker_addrs.first() {
            env.insert("WORKER_URL".to_string(), format!("http://{first}/"));
        }
        let static_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/static");
        env.extend([
            ("PUBLIC_URL".to_string(), public_url.clone()),
            ("TWITCH_API_URL".to_string(), twitch_api_url.clone()),
            (
                "ANALYSIS_URL".to_string(),
                format!("http://{analysis_addr}/"),
            ),
            ("STATIC_DIR".to_string(), static_dir.display().to_string()),
            ("ALERT_ENCRYPTION_KEY".to_string(), ALERT_KEY.to_string()),
        ]);
        let gateway = Process::spawn("gateway", binary("gateway")?, gateway_addr, env, vec![])?;

        let mut workers = Vec::new();
        for (index, addr) in worker_addrs.into_iter().enumerate() {
            let mut env = common("WORKER_ADDR", addr);
            env.extend([
                ("TWITCH_API_URL".to_string(), twitch_api_url.clone()),
                ("WORKER_ID".to_string(), worker_id(index)),
                (
                    "ANALYSIS_URL".to_string(),
                    format!("http://{analysis_addr}/"),
                ),
                ("PUBLIC_URL".to_string(), public_url.clone()),
                ("ALERT_ENCRYPTION_KEY".to_string(), ALERT_KEY.to_string()),
            ]);
            env.extend(
                tuning
                    .worker_env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone())),
            );
            workers.push(Process::spawn(
                &format!("worker-{index}"),
                binary("worker")?,
                addr,
                env,
                vec![],
            )?);
        }

        let mut deployment = Self {
            driver: Driver {
                pool: pool.clone(),
                twitch: TwitchApiClient::new(
                    url::Url::parse(&twitch_api_url)?,
                    Secret::new(INTERNAL_TOKEN),
                )?,
                fake_url: format!("http://{fake_addr}"),
                redirect_uri,
            },
            fake,
            twitch_api,
            analysis,
            gateway,
            workers,
            scenario: scenario_path,
        };
        for process in deployment.processes_mut() {
            process.wait_ready(Duration::from_secs(60)).await?;
        }
        Ok(deployment)
    }

    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        [&self.fake, &self.twitch_api, &self.analysis, &self.gateway]
            .into_iter()
            .chain(self.workers.iter())
    }

    fn processes_mut(&mut self) -> impl Iterator<Item = &mut Process> {
        [
            &mut self.fake,
            &mut self.twitch_api,
            &mut self.analysis,
            &mut self.gateway,
        ]
        .into_iter()
        .chain(self.workers.iter_mut())
    }

    /// Every process, stopped with SIGTERM: each must exit cleanly.
    pub async fn stop(self) -> anyhow::Result<()> {
        let Self {
            fake,
            twitch_api,
            analysis,
            gateway,
            workers,
            ..
        } = self;
        for process in workers
            .into_iter()
            .chain([gateway, analysis, twitch_api, fake])
        {
            // A worker waits up to its drain timeout (30 s) for a running job (an enrichment
            // run, say) before handing it back: give it that and the time to exit.
            process.terminate(EXIT_WITHIN).await?;
        }
        Ok(())
    }

    /// `twitch-fake truth` of the world the fake serves, with its first `listings` listings.
    pub fn truth(&self, listings: u32) -> anyhow::Result<serde_json::Value> {
        let output = std::process::Command::new(binary("twitch-fake")?)
            .args(["truth", "--listings", &listings.to_string(), "--scenario"])
            .arg(&self.scenario)
            .output()?;
        if !output.status.success() {
            bail!(
                "twitch-fake truth failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// A browser of `user_id` on the channels page: a web session for them, and the page
    /// loaded once (Twitch asked which channels they moderate, as a moderator's visit does
    /// before any "Capture now").
    pub async fn browser_of(&self, user_id: u64) -> anyhow::Result<Browser> {
        let token = format!(
            "bench-browser-{user_id}-{}",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let csrf = web_session(&self.driver.pool, user_id, &token).await?;
        let browser = Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            gateway: self.gateway.url(""),
            cookie: format!("tca_session={token}"),
            csrf,
        };
        let page = browser
            .http
            .get(format!("{}/channels", browser.gateway))
            .header("Cookie", &browser.cookie)
            .send()
            .await?;
        if !page.status().is_success() {
            bail!("the channels page answered {}", page.status());
        }
        Ok(browser)
    }

    /// `/_fake/stats` of twitch-fake.
    pub async fn fake_stats(&self) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::get(self.fake.url("/_fake/stats"))
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

/// A worker process on its own against `database_url`, ready: for measuring the queue, where
/// only `noop` jobs are queued (its twitch-api and analysis addresses lead nowhere).
pub async fn lone_worker(database_url: &url::Url, index: usize) -> anyhow::Result<Process> {
    let addr = free_addr();
    let env = HashMap::from([
        ("DATABASE_URL".to_string(), database_url.to_string()),
        ("INTERNAL_API_TOKEN".to_string(), INTERNAL_TOKEN.to_string()),
        ("LOG_FORMAT".to_string(), "json".to_string()),
        ("RUST_LOG".to_string(), "warn".to_string()),
        ("WORKER_ADDR".to_string(), addr.to_string()),
        ("WORKER_ID".to_string(), worker_id(index)),
        (
            "TWITCH_API_URL".to_string(),
            "http://127.0.0.1:1/".to_string(),
        ),
        (
            "ANALYSIS_URL".to_string(),
            "http://127.0.0.1:1/".to_string(),
        ),
        (
            "PUBLIC_URL".to_string(),
            "http://localhost:8080".to_string(),
        ),
        ("ALERT_ENCRYPTION_KEY".to_string(), ALERT_KEY.to_string()),
    ]);
    let mut process = Process::spawn(
        &format!("worker-{index}"),
        binary("worker")?,
        addr,
        env,
        vec![],
    )?;
    process.wait_ready(Duration::from_secs(60)).await?;
    Ok(process)
}

/// Samples every process's RSS until stopped; reports each one's peak (name, bytes).
pub struct PeakRssOf {
    samplers: Vec<(String, crate::measure::PeakRss)>,
}

impl PeakRssOf {
    pub fn start<'a>(processes: impl Iterator<Item = &'a Process>) -> Self {
        Self {
            samplers: processes
                .map(|p| {
                    (
                        p.name.clone(),
                        crate::measure::PeakRss::start(p.pid(), Duration::from_millis(20)),
                    )
                })
                .collect(),
        }
    }

    /// "twitch-fake 58 MiB, twitch-api 21 MiB, …"
    pub async fn stop(self) -> String {
        let mut parts = Vec::new();
        for (name, sampler) in self.samplers {
            parts.push(format!(
                "{name} {:.0} MiB",
                sampler.stop().await as f64 / 1048576.0
            ));
        }
        parts.join(", ")
    }
}

/// A web session of `user_id` whose cookie holds `token`, as the gateway's login would leave
/// it (the token stored only hashed); returns its CSRF token for forms.
pub async fn web_session(pool: &MySqlPool, user_id: u64, token: &str) -> anyhow::Result<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let now = chrono::Utc::now();
    let csrf_secret = sha2::Sha256::digest(format!("csrf-{token}").as_bytes());
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_secret, created_at, last_seen_at, \
         expires_at, absolute_expires_at) VALUES (UNHEX(SHA2(?, 256)), ?, ?, ?, ?, ?, ?)",
    )
    .bind(token)
    .bind(user_id)
    .bind(csrf_secret.to_vec())
    .bind(now)
    .bind(now)
    .bind(now + chrono::Duration::days(1))
    .bind(now + chrono::Duration::days(1))
    .execute(pool)
    .await?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(csrf_secret))
}

/// A moderator's browser on the gateway (`Deployment::browser_of`).
pub struct Browser {
    http: reqwest::Client,
    gateway: String,
    cookie: String,
    csrf: String,
}

impl Browser {
    /// "Capture now" on `broadcaster_id`'s channel: the gateway's form, which queues the
    /// capture and wakes a worker. Returns the capture's id.
    pub async fn capture_now(&self, broadcaster_id: &str) -> anyhow::Result<u64> {
        let answer = self
            .http
            .post(format!(
                "{}/channels/{broadcaster_id}/capture",
                self.gateway
            ))
            .header("Cookie", &self.cookie)
            .form(&[("csrf", self.csrf.as_str())])
            .send()
            .await?;
        if answer.status() != reqwest::StatusCode::SEE_OTHER {
            bail!("Capture now answered {}", answer.status());
        }
        let location = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("Capture now answered no location")?;
        location
            .rsplit_once("#capture-")
            .and_then(|(_, id)| id.parse().ok())
            .with_context(|| format!("no capture in {location}"))
    }
}
