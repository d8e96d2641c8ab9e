//! Presence aggregates as `presence::record_capture` keeps them: per channel only once a
//! session has captures of two channels.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::MySqlPool;
use tca_common::db::accounts::{self, ListedName};
use tca_common::db::captures::{self, CaptureTrigger};
use tca_common::db::presence::{self, Sighting};
use tca_common::db::session_channels;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0)
        .single()
        .expect("time")
}

/// (account, captures seen, offline, channels seen) of each session row.
type SessionRow = (u64, u32, u32, u16);
/// (channel, account, captures seen, offline) of each channel row.
type ChannelRow = (u64, u64, u32, u32);

async fn session_rows(pool: &MySqlPool, session: u64) -> Vec<SessionRow> {
    sqlx::query_as(
        "SELECT account_id, captures_seen, captures_seen_offline, channels_seen FROM session_accounts \
         WHERE session_id = ? ORDER BY account_id",
    )
    .bind(session)
    .fetch_all(pool)
    .await
    .expect("session rows")
}

async fn channel_rows(pool: &MySqlPool, session: u64) -> Vec<ChannelRow> {
    sqlx::query_as(
        "SELECT session_channel_id, account_id, captures_seen, captures_seen_offline \
         FROM session_channel_accounts WHERE session_id = ? ORDER BY session_channel_id, account_id",
    )
    .bind(session)
    .fetch_all(pool)
    .await
    .expect("channel rows")
}

/// Stores one capture of `channel` seeing `ids`, as the worker's transaction does; returns
/// how many were new to the session.
async fn capture(
    pool: &MySqlPool,
    session: u64,
    channel: u64,
    ids: &[u64],
    hour: u32,
    offline: bool,
) -> u64 {
    let mut tx = pool.begin().await.expect("tx");
    let capture_id = captures::request(&mut tx, channel, 1, CaptureTrigger::Manual, at(hour))
        .await
        .expect("capture");
    let sighting = Sighting {
        capture_id,
        session_id: session,
        session_channel_id: channel,
        captured_at: at(hour),
        offline,
    };
    let new = presence::record_capture(&mut tx, &sighting, ids)
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    new
}

/// Four new accounts (u1 to u4), their ids in order.
async fn four_accounts(pool: &MySqlPool) -> (u64, u64, u64, u64) {
    let mut conn = pool.acquire().await.expect("conn");
    let names: Vec<(String, String)> = (1..=4).map(|n| (n.to_string(), format!("u{n}"))).collect();
    let listed: Vec<ListedName<'_>> = names
        .iter()
        .map(|(id, login)| ListedName {
            twitch_user_id: id,
            login,
            display_name: login,
        })
        .collect();
    let mut ids: Vec<u64> = accounts::insert_new(&mut conn, &listed, at(0))
        .await
        .expect("accounts")
        .iter()
        .map(|a| a.id)
        .collect();
    ids.sort_unstable();
    (ids[0], ids[1], ids[2], ids[3])
}

/// A moderator's new session (user 1): nothing captured yet.
async fn new_session(pool: &MySqlPool) -> u64 {
    sqlx::query(
        "INSERT INTO users (id, twitch_user_id, login, display_name, created_at, updated_at) \
         VALUES (1, '1', 'mod', 'Mod', NOW(6), NOW(6))",
    )
    .execute(pool)
    .await
    .expect("user");
    sqlx::query(
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, \
         last_activity_at) VALUES (UUID(), 1, 's', 'active', NOW(6), NOW(6), NOW(6))",
    )
    .execute(pool)
    .await
    .expect("session")
    .last_insert_id()
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn presence_per_channel_starts_at_the_second_channel_filled_for_the_first(pool: MySqlPool) {
    let session = new_session(&pool).await;
    let first = session_channels::ensure(&pool, session, "100", "one", "One", at(0))
        .await
        .expect("channel");
    let second = session_channels::ensure(&pool, session, "200", "two", "Two", at(0))
        .await
        .expect("channel");
    let (a, b, c, d) = four_accounts(&pool).await;
    let mode = async || -> (bool, Option<u64>) {
        sqlx::query_as(
            "SELECT presence_per_channel, presence_channel_id FROM analysis_sessions WHERE id = ?",
        )
        .bind(session)
        .fetch_one(&pool)
        .await
        .expect("mode")
    };
    assert_eq!(
        mode().await,
        (false, None),
        "a new session: nothing captured"
    );

    // Two captures of the first channel: the session's rows only.
    assert_eq!(capture(&pool, session, first, &[a, b], 1, false).await, 2);
    assert_eq!(capture(&pool, session, first, &[b, c], 2, true).await, 1);
    assert_eq!(mode().await, (false, Some(first)));
    assert!(channel_rows(&pool, session).await.is_empty());
    assert_eq!(
        session_rows(&pool, session).await,
        vec![(a, 1, 0, 1), (b, 2, 1, 1), (c, 1, 1, 1)]
    );

    // The second channel: the first channel's rows are filled from the session's, then this
    // capture counts as before — b is now seen in two channels, d is new.
    assert_eq!(capture(&pool, session, second, &[b, d], 3, false).await, 1);
    assert_eq!(mode().await, (true, Some(first)));
    assert_eq!(
        channel_rows(&pool, session).await,
        vec![
            (first, a, 1, 0),
            (first, b, 2, 1),
            (first, c, 1, 1),
            (second, b, 1, 0),
            (second, d, 1, 0),
        ]
    );
    assert_eq!(
        session_rows(&pool, session).await,
        vec![(a, 1, 0, 1), (b, 3, 1, 2), (c, 1, 1, 1), (d, 1, 0, 1)]
    );

    // And the first channel again, per channel now.
    assert_eq!(capture(&pool, session, first, &[c, d], 4, false).await, 0);
    assert_eq!(
        channel_rows(&pool, session).await,
        vec![
            (first, a, 1, 0),
            (first, b, 2, 1),
            (first, c, 2, 1),
            (first, d, 1, 0),
            (second, b, 1, 0),
            (second, d, 1, 0),
        ]
    );
    assert_eq!(
        session_rows(&pool, session).await,
        vec![(a, 1, 0, 1), (b, 3, 1, 2), (c, 2, 1, 1), (d, 2, 0, 2)]
    );
}

/// A session whose first capture a previous version stored (per-channel rows, no presence
/// channel: an upgrade's few seconds) stays per channel at its next capture.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_session_with_per_channel_rows_from_before_stays_per_channel(pool: MySqlPool) {
    let session = new_session(&pool).await;
    let channel = session_channels::ensure(&pool, session, "100", "one", "One", at(0))
        .await
        .expect("channel");
    let mut conn = pool.acquire().await.expect("conn");
    let listed = [ListedName {
        twitch_user_id: "1",
        login: "u1",
        display_name: "u1",
    }];
    let account = accounts::insert_new(&mut conn, &listed, at(0))
        .await
        .expect("account")[0]
        .id;
    drop(conn);
    // What the previous version wrote for the first capture.
    sqlx::query(
        "INSERT INTO session_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
         captures_seen_offline, channels_seen) VALUES (?, ?, NOW(6), NOW(6), 1, 0, 1)",
    )
    .bind(session)
    .bind(account)
    .execute(&pool)
    .await
    .expect("session row");
    sqlx::query(
        "INSERT INTO session_channel_accounts (session_id, account_id, first_seen_at, last_seen_at, captures_seen, \
         captures_seen_offline, session_channel_id) VALUES (?, ?, NOW(6), NOW(6), 1, 0, ?)",
    )
    .bind(session)
    .bind(account)
    .bind(channel)
    .execute(&pool)
    .await
    .expect("channel row");
    assert_eq!(
        capture(&pool, session, channel, &[account], 1, false).await,
        0
    );
    let per_channel: bool =
        sqlx::query_scalar("SELECT presence_per_channel FROM analysis_sessions WHERE id = ?")
            .bind(session)
            .fetch_one(&pool)
            .await
            .expect("mode");
    assert!(per_channel);
    assert_eq!(
        channel_rows(&pool, session).await,
        vec![(channel, account, 2, 0)],
        "counted per channel, not left behind"
    );
    assert_eq!(session_rows(&pool, session).await, vec![(account, 2, 0, 1)]);
}

async fn capture_rows(pool: &MySqlPool, capture: u64) -> Vec<u64> {
    sqlx::query_scalar(
        "SELECT account_id FROM capture_chatters WHERE capture_id = ? ORDER BY account_id",
    )
    .bind(capture)
    .fetch_all(pool)
    .await
    .expect("capture rows")
}

/// Capture rows written page by page as the worker does (`record_page`): only while the
/// capture runs, checked by the final transaction against the listing and rewritten when an
/// interrupted run left rows the listing does not have; cleared by a new run and by failure.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn capture_rows_written_by_page_are_checked_against_the_listing(pool: MySqlPool) {
    let session = new_session(&pool).await;
    let channel = session_channels::ensure(&pool, session, "100", "one", "One", at(0))
        .await
        .expect("channel");
    let (a, b, c, d) = four_accounts(&pool).await;
    let mut conn = pool.acquire().await.expect("conn");
    let new_capture = async |conn: &mut sqlx::MySqlConnection, hour| {
        captures::request(conn, channel, 1, CaptureTrigger::Manual, at(hour))
            .await
            .expect("capture")
    };
    let store = async |capture_id, hour, listing: &[u64]| {
        let mut tx = pool.begin().await.expect("tx");
        let sighting = Sighting {
            capture_id,
            session_id: session,
            session_channel_id: channel,
            captured_at: at(hour),
            offline: false,
        };
        let new = presence::record_capture(&mut tx, &sighting, listing)
            .await
            .expect("record");
        sqlx::query("UPDATE captures SET status = 'done' WHERE id = ?")
            .bind(capture_id)
            .execute(&mut *tx)
            .await
            .expect("done");
        tx.commit().await.expect("commit");
        new
    };

    // Queued, not running yet: a page writes nothing.
    let first = new_capture(&mut conn, 1).await;
    presence::record_page(&pool, first, &[a, b])
        .await
        .expect("page");
    assert!(capture_rows(&pool, first).await.is_empty(), "not running");

    // Running: pages write rows, a chatter listed on two pages is one row; the final
    // transaction keeps them and counts from them.
    assert!(
        captures::start_run(&pool, first, at(1))
            .await
            .expect("running")
    );
    presence::record_page(&pool, first, &[a, b])
        .await
        .expect("page");
    presence::record_page(&pool, first, &[b, c])
        .await
        .expect("page");
    assert_eq!(capture_rows(&pool, first).await, vec![a, b, c]);
    assert_eq!(store(first, 1, &[a, b, c]).await, 3);
    assert_eq!(capture_rows(&pool, first).await, vec![a, b, c]);

    // Done: a late page (a run that lost its lease) adds nothing, a new run clears nothing.
    presence::record_page(&pool, first, &[d])
        .await
        .expect("page");
    assert!(
        !captures::start_run(&pool, first, at(2))
            .await
            .expect("start")
    );
    assert_eq!(capture_rows(&pool, first).await, vec![a, b, c]);

    // An interrupted run wrote d and b; the next run's listing is b and c, its clearing step
    // skipped: the final transaction sees the rows differ and writes exactly the listing.
    let second = new_capture(&mut conn, 2).await;
    assert!(
        captures::start_run(&pool, second, at(2))
            .await
            .expect("running")
    );
    presence::record_page(&pool, second, &[b, d])
        .await
        .expect("page");
    presence::record_page(&pool, second, &[c])
        .await
        .expect("page");
    assert_eq!(store(second, 2, &[b, c]).await, 0);
    assert_eq!(capture_rows(&pool, second).await, vec![b, c]);
    assert_eq!(
        session_rows(&pool, session).await,
        vec![(a, 1, 0, 1), (b, 2, 0, 1), (c, 2, 0, 1)],
        "d was never in a stored listing"
    );

    // A new run clears what an interrupted one wrote; a failed capture keeps no rows.
    let third = new_capture(&mut conn, 3).await;
    assert!(
        captures::start_run(&pool, third, at(3))
            .await
            .expect("running")
    );
    presence::record_page(&pool, third, &[a, d])
        .await
        .expect("page");
    assert!(
        captures::start_run(&pool, third, at(3))
            .await
            .expect("start")
    );
    assert!(capture_rows(&pool, third).await.is_empty(), "cleared");
    presence::record_page(&pool, third, &[d])
        .await
        .expect("page");
    let to_run = captures::load_to_run(&pool, third)
        .await
        .expect("load")
        .expect("capture");
    let mut tx = pool.begin().await.expect("tx");
    assert!(
        captures::fail(&mut tx, &to_run, "capture-error-paging", at(3))
            .await
            .expect("fail")
    );
    tx.commit().await.expect("commit");
    assert!(capture_rows(&pool, third).await.is_empty(), "failed");
}
