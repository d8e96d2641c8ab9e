//! B10 (issue 20): a burst of 1,000 EventSub notifications in 10 s to the deployment's public
//! callback (the gateway, which forwards to twitch-api), each signed as Twitch signs, one in
//! ten sent twice (Twitch's resends). Every first delivery must be acknowledged with a p99
//! under 50 ms, and each message processed exactly once by the workers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use tca_common::eventsub as es;

use crate::database::BenchDatabase;
use crate::deployment::{CLIENT_ID, CLIENT_SECRET, Deployment, PeakRssOf, Tuning};
use crate::measure::percentile;
use crate::{Args, Figure, millis};

const SECRET: &str = "bench-eventsub-secret-0123456789";
const MESSAGES: usize = 1000;
const OVER: Duration = Duration::from_secs(10);

fn scenario(redirect_uri: &str) -> String {
    format!(
        r#"
seed = 4
[app]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ["{redirect_uri}"]
[[users]]
login = "bench_mod"
"#
    )
}

fn nanos(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// One signed `stream.online` notification (of a channel nobody captures: the workers'
/// part stays small, what is measured is the door).
async fn deliver(http: &reqwest::Client, url: &str, id: &str) -> anyhow::Result<(u16, Duration)> {
    let body = serde_json::to_vec(&json!({
        "subscription": {"id": "bench", "status": "enabled", "type": "stream.online", "version": "1",
            "condition": {"broadcaster_user_id": "99"}, "transport": {"method": "webhook", "callback": url},
            "created_at": nanos(Utc::now()), "cost": 1},
        "event": {"id": "1", "broadcaster_user_id": "99", "broadcaster_user_login": "nobody",
            "broadcaster_user_name": "nobody", "type": "live", "started_at": "2026-11-30T00:00:00Z"}
    }))?;
    let timestamp = nanos(Utc::now());
    let started = Instant::now();
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header(es::MESSAGE_ID, id)
        .header(es::MESSAGE_RETRY, "0")
        .header(es::MESSAGE_TYPE, es::NOTIFICATION)
        .header(
            es::MESSAGE_SIGNATURE,
            es::signature(SECRET, id, &timestamp, &body),
        )
        .header(es::MESSAGE_TIMESTAMP, &timestamp)
        .header(es::SUBSCRIPTION_TYPE, "stream.online")
        .header(es::SUBSCRIPTION_VERSION, "1")
        .body(body)
        .send()
        .await?;
    Ok((response.status().as_u16(), started.elapsed()))
}

pub async fn run(_args: &Args) -> anyhow::Result<Vec<Figure>> {
    let database = BenchDatabase::fresh(8).await?;
    let pool = database.pool.clone();
    let deployment = Deployment::start(
        &pool,
        &database.url,
        scenario,
        Tuning {
            workers: 1,
            worker_env: vec![("WORKER_POLL_INTERVAL", "50ms".into())],
            twitch_api_env: vec![
                ("EVENTSUB_SECRET", SECRET.into()),
                (
                    "EVENTSUB_CALLBACK_URL",
                    "https://bench.example.com/eventsub/callback".into(),
                ),
            ],
        },
    )
    .await?;
    let url = deployment.gateway.url("/eventsub/callback");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let firsts: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let refused: Arc<Mutex<u32>> = Arc::default();
    let sampler = PeakRssOf::start(deployment.processes());
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(MESSAGES);
    for n in 0..MESSAGES {
        let at = started + OVER.mul_f64(n as f64 / MESSAGES as f64);
        let (http, url, firsts, refused) =
            (http.clone(), url.clone(), firsts.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let id = format!("bench-{n}");
            let (status, took) = deliver(&http, &url, &id).await?;
            firsts.lock().expect("lock").push(took);
            let mut bad = u32::from(status != 204);
            if n % 10 == 0 {
                let (again, _) = deliver(&http, &url, &id).await?;
                bad += u32::from(again != 204);
            }
            *refused.lock().expect("lock") += bad;
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let sent_in = started.elapsed();
    // Every message processed: the queue drains.
    let drained = Instant::now();
    let (processed, queued) = loop {
        let (done, pending): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(status = 'succeeded'), 0) AS SIGNED), \
             CAST(COALESCE(SUM(status IN ('queued', 'running')), 0) AS SIGNED) FROM jobs WHERE kind = 'eventsub_event'",
        )
        .fetch_one(&pool)
        .await?;
        if pending == 0 || drained.elapsed() > Duration::from_secs(120) {
            break (done, pending);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let peaks = sampler.stop().await;
    deployment.stop().await?;
    database.finish(false).await?;

    let mut firsts = firsts.lock().expect("lock").clone();
    firsts.sort();
    let p99 = percentile(&firsts, 0.99);
    let refused = *refused.lock().expect("lock");
    Ok(vec![
        Figure {
            id: "B10",
            what: format!(
                "EventSub callback: {MESSAGES} signed notifications over {:.1} s to the gateway (forwarded to twitch-api, verified, queued), 1 in 10 sent twice",
                sent_in.as_secs_f64()
            ),
            value: format!(
                "p50 {}, p99 {}, max {}; {refused} not answered 204",
                millis(percentile(&firsts, 0.5)),
                millis(p99),
                millis(firsts.last().copied().unwrap_or_default())
            ),
            target: "p99 ≤ 50 ms",
            baseline: None,
        },
        Figure {
            id: "B10",
            what: "EventSub events processed by the workers (each message once; resends skipped)"
                .into(),
            value: format!("{processed} of {MESSAGES} ({queued} still queued)"),
            target: "1000, once each",
            baseline: None,
        },
        Figure {
            id: "M",
            what: "peak RSS per process during B10 (the burst and the drain)".into(),
            value: peaks,
            target: "—",
            baseline: None,
        },
    ])
}
