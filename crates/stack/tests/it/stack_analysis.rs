use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use sqlx::MySqlPool;
use tca_stack::{INTERNAL_TOKEN, Options, Stack};
use tca_twitch_fake::World;

use crate::stack_worlds::{wave_audience, world};

async fn analysis(stack: &Stack, session: u64, path: &str) -> Value {
    serde_json::from_str(&analysis_text(stack, session, path).await).expect("json")
}

/// What the analysis service answers to `path` (a view or an export), as text.
async fn analysis_text(stack: &Stack, session: u64, path: &str) -> String {
    reqwest::Client::new()
        .get(format!(
            "http://{}/v1/sessions/{session}/{path}",
            stack.analysis
        ))
        .bearer_auth(INTERNAL_TOKEN)
        .send()
        .await
        .expect("analysis")
        .error_for_status()
        .expect("200")
        .text()
        .await
        .expect("text")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_wave_is_the_top_day_and_the_score_separates_the_cohort_from_the_humans(
    pool: MySqlPool,
) {
    let scenario = world(&wave_audience(4700, 0.12, 350, 300));
    let truth = World::generate(&scenario, scenario.seed).truth(0);
    let cohort: HashSet<&str> = truth
        .accounts
        .iter()
        .filter(|a| a.cohort.as_deref() == Some("wave"))
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(cohort.len(), 300);

    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel) = stack
        .session_with_channel(user, "watched")
        .await
        .expect("session");
    for _ in 0..3 {
        stack
            .capture_done(channel, user, Duration::from_secs(60))
            .await
            .expect("capture done");
    }
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");
    stack
        .enrich_now(Duration::from_secs(60))
        .await
        .expect("enriched");

    let summary = analysis(&stack, session, "summary").await;
    assert_eq!(summary["captures"], 3);
    assert_eq!(summary["enriched_share"], 1.0, "{summary}");

    // The wave is the top creation day, and its excess is the cohort.
    let top = analysis(&stack, session, "top-days").await;
    let first = &top["days"][0];
    assert_eq!(first["day"], "2024-03-14", "{top}");
    assert_eq!(first["burst"], true);
    let excess = first["excess"].as_f64().expect("excess");
    assert!((295.0..=305.0).contains(&excess), "excess {excess}");
    let day = analysis(&stack, session, "days/2024-03-14/accounts?per_page=500").await;
    let that_day: HashSet<String> = day["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["twitch_user_id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        cohort.iter().all(|id| that_day.contains(*id)),
        "the day's accounts include the whole wave"
    );
    let hours = analysis(&stack, session, "histogram/hours?day=2024-03-14").await;
    let in_window: u64 = hours["hours"].as_array().expect("hours")[2..=4]
        .iter()
        .map(|h| h.as_u64().unwrap_or(0))
        .sum();
    assert!(in_window >= 300, "created between 02:10 and 04:10: {hours}");

    // Recall and false positives of the flag, against the truth.
    let accounts = analysis(&stack, session, "accounts?per_page=500&flagged=true").await;
    let flagged_total = accounts["total"].as_u64().expect("total");
    let mut flagged: Vec<String> = Vec::new();
    let pages = flagged_total.div_ceil(500);
    for page in 1..=pages {
        let list = analysis(
            &stack,
            session,
            &format!("accounts?per_page=500&flagged=true&page={page}"),
        )
        .await;
        flagged.extend(
            list["accounts"]
                .as_array()
                .expect("accounts")
                .iter()
                .map(|a| a["twitch_user_id"].as_str().expect("id").to_string()),
        );
    }
    let all = summary["accounts"].as_u64().expect("accounts") as usize;
    let true_positives = flagged
        .iter()
        .filter(|id| cohort.contains(id.as_str()))
        .count();
    let false_positives = flagged.len() - true_positives;
    let humans = all - cohort.len();
    let recall = true_positives as f64 / cohort.len() as f64;
    let false_positive_rate = false_positives as f64 / humans as f64;
    println!(
        "wave of 300 among {humans} others: flagged {} — recall {recall:.3}, false-positive rate {false_positive_rate:.4} ({false_positives} humans)",
        flagged.len()
    );
    if std::env::var_os("SHOW_FALSE_POSITIVES").is_some() {
        for page in 1..=pages {
            let list = analysis(
                &stack,
                session,
                &format!("accounts?per_page=500&flagged=true&page={page}"),
            )
            .await;
            for a in list["accounts"].as_array().expect("accounts") {
                if !cohort.contains(a["twitch_user_id"].as_str().unwrap_or("")) {
                    let codes: Vec<&str> = a["reasons"]
                        .as_array()
                        .expect("r")
                        .iter()
                        .map(|r| r["code"].as_str().unwrap_or(""))
                        .collect();
                    println!(
                        "false positive {} score {} {:?} created {}",
                        a["login"], a["score"], codes, a["created_at"]
                    );
                }
            }
        }
    }
    assert!(recall >= 0.95, "recall {recall}");
    assert!(
        false_positive_rate <= 0.01,
        "false-positive rate {false_positive_rate}"
    );

    // The wave is the first cohort: a bot cohort holding every one of its accounts and
    // hardly anyone else, with its evidence in numbers; its accounts come paged.
    let cohorts = analysis(&stack, session, "cohorts").await;
    let first = &cohorts["cohorts"][0];
    assert_eq!(first["kind"], "bot", "{cohorts}");
    assert!(
        first["strength"].as_u64().expect("strength") >= 50,
        "{first}"
    );
    let evidence = first["evidence"].as_str().expect("evidence");
    assert!(evidence.contains("created Mar 14, 2024"), "{evidence}");
    let cohort_id = first["cohort_id"].as_u64().expect("id");
    let size = first["size"].as_u64().expect("size");
    let mut members: HashSet<String> = HashSet::new();
    for page in 1..=size.div_ceil(500) {
        let list = analysis(
            &stack,
            session,
            &format!("cohorts/{cohort_id}/accounts?per_page=500&page={page}"),
        )
        .await;
        assert_eq!(list["total"], size);
        for a in list["accounts"].as_array().expect("accounts") {
            assert_eq!(a["cohort_id"], cohort_id, "{a}");
            members.insert(a["twitch_user_id"].as_str().expect("id").to_string());
        }
    }
    assert!(
        cohort.iter().all(|id| members.contains(*id)),
        "the whole wave"
    );
    let strangers = members.len() - cohort.len();
    assert!(
        strangers as f64 <= 0.01 * humans as f64,
        "{strangers} humans in the wave's cohort"
    );
    // The cohorts export holds the same cohorts, in the same order, as the list.
    let exported = analysis_text(&stack, session, "export/cohorts.csv").await;
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    let exported_ids: Vec<u64> = reader
        .records()
        .map(|r| r.expect("row")[0].parse().expect("id"))
        .collect();
    let listed_ids: Vec<u64> = cohorts["cohorts"]
        .as_array()
        .expect("cohorts")
        .iter()
        .map(|c| c["cohort_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(exported_ids, listed_ids);
    for (path, status) in [
        ("cohorts/abc/accounts", 400),
        ("cohorts/999999999/accounts", 404),
    ] {
        let response = reqwest::Client::new()
            .get(format!(
                "http://{}/v1/sessions/{session}/{path}",
                stack.analysis
            ))
            .bearer_auth(INTERNAL_TOKEN)
            .send()
            .await
            .expect("analysis");
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: Value = response.json().await.expect("a JSON error");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("cohort")),
            "{body}"
        );
    }

    // Every flagged account explains itself.
    let top_account = &accounts["accounts"][0];
    let codes: HashSet<&str> = top_account["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains("cohort"), "{top_account}");

    // The accounts export is streamed from the database, scored as it goes: it must agree,
    // account by account, with the cached population the pages use.
    let mut scores: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for page in 1..=(all as u64).div_ceil(500) {
        let list = analysis(
            &stack,
            session,
            &format!("accounts?per_page=500&page={page}"),
        )
        .await;
        for a in list["accounts"].as_array().expect("accounts") {
            scores.insert(
                a["twitch_user_id"].as_str().expect("id").to_string(),
                a["score"].as_u64().expect("score"),
            );
        }
    }
    let csv = analysis_text(&stack, session, "export/accounts.csv").await;
    let mut exported = 0;
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let id = cells[0];
        let score: u64 = cells[13].parse().expect("score");
        assert_eq!(scores.get(id), Some(&score), "{line}");
        exported += 1;
    }
    assert_eq!(exported, all);
}
