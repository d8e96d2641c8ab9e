//! The EventSub callback (docs/live.md): a message is verified (signature, age) or refused
//! with 403 and nothing done; a challenge is echoed as plain text; a notification is handed
//! to the queue once, however often Twitch resends it.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_common::eventsub as es;

use crate::twitch_api_support::{EVENTSUB_SECRET, INTERNAL_TOKEN, Stack, world};

fn nanos(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Posts a message as the gateway forwards it from Twitch.
async fn deliver(
    stack: &Stack,
    kind: &str,
    id: &str,
    at: chrono::DateTime<Utc>,
    body: &Value,
    secret: &str,
) -> reqwest::Response {
    let body = serde_json::to_vec(body).expect("json");
    let timestamp = nanos(at);
    stack
        .http
        .post(format!("http://{}/v1/eventsub/callback", stack.api))
        .bearer_auth(INTERNAL_TOKEN)
        .header("content-type", "application/json")
        .header(es::MESSAGE_ID, id)
        .header(es::MESSAGE_RETRY, "0")
        .header(es::MESSAGE_TYPE, kind)
        .header(
            es::MESSAGE_SIGNATURE,
            es::signature(secret, id, &timestamp, &body),
        )
        .header(es::MESSAGE_TIMESTAMP, &timestamp)
        .header(es::SUBSCRIPTION_TYPE, "stream.online")
        .header(es::SUBSCRIPTION_VERSION, "1")
        .body(body)
        .send()
        .await
        .expect("callback")
}

fn online() -> Value {
    json!({
        "subscription": {"id": "5a7c9e1b", "status": "enabled", "type": "stream.online", "version": "1",
            "condition": {"broadcaster_user_id": "771043215"}, "transport": {"method": "webhook",
            "callback": "https://mod.example.com/eventsub/callback"}, "created_at": "2025-01-18T18:55:12.447203518Z", "cost": 1},
        "event": {"id": "41877264391", "broadcaster_user_id": "771043215", "broadcaster_user_login": "pixelbrookgames",
            "broadcaster_user_name": "PixelBrookGames", "type": "live", "started_at": "2025-01-18T19:02:41Z"}
    })
}

async fn count(pool: &MySqlPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_callback_verifies_answers_challenges_and_hands_each_message_over_once(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    let now = Utc::now();

    // The challenge: echoed, plain text.
    let challenge =
        json!({"challenge": "yR7u2kQp-9dLm4xWb", "subscription": online()["subscription"]});
    let answer = deliver(
        &stack,
        es::VERIFICATION,
        "c-1",
        now,
        &challenge,
        EVENTSUB_SECRET,
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    assert_eq!(answer.text().await.expect("body"), "yR7u2kQp-9dLm4xWb");

    // Refused with 403, nothing recorded: another secret, a stale or a future timestamp.
    let forged = deliver(
        &stack,
        es::NOTIFICATION,
        "m-1",
        now,
        &online(),
        "not-the-secret-at-all",
    )
    .await;
    assert_eq!(forged.status(), 403);
    let stale = deliver(
        &stack,
        es::NOTIFICATION,
        "m-1",
        now - Duration::minutes(11),
        &online(),
        EVENTSUB_SECRET,
    )
    .await;
    assert_eq!(stale.status(), 403);
    let future = deliver(
        &stack,
        es::NOTIFICATION,
        "m-1",
        now + Duration::minutes(11),
        &online(),
        EVENTSUB_SECRET,
    )
    .await;
    assert_eq!(future.status(), 403);
    // A body changed after signing.
    let body = serde_json::to_vec(&online()).expect("json");
    let timestamp = nanos(now);
    let signature = es::signature(EVENTSUB_SECRET, "m-1", &timestamp, &body);
    let mut changed = body.clone();
    changed.push(b' ');
    let tampered = stack
        .http
        .post(format!("http://{}/v1/eventsub/callback", stack.api))
        .bearer_auth(INTERNAL_TOKEN)
        .header(es::MESSAGE_ID, "m-1")
        .header(es::MESSAGE_TYPE, es::NOTIFICATION)
        .header(es::MESSAGE_SIGNATURE, signature)
        .header(es::MESSAGE_TIMESTAMP, &timestamp)
        .body(changed)
        .send()
        .await
        .expect("tampered");
    assert_eq!(tampered.status(), 403);
    let unsigned = stack
        .http
        .post(format!("http://{}/v1/eventsub/callback", stack.api))
        .bearer_auth(INTERNAL_TOKEN)
        .body("{}")
        .send()
        .await
        .expect("unsigned");
    assert_eq!(unsigned.status(), 400);
    let outsider = stack
        .http
        .post(format!("http://{}/v1/eventsub/callback", stack.api))
        .body("{}")
        .send()
        .await
        .expect("no internal token");
    assert_eq!(outsider.status(), 401);
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM eventsub_messages").await,
        0
    );
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM jobs").await, 0);

    // A notification, then Twitch's resend of it: one job.
    for _ in 0..3 {
        let accepted = deliver(
            &stack,
            es::NOTIFICATION,
            "m-1",
            Utc::now(),
            &online(),
            EVENTSUB_SECRET,
        )
        .await;
        assert_eq!(accepted.status(), 204);
    }
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM eventsub_messages").await,
        1
    );
    let payload: String =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'eventsub_event'")
            .fetch_one(&pool)
            .await
            .expect("one job");
    let job: Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(job["message_type"], "notification");
    assert_eq!(job["subscription_type"], "stream.online");
    assert_eq!(job["event"]["broadcaster_user_login"], "pixelbrookgames");

    // A revocation is handed over too (the worker re-creates what it needs).
    let revoked = json!({"subscription": {"id": "5a7c9e1b", "status": "authorization_revoked", "type": "stream.online",
        "version": "1", "condition": {"broadcaster_user_id": "771043215"}}});
    assert_eq!(
        deliver(
            &stack,
            es::REVOCATION,
            "r-1",
            Utc::now(),
            &revoked,
            EVENTSUB_SECRET
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'eventsub_event'"
        )
        .await,
        2
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_burst_of_a_thousand_notifications_is_acknowledged_and_queued_once_each(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    let stack = &stack;
    let answers = futures::future::join_all((0..1000).map(|n| async move {
        let id = format!("burst-{n}");
        let first = deliver(
            stack,
            es::NOTIFICATION,
            &id,
            Utc::now(),
            &online(),
            EVENTSUB_SECRET,
        )
        .await;
        // Every tenth is resent.
        let again = if n % 10 == 0 {
            Some(
                deliver(
                    stack,
                    es::NOTIFICATION,
                    &id,
                    Utc::now(),
                    &online(),
                    EVENTSUB_SECRET,
                )
                .await
                .status(),
            )
        } else {
            None
        };
        (first.status(), again)
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|(s, again)| *s == 204 && again.is_none_or(|a| a == 204))
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'eventsub_event'"
        )
        .await,
        1000
    );
}
