//! The whole product in one process, for tests and benchmarks: twitch-fake, twitch-api,
//! analysis, the gateway and any number of workers on free ports of 127.0.0.1, against one
//! database, talking over real HTTP exactly as in production. `Stack` runs them; `Driver`
//! (which also drives services running as separate processes) logs users in and creates
//! sessions and captures the way the gateway does (`captures::request`).

pub mod eval;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use sqlx::MySqlPool;
use tca_common::bootstrap::Service;
use tca_common::config::{DatabaseUrl, Secret};
use tca_common::db::captures::{self, CaptureStatus, CaptureTrigger};
use tca_common::db::jobs::JobKind;
use tca_common::db::session_channels;
use tca_common::db::{self, DatabaseConfig, sessions, users};
use tca_common::sealing::Sealer;
use tca_common::twitch_api::{SCOPES, TwitchApiClient};
use tca_twitch_api::TwitchApi;
use tca_twitch_api::config::{Config as TwitchApiConfig, TwitchConfig};
use tca_twitch_fake::{RunningFake, Scenario};
use tca_worker::context::{Context, Settings};
use tca_worker::{Runner, RunnerConfig, handlers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const INTERNAL_TOKEN: &str = "stack-internal-token-0123456789abcdef0123456789";
pub const SEAL_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// Seals alert webhook URLs (gateway and workers share it).
pub const ALERT_KEY: &str = "YWxlcnRzLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=";

/// The alert settings of the stack's gateway and workers: the webhook sink is twitch-fake on
/// 127.0.0.1, so private targets are allowed, as an operator of a lab would allow them.
pub fn alert_config() -> tca_common::webhooks::AlertConfig {
    tca_common::webhooks::AlertConfig {
        sealer: Sealer::from_base64_key(ALERT_KEY).expect("a 32-byte key"),
        allow_private: true,
    }
}

/// How the stack is set up; `Default` suits most tests.
pub struct Options {
    pub workers: usize,
    /// The gateway's public URL; `None` means `http://<its address>`. An https URL makes it
    /// set `Secure` cookies (it still listens on plain http here).
    pub public_url: Option<String>,
    /// Gateway settings to change before it starts.
    pub gateway: Box<dyn FnOnce(&mut tca_gateway::Config) + Send>,
    pub runner: RunnerConfig,
    pub settings: Settings,
    pub twitch: Box<dyn FnOnce(&mut TwitchConfig) + Send>,
    /// EventSub's secret: twitch-api verifies messages Twitch posts to the gateway's
    /// `/eventsub/callback` with it. `None`: EventSub off.
    pub eventsub_secret: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        let mut runner = RunnerConfig::new("stack-worker");
        runner.poll_interval = Duration::from_millis(50);
        runner.lease = Duration::from_secs(5);
        runner.reap_interval = Duration::from_millis(500);
        runner.backoff_base = Duration::from_millis(100);
        runner.backoff_max = Duration::from_secs(1);
        runner.drain_timeout = Duration::from_secs(10);
        Self {
            workers: 1,
            public_url: None,
            gateway: Box::new(|_| {}),
            runner,
            settings: Settings::default(),
            twitch: Box::new(|_| {}),
            eventsub_secret: None,
        }
    }
}

/// A worker runner in this process; it stops with the stack (or is killed, `kill_worker`).
struct RunningWorker {
    task: JoinHandle<()>,
}

pub struct Stack {
    pub fake: RunningFake,
    /// Where the analysis service listens.
    pub analysis: SocketAddr,
    /// Where the gateway listens, and the URL browsers use.
    pub gateway: SocketAddr,
    pub public_url: String,
    pub twitch_api: SocketAddr,
    pub database_url: String,
    /// Logs users in and queues captures; the stack derefs to it.
    pub driver: Driver,
    runner: RunnerConfig,
    settings: Settings,
    workers: Vec<Option<RunningWorker>>,
    stop: CancellationToken,
}

impl Stack {
    /// Starts the fake (for `scenario`), twitch-api, and `options.workers` workers on the
    /// database of `pool` (already migrated, as `#[sqlx::test]` leaves it).
    pub async fn start(
        pool: MySqlPool,
        mut scenario: Scenario,
        options: Options,
    ) -> anyhow::Result<Self> {
        tca_common::telemetry::init_test_logging();
        // The gateway's address is chosen first: its callback must be registered with Twitch.
        let gateway_addr = tca_common::testing::free_addr();
        let public_url = options
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{gateway_addr}"));
        scenario.app.redirect_uris.push(format!(
            "{}/auth/callback",
            public_url.trim_end_matches('/')
        ));
        let redirect_uri = scenario
            .app
            .redirect_uris
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the scenario registers no redirect URI"))?;
        let mut twitch_config = TwitchConfig {
            client_id: scenario.app.client_id.clone(),
            client_secret: Secret::new(scenario.app.client_secret.clone()),
            auth_url: url::Url::parse("http://127.0.0.1/")?,
            helix_url: url::Url::parse("http://127.0.0.1/helix")?,
            request_timeout: Duration::from_secs(10),
            max_retries: 8,
            rate_limit: scenario.rate_limit.points_per_minute,
            rate_window: scenario.rate_limit.window,
            lookup_concurrency: 4,
            channels_cache_ttl: Duration::from_secs(60),
        };
        let fake = RunningFake::spawn(scenario, None).await?;
        twitch_config.auth_url = url::Url::parse(&fake.url(""))?;
        twitch_config.helix_url = url::Url::parse(&fake.url("/helix"))?;
        (options.twitch)(&mut twitch_config);

        let database_url = tca_common::testing::database_url_of(&pool).await;
        let stop = CancellationToken::new();
        let api = TwitchApi::build(TwitchApiConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: DatabaseConfig::for_url(
                DatabaseUrl::parse(&database_url).map_err(anyhow::Error::msg)?,
            ),
            internal_token: Secret::new(INTERNAL_TOKEN),
            sealer: Sealer::from_base64_key(SEAL_KEY)?,
            twitch: twitch_config,
            eventsub: match &options.eventsub_secret {
                Some(secret) => Some(tca_twitch_api::eventsub::EventSubConfig {
                    secret: Secret::new(secret.clone()),
                    callback: url::Url::parse(&format!(
                        "{}/eventsub/callback",
                        public_url.trim_end_matches('/')
                    ))?,
                }),
                None => None,
            },
        })
        .await?;
        let twitch_api = api.local_addr()?;
        tokio::spawn(api.run(stop.clone()));
        let twitch = TwitchApiClient::new(
            url::Url::parse(&format!("http://{twitch_api}/"))?,
            Secret::new(INTERNAL_TOKEN),
        )?;

        let analysis = tca_analysis::Analysis::build(tca_analysis::Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: DatabaseConfig::for_url(
                DatabaseUrl::parse(&database_url).map_err(anyhow::Error::msg)?,
            ),
            internal_token: Secret::new(INTERNAL_TOKEN),
            scoring: tca_analysis::scoring::ScoringConfig::default(),
            retired: Vec::new(),
        })
        .await?;
        let analysis_addr = analysis.local_addr()?;
        tokio::spawn(analysis.run(stop.clone()));

        let mut gateway_config = tca_gateway::Config {
            addr: gateway_addr,
            database: DatabaseConfig::for_url(
                DatabaseUrl::parse(&database_url).map_err(anyhow::Error::msg)?,
            ),
            public_url: url::Url::parse(&public_url)?,
            twitch_api_url: url::Url::parse(&format!("http://{twitch_api}/"))?,
            analysis_url: url::Url::parse(&format!("http://{analysis_addr}/"))?,
            worker_url: None,
            internal_token: Secret::new(INTERNAL_TOKEN),
            session_ttl: Duration::from_secs(86_400),
            web_session_idle: Duration::from_secs(7 * 86_400),
            web_session_max: Duration::from_secs(30 * 86_400),
            saved_sessions_limit: 10,
            captures_per_user: 4,
            streams_per_session: 4,
            streams_per_user: 8,
            moderation_batch_max: 5000,
            alerts: alert_config(),
            auth_rate_limit: 1000,
            trust_forwarded_for: false,
            static_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/static"),
        };
        (options.gateway)(&mut gateway_config);
        let gateway = tca_gateway::Gateway::build(gateway_config).await?;
        tokio::spawn(gateway.run(stop.clone()));

        let fake_url = fake.url("");
        let mut stack = Self {
            fake,
            analysis: analysis_addr,
            gateway: gateway_addr,
            public_url,
            twitch_api,
            database_url,
            driver: Driver {
                pool,
                twitch,
                fake_url,
                redirect_uri,
            },
            runner: options.runner,
            settings: options.settings,
            workers: Vec::new(),
            stop,
        };
        for _ in 0..options.workers {
            stack.start_worker().await?;
        }
        Ok(stack)
    }

    /// Starts one more worker (its own pool and worker id); returns its index.
    pub async fn start_worker(&mut self) -> anyhow::Result<usize> {
        tca_worker::register_metrics();
        let index = self.workers.len();
        let config = DatabaseConfig::for_url(
            DatabaseUrl::parse(&self.database_url).map_err(anyhow::Error::msg)?,
        );
        let pool = db::connect(&config).await?;
        let context = std::sync::Arc::new(Context {
            pool: pool.clone(),
            twitch: self.twitch.clone(),
            analysis: tca_common::analysis_api::AnalysisClient::new(
                url::Url::parse(&format!("http://{}/", self.analysis))?,
                Secret::new(INTERNAL_TOKEN),
            )?,
            public_url: url::Url::parse(&self.public_url)?,
            alerts: alert_config(),
            settings: self.settings.clone(),
        });
        let mut runner = self.runner.clone();
        runner.worker_id = format!("{}-{index}", self.runner.worker_id);
        let stop = self.stop.child_token();
        let task = tokio::spawn(Runner::new(pool, handlers::registry(context), runner).run(stop));
        self.workers.push(Some(RunningWorker { task }));
        Ok(index)
    }

    /// Kills a worker as `kill -9` would: its running jobs stop mid-way, nothing is written
    /// for them, and their leases run out.
    pub fn kill_worker(&mut self, index: usize) {
        if let Some(Some(worker)) = self.workers.get_mut(index).map(Option::take) {
            worker.task.abort();
        }
    }
}

/// What tests and benchmarks do to a running product, whether it runs in this process (a
/// [`Stack`]) or as separate service processes: log users in (a consent-page code exchanged
/// through twitch-api), create sessions and queue captures the way the gateway does, and wait
/// for the queue.
pub struct Driver {
    pub pool: MySqlPool,
    pub twitch: TwitchApiClient,
    /// twitch-fake's base URL (its control API is under `/_fake/`).
    pub fake_url: String,
    /// A redirect URI the fake's app registers (codes are minted for it).
    pub redirect_uri: String,
}

impl Driver {
    /// Logs `login` in as the gateway does: a consent-page code exchanged through twitch-api,
    /// then the user row. Returns the user's id.
    pub async fn login(&self, login: &str) -> anyhow::Result<u64> {
        self.login_with_scopes(login, SCOPES).await
    }

    /// `login`, granting `scopes` (the actions scope too, for a moderator who enabled
    /// actions).
    pub async fn login_with_scopes(&self, login: &str, scopes: &[&str]) -> anyhow::Result<u64> {
        let http = reqwest::Client::new();
        let code: serde_json::Value = http
            .post(format!("{}/_fake/codes", self.fake_url))
            .json(&json!({"login": login, "scopes": scopes, "redirect_uri": self.redirect_uri}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let code = code["code"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no code"))?;
        let user = self.twitch.exchange(code, &self.redirect_uri).await?;
        Ok(users::upsert(
            &self.pool,
            &user.user_id,
            &user.login,
            &user.display_name,
            Some(&user.profile_image_url),
            Utc::now(),
        )
        .await?)
    }

    /// The user's active session (created if needed) with `broadcaster_login` in it; returns
    /// (session id, session channel id).
    pub async fn session_with_channel(
        &self,
        user_id: u64,
        broadcaster_login: &str,
    ) -> anyhow::Result<(u64, u64)> {
        let now = Utc::now();
        let mut conn = self.pool.acquire().await?;
        let session = match sessions::find_active(&mut *conn, user_id).await? {
            Some(session) => session,
            None => {
                sessions::create_active(
                    &mut conn,
                    user_id,
                    "Test session",
                    Duration::from_secs(86_400),
                    now,
                )
                .await?
            }
        };
        let broadcaster = self
            .twitch
            .users_by_login(&[broadcaster_login.to_string()], None, None)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no channel {broadcaster_login}"))?;
        let channel = session_channels::ensure(
            &mut *conn,
            session.id,
            &broadcaster.id,
            &broadcaster.login,
            &broadcaster.display_name,
            now,
        )
        .await?;
        Ok((session.id, channel))
    }

    /// Queues a manual capture (and its job), as "Capture now" does.
    pub async fn capture(&self, session_channel_id: u64, user_id: u64) -> anyhow::Result<u64> {
        let mut tx = self.pool.begin().await?;
        let id = captures::request(
            &mut tx,
            session_channel_id,
            user_id,
            CaptureTrigger::Manual,
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Waits until the capture is done or failed.
    pub async fn wait_capture(
        &self,
        capture_id: u64,
        timeout: Duration,
    ) -> anyhow::Result<(CaptureStatus, Option<String>)> {
        let started = Instant::now();
        loop {
            let row: (CaptureStatus, Option<String>) =
                sqlx::query_as("SELECT status, error FROM captures WHERE id = ?")
                    .bind(capture_id)
                    .fetch_one(&self.pool)
                    .await?;
            if row.0.is_finished() {
                return Ok(row);
            }
            if started.elapsed() > timeout {
                anyhow::bail!("capture {capture_id} still {:?} after {timeout:?}", row.0);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Queues a capture and waits for it; an error unless it ends `done`.
    pub async fn capture_done(
        &self,
        session_channel_id: u64,
        user_id: u64,
        timeout: Duration,
    ) -> anyhow::Result<u64> {
        let capture = self.capture(session_channel_id, user_id).await?;
        match self.wait_capture(capture, timeout).await? {
            (CaptureStatus::Done, _) => Ok(capture),
            (status, error) => anyhow::bail!("capture {capture} ended {status:?}: {error:?}"),
        }
    }

    /// Starts an enrichment run now (as a capture's commit does) and waits for it to end.
    pub async fn enrich_now(&self, timeout: Duration) -> anyhow::Result<()> {
        captures::kick_enrichment(&self.pool, Utc::now()).await?;
        self.wait_idle(JobKind::EnrichAccounts.as_str(), timeout)
            .await
    }

    /// Waits until no job of `kind` is running or due soon. "Soon" covers retries (the stack's
    /// backoff is at most a second) but not recurring jobs resting until their next slot.
    pub async fn wait_idle(&self, kind: &str, timeout: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = ? AND (status = 'running' OR (status = 'queued' AND run_at <= ?))",
            )
            .bind(kind)
            .bind(Utc::now() + chrono::Duration::seconds(3))
            .fetch_one(&self.pool)
            .await?;
            if pending == 0 {
                return Ok(());
            }
            if started.elapsed() > timeout {
                anyhow::bail!("{pending} {kind} jobs still pending after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fake_get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::Client::new()
            .get(format!("{}{path}", self.fake_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    pub async fn fake_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::Client::new()
            .post(format!("{}{path}", self.fake_url))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

impl std::ops::Deref for Stack {
    type Target = Driver;

    fn deref(&self) -> &Driver {
        &self.driver
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
        for worker in self.workers.iter_mut().filter_map(Option::take) {
            worker.task.abort();
        }
    }
}
