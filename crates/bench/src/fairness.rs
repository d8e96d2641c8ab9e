//! Fairness between moderators (issue 18): moderator B captures a small channel ten times, on
//! an idle deployment and then while moderator A keeps asking for captures of six
//! 5,000-chatter channels — as many as the product lets them (one unfinished per channel,
//! `CAPTURES_PER_USER` in all). B's median capture time under A's burst should stay within
//! twice its idle time. Everything goes through the gateway, as browsers would.

use std::time::Duration;

use sqlx::MySqlPool;
use tca_stack::eval::Browser;

use crate::database::BenchDatabase;
use crate::deployment::{CLIENT_ID, CLIENT_SECRET, Deployment, Tuning};
use crate::measure::percentile;
use crate::{Args, Figure, millis};

const BIG: usize = 6;
const ROUNDS: usize = 10;

fn scenario(redirect_uri: &str) -> String {
    let mut text = format!(
        r#"
seed = 3
[app]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ["{redirect_uri}"]
[[users]]
login = "busy_mod"
id = "700000001"
[[users]]
login = "small_mod"
id = "700000002"
[[channels]]
login = "small"
id = "800000100"
moderators = ["small_mod"]
live = true
[channels.audience]
humans = 20
"#
    );
    for n in 0..BIG {
        text.push_str(&format!(
            "[[channels]]\nlogin = \"big_{n}\"\nid = \"80000000{n}\"\nmoderators = [\"busy_mod\"]\nlive = true\n[channels.audience]\nhumans = 5000\n"
        ));
    }
    text
}

/// B's capture of the small channel, queued to done, `ROUNDS` times one after the other.
async fn b_captures(b: &Browser, pool: &MySqlPool) -> anyhow::Result<Vec<Duration>> {
    let mut took = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let (session, capture) = b.capture_now("800000100").await?;
        b.wait_capture(&session, capture, Duration::from_secs(120))
            .await?;
        let micros: i64 = sqlx::query_scalar(
            "SELECT TIMESTAMPDIFF(MICROSECOND, queued_at, finished_at) FROM captures WHERE id = ?",
        )
        .bind(capture)
        .fetch_one(pool)
        .await?;
        took.push(Duration::from_micros(micros.max(0) as u64));
    }
    took.sort();
    Ok(took)
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
            ..Tuning::default()
        },
    )
    .await?;
    let gateway = deployment.gateway.url("");
    let a = Browser::new(&gateway)?;
    a.login("busy_mod").await?;
    let b = Browser::new(&gateway)?;
    b.login("small_mod").await?;

    let idle = b_captures(&b, &pool).await?;

    // A asks for captures of every big channel, again and again, for as long as B measures.
    let stop = tokio_util::sync::CancellationToken::new();
    let burst = {
        let stop = stop.clone();
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let a = Browser::new(&gateway)?;
            a.login("busy_mod").await?;
            let mut asked = 0u32;
            while !stop.is_cancelled() {
                for n in 0..BIG {
                    // Refused beyond the product's limits (an error here): that is the point.
                    if a.capture_now(&format!("80000000{n}")).await.is_ok() {
                        asked += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::Ok(asked)
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = b_captures(&b, &pool).await?;
    stop.cancel();
    let asked = burst.await??;
    let a_captures: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM captures WHERE broadcaster_login LIKE 'big_%'")
            .fetch_one(&pool)
            .await?;
    let _ = a;
    deployment.stop().await?;
    database.finish(false).await?;

    let (idle_median, busy_median) = (percentile(&idle, 0.5), percentile(&busy, 0.5));
    let ratio = busy_median.as_secs_f64() / idle_median.as_secs_f64().max(1e-9);
    Ok(vec![
        Figure {
            id: "F1",
            what: format!(
                "B's capture of a 20-chatter channel, idle deployment ({ROUNDS} captures, 1 worker)"
            ),
            value: format!(
                "median {}, max {}",
                millis(idle_median),
                millis(idle[idle.len() - 1])
            ),
            target: "baseline",
            baseline: None,
        },
        Figure {
            id: "F1",
            what: format!(
                "same, while A asks for captures of {BIG} 5,000-chatter channels every 100 ms ({asked} answered, {a_captures} queued by the product)"
            ),
            value: format!(
                "median {}, max {} ({ratio:.2} × idle)",
                millis(busy_median),
                millis(busy[busy.len() - 1])
            ),
            target: "median ≤ 2 × idle",
            baseline: Some(format!("{ratio:.2} × the idle median")),
        },
    ])
}
