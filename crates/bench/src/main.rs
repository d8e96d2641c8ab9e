//! tca-bench: named benchmark scenarios against a real MariaDB and the real service binaries.
//! Prints one Markdown table per run and writes the same figures as JSON. Targets and results
//! are in docs/benchmarks.md; tests never assert timings (machines are noisy), this tool
//! measures them.
//!
//! ```text
//! scripts/bench queue               # B2 enqueue, B1/B1b drain against the naive claim, B7
//! scripts/bench capture             # B3/B3b 100k-chatter capture against plain INSERTs, B4 enrichment
//! scripts/bench analysis            # B5 summary/top-days latency, E1 export memory, B6 gateway load
//! scripts/bench all               # all of the above: the full table of docs/benchmarks.md
//! scripts/chaos                   # B8: kill -9, MariaDB restart, Twitch faults; then verify
//! scripts/eval [--scenario FILE]... [--seeds N] [--rounds N] [--json FILE] [--exports DIR]   # detection (docs/detection.md)
//! tca-bench analysis --accounts 200000 --captures 5 --export-accounts 1000000
//! ```

mod analysis;
mod capture;
mod chaos;
mod database;
mod deployment;
mod eval;
mod eventsub;
mod fairness;
mod gateway;
mod measure;
mod queue;
mod seed;

use std::time::Duration;

use anyhow::{Context, bail};

/// One measured figure, as printed and as written to JSON.
pub struct Figure {
    pub id: &'static str,
    pub what: String,
    pub value: String,
    pub target: &'static str,
    /// The same work measured the plain or the original way in the same run, as a ratio.
    pub baseline: Option<String>,
}

fn usage() -> String {
    "usage: tca-bench queue|capture|analysis|fairness|eventsub|all|chaos|eval [--jobs N] [--seconds N] [--accounts N] [--captures N] [--export-accounts N] [--requests N] [--scenario FILE]... [--seeds N] [--rounds N] [--json FILE] [--exports DIR] [--keep]\n\
     DATABASE_URL names the MariaDB server; the benchmark creates and drops its own database there."
        .to_string()
}

pub struct Args {
    pub accounts: u64,
    pub captures: u64,
    pub export_accounts: u64,
    pub requests: usize,
    /// How long the chaos storm lasts.
    pub seconds: u64,
    /// Jobs drained by the queue scenario.
    pub jobs: u64,
    pub json: Option<String>,
    /// eval: scenario files (default: every file of scenarios/eval), seeds per file, and
    /// captures of each channel per run.
    pub scenarios: Vec<String>,
    pub seeds: u64,
    pub rounds: u64,
    /// eval: a directory where each run's accounts export and truth are written
    /// (`{scenario}-{seed}.csv`, `{scenario}-{seed}.truth.json`), to look into a run.
    pub exports: Option<String>,
    /// Leave the benchmark database in place afterwards (to EXPLAIN by hand).
    pub keep: bool,
}

fn parse(mut raw: impl Iterator<Item = String>) -> anyhow::Result<(String, Args)> {
    let scenario = raw.next().with_context(usage)?;
    let mut args = Args {
        accounts: 200_000,
        captures: 5,
        export_accounts: 1_000_000,
        requests: 300,
        jobs: 100_000,
        seconds: 180,
        json: None,
        scenarios: Vec::new(),
        seeds: 3,
        rounds: 4,
        exports: None,
        keep: false,
    };
    while let Some(flag) = raw.next() {
        if flag == "--keep" {
            args.keep = true;
            continue;
        }
        let value = raw
            .next()
            .with_context(|| format!("{flag} needs a value\n{}", usage()))?;
        let number = || {
            value
                .parse::<u64>()
                .with_context(|| format!("{flag} must be a whole number, got '{value}'"))
        };
        match flag.as_str() {
            "--accounts" => args.accounts = number()?,
            "--captures" => args.captures = number()?,
            "--export-accounts" => args.export_accounts = number()?,
            "--requests" => args.requests = number()? as usize,
            "--jobs" => args.jobs = number()?,
            "--seconds" => args.seconds = number()?,
            "--json" => args.json = Some(value.clone()),
            "--scenario" => args.scenarios.push(value.clone()),
            "--seeds" => args.seeds = number()?.max(1),
            "--rounds" => args.rounds = number()?.max(1),
            "--exports" => args.exports = Some(value.clone()),
            other => bail!("unknown option {other}\n{}", usage()),
        }
    }
    Ok((scenario, args))
}

pub fn print_table(figures: &[Figure]) {
    println!("| id | what | result | target | against the baseline |");
    println!("|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {} | {} | {} |",
            f.id,
            f.what,
            f.value,
            f.target,
            f.baseline.as_deref().unwrap_or("")
        );
    }
}

pub fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `--help` is an answer, not an error.
    if std::env::args()
        .nth(1)
        .is_some_and(|a| matches!(a.as_str(), "--help" | "-h" | "help"))
    {
        println!("{}", usage());
        return Ok(());
    }
    let (scenario, args) = parse(std::env::args().skip(1))?;
    if scenario == "eval" {
        return eval::run(&args).await;
    }
    let figures = match scenario.as_str() {
        "analysis" => analysis::run(&args).await?,
        "queue" => queue::run(&args).await?,
        "capture" => capture::run(&args).await?,
        "chaos" => chaos::run(&args).await?,
        "fairness" => fairness::run(&args).await?,
        "eventsub" => eventsub::run(&args).await?,
        "all" => {
            let mut figures = queue::run(&args).await?;
            figures.extend(capture::run(&args).await?);
            figures.extend(analysis::run(&args).await?);
            // B10 belongs to the table issue 21 asks for in one run.
            figures.extend(eventsub::run(&args).await?);
            figures
        }
        other => bail!("unknown scenario '{other}'\n{}", usage()),
    };
    print_table(&figures);
    if let Some(path) = &args.json {
        let json: Vec<serde_json::Value> = figures
            .iter()
            .map(|f| serde_json::json!({"id": f.id, "what": f.what, "value": f.value, "target": f.target, "baseline": f.baseline}))
            .collect();
        std::fs::write(path, serde_json::to_vec_pretty(&json)?)?;
    }
    Ok(())
}
