use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::MySqlPool;
use tca_common::twitch_api::{ErrorCode, TwitchApiError};
use tca_twitch_fake::{Scenario, World};

use crate::twitch_api_support::{INTERNAL_TOKEN, Stack, world};

fn big_channel() -> String {
    r#"
[[channels]]
login = "bigchannel"
id = "900000001"
moderators = ["mossy_mod"]
live = true
[channels.audience]
humans = 12345
"#
    .to_string()
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_12345_chatter_channel_arrives_complete_through_429s_503s_drops_and_latency(
    pool: MySqlPool,
) {
    let scenario = world(&big_channel());
    let truth = World::generate(&scenario, scenario.seed).truth(1);
    let expected: HashSet<String> = truth
        .channels
        .iter()
        .find(|c| c.login == "bigchannel")
        .expect("channel")
        .listings[0]
        .iter()
        .cloned()
        .collect();
    let stack = Stack::start(pool, scenario, |_| {}).await;
    stack.authorize("mossy_mod").await;
    stack
        .fake_post(
            "/_fake/faults",
            json!({"latency_ms": 5, "latency_jitter_ms": 20, "error_rate": 0.2,
                   "burst_429_every": 6, "burst_429_length": 2, "drop_rate": 0.1}),
        )
        .await;

    let mut stream = stack
        .client
        .chatters("900000001", "538211094", None)
        .await
        .expect("stream");
    let mut seen = HashSet::new();
    while let Some(chatter) = stream.next().await.expect("no error mid-stream") {
        assert!(
            seen.insert(chatter.user_id.clone()),
            "{} streamed twice",
            chatter.user_id
        );
    }
    let summary = stream.summary().expect("summary");
    assert_eq!(seen, expected, "every chatter, none missing, none extra");
    assert_eq!(summary.chatters, 12_347);
    assert_eq!(summary.total, 12_347);
    assert_eq!(summary.pages, 13, "zero pages lost");

    let stats = stack.fake_get("/_fake/stats").await;
    let injected = &stats["faults_injected"];
    for kind in ["429", "5xx", "drop"] {
        assert!(
            injected[kind].as_u64().unwrap_or(0) > 0,
            "{kind} faults were injected: {stats}"
        );
    }
    println!("faults survived: {injected}");
}

/// A 20-point bucket refilled over 2 s stands in for Twitch's 800 a minute, so the test
/// takes seconds.
fn small_bucket_world() -> (Scenario, Vec<String>) {
    let mut scenario = world(&big_channel());
    scenario.rate_limit.points_per_minute = 20;
    scenario.rate_limit.window = Duration::from_secs(2);
    let truth = World::generate(&scenario, scenario.seed).truth(0);
    let ids: Vec<String> = truth
        .accounts
        .iter()
        .take(5000)
        .map(|a| a.id.clone())
        .collect();
    (scenario, ids)
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn lookups_spend_twitchs_bucket_and_its_refill_and_never_overspend(pool: MySqlPool) {
    let (scenario, ids) = small_bucket_world();
    let stack = Stack::start(pool, scenario, |twitch| {
        twitch.rate_limit = 20;
        twitch.rate_window = Duration::from_secs(2);
    })
    .await;
    let started = Instant::now();
    let users = stack
        .client
        .users_by_id(&ids, None, None)
        .await
        .expect("lookups");
    let elapsed = started.elapsed();
    assert_eq!(users.len(), 5000);
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(
        stats["by_endpoint"]["users"], 50,
        "5,000 ids in 50 calls of 100, no retries: {stats}"
    );
    // twitch-fake's bucket is Twitch's token bucket: no 429 means never overspent.
    assert!(
        stats["by_status"].get("429").is_none(),
        "never hit Twitch's limit: {stats}"
    );
    // The refill was spent as it came, not held back to one bucketful per window.
    let busiest = stats["max_calls_per_window"]["app"].as_u64().unwrap_or(0);
    assert!(
        busiest > 20,
        "the refill was used: {busiest} calls in the busiest window"
    );
    // 30 calls past the bucketful at 10 points a second.
    assert!(elapsed >= Duration::from_millis(2900), "paced: {elapsed:?}");
    println!("5,000 lookups (50 calls) under a 20/2s bucket took {elapsed:?}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn enrichment_spends_the_moderators_bucket_too(pool: MySqlPool) {
    let (scenario, ids) = small_bucket_world();
    let stack = Stack::start(pool, scenario, |twitch| {
        twitch.rate_limit = 20;
        twitch.rate_window = Duration::from_secs(2);
    })
    .await;
    stack.authorize("mossy_mod").await;
    let users = stack
        .client
        .users_by_id_sparing(&ids, Some("538211094"), None)
        .await
        .expect("lookups");
    assert_eq!(users.len(), 5000);
    let stats = stack.fake_get("/_fake/stats").await;
    assert!(stats["by_status"].get("429").is_none(), "no 429: {stats}");
    assert_eq!(
        stats["by_endpoint"]["users"], 51,
        "50 calls of 100 and the profile at login: {stats}"
    );
    let on_moderator = stats["max_calls_per_window"]["538211094"]
        .as_u64()
        .unwrap_or(0);
    // The moderator's bucket took calls past the login's one (the quarter it keeps for the
    // moderator is the limiter's unit test).
    assert!(on_moderator > 1, "the moderator's bucket helped: {stats}");
    // A token that Twitch no longer accepts sends the calls back to the app's bucket.
    stack
        .client
        .users_by_id_sparing(&ids[..300], Some("999999999"), None)
        .await
        .expect("a moderator without a token changes nothing");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_deadline_shorter_than_the_bucket_wait_gets_rate_limited_at_once(pool: MySqlPool) {
    let mut scenario = world("");
    scenario.rate_limit.points_per_minute = 2;
    let stack = Stack::start(pool, scenario, |twitch| twitch.rate_limit = 2).await;
    let one = vec!["771043215".to_string()];
    stack
        .client
        .users_by_id(&one, None, None)
        .await
        .expect("first");
    stack
        .client
        .users_by_id(&one, None, None)
        .await
        .expect("second");
    let started = Instant::now();
    let error = stack
        .client
        .users_by_id(&one, None, Some(Duration::from_millis(300)))
        .await
        .expect_err("the bucket is empty for ~30 s");
    match error {
        TwitchApiError::RateLimited { retry_after } => {
            assert!(retry_after > Duration::from_secs(10))
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered without waiting"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_non_moderator_gets_a_typed_error_without_retries(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    stack.authorize("stranger").await;
    let error = stack
        .client
        .chatters("771043215", "111111111", None)
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(error, TwitchApiError::NotModerator(_)),
        "{error:?}"
    );
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(
        stats["by_endpoint"]["chatters"], 1,
        "asked Twitch once: {stats}"
    );

    let error = stack
        .client
        .chatters("424242", "111111111", None)
        .await
        .err()
        .expect("no such channel");
    assert!(
        matches!(
            error,
            TwitchApiError::NotFound(_) | TwitchApiError::NotModerator(_)
        ),
        "{error:?}"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn requests_without_the_internal_token_get_401(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    for token in [
        None,
        Some("wrong-token-wrong-token-wrong-token-wrong"),
        Some(&INTERNAL_TOKEN[1..]),
    ] {
        let mut request = stack
            .http
            .get(format!("http://{}/v1/users?id=771043215", stack.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 401);
        let body: tca_common::twitch_api::ApiErrorBody = response.json().await.expect("typed body");
        assert_eq!(body.error, ErrorCode::Unauthorized);
    }
    // Health and metrics stay open to probes.
    let health = stack
        .http
        .get(format!("http://{}/healthz", stack.api))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn bad_parameters_are_refused_with_a_clear_400(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    for path in [
        "/v1/users",
        "/v1/users?id=12ab",
        "/v1/users?login=Not%20A%20Login",
        "/v1/chatters?broadcaster_id=771043215",
        "/v1/chatters?broadcaster_id=x&moderator_id=1",
        "/v1/streams",
        "/v1/users/abc/channels",
        "/v1/tokens?validated_before_secs=soon",
    ] {
        let response = stack
            .http
            .get(format!("http://{}{path}", stack.api))
            .bearer_auth(INTERNAL_TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{path}");
        let body: tca_common::twitch_api::ApiErrorBody = response.json().await.expect("typed body");
        assert_eq!(body.error, ErrorCode::BadRequest);
        assert!(!body.message.is_empty());
    }
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn channel_list_has_the_users_own_channel_first_then_every_moderated_page(pool: MySqlPool) {
    // A moderator of 250 channels (issue 17): every one listed, three pages of 100.
    let extra: String = (0..250)
        .map(|n| format!("[[channels]]\nlogin = \"modded_{n:03}\"\nmoderators = [\"mossy_mod\"]\n"))
        .collect();
    let stack = Stack::start(pool, world(&extra), |_| {}).await;
    stack.authorize("mossy_mod").await;
    let channels = stack.client.channels("538211094").await.expect("channels");
    assert_eq!(channels.len(), 1 + 2 + 250);
    assert!(channels[0].own);
    assert_eq!(channels[0].broadcaster_login, "mossy_mod");
    assert!(channels[1..].iter().all(|c| !c.own));
    let logins: HashSet<&str> = channels
        .iter()
        .map(|c| c.broadcaster_login.as_str())
        .collect();
    assert_eq!(logins.len(), channels.len());
    assert!(logins.contains("modded_249") && logins.contains("pixelbrookgames"));
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(
        stats["by_endpoint"]["moderated_channels"], 3,
        "three pages of 100: {stats}"
    );
    // Cached briefly: asking again costs nothing.
    stack.client.channels("538211094").await.expect("cached");
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(stats["by_endpoint"]["moderated_channels"], 3);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn streams_say_live_or_offline_for_every_channel_asked(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    let status = stack
        .client
        .streams(&["771043215".into(), "348812077".into()])
        .await
        .expect("streams");
    assert_eq!(status.len(), 2);
    assert!(status[0].live);
    assert_eq!(status[0].viewer_count, 214);
    assert_eq!(status[0].game_name, "Stardew Valley");
    assert!(status[0].started_at.is_some());
    assert!(!status[1].live);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn users_by_login_and_as_a_user(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    let users = stack
        .client
        .users_by_login(
            &["pixelbrookgames".into(), "nobody_here".into()],
            Some("538211094"),
            None,
        )
        .await
        .expect("users");
    assert_eq!(users.len(), 1, "unknown logins are absent");
    assert_eq!(users[0].id, "771043215");
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(
        stats["max_calls_per_window"]["538211094"], 2,
        "on the user's bucket (+ the profile at login)"
    );
}

/// Twitch answers a page with the cursor it was asked with: the chatters stream and the
/// channel list stop with a clear "paging broken" error after one repeat, instead of looping.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_repeated_cursor_stops_the_listing_with_a_clear_error(pool: MySqlPool) {
    let extra: String = (0..150)
        .map(|n| format!("[[channels]]\nlogin = \"modded_{n:03}\"\nmoderators = [\"mossy_mod\"]\n"))
        .collect();
    let stack = Stack::start(pool, world(&format!("{extra}{}", big_channel())), |_| {}).await;
    stack.authorize("mossy_mod").await;
    stack
        .fake_post("/_fake/faults", json!({"repeat_cursor": true}))
        .await;

    let mut stream = stack
        .client
        .chatters("900000001", "538211094", None)
        .await
        .expect("the first page arrives");
    let error = loop {
        match stream.next().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended as if complete"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(&error, TwitchApiError::PagingBroken(m) if m.contains("same chatters cursor twice")),
        "{error:?}"
    );
    let stats = stack.fake_get("/_fake/stats").await;
    assert_eq!(
        stats["by_endpoint"]["chatters"], 2,
        "page 2 came back with page 1's cursor, and nothing more was asked: {stats}"
    );

    let error = stack
        .client
        .channels("538211094")
        .await
        .expect_err("paging broken");
    assert!(
        matches!(&error, TwitchApiError::PagingBroken(_)),
        "{error:?}"
    );
}

/// Injected 429s say the bucket is full again only in a minute: a call waits for the point it
/// needs (points refill continuously), not for the reset, and completes in seconds.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_429_with_a_minute_long_reset_waits_for_a_point_not_for_the_minute(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    stack
        .fake_post(
            "/_fake/faults",
            json!({"burst_429_every": 2, "burst_429_length": 2, "reset_429_secs": 60}),
        )
        .await;
    let started = Instant::now();
    for _ in 0..3 {
        stack
            .client
            .users_by_id(&["771043215".into()], Some("538211094"), None)
            .await
            .expect("through the 429s");
    }
    let took = started.elapsed();
    let stats = stack.fake_get("/_fake/stats").await;
    assert!(
        stats["faults_injected"]["429"].as_u64().unwrap_or(0) >= 2,
        "429s were injected: {stats}"
    );
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}, not the minute-long resets"
    );
}

/// The chatter list changes between the pages of one pass (churn mid-pass): the stream still
/// completes, every chatter once, whoever moved between pages notwithstanding.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_list_that_churns_between_pages_streams_every_chatter_once(pool: MySqlPool) {
    let churning = r#"
[[channels]]
login = "bigchannel"
id = "900000001"
moderators = ["mossy_mod"]
live = true
[channels.audience]
humans = 3500
churn = 0.3
"#;
    let stack = Stack::start(pool, world(churning), |_| {}).await;
    stack.authorize("mossy_mod").await;
    stack
        .fake_post("/_fake/faults", json!({"churn_mid_pass": true}))
        .await;
    let mut stream = stack
        .client
        .chatters("900000001", "538211094", None)
        .await
        .expect("stream");
    let mut seen = HashSet::new();
    while let Some(chatter) = stream.next().await.expect("no error mid-stream") {
        assert!(
            seen.insert(chatter.user_id.clone()),
            "{} twice",
            chatter.user_id
        );
    }
    let summary = stream.summary().expect("summary");
    assert_eq!(summary.chatters as usize, seen.len());
    assert!(summary.pages >= 4, "{summary:?}");
    assert!(seen.len() > 3000, "most of the audience: {}", seen.len());
}

/// A caller that may wait only briefly for the rate limit (a worker, to keep its slot for
/// others) gets `RateLimited` with how long to wait, at once, instead of sleeping until the
/// bucket has a point again.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_caller_that_cannot_wait_long_is_told_when_to_come_back(pool: MySqlPool) {
    // Twitch's bucket (and so ours, which follows Twitch's headers): 3 points a minute.
    let stack = Stack::start(
        pool,
        world("[rate_limit]\npoints_per_minute = 3\n"),
        |twitch| {
            twitch.rate_limit = 3;
            twitch.rate_window = Duration::from_secs(60);
        },
    )
    .await;
    stack.authorize("mossy_mod").await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let result = stack
            .client
            .chatters_within(
                "771043215",
                "538211094",
                Some(Duration::from_secs(60)),
                Some(Duration::from_millis(200)),
            )
            .await;
        answers.push((started.elapsed(), result.map(|_| ())));
    }
    let (took, refused) = answers
        .iter()
        .find(|(_, r)| r.is_err())
        .expect("the bucket of three ran out");
    assert!(
        matches!(refused, Err(TwitchApiError::RateLimited { retry_after }) if *retry_after > Duration::from_secs(1)),
        "{refused:?}"
    );
    assert!(
        *took < Duration::from_secs(2),
        "answered at once, not after the wait: {took:?}"
    );
}
