//! EventSub over webhooks: the subscriptions API with Twitch's shapes and refusals, the
//! verification challenge, signed notifications when the world changes, retries with the
//! same message id, and revocations (reference §14).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tca_common::eventsub as es;

use crate::support::{Twitch, fixture_world, json as read_json};
use crate::twitch_fake_fixtures::{assert_same_shape, fixture};

const SECRET: &str = "a-callback-secret-for-tests";

/// One message the callback received, its signature checked.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    retry: String,
    kind: String,
    subscription_type: String,
    signed: bool,
    body: Value,
}

/// How the test callback answers notifications.
#[derive(Clone, Copy, PartialEq)]
enum Mood {
    Fine,
    Failing,
    WrongChallenge,
}

#[derive(Clone)]
struct Callback {
    received: Arc<Mutex<Vec<Received>>>,
    mood: Arc<Mutex<Mood>>,
}

async fn receive(AxumState(cb): AxumState<Callback>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, at) = (header(es::MESSAGE_ID), header(es::MESSAGE_TIMESTAMP));
    let signed = es::verify(SECRET, &id, &at, &body, &header(es::MESSAGE_SIGNATURE));
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let kind = header(es::MESSAGE_TYPE);
    cb.received.lock().expect("lock").push(Received {
        id,
        retry: header(es::MESSAGE_RETRY),
        kind: kind.clone(),
        subscription_type: header(es::SUBSCRIPTION_TYPE),
        signed,
        body: parsed.clone(),
    });
    let mood = *cb.mood.lock().expect("lock");
    if kind == es::VERIFICATION {
        let challenge = parsed["challenge"].as_str().unwrap_or("").to_string();
        if mood == Mood::WrongChallenge {
            return axum::Json(json!({ "challenge": challenge })).into_response();
        }
        return ([("content-type", "text/plain")], challenge).into_response();
    }
    if mood == Mood::Failing && kind == es::NOTIFICATION {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn callback() -> (String, Callback) {
    let cb = Callback {
        received: Arc::default(),
        mood: Arc::new(Mutex::new(Mood::Fine)),
    };
    let app = axum::Router::new()
        .route("/eventsub/callback", axum::routing::post(receive))
        .with_state(cb.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/eventsub/callback"), cb)
}

impl Callback {
    fn all(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    async fn wait_for(&self, what: &str, test: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let all = self.all();
            if test(&all) {
                return all;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{what}: {all:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn scenario(extra: &str) -> tca_twitch_fake::Scenario {
    fixture_world(&format!(
        "[eventsub]\nretries = 2\nretry_delay = \"50ms\"\nfailure_threshold = 2\n{extra}"
    ))
}

async fn subscribe(
    twitch: &Twitch,
    token: &str,
    kind: &str,
    condition: Value,
    url: &str,
) -> reqwest::Response {
    twitch
        .http
        .post(twitch.url("/helix/eventsub/subscriptions"))
        .header("Client-Id", &twitch.client_id)
        .bearer_auth(token)
        .json(&json!({
            "type": kind, "version": "1", "condition": condition,
            "transport": { "method": "webhook", "callback": url, "secret": SECRET }
        }))
        .send()
        .await
        .expect("create")
}

async fn status_of(twitch: &Twitch, id: &str) -> String {
    let all = read_json(
        twitch
            .http
            .get(twitch.url("/_fake/eventsub"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    all["subscriptions"]
        .as_array()
        .expect("subscriptions")
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

async fn wait_status(twitch: &Twitch, id: &str, status: &str) {
    let started = Instant::now();
    while status_of(twitch, id).await != status {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{id} never {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn subscriptions_are_created_verified_listed_refused_and_deleted_like_twitchs() {
    let twitch = Twitch::start(scenario("")).await;
    let app = twitch.app_token().await;
    let (url, cb) = callback().await;
    let online = json!({ "broadcaster_user_id": "771043215" });
    let created = subscribe(&twitch, &app, "stream.online", online.clone(), &url).await;
    assert_eq!(created.status(), 202);
    let created = read_json(created).await;
    assert_same_shape(
        "eventsub_subscription_created.json",
        &fixture("eventsub_subscription_created.json"),
        &created,
    );
    let id = created["data"][0]["id"].as_str().expect("id").to_string();
    assert_eq!(
        created["data"][0]["status"],
        "webhook_callback_verification_pending"
    );
    assert_eq!(
        created["data"][0]["cost"], 1,
        "the broadcaster never authorized the app"
    );
    let challenge = cb
        .wait_for("the challenge", |all| {
            all.iter().any(|m| m.kind == es::VERIFICATION)
        })
        .await;
    assert!(challenge[0].signed, "signed with the subscription's secret");
    assert_same_shape(
        "eventsub_challenge.json",
        &fixture("eventsub_challenge.json"),
        &challenge[0].body,
    );
    wait_status(&twitch, &id, "enabled").await;

    // Refusals.
    let user = twitch.user_token("mossy_mod").await;
    let wrong_token = subscribe(&twitch, &user, "stream.offline", online.clone(), &url).await;
    assert_eq!(wrong_token.status(), 400);
    assert_eq!(
        read_json(wrong_token).await["message"],
        "invalid transport and auth combination"
    );
    assert_eq!(
        subscribe(&twitch, &app, "stream.online", online.clone(), &url)
            .await
            .status(),
        409
    );
    for (kind, condition, callback) in [
        ("stream.online", json!({}), url.as_str()),
        (
            "stream.online",
            json!({"broadcaster_user_id": "1"}),
            url.as_str(),
        ),
        (
            "channel.raid",
            json!({"from_broadcaster_user_id": "771043215", "to_broadcaster_user_id": "348812077"}),
            url.as_str(),
        ),
        (
            "user.authorization.revoke",
            json!({"client_id": "someone-else"}),
            url.as_str(),
        ),
        ("channel.follow", online.clone(), url.as_str()),
        (
            "stream.online",
            json!({"broadcaster_user_id": "348812077"}),
            "ftp://example.com/callback",
        ),
    ] {
        let refused = subscribe(&twitch, &app, kind, condition.clone(), callback).await;
        assert_eq!(refused.status(), 400, "{kind} {condition} {callback}");
    }

    // Get: one filter at a time; Delete.
    let list = read_json(
        twitch
            .helix(&app, "/eventsub/subscriptions?type=stream.online")
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["total_cost"], 1);
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert!(
        list["data"][0]["transport"].get("secret").is_none(),
        "never echoed"
    );
    let two = twitch
        .helix(
            &app,
            "/eventsub/subscriptions?type=stream.online&status=enabled",
        )
        .send()
        .await
        .expect("list");
    assert_eq!(two.status(), 400);
    let delete = |id: String| {
        twitch
            .http
            .delete(twitch.url(&format!("/helix/eventsub/subscriptions?id={id}")))
            .header("Client-Id", &twitch.client_id)
            .bearer_auth(&app)
            .send()
    };
    assert_eq!(delete(id.clone()).await.expect("delete").status(), 204);
    assert_eq!(delete(id).await.expect("again").status(), 404);

    // A callback that does not echo the challenge as plain text is never enabled.
    *cb.mood.lock().expect("lock") = Mood::WrongChallenge;
    let created = read_json(subscribe(&twitch, &app, "stream.offline", online, &url).await).await;
    let id = created["data"][0]["id"].as_str().expect("id").to_string();
    wait_status(&twitch, &id, "webhook_callback_verification_failed").await;
}

#[tokio::test]
async fn the_world_changing_is_notified_signed_and_failing_callbacks_are_retried_then_revoked() {
    let twitch = Twitch::start(scenario("")).await;
    let app = twitch.app_token().await;
    let (url, cb) = callback().await;
    let pixel = json!({ "broadcaster_user_id": "771043215" });
    let mut ids = Vec::new();
    for (kind, condition) in [
        ("stream.online", pixel.clone()),
        ("stream.offline", pixel.clone()),
        (
            "channel.raid",
            json!({ "to_broadcaster_user_id": "771043215" }),
        ),
        (
            "user.authorization.revoke",
            json!({ "client_id": twitch.client_id }),
        ),
    ] {
        let created = read_json(subscribe(&twitch, &app, kind, condition, &url).await).await;
        let id = created["data"][0]["id"].as_str().expect("id").to_string();
        wait_status(&twitch, &id, "enabled").await;
        ids.push(id);
    }
    let fake = |path: &str, body: Value| twitch.http.post(twitch.url(path)).json(&body).send();
    // pixelbrookgames is live in this world: offline, then live again.
    fake(
        "/_fake/channels/pixelbrookgames/live",
        json!({"live": false}),
    )
    .await
    .expect("offline");
    fake(
        "/_fake/channels/pixelbrookgames/live",
        json!({"live": true}),
    )
    .await
    .expect("online");
    fake(
        "/_fake/channels/pixelbrookgames/raid",
        json!({"from": "saltmarsh_radio", "viewers": 57}),
    )
    .await
    .expect("raid");
    twitch.user_token("mossy_mod").await;
    fake("/_fake/tokens/revoke-grants", json!({"login": "mossy_mod"}))
        .await
        .expect("revoke");
    let all = cb
        .wait_for("four notifications", |all| {
            all.iter().filter(|m| m.kind == es::NOTIFICATION).count() >= 4
        })
        .await;
    let notifications: Vec<&Received> = all.iter().filter(|m| m.kind == es::NOTIFICATION).collect();
    assert!(
        notifications.iter().all(|m| m.signed && m.retry == "0"),
        "{notifications:?}"
    );
    let of = |kind: &str| {
        notifications
            .iter()
            .find(|m| m.subscription_type == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
            .body
            .clone()
    };
    for (kind, file) in [
        (
            "stream.offline",
            "eventsub_notification_stream_offline.json",
        ),
        ("stream.online", "eventsub_notification_stream_online.json"),
        ("channel.raid", "eventsub_notification_channel_raid.json"),
        (
            "user.authorization.revoke",
            "eventsub_notification_authorization_revoke.json",
        ),
    ] {
        assert_same_shape(file, &fixture(file), &of(kind));
    }
    assert_eq!(
        of("channel.raid")["event"]["from_broadcaster_user_login"],
        "saltmarsh_radio"
    );
    assert_eq!(of("channel.raid")["event"]["viewers"], 57);
    assert_eq!(
        of("user.authorization.revoke")["event"]["user_login"],
        "mossy_mod"
    );

    // A failing callback: each message tried 1 + 2 times with the same id, then, after two
    // messages given up on, the subscription is revoked with a revocation message.
    *cb.mood.lock().expect("lock") = Mood::Failing;
    let before = cb.all().len();
    for live in [false, true, false] {
        fake(
            "/_fake/channels/pixelbrookgames/live",
            json!({"live": live}),
        )
        .await
        .expect("live");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let all = cb
        .wait_for("a revocation", |all| {
            all.iter().any(|m| m.kind == es::REVOCATION)
        })
        .await;
    let failed: Vec<&Received> = all[before..]
        .iter()
        .filter(|m| m.kind == es::NOTIFICATION && m.subscription_type == "stream.offline")
        .collect();
    let first = &failed[0].id;
    let retries: Vec<&str> = failed
        .iter()
        .filter(|m| &m.id == first)
        .map(|m| m.retry.as_str())
        .collect();
    assert_eq!(retries, ["0", "1", "2"], "the same id, three times");
    let revocation = all
        .iter()
        .find(|m| m.kind == es::REVOCATION)
        .expect("revocation");
    assert!(revocation.signed);
    assert_eq!(
        revocation.body["subscription"]["status"],
        "notification_failures_exceeded"
    );
    // The fixture's is a chat subscription (another condition): the same keys, no event.
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v["subscription"]
            .as_object()
            .expect("subscription")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&revocation.body),
        keys(&fixture("eventsub_revocation.json"))
    );
    assert!(revocation.body.get("event").is_none());
}
