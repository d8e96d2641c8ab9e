//! The backup and restore procedure of docs/operations.md, with the real `mariadb-dump` and
//! `mariadb` client: a dump restored into an *empty* database, then started by a version with
//! the same or newer migrations, applies only what is missing and keeps every row.

use std::process::{Command, Stdio};

use sqlx::MySqlPool;
use tca_common::db;

/// Host, port, user and password of the test server (`DATABASE_URL`).
fn server() -> (String, u16, String, String) {
    let url = url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL"))
        .expect("DATABASE_URL is a URL");
    (
        url.host_str().unwrap_or("127.0.0.1").to_string(),
        url.port().unwrap_or(3306),
        url.username().to_string(),
        url.password().unwrap_or("").to_string(),
    )
}

/// The client's connection arguments; the password travels in the environment, not argv.
fn client(program: &str) -> Command {
    let (host, port, user, password) = server();
    let mut command = Command::new(program);
    command
        .args(["-h", &host, "-P", &port.to_string(), "-u", &user])
        .env("MYSQL_PWD", password);
    command
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_dump_restored_into_an_empty_database_starts_cleanly_with_its_rows(pool: MySqlPool) {
    let name: String = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&pool)
        .await
        .expect("database");
    let now = chrono::Utc::now();
    tca_common::db::users::upsert(&pool, "4242", "kept_user", "Kept", None, now)
        .await
        .expect("a user");

    // The operator's backup command (docs/operations.md, "Backup and restore").
    let dump = client("mariadb-dump")
        .args(["--single-transaction", "--routines", &name])
        .output()
        .expect("mariadb-dump is installed (scripts/test installs mariadb-client)");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );

    // Restore into an empty database, as the procedure says.
    // Database names have at most 64 characters; the test database's own is near that.
    let restored = format!("restore_{}", &name[name.len().saturating_sub(40)..]);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS `{restored}`"
    )))
    .execute(&pool)
    .await
    .expect("drop");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{restored}`")))
        .execute(&pool)
        .await
        .expect("create");
    let mut restore = client("mariadb")
        .arg(&restored)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mariadb client is installed");
    {
        use std::io::Write;
        let mut stdin = restore.stdin.take().expect("stdin");
        stdin.write_all(&dump.stdout).expect("feed the dump");
    }
    let output = restore.wait_with_output().expect("restore");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The next start (gateway or worker) migrates: nothing left to apply, no error, rows kept.
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL"))
        .expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{restored}"));
    let config = db::DatabaseConfig::for_url(
        tca_common::config::DatabaseUrl::parse(url.as_str()).expect("url"),
    );
    let restored_pool = db::connect(&config).await.expect("connect to the restore");
    db::migrate(&restored_pool)
        .await
        .expect("migrations after a restore");
    assert!(
        db::pending_migrations(&restored_pool)
            .await
            .expect("pending")
            .is_empty()
    );
    let user = tca_common::db::users::find_by_twitch_id(&restored_pool, "4242")
        .await
        .expect("query")
        .expect("the user survived the round trip");
    assert_eq!(user.login, "kept_user");
    restored_pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{restored}`")))
        .execute(&pool)
        .await
        .expect("clean up");
}
