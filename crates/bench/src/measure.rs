//! What every scenario measures with: percentiles of latencies, a process's peak memory, and
//! what a stretch of work cost in CPU time and MariaDB statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The `p` percentile (0–1) of sorted samples, by rank; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Resident memory of a process, from /proc (bytes).
pub fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Samples a process's RSS every `every` until stopped; reports the peak.
pub struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    pub fn start(pid: u32, every: Duration) -> Self {
        let peak = Arc::new(AtomicU64::new(rss(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss(pid), Ordering::Relaxed);
                tokio::time::sleep(every).await;
            }
        });
        Self { peak, stop, task }
    }

    /// The highest RSS seen (bytes).
    pub async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// CPU time a process has used so far (user + system), in clock ticks, from /proc; 0 when it
/// is gone.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) may hold spaces: fields are counted after its closing `)`.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, so the 12th and 13th after the state (field 3).
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tick(11) + tick(12)
}

/// Clock ticks in a second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// The first process whose command name is `name` (e.g. `mariadbd`), from /proc.
fn pid_of(name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == name)
        })
}

/// Where the time of a stretch of work went: each named process's and MariaDB's CPU time and
/// MariaDB's statements (`Questions`), per unit of work — the profile that says which of them
/// is the limit (B1, B6).
pub struct Cost {
    processes: Vec<(String, u32, u64)>,
    questions: u64,
    started: std::time::Instant,
}

async fn questions(pool: &sqlx::MySqlPool) -> anyhow::Result<u64> {
    let (_, value): (String, String) = sqlx::query_as("SHOW GLOBAL STATUS LIKE 'Questions'")
        .fetch_one(pool)
        .await?;
    Ok(value.parse()?)
}

/// What [`Cost::stop`] found, per unit of work.
pub struct Spent {
    /// MariaDB statements a unit.
    pub statements: f64,
    /// (name, CPU milliseconds a unit, share of all the machine's cores over the stretch).
    pub cpu: Vec<(String, f64, f64)>,
    pub cores: f64,
}

impl Spent {
    /// CPU milliseconds a unit of the process called `name`.
    pub fn cpu_ms(&self, name: &str) -> Option<f64> {
        self.cpu
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(_, ms, _)| *ms)
    }

    /// Every process's share of the cores together.
    pub fn busy(&self) -> f64 {
        self.cpu.iter().map(|(.., share)| share).sum()
    }
}

impl std::fmt::Display for Spent {
    /// "MariaDB statements 2.0, gateway CPU 0.14 ms (53 % of the 2 cores), …".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MariaDB statements {:.1}", self.statements)?;
        for (name, ms, share) in &self.cpu {
            write!(
                f,
                ", {name} CPU {ms:.3} ms ({:.0} % of the {:.0} cores)",
                100.0 * share,
                self.cores
            )?;
        }
        Ok(())
    }
}

impl Cost {
    /// Starts counting for `processes` (name, pid) and MariaDB (when its process is found).
    pub async fn start(
        pool: &sqlx::MySqlPool,
        processes: impl IntoIterator<Item = (String, u32)>,
    ) -> anyhow::Result<Self> {
        let mut processes: Vec<(String, u32, u64)> = processes
            .into_iter()
            .map(|(name, pid)| (name, pid, cpu_ticks(pid)))
            .collect();
        if let Some(pid) = pid_of("mariadbd") {
            processes.push(("MariaDB".into(), pid, cpu_ticks(pid)));
        }
        Ok(Self {
            processes,
            questions: questions(pool).await?,
            started: std::time::Instant::now(),
        })
    }

    /// What the stretch since [`Cost::start`] cost, per one of `units`.
    pub async fn stop(self, pool: &sqlx::MySqlPool, units: f64) -> anyhow::Result<Spent> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let units = units.max(1.0);
        let ticks = ticks_per_second();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        // The counter's own SHOW STATUS is one of them.
        let statements = questions(pool)
            .await?
            .saturating_sub(self.questions)
            .saturating_sub(1) as f64;
        let cpu = self
            .processes
            .iter()
            .map(|(name, pid, before)| {
                let seconds = cpu_ticks(*pid).saturating_sub(*before) as f64 / ticks;
                (
                    name.clone(),
                    1000.0 * seconds / units,
                    seconds / (elapsed * cores),
                )
            })
            .collect();
        Ok(Spent {
            statements: statements / units,
            cpu,
            cores,
        })
    }
}
