//! The moderator's side over HTTP, as a browser without JavaScript uses it: every bad batch
//! is a clear 4xx that changes nothing; the ban list works without the actions scope; a
//! label and a note follow an account through a rename seen by a later capture; a bot list
//! imported on its page is a reason on the account's page, gone with the list.

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_gateway::capture_now;
use crate::stack_web::{Web, location};
use crate::stack_worlds::{wave_audience, world};

const WAIT: Duration = Duration::from_secs(60);

/// Logs mossy_mod in, captures the watched channel twice and enriches: returns the browser,
/// its CSRF token and the session's public id.
async fn captured(stack: &Stack) -> (Web, String, String) {
    let web = Web::new(stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    for _ in 0..2 {
        capture_now(&web, &csrf).await;
        stack
            .wait_idle("capture_chatters", WAIT)
            .await
            .expect("captured");
    }
    stack.enrich_now(WAIT).await.expect("enriched");
    let public_id: String = sqlx::query_scalar("SELECT public_id FROM analysis_sessions")
        .fetch_one(&stack.pool)
        .await
        .expect("session");
    (web, csrf, public_id)
}

async fn ids_of(pool: &MySqlPool, pattern: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT twitch_user_id FROM twitch_accounts WHERE login LIKE ? ORDER BY twitch_user_id",
    )
    .bind(pattern)
    .fetch_all(pool)
    .await
    .expect("ids")
}

async fn count(pool: &MySqlPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// A 4xx whose page says `says`.
async fn refused(response: reqwest::Response, status: StatusCode, says: &str) {
    assert_eq!(response.status(), status);
    let page = response.text().await.expect("page");
    assert!(page.contains(says), "expected “{says}” in:\n{page}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn bad_batches_are_clear_4xx_that_change_nothing(pool: MySqlPool) {
    let options = Options {
        gateway: Box::new(|config| config.moderation_batch_max = 20),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world(&wave_audience(40, 0.0, 5, 30)), options)
        .await
        .expect("stack");
    let (web, csrf, session) = captured(&stack).await;
    let preview = format!("/sessions/{session}/actions/preview");
    let farm = ids_of(&pool, "brook\\_fan%").await;
    assert_eq!(farm.len(), 30);
    let pick = format!("pick-{}", farm[0]);
    let ban = |extra: &[(&str, &str)]| {
        let mut fields: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("broadcaster_id".into(), "900000001".into()),
            ("action".into(), "ban".into()),
        ];
        fields.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        fields
    };
    let send = |fields: Vec<(String, String)>| {
        let web = &web;
        let preview = preview.clone();
        async move {
            web.http
                .post(web.url(&preview))
                .form(&fields)
                .send()
                .await
                .expect("POST")
        }
    };

    // More than the maximum (30 accounts created that day, 20 allowed).
    refused(
        send(ban(&[("kind", "day"), ("day", "2024-03-14")])).await,
        StatusCode::BAD_REQUEST,
        "acts on 20 at most",
    )
    .await;
    // An empty selection.
    refused(
        send(ban(&[("kind", "picked")])).await,
        StatusCode::BAD_REQUEST,
        "the selection is empty",
    )
    .await;
    // A channel of the session the moderator does not moderate (the session holds it, Twitch
    // says no), and a channel that is not the session's.
    sqlx::query(
        "INSERT INTO session_channels (session_id, broadcaster_id, broadcaster_login, broadcaster_name, created_at, updated_at) \
         SELECT id, '111111111', 'stranger', 'stranger', NOW(6), NOW(6) FROM analysis_sessions",
    )
    .execute(&pool)
    .await
    .expect("a foreign channel");
    let mut foreign = ban(&[("kind", "picked"), (pick.as_str(), "on")]);
    foreign[1].1 = "111111111".into();
    refused(
        send(foreign).await,
        StatusCode::FORBIDDEN,
        "not a moderator of this channel",
    )
    .await;
    let mut elsewhere = ban(&[("kind", "picked"), (pick.as_str(), "on")]);
    elsewhere[1].1 = "771043215".into();
    refused(
        send(elsewhere).await,
        StatusCode::BAD_REQUEST,
        "is not a channel of this session",
    )
    .await;
    // Bad actions, durations, reasons, choices, extra logins.
    let mut bogus = ban(&[("kind", "picked"), (pick.as_str(), "on")]);
    bogus[2].1 = "delete".into();
    refused(
        send(bogus).await,
        StatusCode::BAD_REQUEST,
        "is not an action",
    )
    .await;
    let mut timeout = ban(&[
        ("kind", "picked"),
        (pick.as_str(), "on"),
        ("duration_secs", "0"),
    ]);
    timeout[2].1 = "timeout".into();
    refused(send(timeout).await, StatusCode::BAD_REQUEST, "14 days").await;
    let long = "x".repeat(501);
    refused(
        send(ban(&[
            ("kind", "picked"),
            (pick.as_str(), "on"),
            ("reason", long.as_str()),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "longer than 500",
    )
    .await;
    refused(
        send(ban(&[("kind", "everyone")])).await,
        StatusCode::BAD_REQUEST,
        "is not a selection",
    )
    .await;
    refused(
        send(ban(&[("kind", "picked"), ("also", "nobody_here_123")])).await,
        StatusCode::BAD_REQUEST,
        "never saw an account",
    )
    .await;
    // Without the CSRF token; from another user (their session is not theirs: 404).
    let mut no_csrf = ban(&[("kind", "picked"), (pick.as_str(), "on")]);
    no_csrf.remove(0);
    refused(send(no_csrf).await, StatusCode::FORBIDDEN, "CSRF").await;
    let stranger = Web::new(&stack);
    stranger.login("stranger").await;
    let their_csrf = stranger.csrf().await;
    let response = stranger
        .post(
            &preview,
            &[
                ("csrf", their_csrf.as_str()),
                ("kind", "picked"),
                (pick.as_str(), "on"),
                ("broadcaster_id", "900000001"),
                ("action", "ban"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM moderation_batches").await,
        0
    );

    // A valid preview of two accounts: a draft, nothing queued.
    let second = format!("pick-{}", farm[1]);
    let response = send(ban(&[
        ("kind", "picked"),
        (pick.as_str(), "on"),
        (second.as_str(), "on"),
        ("reason", "farm\nspam"),
    ]))
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let batch = location(&response);
    let page = web.get(&batch).await.text().await.expect("page");
    assert!(
        page.contains("batch-needs-consent"),
        "actions are not enabled yet"
    );
    // The ban list needs no scope: chat commands, one a line, the reason on one line.
    let list = web
        .get(&format!("{batch}/ban-list.txt"))
        .await
        .text()
        .await
        .expect("list");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("/ban brook_fan") && l.ends_with(" farm spam")),
        "{list}"
    );
    let csv = web
        .get(&format!("{batch}/accounts.csv"))
        .await
        .text()
        .await
        .expect("csv");
    assert!(csv.starts_with("twitch_user_id,login,status"), "{csv}");
    // Confirming: the wrong count, then without the actions scope; another user cannot.
    let confirm = format!("{batch}/confirm");
    refused(
        web.post(&confirm, &[("csrf", csrf.as_str()), ("count", "3")])
            .await,
        StatusCode::BAD_REQUEST,
        "type 2 to confirm",
    )
    .await;
    refused(
        web.post(&confirm, &[("csrf", csrf.as_str()), ("count", "2")])
            .await,
        StatusCode::FORBIDDEN,
        "not enabled",
    )
    .await;
    let theirs = stranger
        .post(&confirm, &[("csrf", their_csrf.as_str()), ("count", "2")])
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(stranger.get(&batch).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM moderation_batches WHERE status = 'draft'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'moderation_chunk'"
        )
        .await,
        0,
        "nothing was queued"
    );
    let truth: serde_json::Value = reqwest::get(stack.fake.url("/_fake/bans/watched"))
        .await
        .expect("truth")
        .json()
        .await
        .expect("json");
    assert!(
        truth["banned"].as_array().expect("list").is_empty(),
        "Twitch saw nothing"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_label_and_note_follow_a_renamed_account_and_a_list_is_a_reason_until_deleted(
    pool: MySqlPool,
) {
    let stack = Stack::start(
        pool.clone(),
        world(&wave_audience(40, 0.0, 5, 10)),
        Options::default(),
    )
    .await
    .expect("stack");
    let (web, csrf, session) = captured(&stack).await;
    let farm = ids_of(&pool, "brook\\_fan%").await;
    let id = farm[0].clone();
    let old_login: String =
        sqlx::query_scalar("SELECT login FROM twitch_accounts WHERE twitch_user_id = ?")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .expect("login");
    let account = format!("/sessions/{session}/accounts/{id}");
    let response = web
        .post(
            &format!("{account}/mark"),
            &[
                ("csrf", csrf.as_str()),
                ("label", "bot"),
                ("note", "Sold follows in #general"),
                ("share", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), account);
    refused(
        web.post(
            &format!("{account}/mark"),
            &[("csrf", csrf.as_str()), ("label", "enemy")],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "is not a label",
    )
    .await;

    // The account renames; the next capture sees the new login (same Twitch id).
    stack
        .fake_post(
            "/_fake/accounts/rename",
            serde_json::json!({"id": id, "new_login": "totally_real_viewer"}),
        )
        .await
        .expect("rename");
    capture_now(&web, &csrf).await;
    stack
        .wait_idle("capture_chatters", WAIT)
        .await
        .expect("captured");
    let page = web.get(&account).await.text().await.expect("page");
    assert!(
        page.contains(r#"id="account-login">totally_real_viewer<"#),
        "renamed"
    );
    assert!(
        page.contains(r#"data-label="bot""#),
        "the label followed the Twitch id"
    );
    assert!(page.contains("Sold follows in #general"), "the note too");
    assert!(
        page.contains("Labelled “bot” by mossy_mod"),
        "a reason naming who set it"
    );
    // Searchable by the note, on the marks page and in the analysis lists.
    let marks = web
        .get("/marks?q=follows")
        .await
        .text()
        .await
        .expect("marks");
    assert!(
        marks.contains(&format!(r#"data-twitch-id="{id}""#)),
        "{marks}"
    );

    // A bot list with the account's earlier login: a reason with the list's name and date.
    let file = format!("login,note\n{old_login},seen raiding\nnot a login!\n");
    let response = web
        .post(
            "/lists",
            &[
                ("csrf", csrf.as_str()),
                ("name", "Community farm list"),
                ("points", "25"),
                ("entries", file.as_str()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let lists = web
        .get(&location(&response))
        .await
        .text()
        .await
        .expect("lists");
    assert!(
        lists.contains("Imported 1 entry; 1 line was neither a login nor an id."),
        "{lists}"
    );
    let page = web.get(&account).await.text().await.expect("page");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        page.contains(&format!(
            "In the list “Community farm list”, imported {today}."
        )),
        "the list is a reason with its provenance"
    );
    // A refresh: the same name, another file — the entries are replaced.
    let refreshed = format!("{}\n", farm[1]);
    let response = web
        .post(
            "/lists",
            &[
                ("csrf", csrf.as_str()),
                ("name", "Community farm list"),
                ("points", "25"),
                ("entries", refreshed.as_str()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = web.get(&account).await.text().await.expect("page");
    assert!(
        !page.contains("Community farm list"),
        "no longer on the refreshed list"
    );
    let other = web
        .get(&format!("/sessions/{session}/accounts/{}", farm[1]))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        other.contains("In the list “Community farm list”"),
        "the new entry matches"
    );
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM bot_lists").await, 1);
    let list_id: u64 = sqlx::query_scalar("SELECT id FROM bot_lists")
        .fetch_one(&pool)
        .await
        .expect("list");
    let response = web
        .post(
            &format!("/lists/{list_id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = web.get(&account).await.text().await.expect("page");
    assert!(
        !page.contains("Community farm list"),
        "its reason went with it"
    );
    refused(
        web.post(
            "/lists",
            &[
                ("csrf", csrf.as_str()),
                ("name", "empty"),
                ("entries", "!!!"),
            ],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no login or Twitch id",
    )
    .await;

    // Everything is in the activity log.
    let activity = web.get("/activity").await.text().await.expect("activity");
    assert!(
        activity.contains("Labelled totally_real_viewer")
            || activity.contains(&format!("Labelled {old_login}")),
        "{activity}"
    );
    assert!(
        activity.contains("Imported the bot list “Community farm list”"),
        "{activity}"
    );
    assert!(
        activity.contains("Deleted the bot list “Community farm list”"),
        "{activity}"
    );
}

/// The state of a batch, read as the page's script reads it.
async fn batch_view(web: &Web, batch: &str) -> serde_json::Value {
    web.get(&format!("{batch}/progress"))
        .await
        .json()
        .await
        .expect("progress")
}

async fn wait_batch(web: &Web, batch: &str, status: &str) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        let view = batch_view(web, batch).await;
        if view["status"] == status {
            return view;
        }
        assert!(started.elapsed() < WAIT, "batch still {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Previews `fields` and confirms the draft by typing its count; returns the batch's path.
async fn preview_and_confirm(
    web: &Web,
    session: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> String {
    let mut form = vec![("csrf", csrf), ("broadcaster_id", "900000001")];
    form.extend_from_slice(fields);
    let response = web
        .post(&format!("/sessions/{session}/actions/preview"), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let batch = location(&response);
    let targets = batch_view(web, &batch).await["targets"].to_string();
    let confirmed = web
        .post(
            &format!("{batch}/confirm"),
            &[("csrf", csrf), ("count", targets.as_str())],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER, "confirm {batch}");
    batch
}

async fn left_out(pool: &MySqlPool, batch: &str) -> Vec<(String, String)> {
    let public_id = batch.rsplit('/').next().expect("id");
    sqlx::query_as(
        "SELECT i.login, i.excluded_why FROM moderation_items i JOIN moderation_batches b ON b.id = i.batch_id \
         WHERE b.public_id = ? AND i.status = 'excluded' ORDER BY i.login",
    )
    .bind(public_id)
    .fetch_all(pool)
    .await
    .expect("excluded")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn batches_run_on_twitch_leave_out_who_they_must_and_stop_when_the_moderator_is_removed(
    pool: MySqlPool,
) {
    let options = Options {
        // Twitch's list of moderated channels is asked again at every chunk.
        twitch: Box::new(|config| config.channels_cache_ttl = Duration::ZERO),
        ..Options::default()
    };
    let mut stack = Stack::start(pool.clone(), world(&wave_audience(40, 0.0, 5, 30)), options)
        .await
        .expect("stack");
    let (web, csrf, session) = captured(&stack).await;
    // pixelbrookgames joins the session: its audience is not the watched channel's.
    let other = web
        .post("/channels/771043215/capture", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
    stack
        .wait_idle("capture_chatters", WAIT)
        .await
        .expect("captured");
    stack.enrich_now(WAIT).await.expect("enriched");
    let elsewhere: String = sqlx::query_scalar(
        "SELECT a.login FROM session_channel_accounts sca JOIN session_channels sc ON sc.id = sca.session_channel_id \
         JOIN twitch_accounts a ON a.id = sca.account_id WHERE sc.broadcaster_id = '771043215' \
         AND a.twitch_user_id NOT IN ('771043215', '538211094') LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("an account of the other channel");
    let farm = ids_of(&pool, "brook\\_fan%").await;
    let back = web
        .enable_actions("mossy_mod", &format!("/sessions/{session}/analysis"))
        .await;
    assert_eq!(back, format!("/sessions/{session}/analysis"));
    let dashboard = async || web.get(&back).await.text().await.expect("dashboard");
    assert!(dashboard().await.contains("id=\"batches\""));

    // A ban of two, a timeout of one, with a reason: done on Twitch.
    let (one, two, three) = (
        format!("pick-{}", farm[0]),
        format!("pick-{}", farm[1]),
        format!("pick-{}", farm[2]),
    );
    let bans = preview_and_confirm(
        &web,
        &session,
        &csrf,
        &[
            ("kind", "picked"),
            (one.as_str(), "on"),
            (two.as_str(), "on"),
            ("action", "ban"),
            ("reason", "farm"),
        ],
    )
    .await;
    // The dashboard viewed a moment ago lists the batch at once.
    assert!(
        dashboard().await.contains(&format!("href=\"{bans}\"")),
        "{bans}"
    );
    let view = wait_batch(&web, &bans, "done").await;
    assert_eq!(view["progress"]["done"], 2);
    let timeout = preview_and_confirm(
        &web,
        &session,
        &csrf,
        &[
            ("kind", "picked"),
            (three.as_str(), "on"),
            ("action", "timeout"),
            ("duration_secs", "600"),
        ],
    )
    .await;
    wait_batch(&web, &timeout, "done").await;
    let truth: serde_json::Value = reqwest::get(stack.fake.url("/_fake/bans/watched"))
        .await
        .expect("truth")
        .json()
        .await
        .expect("json");
    let banned = truth["banned"].as_array().expect("banned");
    assert_eq!(banned.len(), 3);
    for ban in banned {
        let id = ban["id"].as_str().expect("id");
        if id == farm[2] {
            assert!(ban["ends_at"].is_string(), "a timeout ends: {ban}");
        } else {
            assert!(ban["ends_at"].is_null(), "a ban does not: {ban}");
            assert_eq!(ban["reason"], "farm");
        }
    }

    // Every flagged account, plus the broadcaster and an account of the other channel: the
    // two banned before, the broadcaster and the stranger to this channel are left out.
    stack.kill_worker(0);
    let response = web
        .post(
            &format!("/sessions/{session}/actions/preview"),
            &[
                ("csrf", csrf.as_str()),
                ("broadcaster_id", "900000001"),
                ("kind", "flagged"),
                ("filter", ""),
                ("action", "ban"),
                ("also", &format!("watched {elsewhere}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let wave = location(&response);
    let mut why: Vec<(String, String)> = left_out(&pool, &wave).await;
    why.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let reasons: Vec<&str> = why.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "already_banned",
            "already_banned",
            "broadcaster",
            "not_in_channel"
        ],
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|(login, w)| login == &elsewhere && w == "not_in_channel")
    );
    let page = web.get(&wave).await.text().await.expect("page");
    assert!(
        page.contains("already banned (by an earlier batch)") && page.contains("the broadcaster")
    );
    let targets = batch_view(&web, &wave).await["targets"]
        .as_u64()
        .expect("targets");
    assert!(targets >= 26, "the rest of the wave: {targets}");

    // Confirmed; then the broadcaster removes mossy_mod as a moderator before a worker runs
    // it: the batch stops, saying why, and Twitch bans nobody more.
    let confirmed = web
        .post(
            &format!("{wave}/confirm"),
            &[
                ("csrf", csrf.as_str()),
                ("count", targets.to_string().as_str()),
            ],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    stack
        .fake_post(
            "/_fake/channels/watched/moderators",
            serde_json::json!({"login": "mossy_mod", "moderator": false}),
        )
        .await
        .expect("unmod");
    stack.start_worker().await.expect("a worker");
    let view = wait_batch(&web, &wave, "stopped").await;
    assert_eq!(view["progress"]["skipped"].as_u64(), Some(targets));
    let page = web.get(&wave).await.text().await.expect("page");
    assert!(
        page.contains("Twitch no longer lists you as a moderator of this channel"),
        "the page says why"
    );
    let truth: serde_json::Value = reqwest::get(stack.fake.url("/_fake/bans/watched"))
        .await
        .expect("truth")
        .json()
        .await
        .expect("json");
    assert_eq!(truth["banned"].as_array().expect("banned").len(), 3);
    let ended: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_logs WHERE event = 'batch_end' AND details LIKE '%batch-stop-not-moderator%'",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(ended, 1);
}
