use chrono::{DateTime, TimeZone, Utc};
use sqlx::MySqlPool;
use tca_common::db::accounts::{self, ListedName};

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0)
        .single()
        .expect("time")
}

fn listed<'a>(id: &'a str, login: &'a str) -> ListedName<'a> {
    ListedName {
        twitch_user_id: id,
        login,
        display_name: login,
    }
}

/// (account, login, first seen, last seen) of each ledger row, in the order written.
type LedgerRow = (u64, String, DateTime<Utc>, DateTime<Utc>);

async fn ledger(pool: &MySqlPool) -> Vec<LedgerRow> {
    sqlx::query_as(
        "SELECT account_id, login, first_seen_at, last_seen_at FROM account_names ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("ledger")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn inserting_accounts_another_capture_inserted_returns_them_as_they_stand(pool: MySqlPool) {
    let mut conn = pool.acquire().await.expect("conn");
    let first = accounts::insert_new(&mut conn, &[listed("10", "ann")], at(1))
        .await
        .expect("insert");
    assert_eq!(first.len(), 1);
    // A second capture saw "10" as new too (it read before the first inserted), with "11".
    let second = accounts::insert_new(
        &mut conn,
        &[listed("10", "ann"), listed("11", "ben")],
        at(2),
    )
    .await
    .expect("insert");
    let mut got = second.clone();
    got.sort_by_key(|a| a.id);
    assert_eq!(got.len(), 2, "the row inserted before and the new one");
    let ann = &got[0];
    assert_eq!(
        (ann.id, ann.twitch_user_id.as_str(), ann.login.as_str()),
        (first[0].id, "10", "ann")
    );
    assert_eq!(
        (ann.first_seen_at, ann.last_seen_at),
        (at(1), at(2)),
        "the existing row keeps its first sighting, its last one moves on"
    );
    assert_eq!(
        (got[1].twitch_user_id.as_str(), got[1].first_seen_at),
        ("11", at(2))
    );
    assert!(
        ledger(&pool).await.is_empty(),
        "no ledger row without a rename"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_first_rename_writes_the_old_name_and_the_new(pool: MySqlPool) {
    let mut conn = pool.acquire().await.expect("conn");
    let ann = accounts::insert_new(&mut conn, &[listed("10", "ann")], at(1))
        .await
        .expect("insert")
        .remove(0);
    // Seen again as "ann" at 3 (the account row's last sighting), then renamed at 5.
    accounts::touch_seen(&mut *conn, &[ann.id], at(3))
        .await
        .expect("touch");
    // Another account, never renamed, holds "anne" today: Twitch gave it to ann since.
    let other = accounts::insert_new(&mut conn, &[listed("20", "anne")], at(2))
        .await
        .expect("insert")
        .remove(0);
    let ann = accounts::find_by_twitch_ids(&mut *conn, ["10"].into_iter())
        .await
        .expect("find")
        .remove(0);
    let mut tx = pool.begin().await.expect("begin");
    let holders = accounts::rename(&mut tx, &ann, listed("10", "anne"), at(5))
        .await
        .expect("rename");
    tx.commit().await.expect("commit");
    assert_eq!(
        holders,
        vec![other.id],
        "login reuse through the account row"
    );
    assert_eq!(
        ledger(&pool).await,
        vec![
            (ann.id, "ann".to_string(), at(1), at(3)),
            (ann.id, "anne".to_string(), at(5), at(5)),
        ]
    );
    let names: u32 = sqlx::query_scalar("SELECT names_count FROM twitch_accounts WHERE id = ?")
        .bind(ann.id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(names, 2);
}
