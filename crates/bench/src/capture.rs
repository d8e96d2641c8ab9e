//! The capture scenario: B3 — a 100,000-chatter channel captured through the real pipeline
//! (twitch-fake → twitch-api → worker → MariaDB, in one process via tca-stack) with the fake
//! answering at once, then (B3b) with 150 ms per Helix page, against the floor of 100 sequential
//! page fetches. Baseline: the same rows written by one plain multi-row INSERT. Memory: the
//! peak RSS of the process holding the whole stack.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};
use tca_twitch_fake::Scenario;

use crate::database::BenchDatabase;
use crate::measure::PeakRss;
use crate::{Args, Figure};

const CHATTERS: u64 = 100_000;
/// Helix answers at most 1,000 chatters a page.
const PAGES: u64 = CHATTERS / 1_000;

fn scenario(latency_ms: u64) -> anyhow::Result<Scenario> {
    Scenario::parse(&format!(
        r#"
seed = 7
now = "2026-01-01T00:00:00Z"
[app]
client_id = "bench-client"
client_secret = "bench-secret"
redirect_uris = ["http://localhost:8080/auth/callback"]
[[users]]
login = "bench_mod"
id = "538211094"
[[channels]]
login = "bigchannel"
id = "900000001"
moderators = ["bench_mod"]
live = true
viewer_count = 150000
[channels.audience]
humans = {humans}
[faults]
latency_ms = {latency_ms}
"#,
        humans = CHATTERS - 2
    ))
    .map_err(|e| anyhow::anyhow!("bench scenario: {e}"))
}

pub async fn run(args: &Args) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let (took, rows, peak) = capture_once(0).await?;
    figures.push(Figure {
        id: "B3",
        what: format!("{rows}-chatter capture ingested, fake at 0 ms (queued → done)"),
        value: format!(
            "{:.2} s ({:.0} chatters/s); process peak RSS {:.0} MiB",
            took.as_secs_f64(),
            rows as f64 / took.as_secs_f64(),
            peak as f64 / 1048576.0
        ),
        target: "≤ 2 s (≥ 50k chatters/s)",
    });
    let (slow, _, _) = capture_once(150).await?;
    let floor = Duration::from_millis(150 * PAGES);
    figures.push(Figure {
        id: "B3b",
        what: format!("same capture, 150 ms per Helix page ({PAGES} pages)"),
        value: format!(
            "{:.2} s = {:.3} × the {:.0} s of sequential page fetches",
            slow.as_secs_f64(),
            slow.as_secs_f64() / floor.as_secs_f64(),
            floor.as_secs_f64()
        ),
        target: "≤ 1.05 ×",
    });
    let raw = raw_insert(rows).await?;
    figures.push(Figure {
        id: "B3 base",
        what: format!("{rows} (capture, account) rows by plain multi-row INSERTs"),
        value: format!(
            "{:.2} s ({:.0} rows/s); the pipeline takes {:.1}× that",
            raw.as_secs_f64(),
            rows as f64 / raw.as_secs_f64(),
            took.as_secs_f64() / raw.as_secs_f64()
        ),
        target: "baseline",
    });
    let _ = args;
    Ok(figures)
}

/// One capture on a fresh database: (queued → done, rows, peak RSS of this process).
async fn capture_once(latency_ms: u64) -> anyhow::Result<(Duration, u64, u64)> {
    let database = BenchDatabase::fresh(8).await?;
    let pool = database.pool.clone();
    let stack = Stack::start(pool.clone(), scenario(latency_ms)?, Options::default()).await?;
    let user = stack.login("bench_mod").await?;
    let (_, channel) = stack.session_with_channel(user, "bigchannel").await?;
    let sampler = PeakRss::start(std::process::id(), Duration::from_millis(20));
    let started = Instant::now();
    let capture = stack
        .capture_done(channel, user, Duration::from_secs(600))
        .await?;
    let took = started.elapsed();
    let peak = sampler.stop().await;
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters WHERE capture_id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await?;
    if rows as u64 != CHATTERS {
        bail!("{rows} rows stored, {CHATTERS} chatters listed");
    }
    drop(stack);
    database.finish(false).await?;
    Ok((took, rows as u64, peak))
}

/// The same number of rows as a capture stores, written the plainest way.
async fn raw_insert(rows: u64) -> anyhow::Result<Duration> {
    let database = BenchDatabase::fresh(2).await?;
    let pool: MySqlPool = database.pool.clone();
    sqlx::query(
        "CREATE TABLE raw_rows (capture_id BIGINT UNSIGNED NOT NULL, account_id BIGINT UNSIGNED NOT NULL, \
         PRIMARY KEY (capture_id, account_id)) ENGINE=InnoDB",
    )
    .execute(&pool)
    .await
    .context("raw table")?;
    let started = Instant::now();
    let ids: Vec<u64> = (1..=rows).collect();
    for chunk in ids.chunks(5_000) {
        let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO raw_rows (capture_id, account_id) ",
        );
        q.push_values(chunk, |mut row, id| {
            row.push_bind(1u64).push_bind(*id);
        });
        q.build().execute(&pool).await?;
    }
    let took = started.elapsed();
    database.finish(false).await?;
    Ok(took)
}
