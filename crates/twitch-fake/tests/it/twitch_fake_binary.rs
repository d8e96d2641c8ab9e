use std::collections::HashMap;
use std::time::Duration;

use tca_common::testing::{
    ChildService, assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly, free_addr,
};

const BINARY: &str = env!("CARGO_BIN_EXE_twitch-fake");

fn demo_scenario() -> String {
    format!("{}/../../scenarios/demo.toml", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm() {
    let scenario = demo_scenario();
    assert_binary_serves_and_stops_cleanly(
        BINARY,
        "TWITCH_FAKE_ADDR",
        &[("TWITCH_FAKE_SCENARIO", &scenario)],
    )
    .await;
}

#[test]
fn binary_without_a_scenario_exits_non_zero_naming_it() {
    assert_binary_refuses_config(
        BINARY,
        &[("TWITCH_FAKE_ADDR", "8900")],
        &[
            "TWITCH_FAKE_SCENARIO is missing (or pass --scenario FILE)",
            "TWITCH_FAKE_ADDR is not a socket address like 127.0.0.1:8080: '8900'",
        ],
    );
}

#[test]
fn binary_reports_an_invalid_scenario() {
    let dir = std::env::temp_dir().join(format!("tca-fake-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[app]\nclient_id = \"x\"\nclient_secret = \"y\"\nredirect_uris = []\ncolour = 1\n",
    )
    .expect("write");
    let path = path.to_string_lossy().to_string();
    assert_binary_refuses_config(
        BINARY,
        &[("TWITCH_FAKE_SCENARIO", &path)],
        &["is not valid", "colour"],
    );
}

#[test]
fn truth_prints_the_demo_ground_truth() {
    let output = std::process::Command::new(BINARY)
        .args(["truth", "--scenario", &demo_scenario(), "--listings", "1"])
        .output()
        .expect("run truth");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let truth: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let accounts = truth["accounts"].as_array().expect("accounts");
    assert!(accounts.len() > 5000);
    for key in ["id", "login", "cohort", "renames", "suspended"] {
        assert!(accounts[0].get(key).is_some(), "accounts lack {key}");
    }
    let channels = truth["channels"].as_array().expect("channels");
    let logins: Vec<&str> = channels
        .iter()
        .map(|c| c["login"].as_str().expect("login"))
        .collect();
    assert_eq!(
        logins,
        [
            "pixelbrookgames",
            "saltmarsh_radio",
            "deepseabuilds",
            "demo_mod"
        ]
    );
    for key in ["id", "moderators", "audience"] {
        assert!(channels[0].get(key).is_some(), "channels lack {key}");
    }
}

/// Reads a process's resident memory (kB) from /proc.
fn rss_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("rss field")
}

#[tokio::test]
async fn serving_a_100k_chatter_channel_page_by_page_keeps_memory_flat() {
    let dir = std::env::temp_dir().join(format!("tca-fake-100k-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("big.toml");
    std::fs::write(
        &path,
        r#"
[app]
client_id = "c"
client_secret = "s"
redirect_uris = ["http://localhost/cb"]
[[users]]
login = "mod"
[[channels]]
login = "huge"
moderators = ["mod"]
live = true
[channels.audience]
humans = 100000
churn = 0.05
"#,
    )
    .expect("write");
    let addr = free_addr();
    let env = HashMap::from([
        ("TWITCH_FAKE_ADDR".to_string(), addr.to_string()),
        (
            "TWITCH_FAKE_SCENARIO".to_string(),
            path.to_string_lossy().to_string(),
        ),
        ("LOG_FORMAT".to_string(), "json".to_string()),
    ]);
    let mut fake = ChildService::spawn(BINARY, addr, &env);
    fake.wait_ready(Duration::from_secs(60)).await;
    let pid = fake.child.id();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(fake.url("/_fake/tokens"))
        .json(&serde_json::json!({"login": "mod", "scopes": ["moderator:read:chatters"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_string();
    let me: serde_json::Value = http
        .get(fake.url("/helix/users"))
        .header("Client-Id", "c")
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let mod_id = me["data"][0]["id"].as_str().expect("id").to_string();
    let huge: serde_json::Value = http
        .get(fake.url("/helix/users?login=huge"))
        .header("Client-Id", "c")
        .bearer_auth(&token)
        .send()
        .await
        .expect("huge")
        .json()
        .await
        .expect("json");
    let huge_id = huge["data"][0]["id"].as_str().expect("id").to_string();

    let mut after_pass = Vec::new();
    let started_kb = rss_kb(pid, "VmRSS:");
    for _pass in 0..3 {
        let mut cursor: Option<String> = None;
        let mut seen = 0usize;
        loop {
            let mut url = fake.url(&format!(
                "/helix/chat/chatters?broadcaster_id={huge_id}&moderator_id={mod_id}&first=1000"
            ));
            if let Some(c) = &cursor {
                url.push_str(&format!("&after={c}"));
            }
            let page: serde_json::Value = http
                .get(url)
                .header("Client-Id", "c")
                .bearer_auth(&token)
                .send()
                .await
                .expect("page")
                .json()
                .await
                .expect("json");
            seen += page["data"].as_array().expect("data").len();
            match page["pagination"]["cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert!(seen > 90_000, "a whole listing: {seen}");
        after_pass.push(rss_kb(pid, "VmRSS:"));
    }
    let peak_kb = rss_kb(pid, "VmHWM:");
    println!(
        "twitch-fake RSS with a 100k-chatter channel: {started_kb} kB ready, after passes {after_pass:?} kB, peak {peak_kb} kB"
    );
    // Later passes add nothing that grows with the number of pages served.
    let growth = after_pass[2].saturating_sub(after_pass[0]);
    assert!(
        growth < 16 * 1024,
        "RSS grew {growth} kB between pass 1 and pass 3"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
