//! `tca-bench eval` (scripts/eval): the detection evaluation of docs/detection.md. For every
//! scenario file and seed: a fresh database, every service its own process, the scenario's
//! moderator logs in through the gateway and captures every channel `--rounds` times, and
//! `tca_stack::eval::measure` compares the accounts export with `twitch-fake truth`. Prints
//! one table per scenario (mean and worst over seeds) and per cohort; `--json` writes every
//! run's figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tca_stack::eval::{Measure, measure};

use crate::Args;
use crate::database::BenchDatabase;
use crate::deployment::{CLIENT_ID, CLIENT_SECRET, Deployment, Tuning};

/// The suite run when no `--scenario` is given.
const SUITE: &str = "scenarios/eval";

fn scenario_files(args: &Args) -> anyhow::Result<Vec<PathBuf>> {
    if !args.scenarios.is_empty() {
        return Ok(args.scenarios.iter().map(PathBuf::from).collect());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(SUITE)
        .with_context(|| format!("{SUITE} (run from the repository's root)"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The scenario with the run's seed and the bench's app (its client and the gateway's
/// callback), and the login of the moderator who captures: the first moderator of the first
/// channel.
fn prepared(text: &str, seed: u64, redirect_uri: &str) -> anyhow::Result<(String, String)> {
    let mut scenario: toml::Table = toml::from_str(text)?;
    scenario.insert("seed".into(), toml::Value::Integer(seed as i64));
    let app = scenario
        .entry("app")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .context("[app] is a table")?;
    app.insert("client_id".into(), CLIENT_ID.into());
    app.insert("client_secret".into(), CLIENT_SECRET.into());
    app.insert(
        "redirect_uris".into(),
        toml::Value::Array(vec![redirect_uri.into()]),
    );
    let moderator = scenario
        .get("channels")
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("moderators"))
        .and_then(|m| m.get(0))
        .and_then(toml::Value::as_str)
        .context("the first channel needs a moderator (who captures)")?
        .to_string();
    Ok((toml::to_string(&scenario)?, moderator))
}

async fn run_one(
    file: &Path,
    seed: u64,
    rounds: u32,
) -> anyhow::Result<(Measure, serde_json::Value)> {
    let text = std::fs::read_to_string(file)?;
    // Checked before starting anything: a bad file fails fast with its reason.
    let (_, moderator) = prepared(&text, seed, "http://localhost/auth/callback")?;
    let database = BenchDatabase::fresh(8).await?;
    let deployment = Deployment::start(
        &database.pool,
        &database.url,
        |redirect| {
            prepared(&text, seed, redirect)
                .map(|(s, _)| s)
                .unwrap_or_default()
        },
        Tuning {
            workers: 2,
            worker_env: vec![("WORKER_POLL_INTERVAL", "100ms".into())],
            ..Tuning::default()
        },
    )
    .await?;
    let truth = deployment.truth(0)?;
    let measured = measure(
        &deployment.gateway.url(""),
        &database.pool,
        &truth,
        &moderator,
        rounds,
    )
    .await;
    deployment.stop().await?;
    database.finish(false).await?;
    let mut measured = measured?;
    measured.scenario = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((measured, truth))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn percent(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// The tables of docs/detection.md.
fn print_tables(runs: &[Measure]) {
    let mut by_scenario: BTreeMap<&str, Vec<&Measure>> = BTreeMap::new();
    for run in runs {
        by_scenario.entry(&run.scenario).or_default().push(run);
    }
    println!(
        "| scenario | seeds | bots | humans | recall (worst) | false positives (worst) | precision (worst) | top day is bots | first cohort is bots | legit flagged |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (scenario, runs) in &by_scenario {
        let with_bots: Vec<&&Measure> = runs.iter().filter(|r| r.bots > 0).collect();
        let with_flags: Vec<&&Measure> = runs
            .iter()
            .filter(|r| r.recall * r.bots as f64 + r.fpr * r.humans as f64 > 0.0)
            .collect();
        // Recall means nothing without bots, precision nothing without a flag: "—".
        let figure = |runs: &[&&Measure], f: fn(&Measure) -> f64| {
            if runs.is_empty() {
                "—".to_string()
            } else {
                let worst = runs.iter().map(|r| f(r)).fold(f64::MAX, f64::min);
                format!(
                    "{} ({})",
                    percent(mean(runs.iter().map(|r| f(r)))),
                    percent(worst)
                )
            }
        };
        let worst = |f: fn(&Measure) -> f64, lowest: bool| {
            runs.iter()
                .map(|r| f(r))
                .fold(if lowest { f64::MAX } else { f64::MIN }, |a, b| {
                    if lowest { a.min(b) } else { a.max(b) }
                })
        };
        println!(
            "| {scenario} | {} | {:.0} | {:.0} | {} | {} ({}) | {} | {} of {} | {} of {} | {:.1} |",
            runs.len(),
            mean(runs.iter().map(|r| r.bots as f64)),
            mean(runs.iter().map(|r| r.humans as f64)),
            figure(&with_bots, |r| r.recall),
            percent(mean(runs.iter().map(|r| r.fpr))),
            percent(worst(|r| r.fpr, false)),
            figure(&with_flags, |r| r.precision),
            runs.iter().filter(|r| r.top_is_bot).count(),
            runs.len(),
            runs.iter().filter(|r| r.first_cohort_is_bot).count(),
            runs.len(),
            mean(runs.iter().map(|r| r.legit_flagged as f64)),
        );
    }
    println!();
    println!("| scenario | cohort | kind | accounts seen | flagged (worst) |");
    println!("|---|---|---|---|---|");
    for (scenario, runs) in &by_scenario {
        let mut cohorts: BTreeMap<(&str, &str), Vec<(usize, usize)>> = BTreeMap::new();
        for run in runs {
            for c in &run.cohorts {
                cohorts
                    .entry((&c.name, &c.kind))
                    .or_default()
                    .push((c.seen, c.flagged));
            }
        }
        for ((name, kind), seen) in cohorts {
            let shares: Vec<f64> = seen
                .iter()
                .map(|(s, f)| *f as f64 / (*s).max(1) as f64)
                .collect();
            let worst = if kind == "bot" {
                shares.iter().copied().fold(f64::MAX, f64::min)
            } else {
                shares.iter().copied().fold(f64::MIN, f64::max)
            };
            println!(
                "| {scenario} | {name} | {kind} | {:.0} | {} ({}) |",
                mean(seen.iter().map(|(s, _)| *s as f64)),
                percent(mean(shares.iter().copied())),
                percent(worst),
            );
        }
    }
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let files = scenario_files(args)?;
    if files.is_empty() {
        bail!("no scenario: give --scenario FILE or put files in {SUITE}");
    }
    let mut runs = Vec::new();
    for file in &files {
        for seed in 1..=args.seeds {
            let started = std::time::Instant::now();
            let (run, truth) = run_one(file, seed, args.rounds as u32)
                .await
                .with_context(|| format!("{} seed {seed}", file.display()))?;
            if let Some(dir) = &args.exports {
                let dir = Path::new(dir);
                std::fs::create_dir_all(dir)?;
                let stem = format!("{}-{seed}", run.scenario);
                std::fs::write(dir.join(format!("{stem}.csv")), &run.export.0)?;
                std::fs::write(
                    dir.join(format!("{stem}.truth.json")),
                    serde_json::to_vec(&truth)?,
                )?;
            }
            eprintln!(
                "{} seed {seed}: recall {}, false positives {} ({:.0} s)",
                run.scenario,
                percent(run.recall),
                percent(run.fpr),
                started.elapsed().as_secs_f64()
            );
            runs.push(run);
        }
    }
    print_tables(&runs);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&runs)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_is_run_with_the_runs_seed_and_app_and_its_first_moderator_captures() {
        let text = r#"
# a world
seed = 99
[app]
client_id = "theirs"
client_secret = "theirs"
redirect_uris = ["http://elsewhere/cb"]
[[users]]
login = "mod_one"
[[channels]]
login = "chan"
moderators = ["mod_one"]
"#;
        let (scenario, moderator) =
            prepared(text, 7, "http://127.0.0.1:9/auth/callback").expect("prepared");
        assert_eq!(moderator, "mod_one");
        let parsed = tca_twitch_fake::Scenario::parse(&scenario).expect("still a scenario");
        assert_eq!(parsed.seed, 7);
        assert_eq!(parsed.app.client_id, CLIENT_ID);
        assert_eq!(
            parsed.app.redirect_uris,
            ["http://127.0.0.1:9/auth/callback"]
        );
        let no_moderator = "[app]\nclient_id = \"c\"\nclient_secret = \"s\"\nredirect_uris = []\n[[channels]]\nlogin = \"chan\"\n";
        assert!(prepared(no_moderator, 1, "http://x/cb").is_err());
    }
}
