//! Scenarios shared by the tests.

use tca_twitch_fake::Scenario;

pub const MOD_ID: &str = "538211094";

/// mossy_mod moderates `channel` (live) with the given audience TOML; a stranger moderates
/// nothing; pixelbrookgames is another live channel.
pub fn world(channel_audience: &str) -> Scenario {
    Scenario::parse(&format!(
        r#"
seed = 5
now = "2026-01-01T00:00:00Z"
[app]
client_id = "stack-client"
client_secret = "stack-secret"
redirect_uris = ["http://localhost:8080/auth/callback"]
[[users]]
login = "mossy_mod"
id = "{MOD_ID}"
[[users]]
login = "stranger"
id = "111111111"
[[channels]]
login = "pixelbrookgames"
id = "771043215"
moderators = ["mossy_mod"]
live = true
viewer_count = 300
[channels.audience]
humans = 30
lurkers = 3
[[channels]]
login = "watched"
id = "900000001"
moderators = ["mossy_mod"]
live = true
viewer_count = 8000
title = "Watched channel"
game = "Chess"
[channels.audience]
{channel_audience}
"#
    ))
    .expect("scenario")
}

/// An audience with a wave: `wave` accounts created within two hours of 2024-03-14, named
/// `brook_fan` + digits, default profiles, present in every capture.
pub fn wave_audience(humans: u32, churn: f64, lurkers: u32, wave: u32) -> String {
    format!(
        r#"humans = {humans}
churn = {churn:?}
lurkers = {lurkers}
[[channels.audience.cohorts]]
name = "wave"
size = {wave}
created_from = "2024-03-14T02:10:00Z"
created_within = "2h"
login_pattern = "prefix_digits"
prefix = "brook_fan"
presence = "always""#
    )
}

/// Nightbot (its real Twitch id) moderating and sitting in the chat of `channel`.
pub fn with_nightbot(mut scenario: Scenario, channel: &str) -> Scenario {
    scenario.chat_bots.push(tca_twitch_fake::scenario::User {
        login: "nightbot".into(),
        display_name: Some("Nightbot".into()),
        id: Some("19264788".into()),
        created_at: None,
        description: None,
    });
    for c in scenario.channels.iter_mut().filter(|c| c.login == channel) {
        c.chat_bots.push("nightbot".into());
    }
    scenario
}
