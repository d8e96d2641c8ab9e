//! Scenario format version 2: what each new field produces is what truth says, and version 1
//! files still load.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tca_twitch_fake::{Scenario, World};

/// A world with one live channel `home` whose audience is `audience` (TOML of
/// `[channels.audience]` and its cohorts), "now" on 2026-11-30.
fn world(audience: &str) -> Value {
    let scenario = Scenario::parse(&format!(
        r#"
seed = 11
now = "2026-11-30T00:00:00Z"
[app]
client_id = "c"
client_secret = "s"
redirect_uris = ["http://localhost/cb"]
[[users]]
login = "mod"
[[channels]]
login = "home"
moderators = ["mod"]
live = true
[channels.audience]
{audience}
"#
    ))
    .expect("valid scenario");
    serde_json::to_value(World::generate(&scenario, scenario.seed).truth(8)).expect("truth")
}

fn cohort<'a>(truth: &'a Value, name: &str) -> Vec<&'a Value> {
    truth["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["cohort"] == name)
        .collect()
}

/// For each of the 8 listings of `home`, how many of these accounts were in it.
fn presence(truth: &Value, accounts: &[&Value]) -> Vec<usize> {
    let ids: BTreeSet<&str> = accounts
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    truth["channels"][0]["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|listing| {
            listing
                .as_array()
                .expect("ids")
                .iter()
                .filter(|id| ids.contains(id.as_str().expect("id")))
                .count()
        })
        .collect()
}

#[test]
fn a_drip_cohort_is_created_in_daily_batches_within_its_hours() {
    let truth = world(
        r#"humans = 20
[[channels.audience.cohorts]]
name = "drip"
created_from = "-12d"
drip = { days = 5, per_day = 8, hours = "02:00-05:00", jitter = "10m" }
"#,
    );
    let drip = cohort(&truth, "drip");
    assert_eq!(drip.len(), 40, "5 days × 8");
    let mut per_day: BTreeMap<String, usize> = BTreeMap::new();
    for account in &drip {
        let created = account["created_at"].as_str().expect("created");
        *per_day.entry(created[..10].to_string()).or_default() += 1;
        let hour: u32 = created[11..13].parse().expect("hour");
        let minute: u32 = created[14..16].parse().expect("minute");
        let minutes = hour * 60 + minute;
        assert!(
            (110..=310).contains(&minutes),
            "{created} outside 02:00-05:00 ± 10 min"
        );
    }
    assert_eq!(
        per_day,
        BTreeMap::from(
            [
                "2026-11-18",
                "2026-11-19",
                "2026-11-20",
                "2026-11-21",
                "2026-11-22"
            ]
            .map(|d| (d.to_string(), 8))
        ),
        "relative to now (-12d), one batch a day"
    );
    assert!(drip.iter().all(|a| a["kind"] == "bot"));
}

#[test]
fn a_together_cohort_comes_and_goes_as_one_an_independent_one_does_not() {
    let truth = world(
        r#"humans = 10
[[channels.audience.cohorts]]
name = "viewbots"
size = 30
created_from = "-40d"
created_within = "2h"
probability = 0.5
together = true
[[channels.audience.cohorts]]
name = "people"
kind = "legit"
size = 30
created_from = "-40d"
created_within = "1d"
probability = 0.5
together = false
"#,
    );
    let together = presence(&truth, &cohort(&truth, "viewbots"));
    assert!(together.iter().all(|&n| n == 0 || n == 30), "{together:?}");
    assert!(
        together.contains(&0) && together.contains(&30),
        "{together:?}"
    );
    let independent = presence(&truth, &cohort(&truth, "people"));
    assert!(
        independent.iter().all(|&n| n > 0 && n < 30),
        "{independent:?}"
    );
    assert!(
        cohort(&truth, "people")
            .iter()
            .all(|a| a["kind"] == "legit")
    );
    let humans = truth["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["cohort"].is_null());
    assert!(humans.into_iter().all(|a| a["kind"] == "human"));
}

#[test]
fn arrivals_departures_offline_presence_renames_and_suspensions_follow_the_schedule() {
    let truth = world(
        r#"humans = 10
[[channels.audience.cohorts]]
name = "raid"
kind = "legit"
size = 20
created_like_humans = true
logins = { human = 1.0 }
display_names = "case"
custom_avatar = 1.0
bio = 1.0
arrive_at_listing = 3
leave_at_listing = 6
[[channels.audience.cohorts]]
name = "offline"
size = 10
created_from = "2024-03-14T02:00:00Z"
created_within = "1h"
presence = "offline_only"
[[channels.audience.cohorts]]
name = "followbots"
size = 40
created_from = "-7mo"
created_within = "1d"
logins = { stem_digits = 0.5, word_word = 0.5 }
rename_at_listing = 4
rename_share = 0.5
suspend_at_listing = 5
suspend_share = 0.25
"#,
    );
    let raid = cohort(&truth, "raid");
    assert_eq!(presence(&truth, &raid), [0, 0, 20, 20, 20, 0, 0, 0]);
    assert!(
        raid.iter()
            .all(|a| a["default_avatar"] == false && a["empty_bio"] == false)
    );
    assert!(
        raid.iter().any(|a| a["display_name"] != a["login"]),
        "case-styled display names"
    );
    // The channel is live in every listing: an offline-only cohort never shows.
    assert_eq!(presence(&truth, &cohort(&truth, "offline")), [0; 8]);
    let followbots = cohort(&truth, "followbots");
    assert!(followbots.iter().all(|a| {
        a["created_at"]
            .as_str()
            .expect("t")
            .starts_with("2026-05-04")
    }));
    let renamed = followbots
        .iter()
        .filter(|a| !a["renames"].as_array().expect("renames").is_empty())
        .count();
    let suspended = followbots
        .iter()
        .filter(|a| a["suspended_from_listing"] == 5)
        .count();
    assert!(
        (12..=28).contains(&renamed),
        "about half of 40 renamed: {renamed}"
    );
    assert!(
        (3..=18).contains(&suspended),
        "about a quarter of 40 suspended: {suspended}"
    );
    let styles: BTreeSet<bool> = followbots
        .iter()
        .map(|a| {
            a["login"]
                .as_str()
                .expect("login")
                .ends_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    assert_eq!(styles.len(), 2, "both login styles drawn");
    // Present in listings 1-4, then the suspended quarter is gone.
    let seen = presence(&truth, &followbots);
    assert_eq!(seen[..4], [40, 40, 40, 40]);
    assert_eq!(seen[4], 40 - suspended);
}

#[test]
fn version_1_scenarios_still_load_and_bad_version_2_fields_are_refused() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/demo.toml");
    let scenario = Scenario::load(&demo).expect("the demo scenario (version 1) loads");
    let truth = World::generate(&scenario, scenario.seed).truth(0);
    assert!(truth.accounts.iter().any(|a| a.kind == "bot"));
    let parse = |cohort: &str| {
        Scenario::parse(&format!(
            r#"
[app]
client_id = "c"
client_secret = "s"
redirect_uris = ["http://localhost/cb"]
[[channels]]
login = "home"
[[channels.audience.cohorts]]
name = "x"
{cohort}
"#
        ))
        .expect_err("refused")
    };
    for (cohort, says) in [
        (
            "size = 10\ncreated_from = \"-3d\"\ndrip = { days = 2, per_day = 3 }",
            "size must equal",
        ),
        (
            "size = 3\ncreated_from = \"-3d\"\ncreated_within = \"1d\"\nlogins = { human = 0.5 }",
            "add up to 1",
        ),
        ("size = 3\ncreated_within = \"1d\"", "created_from"),
        (
            "size = 3\ncreated_from = \"yesterday\"\ncreated_within = \"1d\"",
            "is not a time",
        ),
        (
            "size = 3\ncreated_from = \"-3d\"\ncreated_within = \"1d\"\narrive_at_listing = 4\nleave_at_listing = 2",
            "after arrive",
        ),
        (
            "size = 3\ncreated_from = \"-3d\"\ncreated_within = \"1d\"\ndrip = { days = 1, per_day = 3, hours = \"5-2\" }",
            "created_from with",
        ),
    ] {
        let err = parse(cohort);
        assert!(err.contains(says), "{cohort}: {err}");
    }
}

#[test]
fn every_world_of_the_evaluation_suite_loads_says_what_it_tests_and_has_bots_or_a_legit_crowd() {
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/eval");
    let mut files: Vec<_> = std::fs::read_dir(&suite)
        .expect("scenarios/eval")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{} worlds", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            text.starts_with("# "),
            "{}: a header comment says what it tests",
            file.display()
        );
        let scenario = Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let truth = World::generate(&scenario, 1).truth(0);
        assert!(
            truth.accounts.iter().any(|a| a.kind != "human"),
            "{}: a world of the suite holds a cohort",
            file.display()
        );
    }
}
