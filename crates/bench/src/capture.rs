//! The capture scenario: B3 — a 100,000-chatter channel captured through the real pipeline
//! (twitch-fake → twitch-api → worker → MariaDB, each its own process, as deployed) with the
//! fake answering at once, then (B3b) with 150 ms per Helix page, against the floor of 100
//! sequential page fetches and to the same pages fetched by a bare HTTP client in the same run.
//! Baseline: the same rows written by one plain multi-row INSERT.
//! B4 follows B3: the capture's 100,000 accounts are unknown, and the worker enriches them
//! through Get Users under Twitch's 800-points-a-minute token bucket — the app's, and the
//! capturing moderator's beyond the quarter kept for them; it must get no 429 and take at most
//! 1.1 × what the app's bucket alone allows (800 at once, then 13.3 a second). B3 scale: the
//! same 100,000 chatters in four channels captured at once by 1, 2 and 4 worker processes.
//! Memory: each process's peak RSS during the capture.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::MySqlPool;
use tca_common::db::captures::CaptureStatus;

use crate::database::BenchDatabase;
use crate::deployment::{CLIENT_ID, CLIENT_SECRET, Deployment, PeakRssOf, Tuning};
use crate::{Args, Figure};

const CHATTERS: u64 = 100_000;
/// Helix answers at most 1,000 chatters a page.
const PAGES: u64 = CHATTERS / 1_000;
/// Twitch's bucket: points a minute for the app token that enrichment uses.
const BUCKET: u64 = 800;

/// The world's clock, the app, the bucket and the moderator every capture scenario shares.
fn scenario_head(seed: u64, redirect_uri: &str) -> String {
    format!(
        r#"
seed = {seed}
now = "2026-01-01T00:00:00Z"
[app]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ["{redirect_uri}"]
[rate_limit]
points_per_minute = {BUCKET}
[[users]]
login = "bench_mod"
id = "538211094"
"#
    )
}

fn scenario(latency_ms: u64, redirect_uri: &str) -> String {
    scenario_head(7, redirect_uri)
        + &format!(
            r#"
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
        )
}

pub async fn run(args: &Args) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let fast = capture_once(0, true).await?;
    figures.push(Figure {
        id: "B3",
        what: format!(
            "{}-chatter capture ingested, fake at 0 ms (queued → done)",
            fast.rows
        ),
        value: format!(
            "{:.2} s ({:.0} chatters/s){}",
            fast.took.as_secs_f64(),
            fast.rows as f64 / fast.took.as_secs_f64(),
            phases(&fast),
        ),
        target: "≤ 2 s (≥ 50k chatters/s)",
        baseline: None,
    });
    figures.push(Figure {
        id: "M",
        what: "peak RSS per process during B3".into(),
        value: fast.peaks.clone(),
        target: "—",
        baseline: None,
    });
    let slow = capture_once(150, false).await?;
    let floor = Duration::from_millis(150 * PAGES);
    let fetched = slow
        .bare_fetch
        .context("the slow capture measures the bare fetch")?;
    figures.push(Figure {
        id: "B3b",
        what: format!("same capture, 150 ms per Helix page ({PAGES} pages)"),
        value: format!("{:.2} s{}", slow.took.as_secs_f64(), phases(&slow)),
        target: "≤ 1.05 ×",
        baseline: Some(format!(
            "{:.3} × the {:.0} s of sequential page fetches; {:.3} × the same pages fetched one \
             after another by a bare HTTP client in this run ({:.2} s)",
            slow.took.as_secs_f64() / floor.as_secs_f64(),
            floor.as_secs_f64(),
            slow.took.as_secs_f64() / fetched.as_secs_f64(),
            fetched.as_secs_f64()
        )),
    });
    let raw = raw_insert(fast.rows).await?;
    figures.push(Figure {
        id: "B3 base",
        what: format!(
            "{} (capture, account) rows by plain multi-row INSERTs",
            fast.rows
        ),
        value: format!(
            "{:.2} s ({:.0} rows/s)",
            raw.as_secs_f64(),
            fast.rows as f64 / raw.as_secs_f64(),
        ),
        target: "baseline",
        baseline: None,
    });
    if let Some(row) = figures.iter_mut().find(|f| f.id == "B3") {
        row.baseline = Some(format!(
            "{:.1} × the plain INSERTs",
            fast.took.as_secs_f64() / raw.as_secs_f64()
        ));
    }
    if let Some(enrichment) = fast.enrichment {
        figures.push(enrichment);
    }
    // B3 scale: the same 100,000 chatters in SCALE_CHANNELS channels captured at once, by 1, 2
    // and 4 worker processes (as `docker compose --scale worker=N` runs them).
    let mut first = None;
    for processes in [1usize, 2, 4] {
        let scaled = captures_at_once(processes).await?;
        let rate = scaled.rows as f64 / scaled.took.as_secs_f64();
        let base = *first.get_or_insert(rate);
        figures.push(Figure {
            id: "B3 scale",
            what: format!(
                "{SCALE_CHANNELS} captures of {} chatters at once ({} rows), {processes} worker process(es)",
                CHATTERS / SCALE_CHANNELS,
                scaled.rows
            ),
            value: format!(
                "{:.2} s ({rate:.0} chatters/s); peak RSS {}",
                scaled.took.as_secs_f64(),
                scaled.peaks
            ),
            target: "grows until the database is the limit",
            baseline: Some(format!("{:.2} × one process", rate / base.max(f64::MIN_POSITIVE))),
        });
    }
    let _ = args;
    Ok(figures)
}

/// Where a capture's time went, from its row: the wait for a worker, then the run.
fn phases(captured: &Captured) -> String {
    captured
        .phases
        .map_or_else(String::new, |(to_start, to_done)| {
            format!(
                "; queued → started {:.0} ms, started → done {:.2} s",
                to_start.as_secs_f64() * 1000.0,
                to_done.as_secs_f64()
            )
        })
}

/// Channels of B3's scaling row: one capture each, all queued at once.
const SCALE_CHANNELS: u64 = 4;

fn scale_scenario(redirect_uri: &str) -> String {
    let mut text = scenario_head(11, redirect_uri);
    for c in 0..SCALE_CHANNELS {
        text.push_str(&format!(
            r#"
[[channels]]
login = "channel{c}"
id = "90000001{c}"
moderators = ["bench_mod"]
live = true
viewer_count = 50000
[channels.audience]
humans = {humans}
"#,
            humans = CHATTERS / SCALE_CHANNELS - 2
        ));
    }
    text
}

/// B3's scaling row: SCALE_CHANNELS captures queued together on a fresh database and
/// deployment with `processes` workers; from queued to the last one done.
async fn captures_at_once(processes: usize) -> anyhow::Result<Captured> {
    let database = BenchDatabase::fresh(8).await?;
    let pool = database.pool.clone();
    let deployment = Deployment::start(
        &pool,
        &database.url,
        scale_scenario,
        Tuning {
            workers: processes,
            ..Tuning::default()
        },
    )
    .await?;
    let driver = &deployment.driver;
    let user = driver.login("bench_mod").await?;
    let mut channels = Vec::new();
    for c in 0..SCALE_CHANNELS {
        let (_, channel) = driver
            .session_with_channel(user, &format!("channel{c}"))
            .await?;
        channels.push(channel);
    }
    let sampler = PeakRssOf::start(deployment.processes());
    let started = Instant::now();
    let mut captures = Vec::new();
    for channel in channels {
        captures.push(driver.capture(channel, user).await?);
    }
    for &capture in &captures {
        match driver
            .wait_capture(capture, Duration::from_secs(600))
            .await?
        {
            (tca_common::db::captures::CaptureStatus::Done, _) => {}
            (status, error) => bail!("capture {capture} ended {status:?}: {error:?}"),
        }
    }
    let took = started.elapsed();
    let peaks = sampler.stop().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters")
        .fetch_one(&pool)
        .await?;
    deployment.stop().await?;
    database.finish(false).await?;
    Ok(Captured {
        took,
        rows: rows as u64,
        phases: None,
        peaks,
        enrichment: None,
        bare_fetch: None,
    })
}

struct Captured {
    took: Duration,
    rows: u64,
    /// From the capture's own row: queued → claimed and started, and started → done.
    phases: Option<(Duration, Duration)>,
    /// Each process's peak RSS during the capture.
    peaks: String,
    /// B4, when asked for.
    enrichment: Option<Figure>,
    /// B3b's measured floor, for a capture with Helix latency.
    bare_fetch: Option<Duration>,
}

/// One capture on a fresh database and a fresh deployment; with `enrich`, then waits for
/// the worker to enrich every captured account and reports B4.
async fn capture_once(latency_ms: u64, enrich: bool) -> anyhow::Result<Captured> {
    let database = BenchDatabase::fresh(8).await?;
    let pool = database.pool.clone();
    let deployment = Deployment::start(
        &pool,
        &database.url,
        |redirect| scenario(latency_ms, redirect),
        Tuning {
            workers: 1,
            ..Tuning::default()
        },
    )
    .await?;
    let driver = &deployment.driver;
    let user = driver.login("bench_mod").await?;
    // The moderator's session with the channel, as the channels page leaves it.
    driver.session_with_channel(user, "bigchannel").await?;
    let browser = deployment.browser_of(user).await?;
    let sampler = PeakRssOf::start(deployment.processes());
    let started = Instant::now();
    // Through the gateway's "Capture now", as a moderator does it: it queues the capture and
    // wakes the worker.
    let capture = browser.capture_now("900000001").await?;
    let (status, error) = driver
        .wait_capture(capture, Duration::from_secs(600))
        .await?;
    if status != CaptureStatus::Done {
        bail!("the capture ended {status:?}: {error:?}");
    }
    let took = started.elapsed();
    let peaks = sampler.stop().await;
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters WHERE capture_id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await?;
    if rows as u64 != CHATTERS {
        bail!("{rows} rows stored, {CHATTERS} chatters listed");
    }
    let (to_start, to_done): (i64, i64) = sqlx::query_as(
        "SELECT TIMESTAMPDIFF(MICROSECOND, queued_at, started_at), \
         TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) FROM captures WHERE id = ?",
    )
    .bind(capture)
    .fetch_one(&pool)
    .await?;
    let micros = |m: i64| Duration::from_micros(m.max(0) as u64);
    let enrichment = if enrich {
        Some(enrichment(&deployment, &pool).await?)
    } else {
        None
    };
    let bare_fetch = if latency_ms > 0 {
        Some(bare_fetch(&deployment).await?)
    } else {
        None
    };
    deployment.stop().await?;
    database.finish(false).await?;
    Ok(Captured {
        took,
        rows: rows as u64,
        phases: Some((micros(to_start), micros(to_done))),
        peaks,
        enrichment,
        bare_fetch,
    })
}

/// B3b's measured floor: the channel's pages fetched one after another, straight from
/// twitch-fake by a plain HTTP client with the moderator's token, doing nothing with them —
/// what the fake's own answer time and HTTP cost on top of the nominal 150 ms a page.
async fn bare_fetch(deployment: &Deployment) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let tokens: serde_json::Value = http
        .post(deployment.fake.url("/_fake/tokens"))
        .json(&serde_json::json!({
            "login": "bench_mod",
            "scopes": ["moderator:read:chatters"],
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = tokens["access_token"]
        .as_str()
        .context("twitch-fake minted no access token")?;
    let started = Instant::now();
    let (mut cursor, mut chatters) = (None::<String>, 0u64);
    for _ in 0..PAGES {
        let mut query = vec![
            ("broadcaster_id", "900000001"),
            ("moderator_id", "538211094"),
            ("first", "1000"),
        ];
        if let Some(after) = &cursor {
            query.push(("after", after));
        }
        let page: serde_json::Value = http
            .get(deployment.fake.url("/helix/chat/chatters"))
            .query(&query)
            .bearer_auth(token)
            .header("Client-Id", CLIENT_ID)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        chatters += page["data"].as_array().map_or(0, |d| d.len() as u64);
        cursor = page["pagination"]["cursor"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string);
    }
    let took = started.elapsed();
    if chatters != CHATTERS {
        bail!("the bare fetch read {chatters} chatters, {CHATTERS} expected");
    }
    Ok(took)
}

/// B4: waits until no account is left unenriched (the capture's commit queued the job), then
/// reads twitch-fake's own counts: 429s answered, and the most calls the app bucket admitted
/// in any one-minute window.
async fn enrichment(deployment: &Deployment, pool: &MySqlPool) -> anyhow::Result<Figure> {
    let started = Instant::now();
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM twitch_accounts WHERE enriched_at IS NULL")
                .fetch_one(pool)
                .await?;
        if left == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("{left} accounts still not enriched after 15 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The job started when the capture committed, so it ran for about this long.
    let took = started.elapsed();
    let stats = deployment.fake_stats().await?;
    let too_many = stats["by_status"]["429"].as_u64().unwrap_or(0);
    let users_calls = stats["by_endpoint"]["users"].as_u64().unwrap_or(0);
    let max_window = stats["max_calls_per_window"]["app"]
        .as_u64()
        .context("twitch-fake saw no app-token calls")?;
    let on_moderator = stats["max_calls_per_window"]["538211094"]
        .as_u64()
        .unwrap_or(0);
    // Twitch's bucket is a token bucket: full at the start and refilled continuously. The
    // app's alone admits its size at once and the rest at its refill rate: the floor.
    let calls = CHATTERS / 100;
    let floor = calls.saturating_sub(BUCKET) as f64 * 60.0 / BUCKET as f64;
    Ok(Figure {
        id: "B4",
        what: format!("enrichment of {CHATTERS} unknown accounts under {BUCKET}/min buckets"),
        value: format!(
            "{:.1} s ({:.2} × the floor), {users_calls} Get Users calls; 429 answers: \
             {too_many}; busiest minute: {max_window} on the app's bucket, {on_moderator} on \
             the moderator's",
            took.as_secs_f64(),
            took.as_secs_f64() / floor.max(0.001),
        ),
        target: "0 × 429, ≤ 1.1 × the floor",
        baseline: Some(format!(
            "floor {floor:.0} s: {calls} calls on the app's bucket alone, {BUCKET} at once, then \
             {:.1} a second",
            BUCKET as f64 / 60.0
        )),
    })
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
