//! EventSub drives captures (docs/live.md): turning auto-capture on subscribes the channel at
//! Twitch (through the reconciler, verified through the gateway's public callback); going
//! offline takes one last capture and stops the schedule; going live captures within seconds
//! and starts it again; a raid captures; a user disconnecting the app is logged out at once.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_gateway::WATCHED_ID;
use crate::stack_web::{Web, location};
use crate::stack_worlds::world;

async fn subscriptions(stack: &Stack) -> Vec<Value> {
    let all: Value = reqwest::get(stack.fake.url("/_fake/eventsub"))
        .await
        .expect("subscriptions")
        .json()
        .await
        .expect("json");
    all["subscriptions"].as_array().cloned().unwrap_or_default()
}

async fn captures(pool: &MySqlPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM captures WHERE status = 'done'")
        .fetch_one(pool)
        .await
        .expect("captures")
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "{what} within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn stream_events_drive_captures_and_a_revocation_logs_the_user_out(pool: MySqlPool) {
    let options = Options {
        eventsub_secret: Some("stack-eventsub-secret-0123456789".into()),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 20\nlurkers = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let response = web
        .post(
            &format!("/channels/{WATCHED_ID}/auto-capture"),
            &[
                ("csrf", csrf.as_str()),
                ("enabled", "on"),
                ("interval", "60"),
                ("only_live", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The reconciler subscribes: the app's revocations, and the channel's three types, all
    // verified through the gateway's callback.
    wait_until(
        "four enabled subscriptions",
        Duration::from_secs(20),
        || async {
            let subs = subscriptions(&stack).await;
            subs.len() == 4 && subs.iter().all(|s| s["status"] == "enabled")
        },
    )
    .await;
    let mut kinds: Vec<String> = subscriptions(&stack)
        .await
        .iter()
        .map(|s| s["type"].as_str().unwrap_or("").to_string())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "channel.raid",
            "stream.offline",
            "stream.online",
            "user.authorization.revoke"
        ]
    );
    assert!(
        subscriptions(&stack).await.iter().all(
            |s| s["transport"]["callback"] == format!("{}/eventsub/callback", stack.public_url)
        )
    );

    // Offline: one last capture; the channel is known offline.
    let before = captures(&pool).await;
    stack
        .fake_post("/_fake/channels/watched/live", json!({"live": false}))
        .await
        .expect("offline");
    wait_until("the last capture", Duration::from_secs(20), || async {
        captures(&pool).await == before + 1
    })
    .await;
    let live: Option<bool> =
        sqlx::query_scalar("SELECT stream_live FROM session_channels WHERE broadcaster_id = ?")
            .bind(WATCHED_ID)
            .fetch_one(&pool)
            .await
            .expect("state");
    assert_eq!(live, Some(false));

    // Live again: a capture within seconds (not at the next 60-minute slot).
    let before = captures(&pool).await;
    stack
        .fake_post("/_fake/channels/watched/live", json!({"live": true}))
        .await
        .expect("online");
    let took = wait_until(
        "a capture after going live",
        Duration::from_secs(5),
        || async { captures(&pool).await == before + 1 },
    )
    .await;
    eprintln!("capture done {took:?} after stream.online");
    let scheduled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'auto_capture' AND status = 'queued' AND run_at > NOW(6) + INTERVAL 50 MINUTE",
    )
    .fetch_one(&pool)
    .await
    .expect("schedule");
    assert_eq!(scheduled, 1, "the schedule runs again from the next slot");

    // A raid into the channel: a capture right after it lands.
    let before = captures(&pool).await;
    stack
        .fake_post(
            "/_fake/channels/watched/raid",
            json!({"from": "pixelbrookgames", "viewers": 300}),
        )
        .await
        .expect("raid");
    wait_until(
        "a capture after the raid",
        Duration::from_secs(10),
        || async { captures(&pool).await == before + 1 },
    )
    .await;

    // The user disconnects the app on Twitch: their next request finds them logged out.
    stack
        .fake_post("/_fake/tokens/revoke-grants", json!({"login": "mossy_mod"}))
        .await
        .expect("revoke");
    wait_until("logged out", Duration::from_secs(10), || async {
        let page = web.get("/channels").await;
        page.status() == StatusCode::SEE_OTHER && location(&page).starts_with("/?notice=")
    })
    .await;
    let paused: Option<String> = sqlx::query_scalar(
        "SELECT auto_capture_stopped_reason FROM session_channels WHERE broadcaster_id = ?",
    )
    .bind(WATCHED_ID)
    .fetch_one(&pool)
    .await
    .expect("paused");
    assert_eq!(paused.as_deref(), Some("auto-stop-reauth"));
}
