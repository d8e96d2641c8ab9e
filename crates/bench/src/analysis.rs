//! The analysis scenario: B5 (summary latency on a session of 1M capture rows / 200k accounts,
//! with EXPLAIN of the queries behind it) and E1 (an accounts export of 1M rows streams with
//! flat memory: the analysis process's peak RSS growth for 1M rows against a tenth of that).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use sqlx::{Column, MySqlPool, Row};
use tca_common::testing::{ChildService, free_addr};

use crate::database::BenchDatabase;
use crate::measure::{PeakRss, percentile, rss};
use crate::{Args, Figure, millis, seed};

const TOKEN: &str = "bench-internal-token-0123456789abcdef0123";

pub async fn run(args: &Args) -> anyhow::Result<Vec<Figure>> {
    let database = BenchDatabase::fresh(4).await?;
    let (pool, url) = (database.pool.clone(), database.url.clone());

    let started = Instant::now();
    eprintln!(
        "seeding: {} accounts × {} captures, then {} + {} accounts for exports…",
        args.accounts,
        args.captures,
        args.export_accounts,
        args.export_accounts / 10
    );
    let summary_session = seed::session(
        &pool,
        "B5 summary",
        10_000_000,
        args.accounts,
        args.captures,
    )
    .await?;
    let big = seed::session(&pool, "E1 export", 20_000_000, args.export_accounts, 1).await?;
    let small = seed::session(
        &pool,
        "E1 export, a tenth",
        40_000_000,
        args.export_accounts / 10,
        1,
    )
    .await?;
    for table in [
        "twitch_accounts",
        "session_accounts",
        "session_channel_accounts",
        "capture_chatters",
        "account_names",
        "captures",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE TABLE {table}")))
            .execute(&pool)
            .await?;
    }
    let seeded_in = started.elapsed();
    eprintln!("seeded in {:.1} s", seeded_in.as_secs_f64());

    let binary = std::env::current_exe()?
        .parent()
        .context("no directory")?
        .join("analysis");
    if !binary.exists() {
        bail!(
            "{} is missing: build it first (scripts/bench does: cargo build --release -p tca-analysis -p tca-bench)",
            binary.display()
        );
    }
    let addr = free_addr();
    let env = HashMap::from([
        ("DATABASE_URL".to_string(), url.to_string()),
        ("ANALYSIS_ADDR".to_string(), addr.to_string()),
        ("INTERNAL_API_TOKEN".to_string(), TOKEN.to_string()),
    ]);
    let mut service = ChildService::spawn(binary.to_str().context("path")?, addr, &env);
    service.wait_ready(Duration::from_secs(30)).await;
    let pid = service.child.id();
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/v1/sessions");
    let mut figures = Vec::new();

    // E1 first, while the process holds no cached population.
    let mut growth = Vec::new();
    for session in [&small, &big] {
        let (rows, bytes, took, peak_growth) = export(
            &http,
            &format!("{base}/{}/export/accounts.csv", session.session_id),
            pid,
        )
        .await?;
        if rows != session.accounts {
            bail!(
                "export of {} accounts returned {rows} rows",
                session.accounts
            );
        }
        figures.push(Figure {
            id: "E1",
            what: format!(
                "accounts.csv export, {rows} rows ({:.0} MB)",
                bytes as f64 / 1e6
            ),
            value: format!(
                "{:.1} s ({:.0} rows/s), peak RSS +{:.1} MiB",
                took.as_secs_f64(),
                rows as f64 / took.as_secs_f64(),
                peak_growth as f64 / 1048576.0
            ),
            target: "memory flat in the row count",
        });
        growth.push(peak_growth);
    }

    // B5: cold (loads and scores the population), then warm.
    let summary = format!("{base}/{}/summary", summary_session.session_id);
    let cold = timed(&http, &summary).await?;
    figures.push(Figure {
        id: "B5",
        what: format!(
            "summary, cold (loads + scores {} accounts; {} capture rows)",
            summary_session.accounts, summary_session.capture_rows
        ),
        value: millis(cold),
        target: "well under 1 s",
    });
    for (label, url) in [
        ("summary, warm", summary.clone()),
        (
            "summary, one channel",
            format!("{summary}?broadcaster_id=100"),
        ),
        (
            "summary, created in a date range",
            format!("{summary}?from=2020-01-01&to=2022-12-31"),
        ),
    ] {
        let mut samples = Vec::with_capacity(args.requests);
        for _ in 0..args.requests {
            samples.push(timed(&http, &url).await?);
        }
        samples.sort();
        figures.push(Figure {
            id: "B5",
            what: format!("{label}, {} requests", args.requests),
            value: format!(
                "p50 {}, p99 {}",
                millis(percentile(&samples, 0.50)),
                millis(percentile(&samples, 0.99))
            ),
            target: "p99 ≤ 250 ms (stretch 20 ms)",
        });
    }

    for (label, sql) in explained(summary_session.session_id) {
        let plan = explain(&pool, &sql).await?;
        eprintln!("EXPLAIN {label}:\n{plan}");
        figures.push(Figure {
            id: "B5",
            what: format!("EXPLAIN {label}"),
            value: plan.replace('\n', "<br>"),
            target: "indexes, no full scan of capture rows",
        });
    }
    let status = service.terminate(Duration::from_secs(10)).await;
    if !status.success() {
        bail!("analysis exited with {status}");
    }
    database.finish(args.keep).await?;
    figures.insert(
        0,
        Figure {
            id: "—",
            what: "seeding (not a target)".into(),
            value: format!("{:.1} s", seeded_in.as_secs_f64()),
            target: "",
        },
    );
    Ok(figures)
}

async fn timed(http: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = http.get(url).bearer_auth(TOKEN).send().await?;
    if !response.status().is_success() {
        bail!("{url}: {}", response.status());
    }
    response.bytes().await?;
    Ok(started.elapsed())
}

/// Downloads an export while sampling the server's RSS every 10 ms: data rows, bytes, time,
/// and the peak RSS above what the process held before the export began.
async fn export(
    http: &reqwest::Client,
    url: &str,
    pid: u32,
) -> anyhow::Result<(u64, u64, Duration, u64)> {
    let before = rss(pid);
    let sampler = PeakRss::start(pid, Duration::from_millis(10));
    let started = Instant::now();
    let response = http.get(url).bearer_auth(TOKEN).send().await?;
    if !response.status().is_success() {
        bail!("{url}: {}", response.status());
    }
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let took = started.elapsed();
    let peak = sampler.stop().await;
    Ok((
        lines.saturating_sub(1),
        bytes,
        took,
        peak.saturating_sub(before),
    ))
}

/// The queries a summary runs, with the session id filled in.
fn explained(session_id: u64) -> Vec<(&'static str, String)> {
    use tca_analysis::population::{ACCOUNT_SELECT, CHANNEL_ACCOUNTS_SELECT, DAY_COUNTS_SQL};
    vec![
        (
            "population (accounts of the session)",
            format!("{ACCOUNT_SELECT} WHERE sa.session_id = {session_id}"),
        ),
        (
            "creation days",
            DAY_COUNTS_SQL.replace('?', &session_id.to_string()),
        ),
        (
            "captures of the session",
            format!(
                "SELECT COUNT(*) FROM captures WHERE session_id = {session_id} AND status = 'done'"
            ),
        ),
        (
            "channel filter",
            format!("{CHANNEL_ACCOUNTS_SELECT}{session_id} AND sc.broadcaster_id IN ('100')"),
        ),
    ]
}

/// "table: type via key (rows)" per line of the plan.
async fn explain(pool: &MySqlPool, sql: &str) -> anyhow::Result<String> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let cell = |name: &str| -> String {
            let Some(i) = row.columns().iter().position(|c| c.name() == name) else {
                return String::new();
            };
            row.try_get::<Option<String>, _>(i)
                .ok()
                .flatten()
                .or_else(|| {
                    row.try_get::<Option<i64>, _>(i)
                        .ok()
                        .flatten()
                        .map(|n| n.to_string())
                })
                .or_else(|| {
                    row.try_get::<Option<u64>, _>(i)
                        .ok()
                        .flatten()
                        .map(|n| n.to_string())
                })
                .or_else(|| {
                    row.try_get::<Option<Vec<u8>>, _>(i)
                        .ok()
                        .flatten()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                })
                .unwrap_or_else(|| "—".into())
        };
        out.push(format!(
            "{}: {} via {} (~{} rows) {}",
            cell("table"),
            cell("type"),
            cell("key"),
            cell("rows"),
            cell("Extra")
        ));
    }
    Ok(out.join("\n"))
}
