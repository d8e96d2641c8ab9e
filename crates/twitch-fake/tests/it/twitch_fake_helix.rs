use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tca_twitch_fake::{Scenario, World};

use crate::support::{Twitch, fixture_world, header, json};

const PIXELBROOK: &str = "/chat/chatters?broadcaster_id=771043215&moderator_id=538211094";

/// A live channel with exactly `humans` always-present humans, moderated by mossy_mod.
fn big_channel(humans: u32) -> Scenario {
    fixture_world(&format!(
        r#"
[[channels]]
login = "bigchannel"
id = "900000001"
moderators = ["mossy_mod"]
live = true
[channels.audience]
humans = {humans}
"#
    ))
}

#[tokio::test]
async fn paging_a_12345_chatter_channel_returns_each_chatter_exactly_once() {
    let scenario = big_channel(12_345);
    let world = World::generate(&scenario, scenario.seed);
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    let (ids, pages, total) = twitch
        .all_chatters(&token, "900000001", "538211094", 1000)
        .await;
    // 12,345 humans + the broadcaster (live) + mossy_mod (moderating).
    assert_eq!(total, 12_347);
    assert_eq!(ids.len(), 12_347);
    assert_eq!(pages, 13);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        12_347,
        "no chatter twice"
    );
    let truth = world.truth(1);
    let channel = truth
        .channels
        .iter()
        .find(|c| c.login == "bigchannel")
        .expect("channel");
    assert_eq!(
        ids, channel.listings[0],
        "the listing is the one truth announces"
    );
}

#[tokio::test]
async fn one_pass_reads_one_listing_and_churn_shows_between_passes() {
    let scenario = fixture_world("");
    let truth = World::generate(&scenario, scenario.seed).truth(2);
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    let page = |after: Option<&str>| {
        let mut query = format!("{PIXELBROOK}&first=7");
        if let Some(c) = after {
            query.push_str(&format!("&after={c}"));
        }
        twitch.helix(&token, &query).send()
    };
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["user_id"].as_str().expect("id").to_string())
            .collect()
    };
    // Start pass A, then pass B, then read both to the end, interleaved page by page: each
    // cursor keeps reading its own listing although B started after A.
    let mut pages = [
        json(page(None).await.expect("a")).await,
        json(page(None).await.expect("b")).await,
    ];
    let mut passes = [ids(&pages[0]), ids(&pages[1])];
    let totals = [pages[0]["total"].clone(), pages[1]["total"].clone()];
    loop {
        let mut progressed = false;
        for p in 0..2 {
            if let Some(cursor) = pages[p]["pagination"]["cursor"]
                .as_str()
                .map(str::to_string)
            {
                pages[p] = json(page(Some(&cursor)).await.expect("next")).await;
                assert_eq!(
                    pages[p]["total"], totals[p],
                    "total is stable within one pass"
                );
                passes[p].extend(ids(&pages[p]));
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let listings = &truth.channels[0].listings;
    assert_eq!(passes[0], listings[0], "pass A read listing 1 whole");
    assert_eq!(passes[1], listings[1], "pass B read listing 2 whole");
    let a: HashSet<_> = passes[0].iter().collect();
    let b: HashSet<_> = passes[1].iter().collect();
    assert!(
        a.difference(&b).count() > 0 && b.difference(&a).count() > 0,
        "churn between passes"
    );
}

#[tokio::test]
async fn renames_and_suspensions_follow_the_listing_count() {
    let scenario = fixture_world("");
    let world = World::generate(&scenario, scenario.seed);
    let truth = world.truth(2);
    let renamer = truth
        .accounts
        .iter()
        .find(|a| !a.renames.is_empty())
        .expect("renamer");
    let suspended = truth
        .accounts
        .iter()
        .find(|a| a.suspended)
        .expect("suspended");
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;

    let chatter = |page: &Value, id: &str| -> Option<Value> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|c| c["user_id"] == id)
            .cloned()
    };
    let first = json(
        twitch
            .helix(&token, &format!("{PIXELBROOK}&first=1000"))
            .send()
            .await
            .expect("1"),
    )
    .await;
    assert_eq!(
        chatter(&first, &renamer.id).expect("renamer present")["user_login"],
        renamer.login
    );
    assert!(
        chatter(&first, &suspended.id).is_some(),
        "not yet suspended in listing 1"
    );

    let second = json(
        twitch
            .helix(&token, &format!("{PIXELBROOK}&first=1000"))
            .send()
            .await
            .expect("2"),
    )
    .await;
    let renamed = chatter(&second, &renamer.id).expect("renamer still present");
    assert_eq!(renamed["user_login"], renamer.renames[0].login);
    assert_eq!(renamed["user_name"], renamer.renames[0].display_name);
    assert!(
        chatter(&second, &suspended.id).is_none(),
        "suspended accounts leave chat"
    );
    assert_eq!(
        truth.channels[0].listings[1].len(),
        second["data"].as_array().expect("data").len()
    );

    // Get Users follows: new login by id, old login gone, suspended account omitted.
    let users = json(
        twitch
            .helix(
                &token,
                &format!(
                    "/users?id={}&id={}&login={}",
                    renamer.id, suspended.id, renamer.login
                ),
            )
            .send()
            .await
            .expect("users"),
    )
    .await;
    let data = users["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{users}");
    assert_eq!(data[0]["login"], renamer.renames[0].login);
}

#[tokio::test]
async fn control_api_renames_suspends_and_switches_live() {
    let twitch = Twitch::start(fixture_world("")).await;
    let token = twitch.user_token("mossy_mod").await;
    let app = twitch.app_token().await;

    twitch
        .control(
            "/channels/saltmarsh_radio/live",
            json!({"live": true, "viewer_count": 99}),
        )
        .await;
    let streams = json(
        twitch
            .helix(&app, "/streams?user_id=348812077")
            .send()
            .await
            .expect("streams"),
    )
    .await;
    assert_eq!(streams["data"][0]["viewer_count"], 99);

    // Login reuse: saltmarsh_radio takes deepseabuilds' login; deepseabuilds is renamed away.
    twitch
        .control(
            "/accounts/rename",
            json!({"login": "saltmarsh_radio", "new_login": "deepseabuilds"}),
        )
        .await;
    let users = json(
        twitch
            .helix(&app, "/users?login=deepseabuilds")
            .send()
            .await
            .expect("users"),
    )
    .await;
    assert_eq!(
        users["data"][0]["id"], "348812077",
        "the login now belongs to another id"
    );
    let old = json(
        twitch
            .helix(&app, "/users?id=604417731")
            .send()
            .await
            .expect("users"),
    )
    .await;
    assert_ne!(old["data"][0]["login"], "deepseabuilds");

    twitch
        .control("/accounts/suspend", json!({"id": "604417731"}))
        .await;
    let gone = json(
        twitch
            .helix(&app, "/users?id=604417731")
            .send()
            .await
            .expect("users"),
    )
    .await;
    assert_eq!(gone["data"], json!([]));

    twitch
        .control("/channels/pixelbrookgames/live", json!({"live": false}))
        .await;
    let live = json(
        twitch
            .helix(&token, "/streams")
            .send()
            .await
            .expect("streams"),
    )
    .await;
    let live_ids: Vec<&str> = live["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|s| s["user_id"].as_str().expect("id"))
        .collect();
    assert_eq!(live_ids, ["348812077"]);
}

#[tokio::test]
async fn identity_checks_and_bad_parameters_are_refused() {
    let twitch = Twitch::start(fixture_world("")).await;
    let token = twitch.user_token("mossy_mod").await;
    let app = twitch.app_token().await;
    let status = |r: &reqwest::Response| r.status().as_u16();

    // moderator_id must be the token's user.
    let r = twitch
        .helix(
            &token,
            "/chat/chatters?broadcaster_id=771043215&moderator_id=111111111",
        )
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 401);
    // App tokens cannot read chatters.
    let r = twitch.helix(&app, PIXELBROOK).send().await.expect("r");
    assert_eq!(status(&r), 401);
    let r = twitch
        .helix(&token, "/chat/chatters?moderator_id=538211094")
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);
    let r = twitch
        .helix(&token, &format!("{PIXELBROOK}&after=not-a-cursor"))
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);
    assert_eq!(json(r).await["message"], "Invalid cursor.");
    let r = twitch
        .helix(&token, "/moderation/channels?user_id=111111111")
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 401);
    let r = twitch
        .helix(&token, "/moderation/channels?user_id=538211094&first=101")
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);
    let r = twitch
        .helix(&token, "/users?login=Not-A-Login!")
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);
    assert_eq!(
        json(r).await["message"],
        "Invalid login names, emails or IDs in request"
    );
    let ids: String = (0..101).map(|n| format!("id={}&", 1000 + n)).collect();
    let r = twitch
        .helix(&token, &format!("/users?{ids}"))
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);
    let r = twitch.helix(&app, "/users").send().await.expect("r");
    assert_eq!(
        status(&r),
        400,
        "no parameters and no user behind the token"
    );
    let r = twitch
        .helix(&token, "/streams?type=vod")
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 400);

    // Both headers are required, and the token must belong to the app's client id.
    let r = twitch
        .http
        .get(twitch.url("/helix/users"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 401);
    let r = twitch
        .http
        .get(twitch.url("/helix/users"))
        .header("Client-Id", "someone-else")
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(status(&r), 401);
    assert_eq!(
        json(r).await["message"],
        "Client ID and OAuth token do not match"
    );
    // Unknown ids are simply left out.
    let r = json(
        twitch
            .helix(&token, "/users?id=538211094&id=999999999")
            .send()
            .await
            .expect("r"),
    )
    .await;
    assert_eq!(r["data"].as_array().expect("data").len(), 1);
    // No parameters with a user token: the token's own user.
    let me = json(twitch.helix(&token, "/users").send().await.expect("r")).await;
    assert_eq!(me["data"][0]["id"], "538211094");
}

#[tokio::test]
async fn moderated_channels_are_paged_completely_without_the_users_own_channel() {
    let extra: String = (0..25)
        .map(|n| format!("[[channels]]\nlogin = \"modded_{n:02}\"\nmoderators = [\"mossy_mod\"]\n"))
        .collect();
    let scenario = fixture_world(&format!("moderators = [\"mossy_mod\"]\n{extra}"));
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    let mut logins = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = "/moderation/channels?user_id=538211094&first=10".to_string();
        if let Some(c) = &cursor {
            query.push_str(&format!("&after={c}"));
        }
        let page = json(twitch.helix(&token, &query).send().await.expect("page")).await;
        pages += 1;
        logins.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|c| c["broadcaster_login"].as_str().expect("l").to_string()),
        );
        match page["pagination"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    // 3 fixture channels + quiet_streamer + 25 = 29 channels.
    assert_eq!(logins.len(), 29);
    assert_eq!(pages, 3);
    assert_eq!(logins.iter().collect::<HashSet<_>>().len(), 29);

    // quiet_streamer moderates nothing; its own channel is not "moderated".
    let own = twitch.user_token("quiet_streamer").await;
    let page = json(
        twitch
            .helix(&own, "/moderation/channels?user_id=222222222")
            .send()
            .await
            .expect("page"),
    )
    .await;
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["pagination"], json!({}));
}

#[tokio::test]
async fn bucket_empties_after_the_configured_calls_with_correct_headers() {
    let mut scenario = fixture_world("");
    scenario.rate_limit.points_per_minute = 10;
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    let before = chrono::Utc::now().timestamp();
    for n in 1..=10u32 {
        let r = twitch.helix(&token, "/users").send().await.expect("r");
        assert_eq!(r.status(), 200, "call {n}");
        assert_eq!(header(&r, "ratelimit-limit"), "10");
        assert_eq!(header(&r, "ratelimit-remaining"), (10 - n).to_string());
    }
    let r = twitch.helix(&token, "/users").send().await.expect("r");
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-remaining"), "0");
    let reset: i64 = header(&r, "ratelimit-reset").parse().expect("reset");
    // Empty after 10 calls at 10/min: full again in about a minute.
    assert!(
        reset >= before + 55 && reset <= before + 62,
        "reset {reset} vs now {before}"
    );
    // Another user's bucket is untouched; so is the app's.
    let other = twitch.user_token("stranger").await;
    assert_eq!(
        twitch
            .helix(&other, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        200
    );
    // The control API refills every bucket.
    twitch.control("/ratelimit/reset", json!({})).await;
    assert_eq!(
        twitch
            .helix(&token, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        200
    );
    let stats = json(
        twitch
            .http
            .get(twitch.url("/_fake/stats"))
            .send()
            .await
            .expect("stats"),
    )
    .await;
    assert_eq!(stats["max_calls_per_window"]["538211094"], 11);
}

#[tokio::test]
async fn injected_faults_answer_5xx_429_drops_and_latency() {
    let twitch = Twitch::start(fixture_world("")).await;
    let token = twitch.user_token("mossy_mod").await;
    let set = |faults: Value| twitch.control("/faults", faults);

    set(json!({"error_rate": 1.0})).await;
    for _ in 0..6 {
        let r = twitch.helix(&token, "/users").send().await.expect("r");
        assert!([500, 503].contains(&r.status().as_u16()), "{}", r.status());
        assert!(
            !header(&r, "ratelimit-limit").is_empty(),
            "rate headers on errors too"
        );
    }

    set(json!({"burst_429_every": 2, "burst_429_length": 3})).await;
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for _ in 0..10 {
            s.push(
                twitch
                    .helix(&token, "/users")
                    .send()
                    .await
                    .expect("r")
                    .status()
                    .as_u16(),
            );
        }
        s
    };
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        6,
        "{statuses:?}"
    );

    set(json!({"drop_rate": 1.0})).await;
    // The connection dies mid-answer: the client sees an error, never a complete body.
    match twitch.helix(&token, "/users").send().await {
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
        Ok(response) => assert!(
            response.json::<Value>().await.is_err(),
            "the body never completes"
        ),
    }

    set(json!({"latency_ms": 150})).await;
    let started = Instant::now();
    assert_eq!(
        twitch
            .helix(&token, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));

    set(json!({})).await;
    assert_eq!(
        twitch
            .helix(&token, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        200
    );
}

#[test]
fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let scenario: Scenario = fixture_world("");
    let truth =
        |seed| serde_json::to_string(&World::generate(&scenario, seed).truth(3)).expect("json");
    assert_eq!(truth(42), truth(42));
    assert_ne!(truth(42), truth(43));
}

#[tokio::test]
async fn truth_matches_what_helix_serves_for_the_demo() {
    let path = format!("{}/../../scenarios/demo.toml", env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(path.as_ref()).expect("demo scenario");
    let world = World::generate(&scenario, scenario.seed);
    let truth = world.truth(1);
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("demo_mod").await;
    for channel in &truth.channels {
        let (ids, _, total) = twitch
            .all_chatters(&token, &channel.id, "538211094", 1000)
            .await;
        assert_eq!(ids, channel.listings[0], "{}", channel.login);
        assert_eq!(total as usize, ids.len());
    }
    let big = &truth.channels[0];
    assert!(
        (4500..=5500).contains(&big.listings[0].len()),
        "~5,000 chatters: {}",
        big.listings[0].len()
    );
    // Every account of the wave is in the big channel, created within two hours of one day.
    let wave: Vec<_> = truth
        .accounts
        .iter()
        .filter(|a| a.cohort.as_deref() == Some("wave-2024-03-14"))
        .collect();
    assert_eq!(wave.len(), 300);
    let first = wave.iter().map(|a| a.created_at).min().expect("min");
    let last = wave.iter().map(|a| a.created_at).max().expect("max");
    assert!(last - first <= chrono::Duration::hours(2));
    for a in &wave {
        assert!(big.listings[0].contains(&a.id));
    }

    // Profiles served by Get Users are the truth's (100 per call, as Twitch allows).
    let app = twitch.app_token().await;
    for chunk in truth.accounts.chunks(100).take(20) {
        let query: String = chunk.iter().map(|a| format!("id={}&", a.id)).collect();
        let users = json(
            twitch
                .helix(&app, &format!("/users?{query}"))
                .send()
                .await
                .expect("users"),
        )
        .await;
        let data = users["data"].as_array().expect("data");
        assert_eq!(data.len(), chunk.len());
        for (user, expected) in data.iter().zip(chunk) {
            assert_eq!(user["id"], expected.id.as_str());
            assert_eq!(user["login"], expected.login.as_str());
            assert_eq!(user["created_at"], crate_rfc3339(expected.created_at));
            let default_avatar = user["profile_image_url"]
                .as_str()
                .expect("url")
                .contains("user-default-pictures");
            assert_eq!(default_avatar, expected.default_avatar);
            assert_eq!(user["description"] == "", expected.empty_bio);
        }
    }
}

fn crate_rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `churn_mid_pass`: each page after the first is cut from a fresh listing, so one pass reads
/// a list that moved under it (what Twitch's live list does) — the pass is no longer any one
/// listing, and a later listing was started by the pages.
#[tokio::test]
async fn churn_mid_pass_cuts_each_page_from_a_fresh_listing() {
    let scenario = fixture_world("");
    let truth = World::generate(&scenario, scenario.seed).truth(12);
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    twitch
        .control("/faults", serde_json::json!({"churn_mid_pass": true}))
        .await;
    let mut pass = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = format!("{PIXELBROOK}&first=7");
        if let Some(c) = &after {
            query.push_str(&format!("&after={c}"));
        }
        let page = json(twitch.helix(&token, &query).send().await.expect("page")).await;
        pass.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|c| c["user_id"].as_str().expect("id").to_string()),
        );
        match page["pagination"]["cursor"].as_str() {
            Some(c) => after = Some(c.to_string()),
            None => break,
        }
    }
    let listings = &truth.channels[0].listings;
    assert_ne!(&pass, &listings[0], "the list moved between pages");
    let later: HashSet<&String> = listings[1..].iter().flatten().collect();
    assert!(
        pass.iter()
            .any(|id| !listings[0].contains(id) && later.contains(id)),
        "chatters of later listings came in mid-pass"
    );
}
