//! The benchmark's own database on the server `DATABASE_URL` names: created fresh and migrated
//! for a run, dropped afterwards unless `--keep`.

use std::time::Duration;

use anyhow::Context;
use sqlx::MySqlPool;

pub const NAME: &str = "tca_bench";

pub struct BenchDatabase {
    admin: MySqlPool,
    /// The benchmark database's URL (for service binaries).
    pub url: url::Url,
    pub pool: MySqlPool,
}

impl BenchDatabase {
    /// Drops any previous `tca_bench`, creates and migrates a new one; `connections` for the
    /// benchmark's own pool.
    pub async fn fresh(connections: u32) -> anyhow::Result<Self> {
        let server =
            std::env::var("DATABASE_URL").context("DATABASE_URL must name the MariaDB server")?;
        let mut url = url::Url::parse(&server).context("DATABASE_URL is not a URL")?;
        let admin = MySqlPool::connect(url.as_str()).await?;
        for statement in [
            format!("DROP DATABASE IF EXISTS {NAME}"),
            format!("CREATE DATABASE {NAME}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&admin)
                .await?;
        }
        url.set_path(NAME);
        let pool = tca_common::db::pool_options(connections, Duration::from_secs(60))
            .connect(url.as_str())
            .await?;
        tca_common::db::MIGRATOR.run(&pool).await?;
        Ok(Self { admin, url, pool })
    }

    pub async fn finish(self, keep: bool) -> anyhow::Result<()> {
        self.pool.close().await;
        if !keep {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {NAME}")))
                .execute(&self.admin)
                .await?;
        }
        Ok(())
    }
}
