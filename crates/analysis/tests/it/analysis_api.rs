//! Every analysis route and filter against a small session whose answers are computed by hand.
//!
//! The session: channel A (broadcaster 100) captured twice (c1 live with 100 viewers, c2
//! offline), channel B (broadcaster 200) captured once (c3 live, 50 viewers) and once more
//! unsuccessfully (c4 failed, never counted). First sight of everyone: 2025-06-01 12:00 UTC.
//!
//! | account | created (UTC) | profile | names | seen in | score (threshold 40) |
//! |---|---|---|---|---|---|
//! | alice 1001 | 2015-01-10 10:00 | own | alice | c1 | 0 |
//! | bob 1002 | 2025-05-30 08:00 | default avatar, empty bio | bob | c1, c2 | young 20 + default 15 + offline 10 = 45 |
//! | carol 1003 | 2020-07-07 09:00 | own | carol_old → carol_mid → carol | c1, c2, c3 | renames 10 + always 10 + offline 10 + 2 channels 5 = 35 |
//! | dave 1004 | 2020-07-07 21:00 | own | carol_old → dave | c3 | 0 |
//! | erin 1005 | not enriched | — | erin | c1 | 0 |

use std::net::SocketAddr;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_analysis::routes::{AppState, router};
use tca_analysis::scoring::ScoringConfig;
use tca_common::config::Secret;

const TOKEN: &str = "test-internal-token-0123456789abcdef0123";

pub(crate) fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("time")
}

pub(crate) struct Fixture {
    base: String,
    pub(crate) session: u64,
    http: reqwest::Client,
}

impl Fixture {
    pub(crate) async fn get(&self, path_and_query: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!(
                "{}/v1/sessions/{}/{path_and_query}",
                self.base, self.session
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    pub(crate) async fn json(&self, path_and_query: &str) -> Value {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, 200, "{path_and_query}: {body}");
        serde_json::from_str(&body).expect("json")
    }

    /// The 400 message for a bad request.
    async fn refused(&self, path_and_query: &str) -> String {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, 400, "{path_and_query}: {body}");
        let body: Value = serde_json::from_str(&body).expect("json error");
        body["message"].as_str().expect("message").to_string()
    }

    pub(crate) async fn logins(&self, path_and_query: &str) -> Vec<String> {
        self.json(path_and_query).await["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| a["login"].as_str().expect("login").to_string())
            .collect()
    }
}

/// Twitch id, login, created, default profile, enriched, names oldest first, captures seen in.
type SeededAccount = (
    &'static str,
    &'static str,
    Option<DateTime<Utc>>,
    bool,
    bool,
    &'static [&'static str],
    &'static [usize],
);

async fn seed(pool: &MySqlPool) -> u64 {
    let now = at(2025, 6, 1, 12);
    let user = sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, created_at, updated_at) VALUES ('1', 'mod', 'Mod', ?, ?)",
    )
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .expect("user")
    .last_insert_id();
    let session = sqlx::query(
        // Captures of two channels: presence is kept per channel (the fixture writes it).
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, last_activity_at, \
         presence_per_channel) VALUES ('00000000-0000-4000-8000-000000000001', ?, 'fixture', 'active', ?, ?, ?, TRUE)",
    )
    .bind(user)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .expect("session")
    .last_insert_id();
    let mut channel_ids = Vec::new();
    for (broadcaster, login) in [("100", "chan_a"), ("200", "chan_b")] {
        channel_ids.push(
            sqlx::query(
                "INSERT INTO session_channels (session_id, broadcaster_id, broadcaster_login, broadcaster_name, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(session)
            .bind(broadcaster)
            .bind(login)
            .bind(login)
            .bind(now)
            .bind(now)
            .execute(pool)
            .await
            .expect("channel")
            .last_insert_id(),
        );
    }
    // (channel index, status, chatters, viewers, live, finished hour)
    let captures = [
        (0, "done", Some(4), Some(100), Some(true), 12),
        (0, "done", Some(2), None, Some(false), 13),
        (1, "done", Some(2), Some(50), Some(true), 14),
        (1, "failed", None, None, None, 15),
    ];
    let mut capture_ids = Vec::new();
    for (channel, status, chatters, viewers, live, hour) in captures {
        let (broadcaster, login) = [("100", "chan_a"), ("200", "chan_b")][channel];
        capture_ids.push(
            sqlx::query(
                "INSERT INTO captures (session_id, session_channel_id, broadcaster_id, broadcaster_login, capture_trigger, status, \
                 queued_at, finished_at, chatters_count, viewer_count, stream_live) VALUES (?, ?, ?, ?, 'manual', ?, ?, ?, ?, ?, ?)",
            )
            .bind(session)
            .bind(channel_ids[channel])
            .bind(broadcaster)
            .bind(login)
            .bind(status)
            .bind(at(2025, 6, 1, hour))
            .bind(at(2025, 6, 1, hour))
            .bind(chatters.map(|n: u32| n))
            .bind(viewers.map(|n: u32| n))
            .bind(live)
            .execute(pool)
            .await
            .expect("capture")
            .last_insert_id(),
        );
    }
    let accounts: [SeededAccount; 5] = [
        (
            "1001",
            "alice",
            Some(at(2015, 1, 10, 10)),
            false,
            true,
            &["alice"],
            &[0],
        ),
        (
            "1002",
            "bob",
            Some(at(2025, 5, 30, 8)),
            true,
            true,
            &["bob"],
            &[0, 1],
        ),
        (
            "1003",
            "carol",
            Some(at(2020, 7, 7, 9)),
            false,
            true,
            &["carol_old", "carol_mid", "carol"],
            &[0, 1, 2],
        ),
        (
            "1004",
            "dave",
            Some(at(2020, 7, 7, 21)),
            false,
            true,
            &["carol_old", "dave"],
            &[2],
        ),
        ("1005", "erin", None, false, false, &["erin"], &[0]),
    ];
    for (twitch_id, login, created, default_profile, enriched, names, seen) in accounts {
        let account = sqlx::query(
            "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, names_count, twitch_created_at, description_empty, \
             default_avatar, first_seen_at, last_seen_at, enriched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(twitch_id)
        .bind(login)
        .bind(login)
        .bind(names.len() as u32)
        .bind(created)
        .bind(enriched.then_some(default_profile))
        .bind(enriched.then_some(default_profile))
        .bind(now)
        .bind(now)
        .bind(enriched.then_some(now))
        .execute(pool)
        .await
        .expect("account")
        .last_insert_id();
        // The ledger holds renamed accounts only (docs/architecture.md): one name is the
        // account row's alone.
        for (i, name) in names.iter().enumerate().filter(|_| names.len() > 1) {
            sqlx::query(
                "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account)
            .bind(name)
            .bind(name)
            .bind(at(2025, 1, 1 + i as u32, 0))
            .bind(at(2025, 1, 1 + i as u32, 1))
            .execute(pool)
            .await
            .expect("name");
        }
        for &c in seen {
            sqlx::query("INSERT INTO capture_chatters (capture_id, account_id) VALUES (?, ?)")
                .bind(capture_ids[c])
                .bind(account)
                .execute(pool)
                .await
                .expect("chatter");
        }
        let offline = seen.iter().filter(|&&c| c == 1).count() as u32;
        let last = at(2025, 6, 1, 12 + *seen.iter().max().unwrap_or(&0) as u32);
        let channels: Vec<usize> = [0usize, 1]
            .into_iter()
            .filter(|ch| seen.iter().any(|&c| captures[c].0 == *ch))
            .collect();
        sqlx::query(
            "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, captures_seen_offline, channels_seen) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session)
        .bind(account)
        .bind(now)
        .bind(last)
        .bind(seen.len() as u32)
        .bind(offline)
        .bind(channels.len() as u16)
        .execute(pool)
        .await
        .expect("session account");
        for ch in channels {
            let in_channel = seen.iter().filter(|&&c| captures[c].0 == ch).count() as u32;
            sqlx::query(
                "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, last_seen_at, \
                 captures_seen, captures_seen_offline) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(channel_ids[ch])
            .bind(account)
            .bind(session)
            .bind(now)
            .bind(last)
            .bind(in_channel)
            .bind(if ch == 0 { offline } else { 0 })
            .execute(pool)
            .await
            .expect("channel account");
        }
    }
    session
}

pub(crate) async fn fixture(pool: MySqlPool) -> Fixture {
    let session = seed(&pool).await;
    let state = AppState::new(
        pool,
        Secret::new(TOKEN.to_string()),
        ScoringConfig {
            flag_threshold: 40,
            ..ScoringConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Fixture {
        base: format!("http://{addr}"),
        session,
        http: reqwest::Client::new(),
    }
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn summary_counts_by_hand_with_every_filter(pool: MySqlPool) {
    let f = fixture(pool).await;
    let all = f.json("summary").await;
    assert_eq!(all["accounts"], 5);
    assert_eq!(all["captures"], 3, "the failed capture does not count");
    assert_eq!(all["channels"], 2);
    assert_eq!(all["young_7d"], 1, "bob, 2 days old");
    assert_eq!(all["young_30d"], 1);
    assert_eq!(all["enriched_share"], 0.8, "erin is not enriched");
    assert_eq!(all["flagged"], 1, "bob, 45 ≥ 40");
    assert_eq!(all["flagged_share"], 0.2);
    assert_eq!(all["flag_threshold"], 40);
    assert_eq!(all["last_capture_at"], "2025-06-01T14:00:00Z");

    let b = f.json("summary?broadcaster_id=200").await;
    assert_eq!(
        (b["accounts"].clone(), b["captures"].clone()),
        (json!(2), json!(1))
    );
    let both = f
        .json("summary?broadcaster_id=100&broadcaster_id=200")
        .await;
    assert_eq!(both["accounts"], 5);
    let a = f.json("summary?broadcaster_id=100").await;
    assert_eq!(a["accounts"], 4, "alice, bob, carol, erin");
    assert_eq!(a["captures"], 2);

    let day = f.json("summary?from=2020-07-07&to=2020-07-07").await;
    assert_eq!(day["accounts"], 2, "carol and dave; erin has no date");
    let open_end = f.json("summary?from=2020-07-08").await;
    assert_eq!(open_end["accounts"], 1, "bob");
    let until = f.json("summary?to=2015-01-10").await;
    assert_eq!(until["accounts"], 1, "alice");
    assert_eq!(f.json("summary?period=all").await["accounts"], 5);
    // Every account here was created more than 90 days before today.
    assert_eq!(f.json("summary?period=90d").await["accounts"], 0);
    let combined = f
        .json("summary?broadcaster_id=200&from=2020-07-07&to=2020-07-07")
        .await;
    assert_eq!(combined["accounts"], 2);
    let unknown_channel = f.json("summary?broadcaster_id=999").await;
    assert_eq!(unknown_channel["accounts"], 0);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn bad_filters_and_parameters_are_400s_that_say_what_is_wrong(pool: MySqlPool) {
    let f = fixture(pool).await;
    assert!(
        f.refused("summary?period=7d&from=2020-01-01")
            .await
            .contains("not both")
    );
    assert!(
        f.refused("summary?period=2w")
            .await
            .contains("period must be")
    );
    assert!(
        f.refused("summary?from=2020-13-01")
            .await
            .contains("from must be a date")
    );
    assert!(
        f.refused("summary?from=2021-01-02&to=2021-01-01")
            .await
            .contains("on or before")
    );
    assert!(
        f.refused("summary?broadcaster_id=abc")
            .await
            .contains("digits")
    );
    assert!(
        f.refused("histogram?bucket=year")
            .await
            .contains("day, week or month")
    );
    assert!(
        f.refused("histogram/hours")
            .await
            .contains("day is required")
    );
    assert!(
        f.refused("accounts?sort=age")
            .await
            .contains("sort must be one of")
    );
    assert!(f.refused("accounts?per_page=0").await.contains("per_page"));
    assert!(
        f.refused("accounts?per_page=501")
            .await
            .contains("1 to 500")
    );
    assert!(f.refused("days/2020-02-30/accounts").await.contains("date"));
    assert!(
        f.refused("export/accounts.xml")
            .await
            .contains("csv or json")
    );
    assert!(
        f.refused("export/creation.csv?bucket=week")
            .await
            .contains("day or month")
    );

    let (status, _) = f.get("accounts/9999").await;
    assert_eq!(status, 404);
    let missing = f
        .http
        .get(format!("{}/v1/sessions/424242/summary", f.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    let anonymous = f
        .http
        .get(format!("{}/v1/sessions/{}/summary", f.base, f.session))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn creation_histograms_hours_top_days_and_day_drill_down(pool: MySqlPool) {
    let f = fixture(pool).await;
    let months = f.json("histogram?bucket=month").await;
    let buckets = months["buckets"].as_array().expect("buckets");
    // 2015-01 through 2025-05, gaps included: 10 years and 5 months.
    assert_eq!(buckets.len(), 10 * 12 + 5);
    assert_eq!(buckets[0]["start"], "2015-01-01");
    assert_eq!(buckets.last().expect("last")["start"], "2025-05-01");
    let total: u64 = buckets
        .iter()
        .map(|b| b["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(total, 4, "erin has no creation date");
    let july = buckets
        .iter()
        .find(|b| b["start"] == "2020-07-01")
        .expect("2020-07");
    assert_eq!(july["count"], 2);
    assert!(
        buckets.iter().all(|b| b["burst"] == false),
        "four accounts make no wave"
    );

    let weeks = f.json("histogram?bucket=week&broadcaster_id=200").await;
    let weeks = weeks["buckets"].as_array().expect("buckets");
    assert_eq!(weeks.len(), 1, "carol and dave, same day");
    assert_eq!(weeks[0]["start"], "2020-07-06", "weeks start on Monday");
    assert_eq!(weeks[0]["count"], 2);

    let days = f.json("histogram?from=2020-07-07&to=2020-07-07").await;
    assert_eq!(
        days["buckets"],
        json!([{"start": "2020-07-07", "count": 2, "baseline": 0.0, "excess": 2.0, "burst": false}])
    );

    let hours = f.json("histogram/hours?day=2020-07-07").await;
    let mut expected = [0u64; 24];
    expected[9] = 1;
    expected[21] = 1;
    assert_eq!(hours["hours"], json!(expected));
    let b_only = f
        .json("histogram/hours?day=2020-07-07&to=2020-07-07&from=2020-07-07")
        .await;
    assert_eq!(b_only["hours"], json!(expected));

    let top = f.json("top-days").await;
    let top = top["days"].as_array().expect("days");
    assert_eq!(top.len(), 3, "only days with accounts: {top:?}");
    assert_eq!(top[0]["day"], "2020-07-07");
    assert_eq!(top[0]["count"], 2);
    assert_eq!(top[0]["share"], 0.4, "2 of 5 accounts");
    let rest: Vec<&str> = top[1..]
        .iter()
        .map(|d| d["day"].as_str().expect("day"))
        .collect();
    assert!(
        rest.contains(&"2015-01-10") && rest.contains(&"2025-05-30"),
        "{rest:?}"
    );

    assert_eq!(
        f.logins("days/2020-07-07/accounts").await,
        ["carol", "dave"]
    );
    let filtered = f.json("days/2020-07-07/accounts?broadcaster_id=100").await;
    assert_eq!(filtered["total"], 1, "dave was only in channel B");
    assert_eq!(
        f.logins("days/1999-01-01/accounts").await,
        Vec::<String>::new()
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn accounts_scores_reasons_sorting_search_and_pages(pool: MySqlPool) {
    let f = fixture(pool).await;
    let list = f.json("accounts").await;
    assert_eq!(list["total"], 5);
    let scores: Vec<(String, u64)> = list["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["login"].as_str().expect("login").to_string(),
                a["score"].as_u64().expect("score"),
            )
        })
        .collect();
    assert_eq!(
        scores,
        [
            ("bob".into(), 45),
            ("carol".into(), 35),
            ("alice".into(), 0),
            ("dave".into(), 0),
            ("erin".into(), 0)
        ]
    );
    let bob = &list["accounts"][0];
    let codes: Vec<(&str, u64)> = bob["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| {
            (
                r["code"].as_str().expect("code"),
                r["points"].as_u64().expect("points"),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("young_at_first_sight", 20),
            ("default_profile", 15),
            ("present_while_offline", 10)
        ]
    );
    let carol = &list["accounts"][1];
    let codes: Vec<&str> = carol["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "repeated_renames",
            "always_present",
            "present_while_offline",
            "multi_channel"
        ]
    );
    assert_eq!(carol["renames"], 2);
    assert_eq!(carol["channels_seen"], 2);
    assert_eq!(carol["captures_seen"], 3);

    assert_eq!(
        f.logins("accounts?sort=login&order=asc").await,
        ["alice", "bob", "carol", "dave", "erin"]
    );
    assert_eq!(
        f.logins("accounts?sort=created_at&order=asc").await[..2],
        ["erin", "alice"]
    );
    assert_eq!(
        f.logins("accounts?sort=renames").await[..2],
        ["carol", "dave"]
    );
    assert_eq!(
        f.logins("accounts?q=AR").await,
        ["carol"],
        "search ignores case"
    );
    assert_eq!(f.logins("accounts?flagged=true").await, ["bob"]);
    assert_eq!(
        f.logins("accounts?broadcaster_id=200").await,
        ["carol", "dave"]
    );
    let page2 = f
        .json("accounts?sort=login&order=asc&per_page=2&page=2")
        .await;
    assert_eq!(
        (page2["total"].clone(), page2["page"].clone()),
        (json!(5), json!(2))
    );
    assert_eq!(
        f.logins("accounts?sort=login&order=asc&per_page=2&page=3")
            .await,
        ["erin"]
    );
    assert!(f.logins("accounts?per_page=2&page=4").await.is_empty());

    let scores = f.json("scores").await;
    let counts: Vec<u64> = scores["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["count"].as_u64().expect("count"))
        .collect();
    assert_eq!(counts, [3, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(scores["buckets"][9]["to"], 100);
    assert_eq!(scores["flag_threshold"], 40);
    let b_scores = f.json("scores?broadcaster_id=200").await;
    assert_eq!(b_scores["buckets"][0]["count"], 1, "dave");
    assert_eq!(b_scores["buckets"][3]["count"], 1, "carol");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn one_account_renames_login_reuse_and_timeline(pool: MySqlPool) {
    // An account never renamed, outside the session, that now holds a login carol held
    // before: it has no ledger row, and login reuse finds it by its account row.
    sqlx::query(
        "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, first_seen_at, last_seen_at) \
         VALUES ('1099', 'carol_mid', 'carol_mid', NOW(), NOW())",
    )
    .execute(&pool)
    .await
    .expect("account");
    let f = fixture(pool).await;
    let alice = f.json("accounts/1001").await;
    let names: Vec<&str> = alice["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n["login"].as_str().expect("login"))
        .collect();
    assert_eq!(
        names,
        ["alice"],
        "a name never changed, from the account row"
    );
    let carol = f.json("accounts/1003").await;
    assert_eq!(carol["account"]["login"], "carol");
    let names: Vec<&str> = carol["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n["login"].as_str().expect("login"))
        .collect();
    assert_eq!(names, ["carol_old", "carol_mid", "carol"]);
    let seen: Vec<(&str, Value)> = carol["seen_in"]
        .as_array()
        .expect("seen")
        .iter()
        .map(|s| (s["channel"].as_str().expect("channel"), s["live"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("chan_a", json!(true)),
            ("chan_a", json!(false)),
            ("chan_b", json!(true))
        ]
    );

    let renames = f.json("renames").await;
    let renamed: Vec<(&str, u64)> = renames["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["login"].as_str().expect("login"),
                a["renames"].as_u64().expect("n"),
            )
        })
        .collect();
    let mut renamed = renamed;
    renamed.sort();
    assert_eq!(renamed, [("carol", 2), ("dave", 1)]);
    assert_eq!(
        renames["login_reuse"],
        json!([
            {"login": "carol_mid", "held_by": ["1003", "1099"]},
            {"login": "carol_old", "held_by": ["1003", "1004"]}
        ])
    );
    // Most renamed first; `limit` keeps the head, login reuse is still found among all.
    let head = f.json("renames?limit=1").await;
    assert_eq!(head["total"], 2);
    let logins: Vec<&str> = head["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["login"].as_str().expect("login"))
        .collect();
    assert_eq!(logins, ["carol"]);
    assert_eq!(head["login_reuse"], renames["login_reuse"]);
    let (status, body) = f.get("renames?limit=0").await;
    assert_eq!(status, 400);
    assert!(body.contains("limit must be a positive number"), "{body}");
    let a_only = f.json("renames?broadcaster_id=100").await;
    assert_eq!(
        a_only["accounts"].as_array().expect("accounts").len(),
        1,
        "carol"
    );

    let timeline = f.json("timeline").await;
    let points = timeline["captures"].as_array().expect("captures");
    assert_eq!(points.len(), 3, "done captures only");
    let view: Vec<(Value, Value, Value)> = points
        .iter()
        .map(|p| {
            (
                p["chatters_count"].clone(),
                p["viewer_count"].clone(),
                p["chatters_per_viewer"].clone(),
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            (json!(4), json!(100), json!(0.04)),
            (json!(2), Value::Null, Value::Null),
            (json!(2), json!(50), json!(0.04)),
        ]
    );
    let b = f.json("timeline?broadcaster_id=200").await;
    assert_eq!(b["captures"].as_array().expect("captures").len(), 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn exports_hold_exactly_the_filtered_rows_with_the_documented_columns(pool: MySqlPool) {
    // A display name a spreadsheet would run as a formula.
    let formula = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let f = fixture(pool.clone()).await;
    sqlx::query("UPDATE twitch_accounts SET display_name = ? WHERE twitch_user_id = '1003'")
        .bind(formula)
        .execute(&pool)
        .await
        .expect("rename");
    let (status, csv) = f.get("export/accounts.csv?broadcaster_id=200").await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "twitch_user_id",
            "login",
            "display_name",
            "created_at",
            "first_seen_at",
            "last_seen_at",
            "captures_seen",
            "captures_seen_offline",
            "channels_seen",
            "renames",
            "default_avatar",
            "empty_bio",
            "missing",
            "score",
            "reasons",
            "cohort_id",
            "cohort_strength",
            "label",
            "note",
            "marked_by",
            "marked_at",
            "trusted",
            "reasons_text"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    ids.sort();
    assert_eq!(ids, ["1003", "1004"]);
    let carol = rows.iter().find(|r| &r[0] == "1003").expect("carol");
    assert_eq!(
        &carol[2],
        format!("'{formula}"),
        "neutralised for spreadsheets"
    );
    assert_eq!(&carol[13], "35");
    assert_eq!(
        &carol[14],
        "repeated_renames;always_present;present_while_offline;multi_channel"
    );

    let (_, json_export) = f
        .get("export/accounts.json?from=2020-07-07&to=2020-07-07")
        .await;
    let json_rows: Vec<Value> = serde_json::from_str(&json_export).expect("json array");
    assert_eq!(json_rows.len(), 2);
    assert!(json_rows.iter().all(|r| {
        r["created_at"]
            .as_str()
            .is_some_and(|c| c.starts_with("2020-07-07"))
    }));
    assert!(
        json_rows.iter().all(|r| r["reasons"].is_array()),
        "JSON keeps full reasons"
    );
    assert!(
        json_rows.iter().any(|r| r["display_name"] == formula),
        "JSON keeps the name as it is"
    );

    let (_, months) = f.get("export/creation.csv?bucket=month").await;
    assert_eq!(months.lines().count(), 1 + 10 * 12 + 5);
    let (_, days) = f.get("export/creation.json?broadcaster_id=200").await;
    let days: Vec<Value> = serde_json::from_str(&days).expect("json");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["count"], 2);

    let (_, timeline) = f.get("export/timeline.csv").await;
    assert_eq!(timeline.lines().count(), 1 + 3);
    let (_, empty) = f.get("export/accounts.json?period=7d").await;
    assert_eq!(empty, "[]", "an empty export is still valid JSON");
}

/// `always_present` is measured against the captures of the account's own channels. A third
/// finished capture of channel A (c5, live) that bob is seen in: bob now sits in every one of
/// A's 3 captures — always present, though the session has 4 finished captures (A's 3 and
/// B's 1). Carol, seen in both channels, was in c1–c3 but not c5: 3 of her channels' 4.
///
/// | account | seen in | captures of its channels | score |
/// |---|---|---|---|
/// | bob | c1, c2, c5 (A) | 3 (A) | young 20 + default 15 + offline 10 + always 10 = 55 |
/// | carol | c1, c2, c3 (A, B) | 4 (A + B) | renames 10 + offline 10 + 2 channels 5 = 25 |
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn always_present_counts_the_captures_of_the_accounts_own_channels(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    let (channel_a, bob): (u64, u64) = sqlx::query_as(
        "SELECT sc.id, a.id FROM session_channels sc, twitch_accounts a \
         WHERE sc.broadcaster_id = '100' AND a.twitch_user_id = '1002'",
    )
    .fetch_one(&pool)
    .await
    .expect("ids");
    let c5 = sqlx::query(
        "INSERT INTO captures (session_id, session_channel_id, broadcaster_id, broadcaster_login, capture_trigger, status, \
         queued_at, finished_at, chatters_count, viewer_count, stream_live) \
         VALUES (?, ?, '100', 'chan_a', 'manual', 'done', ?, ?, 1, 10, TRUE)",
    )
    .bind(f.session)
    .bind(channel_a)
    .bind(at(2025, 6, 1, 16))
    .bind(at(2025, 6, 1, 16))
    .execute(&pool)
    .await
    .expect("c5")
    .last_insert_id();
    sqlx::query("INSERT INTO capture_chatters (capture_id, account_id) VALUES (?, ?)")
        .bind(c5)
        .bind(bob)
        .execute(&pool)
        .await
        .expect("bob in c5");
    for table in ["session_accounts", "session_channel_accounts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET captures_seen = captures_seen + 1 WHERE account_id = ?"
        )))
        .bind(bob)
        .execute(&pool)
        .await
        .expect("bob's presence");
    }

    let bob = &f.json("accounts/1002").await["account"];
    let codes: Vec<&str> = bob["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    assert_eq!(bob["score"], 55, "{bob}");
    assert!(codes.contains(&"always_present"), "{codes:?}");
    let always = bob["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["code"] == "always_present")
        .expect("always_present");
    assert_eq!(
        always["sentence"],
        "Present in all 3 captures of its channels."
    );
    let carol = &f.json("accounts/1003").await["account"];
    assert_eq!(carol["score"], 25, "{carol}");

    // The streamed export counts the same way.
    let (_, csv) = f.get("export/accounts.csv").await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let score_of = |id: &str| {
        rows.iter()
            .find(|r| &r[0] == id)
            .map(|r| r[13].to_string())
            .expect("row")
    };
    assert_eq!(score_of("1002"), "55");
    assert_eq!(score_of("1003"), "25");
}

/// "raider" raids channel 100 with 42 viewers after the fixture's captures.
async fn record_raid(pool: &MySqlPool) {
    sqlx::query(
        "INSERT INTO raids (message_id, broadcaster_id, from_broadcaster_id, from_login, from_name, viewers, raided_at) \
         VALUES ('m-1', '100', '900', 'raider', 'Raider', 42, ?)",
    )
    .bind(at(2025, 6, 1, 15))
    .execute(pool)
    .await
    .expect("raid");
}

/// A session with captures of one channel keeps no per-channel rows
/// (`presence::record_capture`): its channel filter, "present in every capture of its
/// channels" and its export read the session's rows as that channel's.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_session_of_one_captured_channel_reads_its_accounts_as_that_channels(pool: MySqlPool) {
    use tca_common::db::accounts::{self, ListedName};
    use tca_common::db::captures::{self, CaptureTrigger};
    use tca_common::db::presence::{self, Sighting};
    use tca_common::db::session_channels;

    let f = fixture(pool.clone()).await;
    let user: u64 = sqlx::query_scalar("SELECT user_id FROM analysis_sessions WHERE id = ?")
        .bind(f.session)
        .fetch_one(&pool)
        .await
        .expect("user");
    let session = sqlx::query(
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, last_activity_at) \
         VALUES (UUID(), ?, 'one channel', 'saved', NOW(6), NOW(6), NOW(6))",
    )
    .bind(user)
    .execute(&pool)
    .await
    .expect("session")
    .last_insert_id();
    let captured =
        session_channels::ensure(&pool, session, "100", "chan_a", "Chan A", at(2025, 7, 1, 0))
            .await
            .expect("channel");
    // A channel of the session never captured: nobody was seen there.
    session_channels::ensure(&pool, session, "300", "chan_c", "Chan C", at(2025, 7, 1, 0))
        .await
        .expect("channel");
    let mut conn = pool.acquire().await.expect("conn");
    let listed = [("7001", "steady_one"), ("7002", "passing_by")].map(|(id, login)| ListedName {
        twitch_user_id: id,
        login,
        display_name: login,
    });
    let mut ids: Vec<(String, u64)> = accounts::insert_new(&mut conn, &listed, at(2025, 7, 1, 0))
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| (a.twitch_user_id, a.id))
        .collect();
    ids.sort();
    let (steady, passing) = (ids[0].1, ids[1].1);
    for (hour, seen) in [
        (1, vec![steady, passing]),
        (2, vec![steady]),
        (3, vec![steady]),
    ] {
        let mut tx = pool.begin().await.expect("tx");
        let capture_id = captures::request(
            &mut tx,
            captured,
            user,
            CaptureTrigger::Manual,
            at(2025, 7, 1, hour),
        )
        .await
        .expect("capture");
        let mut seen = seen;
        seen.sort_unstable();
        presence::record_capture(
            &mut tx,
            &Sighting {
                capture_id,
                session_id: session,
                session_channel_id: captured,
                captured_at: at(2025, 7, 1, hour),
                offline: false,
            },
            &seen,
        )
        .await
        .expect("record");
        sqlx::query("UPDATE captures SET status = 'done', finished_at = ? WHERE id = ?")
            .bind(at(2025, 7, 1, hour))
            .bind(capture_id)
            .execute(&mut *tx)
            .await
            .expect("done");
        tx.commit().await.expect("commit");
    }
    let per_channel: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM session_channel_accounts WHERE session_id = ?")
            .bind(session)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(per_channel, 0, "one channel captured: no per-channel rows");

    let g = Fixture {
        base: f.base.clone(),
        session,
        http: f.http.clone(),
    };
    assert_eq!(g.json("summary?broadcaster_id=100").await["accounts"], 2);
    assert_eq!(g.json("summary?broadcaster_id=300").await["accounts"], 0);
    let steady_one = &g.json("accounts/7001").await["account"];
    let always = steady_one["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["code"] == "always_present")
        .unwrap_or_else(|| panic!("always_present: {steady_one}"));
    assert_eq!(
        always["sentence"],
        "Present in all 3 captures of its channels."
    );
    // The streamed export counts the captures of its channels the same way, and filters by
    // channel the same way.
    let (_, csv) = g.get("export/accounts.csv?broadcaster_id=100").await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let exported = rows.iter().find(|r| &r[0] == "7001").expect("row");
    assert_eq!(exported[13], steady_one["score"].to_string(), "{csv}");
    let (_, none) = g.get("export/accounts.csv?broadcaster_id=300").await;
    assert_eq!(none.lines().count(), 1, "the header only: {none}");
}

/// The dashboard's one request answers what each view answers alone, for any filter and page,
/// remembers its views per data version, and reads raids fresh.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_dashboard_answers_each_view_as_it_answers_alone(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    for query in [
        "",
        "broadcaster_id=200",
        "from=2020-07-07&to=2020-07-07",
        "flagged_only=true&per_page=2&page=1&limit=1",
        "per_page=2&page=2&limit=1",
    ] {
        let dashboard = f.json(&format!("dashboard?{query}")).await;
        let views = &dashboard["views"];
        assert_eq!(
            views["summary"],
            f.json(&format!("summary?{query}")).await,
            "{query}"
        );
        assert_eq!(
            views["cohorts"],
            f.json(&format!("cohorts?{query}")).await["cohorts"],
            "{query}"
        );
        assert_eq!(
            views["top_days"],
            f.json(&format!("top-days?{query}")).await,
            "{query}"
        );
        assert_eq!(
            views["accounts"],
            f.json(&format!("accounts?{query}")).await,
            "{query}"
        );
        assert_eq!(
            views["renames"],
            f.json(&format!("renames?{query}")).await,
            "{query}"
        );
        assert_eq!(dashboard["raids"], json!([]), "{query}");
    }
    assert!(
        f.refused("dashboard?from=yesterday").await.contains("from"),
        "a bad filter is a 400 naming it"
    );
    // Asked again (remembered), then a raid lands: it shows at once, with no capture since.
    f.json("dashboard").await;
    record_raid(&pool).await;
    let dashboard = f.json("dashboard").await;
    assert_eq!(dashboard["raids"], f.json("raids").await["raids"]);
    assert_eq!(dashboard["raids"][0]["from_login"], "raider");
    assert_eq!(dashboard["raids"][0]["viewers"], 42);
}

/// The dashboard's answer has a tag that changes with anything the answer is made from; sent
/// back, it gets a `304` with no body while nothing changed.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_dashboard_answers_not_modified_while_its_tag_stands(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    let ask = |query: &'static str, tag: Option<String>, lang: &'static str| {
        let mut request = f
            .http
            .get(format!(
                "{}/v1/sessions/{}/dashboard?{query}",
                f.base, f.session
            ))
            .bearer_auth(TOKEN)
            .header("accept-language", lang);
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let tag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().expect("ascii").to_string());
            (status, tag, response.text().await.expect("body"))
        }
    };
    let (status, tag, body) = ask("", None, "en").await;
    assert_eq!(status, 200, "{body}");
    let tag = tag.expect("the answer has a tag");
    let (status, again, body) = ask("", Some(tag.clone()), "en").await;
    assert_eq!(
        (status, again.as_ref(), body.as_str()),
        (304, Some(&tag), "")
    );
    // Another query, another language, another tag: a full answer.
    let (status, other, _) = ask("page=2", Some(tag.clone()), "en").await;
    assert_eq!(status, 200);
    assert_ne!(other.as_ref(), Some(&tag));
    let (status, french, _) = ask("", Some(tag.clone()), "fr").await;
    assert_eq!(status, 200);
    assert_ne!(french.as_ref(), Some(&tag));
    // A tag the service never gave: a full answer.
    assert_eq!(ask("", Some("\"0\"".into()), "en").await.0, 200);

    // A raid lands: the held answer no longer stands, and the new one shows the raid.
    record_raid(&pool).await;
    let (status, after_raid, body) = ask("", Some(tag.clone()), "en").await;
    assert_eq!(status, 200);
    let after_raid = after_raid.expect("tag");
    assert_ne!(after_raid, tag);
    let answer: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(answer["raids"][0]["from_login"], "raider");
    assert_eq!(ask("", Some(after_raid.clone()), "en").await.0, 304);

    // New data (an enrichment): the tag changes again.
    sqlx::query("UPDATE twitch_accounts SET enriched_at = NOW(6) WHERE twitch_user_id = '1001'")
        .execute(&pool)
        .await
        .expect("enrich");
    let (status, after_enrichment, _) = ask("", Some(after_raid.clone()), "en").await;
    assert_eq!(status, 200);
    assert_ne!(after_enrichment, Some(after_raid));
}

/// The export finds cohorts without loading the session (rows streamed by once, only those
/// created around bursts kept): every account's cohort, strength, label and score in an
/// export of a session nobody has looked at are those the loaded population gives it.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn an_export_scores_like_the_loaded_population_without_loading_it(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    let now = at(2025, 6, 1, 12);
    // 300 people created a day apart from 2016, and a farm of 30 created a minute apart on
    // 2024-02-03 with generated logins and default profiles, all seen in the first capture.
    sqlx::query(
        "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, names_count, twitch_created_at, \
         description_empty, default_avatar, first_seen_at, last_seen_at, enriched_at) \
         SELECT 5000 + seq, CONCAT('viewer', seq), CONCAT('Viewer', seq), 1, \
                TIMESTAMP('2016-01-01 10:00:00') + INTERVAL seq DAY, seq % 2 = 0, seq % 7 = 0, ?, ?, ? \
         FROM seq_1_to_300 \
         UNION ALL \
         SELECT 9000 + seq, CONCAT('zed_bot', 10000 + seq), CONCAT('zed_bot', 10000 + seq), 1, \
                TIMESTAMP('2024-02-03 03:00:00') + INTERVAL seq MINUTE, 1, 1, ?, ?, ? \
         FROM seq_1_to_30",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&pool)
    .await
    .expect("accounts");
    sqlx::query(
        "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
         captures_seen_offline, channels_seen) \
         SELECT ?, id, ?, ?, 1, 0, 1 FROM twitch_accounts WHERE CAST(twitch_user_id AS UNSIGNED) >= 5000",
    )
    .bind(f.session)
    .bind(now)
    .bind(now)
    .execute(&pool)
    .await
    .expect("session accounts");
    sqlx::query(
        "INSERT INTO session_channel_accounts (session_channel_id, account_id, session_id, first_seen_at, \
         last_seen_at, captures_seen, captures_seen_offline) \
         SELECT (SELECT MIN(id) FROM session_channels WHERE session_id = ?), id, ?, ?, ?, 1, 0 \
         FROM twitch_accounts WHERE CAST(twitch_user_id AS UNSIGNED) >= 5000",
    )
    .bind(f.session)
    .bind(f.session)
    .bind(now)
    .bind(now)
    .execute(&pool)
    .await
    .expect("channel accounts");
    // The owner marks one farm account and one person.
    sqlx::query(
        "INSERT INTO account_marks (user_id, twitch_user_id, login_when_marked, label, note, created_at, updated_at) \
         SELECT user_id, '9001', 'zed_bot10001', 'bot', 'seen spamming', ?, ? FROM analysis_sessions WHERE id = ? \
         UNION ALL \
         SELECT user_id, '5001', 'viewer1', 'trusted', '', ?, ? FROM analysis_sessions WHERE id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(f.session)
    .bind(now)
    .bind(now)
    .bind(f.session)
    .execute(&pool)
    .await
    .expect("marks");

    // First the export (nothing loaded yet), then the population's own list.
    let (status, csv) = f.get("export/accounts.csv").await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let exported: std::collections::BTreeMap<String, Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            let cells = ["cohort_id", "cohort_strength", "label", "score", "reasons"]
                .iter()
                .map(|c| r[column(c)].to_string())
                .collect();
            (r[column("twitch_user_id")].to_string(), cells)
        })
        .collect();
    let listed = f.json("accounts?per_page=500").await;
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let loaded: std::collections::BTreeMap<String, Vec<String>> = listed["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            let reasons: Vec<String> = a["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .map(|r| cell(&r["code"]))
                .collect();
            let cells = vec![
                cell(&a["cohort_id"]),
                cell(&a["cohort_strength"]),
                cell(&a["label"]),
                cell(&a["score"]),
                reasons.join(";"),
            ];
            (cell(&a["twitch_user_id"]), cells)
        })
        .collect();
    assert_eq!(exported.len(), 335);
    assert_eq!(exported, loaded);
    // Something to compare: the farm is a cohort, with its marks.
    let farm = &exported["9001"];
    assert!(!farm[0].is_empty(), "the farm is a cohort: {farm:?}");
    assert_eq!(farm[2], "bot");
    assert_eq!(exported["5001"][2], "trusted");
    assert!(exported["5001"][0].is_empty());
}
