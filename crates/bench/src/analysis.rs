//! The analysis scenario: B5 (summary and top-days latency on a session of 1M capture rows /
//! 200k accounts at 1 and 8 concurrent clients, against the original's COUNT DISTINCT query
//! shape, with EXPLAIN of the queries behind it), E1 (an accounts export of 1M rows streams with
//! flat memory: the analysis process's peak RSS growth for 1M rows against a tenth of that),
//! and B6 (the gateway under 64 connections, see `gateway`) on the same seeded session.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use sqlx::{Column, MySql, MySqlPool, QueryBuilder, Row};

use crate::database::BenchDatabase;
use crate::deployment::{CLIENT_ID, CLIENT_SECRET, Deployment, INTERNAL_TOKEN as TOKEN, Tuning};
use crate::measure::{PeakRss, percentile, rss};
use crate::{Args, Figure, gateway, millis, seed};

pub async fn run(args: &Args) -> anyhow::Result<Vec<Figure>> {
    let database = BenchDatabase::fresh(12).await?;
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

    let deployment = Deployment::start(&pool, &url, quiet_scenario, Tuning::default()).await?;
    let pid = deployment.analysis.pid();
    let http = reqwest::Client::new();
    let base = deployment.analysis.url("/v1/sessions");
    let mut figures = Vec::new();

    // E1 first, while the process holds no cached population.
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
            baseline: None,
        });
    }

    // B5: cold (loads and scores the population), then warm at 1 and 8 clients.
    let session_id = summary_session.session_id;
    let summary = format!("{base}/{session_id}/summary");
    let before = rss(pid);
    let peak = PeakRss::start(pid, Duration::from_millis(20));
    let cold = timed(&http, &summary).await?;
    let peak = peak.stop().await;
    figures.push(Figure {
        id: "B5",
        what: format!(
            "summary, cold (loads, finds cohorts, scores {} accounts; {} capture rows)",
            summary_session.accounts, summary_session.capture_rows
        ),
        value: millis(cold),
        target: "well under 1 s",
        baseline: None,
    });
    // The analysis logs each load's parts: the rows fetched, then the cohorts found.
    let loaded = deployment
        .analysis
        .last_logged("population loaded", &[("session_id", session_id.into())])?
        .context("the analysis logged no population load")?;
    let part = |name: &str| loaded[name].as_u64().unwrap_or(0);
    let cohorts: serde_json::Value = http
        .get(format!("{base}/{session_id}/cohorts"))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let listed = cohorts["cohorts"].as_array().map_or(0, Vec::len);
    let bots = cohorts["cohorts"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["kind"] == "bot").count());
    figures.push(Figure {
        id: "B9",
        what: format!(
            "cohort detection, cold, of the same {} accounts ({listed} cohorts found, {bots} of them bots; \
             inside the load above)",
            summary_session.accounts
        ),
        value: format!(
            "{} ms (rows fetched in {} ms, everything in {} ms); analysis peak RSS {:.0} MiB",
            part("cohorts_ms"),
            part("fetch_ms"),
            part("total_ms"),
            peak as f64 / 1048576.0
        ),
        target: "≤ 2 s",
        baseline: None,
    });
    figures.push(Figure {
        id: "M",
        what: "analysis RSS, cold load of that population (cached afterwards)".into(),
        value: format!(
            "{:.0} MiB before, peak {:.0} MiB during, {:.0} MiB after",
            before as f64 / 1048576.0,
            peak as f64 / 1048576.0,
            rss(pid) as f64 / 1048576.0
        ),
        target: "reported",
        baseline: None,
    });
    // The original's shapes: every request counts distinct accounts over the capture rows.
    let original_summary = format!(
        "SELECT COUNT(DISTINCT a.id) FROM capture_chatters cc JOIN captures c ON c.id = cc.capture_id \
         JOIN twitch_accounts a ON a.id = cc.account_id WHERE c.session_id = {session_id}"
    );
    let original_top_days = format!(
        "SELECT DATE(a.twitch_created_at) AS day, COUNT(DISTINCT a.id) AS n FROM capture_chatters cc \
         JOIN captures c ON c.id = cc.capture_id JOIN twitch_accounts a ON a.id = cc.account_id \
         WHERE c.session_id = {session_id} GROUP BY day ORDER BY n DESC LIMIT 10"
    );
    for (label, url, original) in [
        ("summary", summary.clone(), original_summary),
        (
            "top days",
            format!("{base}/{session_id}/top-days"),
            original_top_days,
        ),
    ] {
        for clients in [1, 8] {
            let ours = load(clients, args.requests, || timed(&http, &url)).await?;
            let theirs = load(clients, clients * 3, || timed_sql(&pool, &original)).await?;
            figures.push(Figure {
                id: "B5",
                what: format!(
                    "{label}, warm, {clients} client(s), {} requests",
                    args.requests
                ),
                value: ours.describe(),
                target: "p99 ≤ 250 ms (stretch 20 ms)",
                baseline: Some(format!(
                    "p50 {:.0}× faster than the original's COUNT DISTINCT query ({})",
                    theirs.p50().as_secs_f64() / ours.p50().as_secs_f64().max(1e-9),
                    theirs.describe()
                )),
            });
        }
    }
    for (label, url) in [
        (
            "summary, one channel",
            format!("{summary}?broadcaster_id=100"),
        ),
        (
            "summary, created in a date range",
            format!("{summary}?from=2020-01-01&to=2022-12-31"),
        ),
        ("cohorts, warm", format!("{base}/{session_id}/cohorts")),
    ] {
        let ours = load(1, args.requests, || timed(&http, &url)).await?;
        figures.push(Figure {
            id: "B5",
            what: format!("{label}, 1 client, {} requests", args.requests),
            value: ours.describe(),
            target: "p99 ≤ 250 ms (stretch 20 ms)",
            baseline: None,
        });
    }

    for (label, query) in explained(session_id) {
        let plan = explain(&pool, query).await?;
        eprintln!("EXPLAIN {label}:\n{plan}");
        figures.push(Figure {
            id: "B5",
            what: format!("EXPLAIN {label}"),
            value: plan.replace('\n', "<br>"),
            target: "indexes, no full scan of capture rows",
            baseline: None,
        });
    }

    figures.extend(gateway::run(&deployment, &pool, session_id).await?);
    deployment.stop().await?;
    database.finish(args.keep).await?;
    figures.insert(
        0,
        Figure {
            id: "—",
            what: "seeding (not a target)".into(),
            value: format!("{:.1} s", seeded_in.as_secs_f64()),
            target: "",
            baseline: None,
        },
    );
    Ok(figures)
}

/// A world with nobody in it: these scenarios read seeded data, not Twitch.
fn quiet_scenario(redirect_uri: &str) -> String {
    format!(
        "[app]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\nredirect_uris = [\"{redirect_uri}\"]\n"
    )
}

/// Latencies of `requests` calls of `call`, made by `clients` concurrent callers.
async fn load<F, Fut>(clients: usize, requests: usize, call: F) -> anyhow::Result<Latencies>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Duration>>,
{
    let started = Instant::now();
    let per_client = requests.div_ceil(clients);
    let mut samples: Vec<Duration> = futures::future::try_join_all((0..clients).map(|_| async {
        let mut mine = Vec::with_capacity(per_client);
        for _ in 0..per_client {
            mine.push(call().await?);
        }
        Ok::<_, anyhow::Error>(mine)
    }))
    .await?
    .into_iter()
    .flatten()
    .collect();
    samples.sort();
    Ok(Latencies {
        per_second: samples.len() as f64 / started.elapsed().as_secs_f64(),
        samples,
    })
}

struct Latencies {
    samples: Vec<Duration>,
    per_second: f64,
}

impl Latencies {
    fn p50(&self) -> Duration {
        percentile(&self.samples, 0.50)
    }

    fn describe(&self) -> String {
        format!(
            "p50 {}, p99 {}, {:.0} req/s",
            millis(self.p50()),
            millis(percentile(&self.samples, 0.99)),
            self.per_second
        )
    }
}

async fn timed_sql(pool: &MySqlPool, sql: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(pool)
        .await?;
    Ok(started.elapsed())
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

/// The queries a summary runs, with the session id filled in, each prefixed with `EXPLAIN`.
fn explained(session_id: u64) -> Vec<(&'static str, QueryBuilder<MySql>)> {
    use tca_analysis::db::{ACCOUNT_SELECT, push_channel_accounts};
    let mut channel_filter = QueryBuilder::new("EXPLAIN ");
    push_channel_accounts(
        &mut channel_filter,
        session_id,
        &[tca_common::twitch_id::TwitchId::parse("100").expect("an id")],
    );
    vec![
        (
            "population (accounts of the session)",
            QueryBuilder::new(format!(
                "EXPLAIN {ACCOUNT_SELECT} WHERE sa.session_id = {session_id}"
            )),
        ),
        (
            "captures of the session",
            QueryBuilder::new(format!(
                "EXPLAIN SELECT COUNT(*) FROM captures WHERE session_id = {session_id} AND status = 'done'"
            )),
        ),
        ("channel filter", channel_filter),
    ]
}

/// "table: type via key (rows)" per line of the plan.
async fn explain(pool: &MySqlPool, mut query: QueryBuilder<MySql>) -> anyhow::Result<String> {
    let rows = query.build().fetch_all(pool).await?;
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
