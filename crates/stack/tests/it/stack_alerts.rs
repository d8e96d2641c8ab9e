//! Alert webhooks (docs/live.md): saved sealed and shown masked, refused where they could
//! reach the operator's network, tried with a test alert that the queue retries until the
//! receiver takes it, given up on a 4xx, and only ever the owner's.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_gateway::WATCHED_ID;
use crate::stack_web::Web;
use crate::stack_worlds::world;

async fn received(stack: &Stack, key: &str) -> Vec<Value> {
    let sink = stack
        .fake_get(&format!("/_fake/webhooks/{key}"))
        .await
        .expect("sink");
    sink["received"].as_array().cloned().unwrap_or_default()
}

async fn last_status(pool: &MySqlPool, webhook_id: u64) -> Option<String> {
    sqlx::query_scalar("SELECT last_status FROM alert_webhooks WHERE id = ?")
        .bind(webhook_id)
        .fetch_one(pool)
        .await
        .expect("webhook")
}

async fn wait_for_status(pool: &MySqlPool, webhook_id: u64, want: &str) {
    let started = Instant::now();
    while last_status(pool, webhook_id).await.as_deref() != Some(want) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "webhook {webhook_id} never {want}: {:?}",
            last_status(pool, webhook_id).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn add(web: &Web, csrf: &str, kind: &str, url: &str) -> reqwest::Response {
    web.post(
        &format!("/channels/{WATCHED_ID}/alerts"),
        &[
            ("csrf", csrf),
            ("kind", kind),
            ("url", url),
            ("min_cohort", "20"),
            ("young_share_pct", "50"),
        ],
    )
    .await
}

async fn webhook_ids(pool: &MySqlPool) -> Vec<u64> {
    sqlx::query_scalar("SELECT id FROM alert_webhooks ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("ids")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_webhook_is_sealed_masked_tested_retried_and_only_its_owners(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;

    let url = stack.fake.url("/hooks/ops-room-s3cr3t-t0ken");
    assert_eq!(
        add(&web, &csrf, "json", &url).await.status(),
        StatusCode::SEE_OTHER
    );
    let id = webhook_ids(&pool).await[0];
    // Sealed at rest: the stored bytes do not hold the URL; the page shows it masked.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT url_sealed FROM alert_webhooks WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("sealed");
    assert!(
        !sealed.windows(5).any(|w| w == b"s3cr3"),
        "the URL is stored in clear"
    );
    let page = web
        .get(&format!("/channels/{WATCHED_ID}/alerts"))
        .await
        .text()
        .await
        .expect("page");
    assert!(!page.contains("s3cr3t"), "the page shows the whole URL");
    assert!(page.contains("/…0ken"), "the masked URL is shown");
    let channels = web.get("/channels").await.text().await.expect("channels");
    assert!(channels.contains(&format!("/channels/{WATCHED_ID}/alerts")));

    // The test button, with the receiver failing (a 503, then a 429 asking to wait a second):
    // retried by the queue, then delivered.
    for status in [503, 429] {
        stack
            .fake_post(
                "/_fake/webhooks/ops-room-s3cr3t-t0ken/fail",
                json!({"count": 1, "status": status}),
            )
            .await
            .expect("fail");
    }
    let tested = web
        .post(
            &format!("/channels/{WATCHED_ID}/alerts/{id}/test"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(tested.status(), StatusCode::SEE_OTHER);
    wait_for_status(&pool, id, "sent").await;
    let got = received(&stack, "ops-room-s3cr3t-t0ken").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "tca.alert.test");
    assert_eq!(got[0]["channel"], "watched");
    let attempts: u32 = sqlx::query_scalar("SELECT attempts FROM alerts WHERE webhook_id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("attempts");
    assert_eq!(attempts, 3, "two failures, then the delivery");
    let sink = stack
        .fake_get("/_fake/webhooks/ops-room-s3cr3t-t0ken")
        .await
        .expect("sink");
    assert_eq!(sink["failed"], 2);
    let page = web
        .get(&format!("/channels/{WATCHED_ID}/alerts"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains(r#"data-status="sent""#),
        "the page says it was delivered"
    );

    // A receiver answering 404 (a deleted Discord webhook): failed at once, said on the page.
    let gone = stack.fake.url("/api/webhooks/404/gone");
    assert_eq!(
        add(&web, &csrf, "discord", &gone).await.status(),
        StatusCode::SEE_OTHER
    );
    let gone_id = webhook_ids(&pool).await[1];
    stack
        .fake_post(
            "/_fake/webhooks/404/fail",
            json!({"count": 1, "status": 404}),
        )
        .await
        .expect("fail");
    web.post(
        &format!("/channels/{WATCHED_ID}/alerts/{gone_id}/test"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    wait_for_status(&pool, gone_id, "failed").await;
    let status: String = sqlx::query_scalar("SELECT status FROM alerts WHERE webhook_id = ?")
        .bind(gone_id)
        .fetch_one(&pool)
        .await
        .expect("alert");
    assert_eq!(status, "failed");

    // Bad input: each a 400 saying what was wrong, nothing saved.
    for (field, value, words) in [
        ("kind", "slack", "not a kind of webhook"),
        ("min_cohort", "1", "cohort size"),
        ("young_share_pct", "101", "share of young newcomers"),
        ("url", "ftp://example.org/x", "Only https"),
        (
            "url",
            "https://user:pw@example.org/x",
            "user name or password",
        ),
    ] {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("kind", "discord"),
            ("url", "https://example.org/hook"),
            ("min_cohort", "20"),
            ("young_share_pct", "50"),
        ];
        for f in fields.iter_mut().filter(|(k, _)| *k == field) {
            f.1 = value;
        }
        let response = web
            .post(&format!("/channels/{WATCHED_ID}/alerts"), &fields)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{field}={value}"
        );
        let body = response.text().await.expect("body");
        assert!(body.contains(words), "{field}={value}: {body}");
    }
    assert_eq!(webhook_ids(&pool).await.len(), 2);
    // Without the CSRF token: refused.
    let response = web
        .post(&format!("/channels/{WATCHED_ID}/alerts/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Someone else: not their channel, not their webhook.
    let stranger = Web::new(&stack);
    stranger.login("stranger").await;
    let their_csrf = stranger.csrf().await;
    let response = stranger
        .post(
            &format!("/channels/{WATCHED_ID}/alerts/{id}/delete"),
            &[("csrf", their_csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        stranger
            .get(&format!("/channels/{WATCHED_ID}/alerts"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(webhook_ids(&pool).await.len(), 2);

    // Up to five per channel: the sixth is a 409.
    for n in 0..3 {
        let url = stack.fake.url(&format!("/hooks/more-{n}"));
        assert_eq!(
            add(&web, &csrf, "json", &url).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let sixth = add(&web, &csrf, "json", &stack.fake.url("/hooks/sixth")).await;
    assert_eq!(sixth.status(), StatusCode::CONFLICT);
    // The owner removes one.
    let response = web
        .post(
            &format!("/channels/{WATCHED_ID}/alerts/{gone_id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(webhook_ids(&pool).await.len(), 4);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn by_default_no_webhook_may_point_into_a_private_network(pool: MySqlPool) {
    let options = Options {
        gateway: Box::new(|config| config.alerts.allow_private = false),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    for url in [
        stack.fake.url("/hooks/inside"),
        "https://127.0.0.1/hooks/x".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://10.0.0.7/hook".to_string(),
        "https://localhost/hook".to_string(),
        "https://[::1]/hook".to_string(),
    ] {
        let response = add(&web, &csrf, "discord", &url).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body = response.text().await.expect("body");
        assert!(
            body.contains("Only https") || body.contains("private, loopback or reserved"),
            "{url}: {body}"
        );
    }
    assert!(webhook_ids(&pool).await.is_empty());
}
