//! A running stack: twitch-fake, twitch-api on a test database, and the typed client.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_common::bootstrap::Service;
use tca_common::config::{DatabaseUrl, Secret};
use tca_common::db::DatabaseConfig;
use tca_common::sealing::Sealer;
use tca_common::testing::database_url_of;
use tca_common::twitch_api::{AuthorizedUser, SCOPES, TwitchApiClient};
use tca_twitch_api::TwitchApi;
use tca_twitch_api::config::{Config, TwitchConfig};
use tca_twitch_fake::{RunningFake, Scenario};
use tokio_util::sync::CancellationToken;

pub const INTERNAL_TOKEN: &str = "test-internal-token-0123456789abcdef0123456789";
pub const SEAL_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
pub const REDIRECT: &str = "http://localhost:8080/auth/callback";
/// The EventSub secret twitch-api verifies messages with in these tests.
pub const EVENTSUB_SECRET: &str = "test-eventsub-secret-0123456789";

/// The fixtures' world (see twitch-fake's tests) plus `extra` TOML appended at the end.
pub fn world(extra: &str) -> Scenario {
    Scenario::parse(&format!(
        r#"
seed = 11
now = "2026-01-01T00:00:00Z"
[app]
client_id = "tca-test-client"
client_secret = "tca-test-secret"
redirect_uris = ["{REDIRECT}"]
[[users]]
login = "mossy_mod"
display_name = "Mossy_Mod"
id = "538211094"
[[users]]
login = "stranger"
id = "111111111"
[[channels]]
login = "mossy_mod"
[[channels]]
login = "pixelbrookgames"
id = "771043215"
moderators = ["mossy_mod"]
live = true
viewer_count = 214
title = "Year 3"
game = "Stardew Valley"
[channels.audience]
humans = 40
lurkers = 5
[[channels]]
login = "saltmarsh_radio"
id = "348812077"
moderators = ["mossy_mod"]
{extra}
"#
    ))
    .expect("scenario")
}

pub struct Stack {
    pub fake: RunningFake,
    pub api: SocketAddr,
    pub client: TwitchApiClient,
    pub http: reqwest::Client,
    stop: CancellationToken,
}

impl Stack {
    pub async fn start(
        pool: MySqlPool,
        scenario: Scenario,
        tweak: impl FnOnce(&mut TwitchConfig),
    ) -> Self {
        tca_common::telemetry::init_test_logging();
        let client_id = scenario.app.client_id.clone();
        let client_secret = scenario.app.client_secret.clone();
        let fake = RunningFake::spawn(scenario, None).await.expect("fake");
        let url = database_url_of(&pool).await;
        let mut twitch = TwitchConfig {
            client_id,
            client_secret: Secret::new(client_secret),
            auth_url: url::Url::parse(&fake.url("")).expect("url"),
            helix_url: url::Url::parse(&fake.url("/helix")).expect("url"),
            request_timeout: Duration::from_secs(5),
            max_retries: 8,
            rate_limit: 800,
            rate_window: Duration::from_secs(60),
            lookup_concurrency: 4,
            channels_cache_ttl: Duration::from_secs(60),
        };
        tweak(&mut twitch);
        let config = Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: DatabaseConfig::for_url(DatabaseUrl::parse(&url).expect("db url")),
            internal_token: Secret::new(INTERNAL_TOKEN),
            sealer: Sealer::from_base64_key(SEAL_KEY).expect("key"),
            twitch,
            eventsub: Some(tca_twitch_api::eventsub::EventSubConfig {
                secret: Secret::new(EVENTSUB_SECRET),
                callback: url::Url::parse("https://mod.example.com/eventsub/callback")
                    .expect("url"),
            }),
        };
        let service = TwitchApi::build(config).await.expect("twitch-api builds");
        let api = service.local_addr().expect("addr");
        let stop = CancellationToken::new();
        tokio::spawn(service.run(stop.clone()));
        let client = TwitchApiClient::new(
            url::Url::parse(&format!("http://{api}/")).expect("url"),
            Secret::new(INTERNAL_TOKEN),
        )
        .expect("client");
        Self {
            fake,
            api,
            client,
            http: reqwest::Client::new(),
            stop,
        }
    }

    /// Logs `login` in the way the gateway will: a code from the consent flow, exchanged.
    pub async fn authorize(&self, login: &str) -> AuthorizedUser {
        self.authorize_with(login, SCOPES).await
    }

    /// `authorize`, granting `scopes`.
    pub async fn authorize_with(&self, login: &str, scopes: &[&str]) -> AuthorizedUser {
        let code: Value = self
            .http
            .post(self.fake.url("/_fake/codes"))
            .json(&json!({"login": login, "scopes": scopes, "redirect_uri": REDIRECT}))
            .send()
            .await
            .expect("code")
            .json()
            .await
            .expect("json");
        self.client
            .exchange(code["code"].as_str().expect("code"), REDIRECT)
            .await
            .expect("exchange")
    }

    pub async fn fake_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.fake.url(path))
            .json(&body)
            .send()
            .await
            .expect("fake");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("json")
    }

    pub async fn fake_get(&self, path: &str) -> Value {
        self.http
            .get(self.fake.url(path))
            .send()
            .await
            .expect("fake")
            .json()
            .await
            .expect("json")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
