//! The monitoring that ships (deploy/): every metric the Grafana dashboard and the alert rules
//! query is one the services really export, seen in their `/metrics` after real work.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_worlds::world;

/// Metric names in a PromQL expression: identifiers that are not functions, keywords, label
/// names (inside `{}` or `by (…)`), durations or Prometheus' own `up`.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let mut cleaned = String::new();
    let mut depth_braces = 0;
    for c in expr.chars() {
        match c {
            '{' => depth_braces += 1,
            '}' => depth_braces -= 1,
            _ if depth_braces > 0 => {}
            _ => cleaned.push(c),
        }
    }
    // Drop `by (…)` / `without (…)` groupings and `[5m]` ranges.
    for keyword in ["by", "without"] {
        while let Some(at) = find_word(&cleaned, keyword) {
            let end = cleaned[at..]
                .find(')')
                .map_or(cleaned.len(), |e| at + e + 1);
            cleaned.replace_range(at..end, " ");
        }
    }
    while let (Some(open), Some(close)) = (cleaned.find('['), cleaned.find(']')) {
        cleaned.replace_range(open..=close, " ");
    }
    let keywords = [
        "or", "and", "unless", "on", "ignoring", "bool", "offset", "up",
    ];
    let mut names = BTreeSet::new();
    let chars: Vec<char> = cleaned.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            // A number, exponent included (`1e-9`), is not a name.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if chars[i].is_ascii_alphabetic() || chars[i] == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if next != Some(&'(') && !keywords.contains(&word.as_str()) {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().last();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn shipped_queries(root: &Path) -> Vec<(String, String)> {
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("deploy/grafana/dashboards/tca.json"))
            .expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push((
                format!("panel '{}'", panel["title"].as_str().unwrap_or("")),
                target["expr"].as_str().expect("expr").to_string(),
            ));
        }
    }
    let alerts =
        std::fs::read_to_string(root.join("deploy/prometheus/alerts.yml")).expect("alerts");
    let mut alert = String::new();
    for line in alerts.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("- alert: ") {
            alert = name.to_string();
        } else if let Some(expr) = line.strip_prefix("expr: ") {
            queries.push((format!("alert {alert}"), expr.to_string()));
        }
    }
    queries
}

#[test]
fn the_query_parser_finds_metrics_and_nothing_else() {
    assert_eq!(
        metrics_in(
            r#"histogram_quantile(0.95, sum by (le, kind) (rate(job_duration_seconds_bucket{kind="x"}[5m])))"#
        ),
        BTreeSet::from(["job_duration_seconds_bucket".to_string()])
    );
    assert_eq!(
        metrics_in(
            "sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 0.25 or up == 0"
        ),
        BTreeSet::from(["a_total".to_string(), "b_total".to_string()])
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn every_dashboard_panel_and_alert_queries_a_metric_the_services_export(pool: MySqlPool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let queries = shipped_queries(&root);
    assert!(
        queries.len() >= 20,
        "dashboard targets and alert rules: {}",
        queries.len()
    );

    // Real work: a capture, its enrichment under a bucket small enough to make it wait.
    // A 3-call bucket refilled every 300 ms (Twitch's is 800 a minute): enrichment waits.
    let scenario = world("humans = 1000\n[rate_limit]\npoints_per_minute = 3\nwindow = \"300ms\"");
    let stack = Stack::start(
        pool.clone(),
        scenario,
        Options {
            twitch: Box::new(|t| {
                t.rate_limit = 3;
                t.rate_window = Duration::from_millis(300);
            }),
            ..Options::default()
        },
    )
    .await
    .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (_, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    stack
        .capture_done(channel, user, Duration::from_secs(60))
        .await
        .expect("capture done");
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");
    let http = reqwest::Client::new();
    let _ = http.get(format!("{}/", stack.public_url)).send().await;

    // What the services expose (in this process they share one registry; each serves it).
    let mut exported = BTreeSet::new();
    for addr in [stack.gateway, stack.twitch_api, stack.analysis] {
        let text = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            exported.insert(name.to_string());
        }
    }
    let mut missing = Vec::new();
    for (place, expr) in &queries {
        for metric in metrics_in(expr) {
            if !exported.contains(&metric) {
                missing.push(format!("{place}: {metric}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "queried but not exported: {missing:#?}\nexported: {exported:?}"
    );
}
