//! The benchmark's own database on the server `DATABASE_URL` names: created fresh and migrated
//! for a run, dropped afterwards unless `--keep`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// The server's own count of the work a stretch of time cost it (global status counters,
/// read before and after), and the deepest purge backlog seen meanwhile: what tells a claim
/// that walks past delete-marked index entries from one that reads only what it returns.
pub struct ServerWork {
    pool: MySqlPool,
    before: ServerCounters,
    deepest_backlog: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: tokio::task::JoinHandle<()>,
}

/// Counters from `SHOW GLOBAL STATUS` (the server runs nothing else during a benchmark).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerCounters {
    /// Logical reads of buffer-pool pages: every index and row page a statement touched.
    pub page_reads: u64,
    /// Rows InnoDB handed to the server by index order (`Handler_read_next`): delete-marked
    /// entries skipped inside InnoDB are not among them, their pages are among `page_reads`.
    pub index_next_reads: u64,
}

impl ServerCounters {
    async fn read(pool: &MySqlPool) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SHOW GLOBAL STATUS WHERE Variable_name IN \
             ('Innodb_buffer_pool_read_requests', 'Handler_read_next')",
        )
        .fetch_all(pool)
        .await?;
        let mut counters = Self::default();
        for (name, value) in rows {
            let value = value.parse().unwrap_or(0);
            match name.as_str() {
                "Innodb_buffer_pool_read_requests" => counters.page_reads = value,
                "Handler_read_next" => counters.index_next_reads = value,
                _ => {}
            }
        }
        Ok(counters)
    }
}

/// What [`ServerWork::stop`] reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerWorkDone {
    pub counters: ServerCounters,
    /// The most undo logs waiting for purge at any sample (`Innodb_history_list_length`).
    pub deepest_backlog: u64,
}

impl ServerWorkDone {
    /// "per job: …" for a figure's value.
    pub fn per(&self, units: u64, unit: &str) -> String {
        let units = units.max(1) as f64;
        format!(
            "per {unit} {:.0} buffer-pool page reads and {:.1} index next-reads; purge backlog up to {} undo logs",
            self.counters.page_reads as f64 / units,
            self.counters.index_next_reads as f64 / units,
            self.deepest_backlog
        )
    }
}

async fn history_length(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SHOW GLOBAL STATUS LIKE 'Innodb_history_list_length'")
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|(_, v)| v.parse().ok()).unwrap_or(0))
}

impl ServerWork {
    /// Starts counting; the backlog is sampled every 50 ms on one of `pool`'s connections.
    pub async fn start(pool: &MySqlPool) -> Result<Self, sqlx::Error> {
        let before = ServerCounters::read(pool).await?;
        let deepest_backlog = Arc::new(AtomicU64::new(history_length(pool).await?));
        let stop = Arc::new(AtomicBool::new(false));
        let (deepest, stopped, sampling) = (deepest_backlog.clone(), stop.clone(), pool.clone());
        let sampler = tokio::spawn(async move {
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(length) = history_length(&sampling).await {
                    deepest.fetch_max(length, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Ok(Self {
            pool: pool.clone(),
            before,
            deepest_backlog,
            stop,
            sampler,
        })
    }

    pub async fn stop(self) -> Result<ServerWorkDone, sqlx::Error> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.sampler.await;
        let after = ServerCounters::read(&self.pool).await?;
        Ok(ServerWorkDone {
            counters: ServerCounters {
                page_reads: after.page_reads.saturating_sub(self.before.page_reads),
                index_next_reads: after
                    .index_next_reads
                    .saturating_sub(self.before.index_next_reads),
            },
            deepest_backlog: self.deepest_backlog.load(Ordering::Relaxed),
        })
    }
}
