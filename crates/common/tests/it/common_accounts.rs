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

async fn ledger(pool: &MySqlPool) -> Vec<(u64, String, DateTime<Utc>, DateTime<Utc>)> {
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
    let mut got: Vec<(u64, String, String, DateTime<Utc>, DateTime<Utc>)> = second
        .iter()
        .map(|a| {
            (
                a.id,
                a.twitch_user_id.clone(),
                a.login.clone(),
                a.first_seen_at,
                a.last_seen_at,
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "the row inserted before and the new one");
    assert_eq!(
        got[0],
        (first[0].id, "10".into(), "ann".into(), at(1), at(2)),
        "the existing row keeps its id and first sighting, last seen moves on"
    );
    assert_eq!((got[1].1.as_str(), got[1].3), ("11", at(2)));
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
