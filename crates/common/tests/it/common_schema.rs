use chrono::Utc;
use sqlx::MySqlPool;
use tca_common::db;

async fn insert_user(pool: &MySqlPool, twitch_id: &str) -> u64 {
    sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(twitch_id)
    .bind(format!("user{twitch_id}"))
    .bind(format!("User{twitch_id}"))
    .bind(Utc::now())
    .bind(Utc::now())
    .execute(pool)
    .await
    .expect("insert user")
    .last_insert_id()
}

async fn insert_session(pool: &MySqlPool, user_id: u64, status: &str) -> Result<u64, sqlx::Error> {
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO analysis_sessions (public_id, user_id, name, status, created_at, updated_at, \
         last_activity_at) VALUES (UUID(), ?, 'session', ?, ?, ?, ?)",
    )
    .bind(user_id)
    .bind(status)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.last_insert_id())
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn database_admits_one_active_analysis_session_per_user(pool: MySqlPool) {
    let alice = insert_user(&pool, "1").await;
    let bob = insert_user(&pool, "2").await;
    let first = insert_session(&pool, alice, "active")
        .await
        .expect("first active");
    let second = insert_session(&pool, alice, "active")
        .await
        .expect_err("second active");
    assert!(db::is_unique_violation(&second), "{second}");

    // Other users, and any number of saved or expired sessions, are unaffected.
    insert_session(&pool, bob, "active")
        .await
        .expect("bob's active");
    for status in ["saved", "saved", "expired", "deleted"] {
        insert_session(&pool, alice, status)
            .await
            .expect("inactive sessions");
    }

    // Saving the active one frees the slot for a new active session.
    sqlx::query("UPDATE analysis_sessions SET status = 'saved' WHERE id = ?")
        .bind(first)
        .execute(&pool)
        .await
        .expect("save");
    insert_session(&pool, alice, "active")
        .await
        .expect("new active after saving");

    // Resuming the saved one while another is active is refused by the database too.
    let resume = sqlx::query("UPDATE analysis_sessions SET status = 'active' WHERE id = ?")
        .bind(first)
        .execute(&pool)
        .await
        .expect_err("two active");
    assert!(db::is_unique_violation(&resume));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn unknown_session_status_is_refused(pool: MySqlPool) {
    let user = insert_user(&pool, "1").await;
    insert_session(&pool, user, "archived")
        .await
        .expect_err("check constraint");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn capture_chatters_cannot_hold_a_chatter_twice(pool: MySqlPool) {
    let user = insert_user(&pool, "1").await;
    let session = insert_session(&pool, user, "active")
        .await
        .expect("session");
    let now = Utc::now();
    let channel = sqlx::query(
        "INSERT INTO session_channels (session_id, broadcaster_id, broadcaster_login, \
         broadcaster_name, created_at, updated_at) VALUES (?, '42', 'chan', 'Chan', ?, ?)",
    )
    .bind(session)
    .bind(now)
    .bind(now)
    .execute(&pool)
    .await
    .expect("channel")
    .last_insert_id();
    let capture = sqlx::query(
        "INSERT INTO captures (session_id, session_channel_id, broadcaster_id, broadcaster_login, \
         capture_trigger, status, queued_at) VALUES (?, ?, '42', 'chan', 'manual', 'queued', ?)",
    )
    .bind(session)
    .bind(channel)
    .bind(now)
    .execute(&pool)
    .await
    .expect("capture")
    .last_insert_id();
    let account = sqlx::query(
        "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, first_seen_at, \
         last_seen_at, twitch_created_at) VALUES ('7', 'viewer', 'Viewer', ?, ?, '2020-05-06 07:08:09')",
    )
    .bind(now)
    .bind(now)
    .execute(&pool)
    .await
    .expect("account")
    .last_insert_id();
    let insert = || {
        sqlx::query("INSERT INTO capture_chatters (capture_id, account_id) VALUES (?, ?)")
            .bind(capture)
            .bind(account)
            .execute(&pool)
    };
    insert().await.expect("first");
    let again = insert().await.expect_err("second");
    assert!(db::is_unique_violation(&again));

    // Deleting the session removes its captures and their chatters with it.
    sqlx::query("DELETE FROM analysis_sessions WHERE id = ?")
        .bind(session)
        .execute(&pool)
        .await
        .expect("delete session");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM capture_chatters")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = false)]
async fn migrations_apply_once_and_readiness_sees_them(pool: MySqlPool) {
    assert!(
        !db::pending_migrations(&pool)
            .await
            .expect("pending")
            .is_empty()
    );
    // Two services starting together: sqlx's advisory lock serialises them.
    let (a, b) = tokio::join!(db::migrate(&pool), db::migrate(&pool));
    a.expect("first migrate");
    b.expect("second migrate");
    assert!(
        db::pending_migrations(&pool)
            .await
            .expect("pending")
            .is_empty()
    );
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn read_committed_transaction_begins(pool: MySqlPool) {
    let mut tx = db::begin_read_committed(&pool).await.expect("begin");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *tx)
        .await
        .expect("query");
    assert_eq!(one, 1);
    tx.commit().await.expect("commit");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn service_pool_connections_run_at_read_committed_in_utc(pool: MySqlPool) {
    let name: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&pool)
        .await
        .expect("name");
    let mut url =
        url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL")).expect("url");
    url.set_path(&format!("/{name}"));
    let config = db::DatabaseConfig::for_url(
        tca_common::config::DatabaseUrl::parse(url.as_str()).expect("database url"),
    );
    let service_pool = db::connect(&config).await.expect("connect");
    let (isolation, zone): (String, String) =
        sqlx::query_as("SELECT @@SESSION.tx_isolation, @@SESSION.time_zone")
            .fetch_one(&service_pool)
            .await
            .expect("session variables");
    assert_eq!(isolation, "READ-COMMITTED");
    assert_eq!(zone, "+00:00");
    assert!(
        db::pending_migrations(&service_pool)
            .await
            .expect("pending")
            .is_empty()
    );
}
