//! twitch-fake: a faithful local Twitch — `id.twitch.tv/oauth2` and the Helix endpoints this
//! product uses — driven by a scenario file, for tests, demos and benchmarks.
//! Documented in docs/twitch-fake.md.

pub mod control;
pub mod eventsub;
pub mod helix;
pub mod names;
pub mod oauth;
pub mod rng;
pub mod scenario;
pub mod state;
pub mod webhooks;
pub mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tca_common::bootstrap::Service;
use tca_common::config::{ConfigError, EnvReader, FromEnv};
use tca_common::server::{HttpCore, HttpOptions};
use tokio_util::sync::CancellationToken;

pub use scenario::{Faults, Scenario};
pub use state::State;
pub use world::World;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub scenario_path: PathBuf,
    pub scenario: Scenario,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
}

const USAGE: &str = "usage: twitch-fake [--addr HOST:PORT] --scenario FILE [--seed N] \
[--rate-limit N] [--latency-ms N] [--latency-jitter-ms N] [--error-rate F] \
[--burst-429-every N] [--burst-429-length N] [--drop-rate F] [--stall-rate F] [--stall-ms N]\n\
       twitch-fake truth --scenario FILE [--seed N] [--listings N]";

/// Command-line flags as (name, value) pairs; `--flag value` and `--flag=value` both work.
pub fn parse_flags(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut flags = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument '{arg}'\n{USAGE}"));
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => {
                let value = iter
                    .next()
                    .ok_or_else(|| format!("--{flag} needs a value\n{USAGE}"))?;
                (flag.to_string(), value.clone())
            }
        };
        flags.push((name, value));
    }
    Ok(flags)
}

fn number<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, String> {
    raw.parse()
        .map_err(|_| format!("--{name} is not a valid number: '{raw}'"))
}

/// Applies the fault and rate-limit flags to the scenario.
fn apply_overrides(scenario: &mut Scenario, flags: &[(String, String)]) -> Result<(), String> {
    let faults = &mut scenario.faults;
    for (name, raw) in flags {
        match name.as_str() {
            "latency-ms" => faults.latency_ms = number(name, raw)?,
            "latency-jitter-ms" => faults.latency_jitter_ms = number(name, raw)?,
            "error-rate" => faults.error_rate = number(name, raw)?,
            "burst-429-every" => faults.burst_429_every = number(name, raw)?,
            "burst-429-length" => faults.burst_429_length = number(name, raw)?,
            "drop-rate" => faults.drop_rate = number(name, raw)?,
            "stall-rate" => faults.stall_rate = number(name, raw)?,
            "stall-ms" => faults.stall_ms = number(name, raw)?,
            "rate-limit" => scenario.rate_limit.points_per_minute = number(name, raw)?,
            "addr" | "scenario" | "seed" | "listings" => {}
            other => return Err(format!("unknown flag --{other}\n{USAGE}")),
        }
    }
    Ok(())
}

fn flag<'a>(flags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    flags
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

impl FromEnv for Config {
    /// The process's environment and command line.
    fn from_env(env: EnvReader) -> Result<Self, ConfigError> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self::read(env, &args)
    }
}

impl Config {
    /// Environment (`TWITCH_FAKE_ADDR`, `TWITCH_FAKE_SCENARIO`, `TWITCH_FAKE_SEED`), then
    /// command-line flags, which win.
    pub fn read(mut env: EnvReader, args: &[String]) -> Result<Self, ConfigError> {
        let mut addr = TwitchFake::listen_addr(&mut env);
        let env_scenario = env.optional_string("TWITCH_FAKE_SCENARIO");
        let env_seed = env.optional_string("TWITCH_FAKE_SEED");
        let flags = match parse_flags(args) {
            Ok(flags) => flags,
            Err(problem) => {
                env.problem(problem);
                Vec::new()
            }
        };
        if let Some(raw) = flag(&flags, "addr") {
            match raw.parse() {
                Ok(a) => addr = a,
                Err(_) => env.problem(format!("--addr is not a socket address: '{raw}'")),
            }
        }
        let seed = match flag(&flags, "seed").or(env_seed.as_deref()) {
            None => None,
            Some(raw) => match raw.parse() {
                Ok(seed) => Some(seed),
                Err(_) => {
                    env.problem(format!("the seed is not a whole number: '{raw}'"));
                    None
                }
            },
        };
        let path = flag(&flags, "scenario")
            .map(str::to_string)
            .or(env_scenario);
        let scenario = match &path {
            None => {
                env.problem("TWITCH_FAKE_SCENARIO is missing (or pass --scenario FILE)".into());
                None
            }
            Some(path) => match Scenario::load(path.as_ref()) {
                Ok(mut scenario) => match apply_overrides(&mut scenario, &flags) {
                    Ok(()) => Some(scenario),
                    Err(problem) => {
                        env.problem(problem);
                        None
                    }
                },
                Err(e) => {
                    env.problem(e.to_string());
                    None
                }
            },
        };
        env.finish(|| {
            Some(Self {
                addr,
                scenario_path: PathBuf::from(path?),
                scenario: scenario?,
                seed,
            })
        })
    }
}

/// `twitch-fake truth …`: prints the scenario's ground truth as JSON.
pub fn truth_main(args: &[String]) -> std::process::ExitCode {
    let run = || -> Result<String, String> {
        let flags = parse_flags(args)?;
        let path = flag(&flags, "scenario")
            .ok_or_else(|| format!("truth needs --scenario FILE\n{USAGE}"))?;
        let scenario = Scenario::load(path.as_ref()).map_err(|e| e.to_string())?;
        let seed = match flag(&flags, "seed") {
            Some(raw) => number("seed", raw)?,
            None => scenario.seed,
        };
        let listings = match flag(&flags, "listings") {
            Some(raw) => number("listings", raw)?,
            None => 0,
        };
        let world = World::generate(&scenario, seed);
        serde_json::to_string_pretty(&world.truth(listings)).map_err(|e| e.to_string())
    };
    match run() {
        Ok(json) => {
            println!("{json}");
            std::process::ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("twitch-fake truth: {problem}");
            std::process::ExitCode::from(2)
        }
    }
}

pub struct TwitchFake {
    core: HttpCore,
    state: Arc<State>,
}

impl TwitchFake {
    /// Generates the world and binds; ready to run.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let seed = config.seed.unwrap_or(config.scenario.seed);
        let world = Arc::new(World::generate(&config.scenario, seed));
        tracing::info!(
            accounts = world.accounts.len(),
            channels = world.channels.len(),
            seed,
            scenario = %config.scenario_path.display(),
            "world generated"
        );
        let faults = config.scenario.faults.clone();
        let points = config.scenario.rate_limit.points_per_minute;
        let state = Arc::new(State::new(config.scenario, world, faults, points));
        let core = HttpCore::without_database(config.addr).await?;
        Ok(Self { core, state })
    }

    pub fn state(&self) -> Arc<State> {
        self.state.clone()
    }

    pub fn routes(state: Arc<State>) -> Router {
        Router::new()
            .merge(oauth::router(state.clone()))
            .merge(helix::router(state.clone()))
            .merge(webhooks::router(state.sinks.clone()))
            .merge(control::router(state))
    }
}

impl Service for TwitchFake {
    const NAME: &'static str = "twitch-fake";
    const ADDR_VAR: &'static str = "TWITCH_FAKE_ADDR";
    const DEFAULT_PORT: u16 = 8900;
    type Config = Config;

    fn http(&self) -> &HttpCore {
        &self.core
    }

    async fn build(config: Config) -> anyhow::Result<Self> {
        Self::start(config).await
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let routes = Self::routes(self.state.clone());
        // It keeps no database: ready as soon as it serves.
        self.core
            .serve(routes, HttpOptions::default(), shutdown)
            .await
    }
}

/// A fake running in this process, for tests of any crate.
pub struct RunningFake {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningFake {
    /// Starts a fake for `scenario` on an ephemeral port of 127.0.0.1.
    pub async fn spawn(scenario: Scenario, seed: Option<u64>) -> anyhow::Result<Self> {
        let config = Config {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            scenario_path: PathBuf::from("(in-process)"),
            scenario,
            seed,
        };
        let fake = TwitchFake::start(config).await?;
        let addr = fake.local_addr()?;
        let state = fake.state();
        let stop = CancellationToken::new();
        let task = tokio::spawn(fake.run(stop.clone()));
        Ok(Self {
            addr,
            state,
            stop,
            task,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await?
    }
}
