//! The database: pool, migrations, readiness, and one module of queries per aggregate.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod bot_lists;
pub mod captures;
pub mod eventsub;
pub mod jobs;
pub mod marks;
pub mod moderation;
pub mod oauth_states;
pub mod presence;
pub mod raids;
pub mod session_channels;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod web_sessions;

/// `SELECT {columns} FROM {table} WHERE {condition}` as a typed query: how a table module
/// reads its rows by different keys without writing the statement again. Every argument is a
/// constant of that module, never input (values are bound with `?`).
pub(crate) fn select<T>(
    columns: &str,
    table: &str,
    condition: &str,
) -> sqlx::query::QueryAs<'static, sqlx::MySql, T, sqlx::mysql::MySqlArguments>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM {table} WHERE {condition}"
    )))
}

/// Implements sqlx's `Type`, `Encode` and `Decode` for a fieldless enum stored as a VARCHAR,
/// through its `as_str()` and `FromStr` (sqlx's derive only matches MySQL `ENUM` columns).
#[macro_export]
macro_rules! sql_string_enum {
    ($ty:ty) => {
        impl sqlx::Type<sqlx::MySql> for $ty {
            fn type_info() -> sqlx::mysql::MySqlTypeInfo {
                <str as sqlx::Type<sqlx::MySql>>::type_info()
            }
            fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::MySql>>::compatible(ty)
            }
        }
        impl sqlx::Encode<'_, sqlx::MySql> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<u8>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::MySql>>::encode(self.as_str(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::MySql> for $ty {
            fn decode(
                value: sqlx::mysql::MySqlValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let raw = <&str as sqlx::Decode<sqlx::MySql>>::decode(value)?;
                Ok(raw.parse::<$ty>()?)
            }
        }
    };
}

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::{Executor, MySql, Transaction};

use crate::config::{DatabaseUrl, EnvReader};

/// Every migration under `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long start-up keeps retrying an unreachable database before giving up.
    pub startup_timeout: Duration,
}

impl DatabaseConfig {
    /// Reads `DATABASE_URL`, `DATABASE_MAX_CONNECTIONS`, `DATABASE_ACQUIRE_TIMEOUT` and
    /// `DATABASE_STARTUP_TIMEOUT`.
    pub fn read(env: &mut EnvReader) -> Option<Self> {
        let url = env.required_database_url("DATABASE_URL");
        let max_connections = env.u32_in("DATABASE_MAX_CONNECTIONS", 10, 1, 1000);
        let acquire_timeout = env.duration_or("DATABASE_ACQUIRE_TIMEOUT", Duration::from_secs(10));
        let startup_timeout = env.duration_or("DATABASE_STARTUP_TIMEOUT", Duration::from_secs(60));
        Some(Self {
            url: url?,
            max_connections,
            acquire_timeout,
            startup_timeout,
        })
    }

    pub fn for_url(url: DatabaseUrl) -> Self {
        Self {
            url,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            startup_timeout: Duration::from_secs(60),
        }
    }
}

/// Session settings every connection of ours gets: UTC, and READ COMMITTED so that
/// locking reads lock only the rows they return (no gap locks between queue claimers).
///
/// sqlx pings each connection before handing it out. Turning that off gained 8 % on B1 but
/// left idle services (analysis, the gateway) answering /readyz with errors after a MariaDB
/// restart in the chaos run (docs/benchmarks.md): the ping stays.
pub fn pool_options(max_connections: u32, acquire_timeout: Duration) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                conn.execute("SET time_zone = '+00:00'").await?;
                Ok(())
            })
        })
}

pub fn connect_options(url: &DatabaseUrl) -> Result<MySqlConnectOptions, sqlx::Error> {
    url.expose().parse()
}

/// Connects, retrying while the database is unreachable (it may be starting or restarting)
/// until `startup_timeout`.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<MySqlPool> {
    let options = connect_options(&config.url)?;
    let pool =
        pool_options(config.max_connections, config.acquire_timeout).connect_lazy_with(options);
    let deadline = tokio::time::Instant::now() + config.startup_timeout;
    let mut delay = Duration::from_millis(200);
    loop {
        match pool.acquire().await {
            Ok(_) => return Ok(pool),
            Err(e) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(error = %e, retry_in = ?delay, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "database {} not reachable within {:?}",
                    config.url, config.startup_timeout
                )));
            }
        }
    }
}

/// How long a starting service waits for another one that is applying migrations.
const MIGRATION_LOCK_TIMEOUT_SECS: u32 = 300;

/// Applies pending migrations, once, even when several services start together.
///
/// sqlx's own migration lock calls `GET_LOCK(name, -1)`, which MySQL reads as "wait forever"
/// but MariaDB answers at once with NULL (not acquired), so on MariaDB it does not lock.
/// We hold our own advisory lock, with a finite timeout, on the connection that migrates.
pub async fn migrate(pool: &MySqlPool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut conn = pool.acquire().await.context("connecting to migrate")?;
    let acquired: Option<i32> = sqlx::query_scalar(
        "SELECT GET_LOCK(CONCAT('tca_migrations:', COALESCE(DATABASE(), '')), ?)",
    )
    .bind(MIGRATION_LOCK_TIMEOUT_SECS)
    .fetch_one(&mut *conn)
    .await
    .context("taking the migration lock")?;
    if acquired != Some(1) {
        anyhow::bail!(
            "another process held the migration lock for {MIGRATION_LOCK_TIMEOUT_SECS}s; \
             is a migration stuck?"
        );
    }
    // run_direct on the connection itself (not through `Acquire`) keeps the future `Send`.
    let result = MIGRATOR
        .run_direct(None, &mut *conn, false)
        .await
        .map_err(|e| anyhow::Error::new(e).context("applying database migrations"));
    let released =
        sqlx::query("SELECT RELEASE_LOCK(CONCAT('tca_migrations:', COALESCE(DATABASE(), '')))")
            .execute(&mut *conn)
            .await;
    if let Err(e) = released {
        // Closing the connection releases the lock anyway.
        tracing::warn!(error = %e, "releasing the migration lock failed");
        let _ = conn.close().await;
    }
    result
}

/// The embedded migrations not yet applied successfully (empty when the schema is current).
pub async fn pending_migrations(pool: &MySqlPool) -> Result<Vec<i64>, sqlx::Error> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(pool)
            .await
        {
            Ok(versions) => versions,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42S02") => Vec::new(),
            Err(e) => return Err(e),
        };
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| m.version)
        .collect())
}

/// Starts a transaction at READ COMMITTED whatever the session's default, for code whose
/// correctness depends on it (the queue's claim and reaper).
pub async fn begin_read_committed(
    pool: &MySqlPool,
) -> Result<Transaction<'static, MySql>, sqlx::Error> {
    pool.begin_with(BEGIN_READ_COMMITTED).await
}

/// [`begin_read_committed`] on a connection the caller holds.
pub async fn begin_read_committed_on(
    conn: &mut MySqlConnection,
) -> Result<Transaction<'_, MySql>, sqlx::Error> {
    sqlx::Connection::begin_with(conn, BEGIN_READ_COMMITTED).await
}

// SET TRANSACTION applies to the next transaction only: the one this same round trip starts.
const BEGIN_READ_COMMITTED: &str =
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";

/// True when `error` is a unique-key violation (MariaDB error 1062).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
