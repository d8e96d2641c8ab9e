//! A fake built from the fixtures' world, and a client that speaks to it like an app would.

use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use tca_twitch_fake::{RunningFake, Scenario};

pub const CLIENT_ID: &str = "p0a9s8d7f6g5h4j3k2l1z0x9c8v7bn";
pub const CLIENT_SECRET: &str = "s3cr3t-for-tests";
pub const REDIRECT: &str = "http://localhost:8787/auth/callback";
pub const SCOPES: &[&str] = &["moderator:read:chatters", "user:read:moderated_channels"];

/// The world of shared/twitch-fixtures: mossy_mod moderates pixelbrookgames (live),
/// saltmarsh_radio and deepseabuilds (offline).
pub fn fixture_world(extra: &str) -> Scenario {
    Scenario::parse(&format!(
        r#"
seed = 7
now = "2026-01-01T00:00:00Z"
[app]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_uris = ["{REDIRECT}"]
[[users]]
login = "mossy_mod"
display_name = "Mossy_Mod"
id = "538211094"
created_at = "2019-04-02T17:45:10Z"
description = "Night-shift moderator. Be kind in chat."
[[users]]
login = "stranger"
id = "111111111"
[[users]]
login = "quiet_streamer"
id = "222222222"
[[channels]]
login = "pixelbrookgames"
display_name = "PixelBrookGames"
id = "771043215"
moderators = ["mossy_mod"]
live = true
viewer_count = 214
title = "Year 3 winter prep | !discord"
game = "Stardew Valley"
[channels.audience]
humans = 40
churn = 0.25
lurkers = 5
renamers = 1
rename_at_listing = 2
suspended = 1
suspend_at_listing = 2
[[channels]]
login = "saltmarsh_radio"
display_name = "SaltMarsh_Radio"
id = "348812077"
moderators = ["mossy_mod"]
[[channels]]
login = "deepseabuilds"
display_name = "DeepSeaBuilds"
id = "604417731"
moderators = ["mossy_mod"]
[[channels]]
login = "quiet_streamer"
{extra}
"#
    ))
    .expect("valid scenario")
}

pub struct Twitch {
    pub fake: RunningFake,
    pub http: Client,
    /// The scenario's app: Helix checks that tokens belong to it.
    pub client_id: String,
    pub client_secret: String,
}

impl Twitch {
    pub async fn start(scenario: Scenario) -> Self {
        let client_id = scenario.app.client_id.clone();
        let client_secret = scenario.app.client_secret.clone();
        let fake = RunningFake::spawn(scenario, None)
            .await
            .expect("fake starts");
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            fake,
            http,
            client_id,
            client_secret,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.fake.url(path)
    }

    /// A user token pair minted through the control API.
    pub async fn user_tokens(&self, login: &str, scopes: &[&str]) -> Value {
        let response = self
            .http
            .post(self.url("/_fake/tokens"))
            .json(&serde_json::json!({ "login": login, "scopes": scopes }))
            .send()
            .await
            .expect("mint");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    pub async fn user_token(&self, login: &str) -> String {
        self.user_tokens(login, SCOPES).await["access_token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    pub async fn app_token(&self) -> String {
        let body: Value = self
            .http
            .post(self.url("/oauth2/token"))
            .form(&[
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// A Helix GET with both headers Twitch requires.
    pub fn helix(&self, token: &str, path_and_query: &str) -> RequestBuilder {
        self.http
            .get(self.url(&format!("/helix{path_and_query}")))
            .header("Client-Id", &self.client_id)
            .bearer_auth(token)
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/_fake{path}")))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.expect("json")
    }

    /// Pages through a channel's chatters; returns (ids in order, pages, total of page 1).
    pub async fn all_chatters(
        &self,
        token: &str,
        broadcaster: &str,
        moderator: &str,
        first: u32,
    ) -> (Vec<String>, u32, u64) {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        let mut total = 0;
        loop {
            let mut query = format!(
                "/chat/chatters?broadcaster_id={broadcaster}&moderator_id={moderator}&first={first}"
            );
            if let Some(c) = &cursor {
                query.push_str(&format!("&after={c}"));
            }
            let response = self.helix(token, &query).send().await.expect("chatters");
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("json");
            pages += 1;
            if pages == 1 {
                total = body["total"].as_u64().expect("total");
            }
            for chatter in body["data"].as_array().expect("data") {
                ids.push(chatter["user_id"].as_str().expect("id").to_string());
            }
            match body["pagination"]["cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        (ids, pages, total)
    }
}

pub async fn json(response: Response) -> Value {
    response.json().await.expect("json body")
}

pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
