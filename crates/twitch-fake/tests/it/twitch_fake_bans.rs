//! Ban User, Unban User and Get Banned Users: Twitch's shapes, rules, errors and limits, and
//! the truth (`/_fake/bans/{channel}`) tests check a batch against.

use reqwest::RequestBuilder;
use serde_json::{Value, json};
use tca_twitch_fake::Scenario;

use crate::support::{SCOPES, Twitch, fixture_world, json};
use crate::twitch_fake_fixtures::{assert_same_shape, fixture};

const MANAGE: &str = "moderator:manage:banned_users";
const CHANNEL: &str = "771043215";
const MOSSY: &str = "538211094";
const NIGHTBOT: &str = "19264788";

/// The fixtures' world with Nightbot moderating pixelbrookgames.
fn world(extra: &str) -> Scenario {
    let mut scenario = fixture_world(&format!(
        "[[chat_bots]]\nlogin = \"nightbot\"\ndisplay_name = \"Nightbot\"\nid = \"{NIGHTBOT}\"\n{extra}"
    ));
    scenario.channels[0].chat_bots.push("nightbot".into());
    scenario
}

/// Ids of pixelbrookgames' audience that are ordinary humans.
fn humans(twitch: &Twitch, n: usize) -> Vec<String> {
    let world = &twitch.fake.state.world;
    let channel = &world.channels[0];
    let truth = world.truth(0);
    channel
        .members
        .iter()
        .map(|m| world.account(m.account))
        .filter(|a| {
            truth
                .accounts
                .iter()
                .any(|t| t.id == a.id.to_string() && t.role == "human" && !t.suspended)
        })
        .map(|a| a.id.to_string())
        .take(n)
        .collect()
}

impl Twitch {
    async fn manage_token(&self, login: &str) -> String {
        let scopes: Vec<&str> = SCOPES.iter().copied().chain([MANAGE]).collect();
        self.user_tokens(login, &scopes).await["access_token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    fn ban(&self, token: &str, moderator: &str, data: Value) -> RequestBuilder {
        self.http
            .post(self.url(&format!(
                "/helix/moderation/bans?broadcaster_id={CHANNEL}&moderator_id={moderator}"
            )))
            .header("Client-Id", &self.client_id)
            .bearer_auth(token)
            .json(&json!({ "data": data }))
    }

    fn unban(&self, token: &str, user: &str) -> RequestBuilder {
        self.http
            .delete(self.url(&format!(
                "/helix/moderation/bans?broadcaster_id={CHANNEL}&moderator_id={MOSSY}&user_id={user}"
            )))
            .header("Client-Id", &self.client_id)
            .bearer_auth(token)
    }

    async fn bans_truth(&self, channel: &str) -> Value {
        json(
            self.http
                .get(self.url(&format!("/_fake/bans/{channel}")))
                .send()
                .await
                .expect("truth"),
        )
        .await
    }
}

fn banned_ids(truth: &Value) -> Vec<String> {
    truth["banned"]
        .as_array()
        .expect("banned")
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn ban_timeout_unban_and_list_have_twitchs_shapes_and_errors() {
    let twitch = Twitch::start(world("")).await;
    let token = twitch.manage_token("mossy_mod").await;
    let people = humans(&twitch, 2);
    let (a, b) = (&people[0], &people[1]);

    let banned = twitch
        .ban(&token, MOSSY, json!({ "user_id": a, "reason": "Spam bot" }))
        .send()
        .await
        .expect("ban");
    assert_eq!(banned.status(), 200);
    let banned = json(banned).await;
    assert_same_shape("ban_user.json", &fixture("ban_user.json"), &banned);
    assert_eq!(banned["data"][0]["user_id"], a.as_str());
    assert_eq!(banned["data"][0]["end_time"], Value::Null);

    let timeout = twitch
        .ban(&token, MOSSY, json!({ "user_id": b, "duration": 600 }))
        .send()
        .await
        .expect("timeout");
    assert_eq!(timeout.status(), 200);
    let timeout = json(timeout).await;
    assert_same_shape(
        "ban_user_timeout.json",
        &fixture("ban_user_timeout.json"),
        &timeout,
    );

    let again = twitch
        .ban(&token, MOSSY, json!({ "user_id": a }))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await, fixture("error_400_already_banned.json"));
    // A timed-out user can be banned for good; a banned one cannot be timed out.
    let upgrade = twitch
        .ban(&token, MOSSY, json!({ "user_id": b }))
        .send()
        .await
        .expect("up");
    assert_eq!(upgrade.status(), 200);
    let downgrade = twitch
        .ban(&token, MOSSY, json!({ "user_id": b, "duration": 60 }))
        .send()
        .await
        .expect("down");
    assert_eq!(downgrade.status(), 400);

    assert_eq!(
        banned_ids(&twitch.bans_truth("pixelbrookgames").await).len(),
        2
    );
    let unbanned = twitch.unban(&token, a).send().await.expect("unban");
    assert_eq!(unbanned.status(), 204);
    assert!(unbanned.bytes().await.expect("body").is_empty());
    let not_banned = twitch.unban(&token, a).send().await.expect("unban twice");
    assert_eq!(not_banned.status(), 400);
    assert_eq!(json(not_banned).await, fixture("error_400_not_banned.json"));
    let truth = twitch.bans_truth("pixelbrookgames").await;
    assert_eq!(banned_ids(&truth), vec![b.clone()]);
    assert_eq!(
        truth["counts"][a.as_str()],
        json!({ "bans": 1, "unbans": 1 })
    );
    assert_eq!(
        truth["counts"][b.as_str()],
        json!({ "bans": 1, "unbans": 0 })
    );

    // Get Banned Users: only the broadcaster may list their channel's bans.
    let listed = twitch
        .helix(
            &token,
            &format!("/moderation/banned?broadcaster_id={CHANNEL}"),
        )
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status(), 401);
    let own = twitch.manage_token("quiet_streamer").await;
    let quiet = "222222222";
    let victim = &humans(&twitch, 3)[2];
    let ban_own = twitch
        .http
        .post(twitch.url(&format!(
            "/helix/moderation/bans?broadcaster_id={quiet}&moderator_id={quiet}"
        )))
        .header("Client-Id", &twitch.client_id)
        .bearer_auth(&own)
        .json(&json!({ "data": { "user_id": victim, "reason": "test" } }))
        .send()
        .await
        .expect("ban own");
    assert_eq!(ban_own.status(), 200);
    let list = json(
        twitch
            .helix(&own, &format!("/moderation/banned?broadcaster_id={quiet}"))
            .send()
            .await
            .expect("list own"),
    )
    .await;
    assert_same_shape("banned_users.json", &fixture("banned_users.json"), &list);
    assert_eq!(list["data"][0]["user_id"], victim.as_str());
    assert_eq!(list["data"][0]["expires_at"], "");
    assert_eq!(list["data"][0]["moderator_login"], "quiet_streamer");
}

#[tokio::test]
async fn who_may_not_be_banned_and_bad_requests_are_refused() {
    let twitch = Twitch::start(world("")).await;
    let token = twitch.manage_token("mossy_mod").await;
    let human = &humans(&twitch, 1)[0];
    let status = |response: reqwest::Response| response.status().as_u16();

    let without_scope = twitch.user_token("mossy_mod").await;
    let refused = twitch
        .ban(&without_scope, MOSSY, json!({ "user_id": human }))
        .send()
        .await
        .expect("scope");
    assert_eq!(refused.status(), 401);
    assert_eq!(
        json(refused).await["message"],
        format!("Missing scope: {MANAGE}")
    );
    let stranger = twitch.manage_token("stranger").await;
    let not_moderator = twitch
        .ban(&stranger, "111111111", json!({ "user_id": human }))
        .send()
        .await
        .expect("stranger");
    assert_eq!(not_moderator.status(), 403);
    assert_eq!(
        json(not_moderator).await,
        fixture("error_403_not_moderator.json")
    );
    let someone_else = twitch.ban(&token, "111111111", json!({ "user_id": human }));
    assert_eq!(status(someone_else.send().await.expect("id")), 401);

    for protected in [CHANNEL, NIGHTBOT, MOSSY] {
        let answer = twitch
            .ban(&token, MOSSY, json!({ "user_id": protected }))
            .send()
            .await
            .expect("protected");
        assert_eq!(answer.status(), 400, "{protected}");
        let message = json(answer).await["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(
            message.contains("may not be banned"),
            "{protected}: {message}"
        );
    }
    let array = twitch
        .http
        .post(twitch.url(&format!(
            "/helix/moderation/bans?broadcaster_id={CHANNEL}&moderator_id={MOSSY}"
        )))
        .header("Client-Id", &twitch.client_id)
        .bearer_auth(&token)
        .json(&json!({ "data": [{ "user_id": human }] }))
        .send()
        .await
        .expect("array");
    assert_eq!(array.status(), 400);
    for data in [
        json!({ "user_id": human, "duration": 0 }),
        json!({ "user_id": human, "duration": 1_209_601 }),
        json!({ "user_id": human, "reason": "x".repeat(501) }),
        json!({ "user_id": "not-a-number" }),
        json!({}),
    ] {
        let answer = twitch
            .ban(&token, MOSSY, data.clone())
            .send()
            .await
            .expect("bad");
        assert_eq!(answer.status(), 400, "{data}");
    }
    // Nothing above banned anyone.
    assert!(banned_ids(&twitch.bans_truth("pixelbrookgames").await).is_empty());
}

#[tokio::test]
async fn the_per_broadcaster_limit_conflicts_and_lost_answers_behave_like_twitch() {
    let mut scenario = world("");
    scenario.rate_limit.bans_per_window = 3;
    let twitch = Twitch::start(scenario).await;
    let token = twitch.manage_token("mossy_mod").await;
    let people = humans(&twitch, 6);
    for user in &people[..3] {
        let ok = twitch
            .ban(&token, MOSSY, json!({ "user_id": user }))
            .send()
            .await
            .expect("ban");
        assert_eq!(ok.status(), 200);
    }
    let limited = twitch
        .ban(&token, MOSSY, json!({ "user_id": people[3] }))
        .send()
        .await
        .expect("limited");
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("ratelimit-remaining"));
    assert_eq!(
        banned_ids(&twitch.bans_truth("pixelbrookgames").await).len(),
        3
    );

    // A conflict changes nothing.
    let twitch = Twitch::start(world("[faults]\nban_conflict_rate = 1.0")).await;
    let token = twitch.manage_token("mossy_mod").await;
    let conflict = twitch
        .ban(&token, MOSSY, json!({ "user_id": people[4] }))
        .send()
        .await
        .expect("conflict");
    assert_eq!(conflict.status(), 409);
    assert!(banned_ids(&twitch.bans_truth("pixelbrookgames").await).is_empty());

    // A dropped connection loses the answer, not the ban: the retry is "already banned", and
    // the account was banned once.
    let twitch = Twitch::start(world("[faults]\ndrop_rate = 1.0")).await;
    let token = twitch.manage_token("mossy_mod").await;
    let lost = twitch
        .ban(&token, MOSSY, json!({ "user_id": people[5] }))
        .send()
        .await;
    let answered = match lost {
        Ok(response) => response.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!answered, "the answer should be lost");
    let truth = twitch.bans_truth("pixelbrookgames").await;
    assert_eq!(banned_ids(&truth), vec![people[5].clone()]);
    twitch
        .http
        .post(twitch.url("/_fake/faults"))
        .json(&json!({}))
        .send()
        .await
        .expect("faults off");
    let retry = twitch
        .ban(&token, MOSSY, json!({ "user_id": people[5] }))
        .send()
        .await
        .expect("retry");
    assert_eq!(retry.status(), 400);
    assert_eq!(json(retry).await, fixture("error_400_already_banned.json"));
    let truth = twitch.bans_truth("pixelbrookgames").await;
    assert_eq!(truth["counts"][people[5].as_str()]["bans"], 1);
}
