use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::MySqlPool;
use tca_common::db::captures::CaptureStatus;
use tca_stack::{Options, Stack};
use tca_twitch_fake::World;

use crate::stack_worlds::world;

const WATCHED: &str = "watched";

/// Twitch id, creation date, default avatar, empty bio: what enrichment stores.
type Profile = (
    String,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<bool>,
    Option<bool>,
);

/// Our account id → Twitch id for the accounts of a capture.
async fn captured(pool: &MySqlPool, capture_id: u64) -> HashSet<String> {
    sqlx::query_scalar(
        "SELECT a.twitch_user_id FROM capture_chatters c JOIN twitch_accounts a ON a.id = c.account_id WHERE c.capture_id = ?",
    )
    .bind(capture_id)
    .fetch_all(pool)
    .await
    .expect("chatters")
    .into_iter()
    .collect()
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn two_captures_with_churn_a_rename_and_a_suspension_match_the_truth(pool: MySqlPool) {
    let scenario = world(
        "humans = 5000\nchurn = 0.1\nlurkers = 200\nrenamers = 1\nrename_at_listing = 2\nsuspended = 1\nsuspend_at_listing = 2",
    );
    let truth = World::generate(&scenario, scenario.seed).truth(2);
    let channel = truth
        .channels
        .iter()
        .find(|c| c.login == WATCHED)
        .expect("channel");
    let listing1: HashSet<String> = channel.listings[0].iter().cloned().collect();
    let listing2: HashSet<String> = channel.listings[1].iter().cloned().collect();
    let renamer = truth
        .accounts
        .iter()
        .find(|a| !a.renames.is_empty() && a.home_channel.as_deref() == Some(WATCHED))
        .expect("renamer");
    let suspended = truth
        .accounts
        .iter()
        .find(|a| a.suspended && a.home_channel.as_deref() == Some(WATCHED))
        .expect("suspended");
    assert!(listing1.contains(&renamer.id) && listing2.contains(&renamer.id));
    assert!(listing1.contains(&suspended.id) && !listing2.contains(&suspended.id));

    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");

    let first = stack
        .capture_done(channel_id, user, Duration::from_secs(60))
        .await
        .expect("capture done");
    let second = stack
        .capture_done(channel_id, user, Duration::from_secs(60))
        .await
        .expect("capture done");
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");

    assert_eq!(
        captured(&pool, first).await,
        listing1,
        "capture 1 holds listing 1 exactly"
    );
    assert_eq!(
        captured(&pool, second).await,
        listing2,
        "capture 2 holds listing 2 exactly"
    );

    let (count1, new1, live1, viewers1): (u32, u32, bool, Option<u32>) = sqlx::query_as(
        "SELECT chatters_count, new_in_session_count, stream_live, viewer_count FROM captures WHERE id = ?",
    )
    .bind(first)
    .fetch_one(&pool)
    .await
    .expect("capture row");
    assert_eq!(
        (count1 as usize, new1 as usize, live1, viewers1),
        (listing1.len(), listing1.len(), true, Some(8000))
    );
    let (count2, new2): (u32, u32) =
        sqlx::query_as("SELECT chatters_count, new_in_session_count FROM captures WHERE id = ?")
            .bind(second)
            .fetch_one(&pool)
            .await
            .expect("capture row");
    assert_eq!(count2 as usize, listing2.len());
    assert_eq!(
        new2 as usize,
        listing2.difference(&listing1).count(),
        "new in session = not seen in capture 1"
    );

    // Session presence: every account of either listing, seen once or twice.
    let presence: HashMap<String, (u32, u32, u16)> = sqlx::query_as::<_, (String, u32, u32, u16)>(
        "SELECT a.twitch_user_id, s.captures_seen, s.captures_seen_offline, s.channels_seen \
         FROM session_accounts s JOIN twitch_accounts a ON a.id = s.account_id WHERE s.session_id = ?",
    )
    .bind(session)
    .fetch_all(&pool)
    .await
    .expect("presence")
    .into_iter()
    .map(|(id, seen, offline, channels)| (id, (seen, offline, channels)))
    .collect();
    let union: HashSet<&String> = listing1.union(&listing2).collect();
    assert_eq!(
        presence.len(),
        union.len(),
        "distinct accounts of the session"
    );
    for id in &union {
        let expected = u32::from(listing1.contains(*id)) + u32::from(listing2.contains(*id));
        assert_eq!(presence[*id], (expected, 0, 1), "presence of {id}");
    }
    // One channel captured: no per-channel rows; the session's rows are that channel's.
    let (per_channel, presence_of): (i64, Option<u64>) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM session_channel_accounts WHERE session_id = s.id), \
         s.presence_channel_id FROM analysis_sessions s WHERE s.id = ?",
    )
    .bind(session)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!((per_channel, presence_of), (0, Some(channel_id)));

    // The rename ledger: two names, old then new, counted once each whatever the captures.
    let names: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.login, n.display_name FROM account_names n JOIN twitch_accounts a ON a.id = n.account_id \
         WHERE a.twitch_user_id = ? ORDER BY n.first_seen_at, n.id",
    )
    .bind(&renamer.id)
    .fetch_all(&pool)
    .await
    .expect("ledger");
    assert_eq!(
        names,
        vec![
            (renamer.login.clone(), renamer.display_name.clone()),
            (
                renamer.renames[0].login.clone(),
                renamer.renames[0].display_name.clone()
            ),
        ]
    );
    // The count analysis reads is kept on the account, equal to the ledger where there is
    // one (an account never renamed has no ledger row and one name).
    let names_count: u32 =
        sqlx::query_scalar("SELECT names_count FROM twitch_accounts WHERE twitch_user_id = ?")
            .bind(&renamer.id)
            .fetch_one(&pool)
            .await
            .expect("names count");
    assert_eq!(names_count, 2);
    let out_of_step: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM twitch_accounts a WHERE a.names_count <> \
         GREATEST(1, (SELECT COUNT(*) FROM account_names n WHERE n.account_id = a.id))",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(out_of_step, 0);
    let ledger_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_names")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        ledger_rows, 2,
        "the renamed account's two names, nobody else's"
    );
    let renames: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'rename_detected'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(renames, 1);

    // Enrichment: profiles from Get Users, and the suspended account marked missing. Its
    // first enrichment may have run before the suspension (accounts are stored page by page,
    // and housekeeping starts enrichment as soon as any wait): a later one — here forced, in
    // production after ENRICH_TTL — finds it gone.
    sqlx::query("UPDATE twitch_accounts SET enriched_at = '2020-01-01'")
        .execute(&pool)
        .await
        .expect("stale");
    stack
        .enrich_now(Duration::from_secs(60))
        .await
        .expect("enriched again");
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT twitch_user_id FROM twitch_accounts WHERE missing_since IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .expect("missing");
    assert_eq!(missing, vec![suspended.id.clone()]);
    let profiles: Vec<Profile> = sqlx::query_as(
        "SELECT twitch_user_id, twitch_created_at, default_avatar, description_empty FROM twitch_accounts WHERE missing_since IS NULL",
    )
    .fetch_all(&pool)
    .await
    .expect("profiles");
    let by_id: HashMap<&str, &tca_twitch_fake::world::TruthAccount> =
        truth.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    assert!(profiles.len() >= union.len() - 1);
    for (id, created, default_avatar, empty_bio) in profiles {
        let Some(expected) = by_id.get(id.as_str()) else {
            continue;
        };
        assert_eq!(created, Some(expected.created_at), "creation date of {id}");
        assert_eq!(
            default_avatar,
            Some(expected.default_avatar),
            "avatar of {id}"
        );
        assert_eq!(empty_bio, Some(expected.empty_bio), "bio of {id}");
    }
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_capture_cut_short_by_a_killed_worker_is_completed_by_another_exactly_once(
    pool: MySqlPool,
) {
    let scenario = world("humans = 12000");
    let mut options = Options::default();
    options.runner.lease = Duration::from_secs(2);
    options.runner.reap_interval = Duration::from_millis(200);
    let mut stack = Stack::start(pool.clone(), scenario, options)
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    // Slow pages: the capture is surely mid-way when the worker dies.
    stack
        .fake_post("/_fake/faults", serde_json::json!({"latency_ms": 150}))
        .await
        .expect("faults");
    let capture = stack.capture(channel_id, user).await.expect("capture");

    let started = Instant::now();
    loop {
        let status: CaptureStatus = sqlx::query_scalar("SELECT status FROM captures WHERE id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("status");
        if status == CaptureStatus::Running {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "capture never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    stack.kill_worker(0);
    stack
        .fake_post("/_fake/faults", serde_json::json!({}))
        .await
        .expect("faults off");
    stack.start_worker().await.expect("second worker");

    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(60))
        .await
        .expect("finished");
    assert_eq!(status, CaptureStatus::Done, "{error:?}");
    let (attempts, owner): (u32, String) =
        sqlx::query_as("SELECT attempts, locked_by FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_one(&pool)
            .await
            .expect("job");
    assert_eq!(
        (attempts, owner.as_str()),
        (2, "stack-worker-1"),
        "finished by the second worker"
    );
    // 12,000 humans + the broadcaster + mossy_mod, once each.
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters WHERE capture_id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("rows");
    assert_eq!(rows, 12_002);
    let (accounts, min_seen, max_seen): (i64, u32, u32) =
        sqlx::query_as("SELECT COUNT(*), MIN(captures_seen), MAX(captures_seen) FROM session_accounts WHERE session_id = ?")
            .bind(session)
            .fetch_one(&pool)
            .await
            .expect("presence");
    assert_eq!(
        (accounts, min_seen, max_seen),
        (12_002, 1, 1),
        "counted once despite two attempts"
    );
    let chatters_count: u32 =
        sqlx::query_scalar("SELECT chatters_count FROM captures WHERE id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(chatters_count, 12_002);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_capture_where_the_user_is_not_a_moderator_fails_with_a_readable_message(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world("humans = 10"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("stranger").await.expect("login");
    let (_, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    let capture = stack.capture(channel_id, user).await.expect("capture");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(30))
        .await
        .expect("finished");
    assert_eq!(status, CaptureStatus::Failed);
    let error = error.expect("a message");
    // Stored as a message key: each reader sees it in their language.
    assert_eq!(error, "capture-error-not-moderator");
    // The handler fails the capture, then the runner records the job's end: wait for it.
    stack
        .wait_idle("capture_chatters", Duration::from_secs(10))
        .await
        .expect("job ended");
    let (job_status, attempts): (String, u32) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_one(&pool)
            .await
            .expect("job");
    assert_eq!(
        (job_status.as_str(), attempts),
        ("failed", 1),
        "not retried"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'capture_fail'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_429_storm_delays_a_capture_but_it_completes(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 3000"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (_, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    // Three of every four Helix calls answer 429.
    stack
        .fake_post(
            "/_fake/faults",
            serde_json::json!({"burst_429_every": 1, "burst_429_length": 3}),
        )
        .await
        .expect("faults");
    let capture = stack.capture(channel_id, user).await.expect("capture");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(90))
        .await
        .expect("finished");
    assert_eq!(status, CaptureStatus::Done, "{error:?}");
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters WHERE capture_id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("rows");
    assert_eq!(rows, 3002);
    let stats: serde_json::Value = reqwest::get(stack.fake.url("/_fake/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert!(
        stats["faults_injected"]["429"].as_u64().unwrap_or(0) >= 9,
        "a storm happened: {stats}"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_100k_chatter_capture_completes(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 100000"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (session, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    let started = Instant::now();
    let capture = stack.capture(channel_id, user).await.expect("capture");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(300))
        .await
        .expect("finished");
    let elapsed = started.elapsed();
    assert_eq!(status, CaptureStatus::Done, "{error:?}");
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT account_id) FROM capture_chatters WHERE capture_id = ?",
    )
    .bind(capture)
    .fetch_one(&pool)
    .await
    .expect("rows");
    assert_eq!((rows, distinct), (100_002, 100_002));
    let presence: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM session_accounts WHERE session_id = ?")
            .bind(session)
            .fetch_one(&pool)
            .await
            .expect("presence");
    assert_eq!(presence, 100_002);
    println!("100,002-chatter capture: queued to done in {elapsed:?}");
}

/// Twitch's chatter pages go in circles (a page answered with the cursor it was asked with):
/// the capture ends failed with a readable reason after one repeat, and is not retried into
/// the same loop; nothing is half-written.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_repeated_cursor_ends_the_capture_with_a_clear_failure(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 2500"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let (_, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    stack
        .fake_post("/_fake/faults", serde_json::json!({"repeat_cursor": true}))
        .await
        .expect("faults");
    let capture = stack.capture(channel_id, user).await.expect("capture");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(30))
        .await
        .expect("finished");
    assert_eq!(status, CaptureStatus::Failed);
    assert_eq!(error.as_deref(), Some("capture-error-paging"));
    stack
        .wait_idle("capture_chatters", Duration::from_secs(10))
        .await
        .expect("job ended");
    let (job_status, attempts): (String, u32) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_one(&pool)
            .await
            .expect("job");
    assert_eq!(
        (job_status.as_str(), attempts),
        ("failed", 1),
        "not retried"
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters WHERE capture_id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(rows, 0, "a failed capture keeps no partial list");
}

/// id.twitch.tv is down (503, then dropped connections) exactly when the moderator's token
/// needs a refresh: the capture waits and retries, nobody is logged out (housekeeping included),
/// and once Twitch is back the capture completes with the same authorization.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn an_id_twitch_tv_outage_during_refreshes_logs_nobody_out_and_the_capture_completes(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world("humans = 50"), Options::default())
        .await
        .expect("stack");
    let user = stack.login("mossy_mod").await.expect("login");
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    crate::stack_web::insert_web_session(&pool, user, "browser", chrono::Utc::now(), later).await;
    let (_, channel_id) = stack
        .session_with_channel(user, WATCHED)
        .await
        .expect("session");
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await
        .expect("expire");
    stack
        .fake_post("/_fake/faults", serde_json::json!({"oauth_status": 503}))
        .await
        .expect("outage");
    let capture = stack.capture(channel_id, user).await.expect("capture");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stack
        .fake_post("/_fake/faults", serde_json::json!({"oauth_drop": true}))
        .await
        .expect("outage, worse");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    tca_worker::handlers::housekeeping::ensure_scheduled(&pool, chrono::Utc::now())
        .await
        .expect("schedule");
    stack
        .wait_idle("housekeeping", Duration::from_secs(30))
        .await
        .expect("housekeeping ran during the outage");
    let (status, error): (CaptureStatus, Option<String>) =
        sqlx::query_as("SELECT status, error FROM captures WHERE id = ?")
            .bind(capture)
            .fetch_one(&pool)
            .await
            .expect("capture");
    assert!(
        !status.is_finished(),
        "still waiting for Twitch: {status:?} {error:?}"
    );
    let retried: u32 =
        sqlx::query_scalar("SELECT attempts FROM jobs WHERE kind = 'capture_chatters'")
            .fetch_one(&pool)
            .await
            .expect("job");
    assert!(retried >= 2, "the capture retried: {retried} attempts");

    stack
        .fake_post("/_fake/faults", serde_json::json!({}))
        .await
        .expect("Twitch is back");
    let (status, error) = stack
        .wait_capture(capture, Duration::from_secs(60))
        .await
        .expect("finished");
    assert_eq!(status, CaptureStatus::Done, "{error:?}");
    let invalid: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM twitch_tokens WHERE invalid_since IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("tokens");
    assert_eq!(invalid, 0, "the authorization was never given up");
    let web: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE user_id = ?")
        .bind(user)
        .fetch_one(&pool)
        .await
        .expect("web");
    assert_eq!(web, 1, "nobody was logged out");
}
