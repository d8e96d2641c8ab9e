//! The queue consumer: claims jobs in batches up to its free slots, runs each under a lease it
//! keeps alive, records the outcome with fenced writes, reaps leases of dead workers, and
//! drains on shutdown. See docs/queue.md for the protocol.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use rand::RngExt;
use sqlx::MySqlPool;
use tca_common::db::jobs::{self, ClaimedJob, JobId, JobStatus, Lease};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::registry::{Done, JobError, JobResult, Registry};

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Written to `jobs.locked_by`; unique per worker process.
    pub worker_id: String,
    /// Jobs running at once in this process.
    pub concurrency: u32,
    /// Most jobs taken by one claim (never more than the free slots).
    pub claim_batch: u32,
    /// Pause between claims when the queue has nothing ready.
    pub poll_interval: Duration,
    /// How long a claim holds a job without a heartbeat.
    pub lease: Duration,
    pub reap_interval: Duration,
    /// How long shutdown waits for running jobs before handing them back to the queue.
    pub drain_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often queue depth is sampled into metrics.
    pub stats_interval: Duration,
}

impl RunnerConfig {
    /// Defaults for a worker called `worker_id`; also what tests start from.
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            concurrency: 8,
            claim_batch: 32,
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(30),
            reap_interval: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(600),
            stats_interval: Duration::from_secs(15),
        }
    }
}

pub struct Runner {
    pool: MySqlPool,
    registry: Arc<Registry>,
    config: Arc<RunnerConfig>,
    /// Ends an idle wait at once: work was queued (`waker`).
    wake: Arc<Notify>,
}

/// A spawned task that ends when its guard is dropped, so helpers (heartbeats, the reaper)
/// never outlive the task that started them, even when that one is aborted.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How one attempt ended, before it is written to the queue.
enum Ending {
    Handler(JobResult),
    LeaseLost,
    ShutDown,
}

impl Runner {
    pub fn new(pool: MySqlPool, registry: Registry, config: RunnerConfig) -> Self {
        Self {
            pool,
            registry: Arc::new(registry),
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes this runner from its idle wait to claim at once (the worker's `POST /v1/wake`,
    /// called by the gateway when a user queues work). A wake while it is busy is kept for
    /// its next wait, so none is lost between a claim and the wait after it.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown` is cancelled, then stops claiming and drains.
    pub async fn run(self, shutdown: CancellationToken) {
        let background = CancellationToken::new();
        let reaper = AbortOnDrop(tokio::spawn(reap_loop(
            self.pool.clone(),
            self.config.reap_interval,
            background.clone(),
        )));
        let stats = AbortOnDrop(tokio::spawn(stats_loop(
            self.pool.clone(),
            self.config.stats_interval,
            background.clone(),
        )));
        tracing::info!(
            worker_id = %self.config.worker_id,
            kinds = ?self.registry.kinds(),
            concurrency = self.config.concurrency,
            "job runner started"
        );

        let abort_jobs = CancellationToken::new();
        let mut tasks = self.claim_loop(&shutdown, &abort_jobs).await;

        let in_flight = tasks.len();
        if in_flight > 0 {
            tracing::info!(in_flight, timeout = ?self.config.drain_timeout, "draining running jobs");
        }
        let drained = tokio::time::timeout(self.config.drain_timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                remaining = tasks.len(),
                "drain timeout: handing unfinished jobs back to the queue"
            );
            abort_jobs.cancel();
            while tasks.join_next().await.is_some() {}
        }
        background.cancel();
        drop((reaper, stats));
        tracing::info!(worker_id = %self.config.worker_id, "job runner stopped");
    }

    async fn claim_loop(
        &self,
        shutdown: &CancellationToken,
        abort_jobs: &CancellationToken,
    ) -> JoinSet<()> {
        let slots = Arc::new(Semaphore::new(self.config.concurrency as usize));
        let kinds = self.registry.kinds();
        let mut tasks = JoinSet::new();
        let mut claim_errors = 0u32;
        // Jobs that succeeded hand their lease here; the next claim records them in its own
        // transaction (`complete_and_claim`): one commit per finished job and next claim.
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Lease>();
        let mut pending: Vec<Lease> = Vec::new();
        // Claims start where this worker's last ones reached (`jobs::Claimer`).
        let mut claimer = jobs::Claimer::new(&self.config.worker_id, &kinds, self.config.lease);
        loop {
            while tasks.try_join_next().is_some() {}
            let Some(mut permits) = self.free_slots(&slots, shutdown).await else {
                break;
            };
            while let Ok(lease) = done_rx.try_recv() {
                pending.push(lease);
            }
            let claimed = match claimer
                .complete_and_claim(&self.pool, &pending, permits.len() as u32, Utc::now())
                .await
            {
                Ok((completed, claimed)) => {
                    claim_errors = 0;
                    note_lost_completions(&pending, &completed);
                    pending.clear();
                    claimed
                }
                Err(e) => {
                    // The database may be restarting: back off, keep trying, lose nothing
                    // (claimed-but-unrecorded rows come back through their lease; the
                    // completions wait in `pending` for the next try).
                    claim_errors = claim_errors.saturating_add(1);
                    let pause = jobs::backoff_delay(
                        claim_errors,
                        Duration::from_millis(200),
                        Duration::from_secs(10),
                        rand::rng().random::<f64>(),
                    );
                    tracing::warn!(error = %e, retry_in = ?pause, "claiming jobs failed");
                    metrics::counter!("job_claim_errors_total").increment(1);
                    drop(permits);
                    sleep_or_shutdown(pause, shutdown).await;
                    continue;
                }
            };
            let got_full_batch = claimed.len() == permits.len();
            for job in claimed {
                metrics::counter!("jobs_claimed_total", "kind" => job.kind.clone()).increment(1);
                let Some(permit) = permits.pop() else { break };
                tasks.spawn(run_job(
                    self.pool.clone(),
                    self.registry.clone(),
                    self.config.clone(),
                    job,
                    permit,
                    abort_jobs.clone(),
                    done_tx.clone(),
                ));
            }
            drop(permits);
            if !got_full_batch {
                // Fewer ready jobs than free slots: the queue is drained for now. Wait for the
                // poll interval, until a job finishes (its completion is recorded at once, with
                // a claim, which may find new work), or until someone queued work and woke us.
                tokio::select! {
                    () = shutdown.cancelled() => {},
                    () = tokio::time::sleep(self.jittered_poll()) => {},
                    Some(lease) = done_rx.recv() => pending.push(lease),
                    () = self.wake.notified() => {
                        metrics::counter!("worker_wakeups_total").increment(1);
                    }
                }
            }
        }
        // From here on, jobs that succeed record their completion themselves.
        done_rx.close();
        while let Ok(lease) = done_rx.try_recv() {
            pending.push(lease);
        }
        record_completions(&self.pool, &self.config.worker_id, &pending).await;
        tasks
    }

    /// Waits for one free slot, then takes every other free one, up to the batch size;
    /// `None` at shutdown.
    async fn free_slots(
        &self,
        slots: &Arc<Semaphore>,
        shutdown: &CancellationToken,
    ) -> Option<Vec<OwnedSemaphorePermit>> {
        let first = tokio::select! {
            biased;
            () = shutdown.cancelled() => return None,
            permit = slots.clone().acquire_owned() => permit.ok()?,
        };
        let mut permits = vec![first];
        while permits.len() < self.config.claim_batch as usize {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        Some(permits)
    }

    /// The poll interval ±25 %: workers that went idle together do not poll together.
    fn jittered_poll(&self) -> Duration {
        self.config
            .poll_interval
            .mul_f64(rand::rng().random_range(0.75..1.25))
    }
}

async fn sleep_or_shutdown(duration: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        () = shutdown.cancelled() => {},
        () = tokio::time::sleep(duration) => {},
    }
}

/// One attempt of one job, from its claim to its recorded outcome.
async fn run_job(
    pool: MySqlPool,
    registry: Arc<Registry>,
    config: Arc<RunnerConfig>,
    job: ClaimedJob,
    permit: OwnedSemaphorePermit,
    abort: CancellationToken,
    done: mpsc::UnboundedSender<Lease>,
) {
    let _permit = permit;
    metrics::gauge!("worker_jobs_in_flight").increment(1.0);
    let lease = job.lease();
    let kind = job.kind.clone();
    let started = Instant::now();
    let span = tracing::info_span!("job", id = %job.id, %kind, attempt = job.attempts);

    let ending = match registry.get(&kind) {
        None => Ending::Handler(Err(JobError::Fatal(anyhow::anyhow!(
            "no handler is registered for job kind '{kind}'"
        )))),
        Some(handler) => {
            let lost = CancellationToken::new();
            let heartbeat = AbortOnDrop(tokio::spawn(heartbeat_loop(
                pool.clone(),
                lease.clone(),
                config.lease,
                lost.clone(),
            )));
            let attempt = AssertUnwindSafe(handler.run(job.clone())).catch_unwind();
            let ending = tokio::select! {
                biased;
                result = attempt => Ending::Handler(result.unwrap_or_else(|panic| {
                    Err(JobError::Retry(anyhow::anyhow!("handler panicked: {}", panic_message(&panic))))
                })),
                () = lost.cancelled() => Ending::LeaseLost,
                () = abort.cancelled() => Ending::ShutDown,
            };
            drop(heartbeat);
            ending
        }
    };

    let elapsed = started.elapsed();
    let outcome = {
        let _entered = span.enter();
        record_ending(&pool, &config, &job, &lease, ending, &done).await
    };
    metrics::counter!("jobs_finished_total", "kind" => kind.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("job_duration_seconds", "kind" => kind).record(elapsed.as_secs_f64());
    metrics::gauge!("worker_jobs_in_flight").decrement(1.0);
}

/// Writes the attempt's outcome to the queue; returns the outcome's metric label.
async fn record_ending(
    pool: &MySqlPool,
    config: &RunnerConfig,
    job: &ClaimedJob,
    lease: &Lease,
    ending: Ending,
    done: &mpsc::UnboundedSender<Lease>,
) -> &'static str {
    let (label, write) = match ending {
        Ending::LeaseLost => {
            tracing::warn!("lease lost: another worker owns this job now; dropping the attempt");
            return "lease_lost";
        }
        Ending::ShutDown => (
            "released",
            Write::Defer(
                Utc::now(),
                "worker shut down before the job finished".into(),
            ),
        ),
        Ending::Handler(Ok(Done::Finished)) => {
            // Recorded by the claim loop's next claim; once it has stopped, here.
            if done.send(lease.clone()).is_ok() {
                tracing::debug!("job succeeded; completion handed to the claim loop");
                return "succeeded";
            }
            ("succeeded", Write::Complete)
        }
        Ending::Handler(Ok(Done::Again { at, reason })) => {
            tracing::debug!(%at, %reason, "job runs again later");
            ("rescheduled", Write::Defer(at, reason))
        }
        Ending::Handler(Err(JobError::Retry(e))) if job.is_last_attempt() => {
            tracing::warn!(error = format!("{e:#}"), "job failed on its last attempt");
            (
                "dead",
                Write::End(
                    JobStatus::Dead,
                    format!("gave up after {} attempts: {e:#}", job.attempts),
                ),
            )
        }
        Ending::Handler(Err(JobError::Retry(e))) => {
            let delay = jobs::backoff_delay(
                job.attempts,
                config.backoff_base,
                config.backoff_max,
                rand::rng().random::<f64>(),
            );
            tracing::warn!(error = format!("{e:#}"), retry_in = ?delay, "job failed, will retry");
            (
                "retried",
                Write::Retry(Utc::now() + to_chrono(delay), format!("{e:#}")),
            )
        }
        Ending::Handler(Err(JobError::Defer { until, reason })) => {
            tracing::info!(%until, %reason, "job deferred");
            ("deferred", Write::Defer(until, reason))
        }
        Ending::Handler(Err(JobError::Fail(reason))) => {
            tracing::info!(%reason, "job failed permanently");
            ("failed", Write::End(JobStatus::Failed, reason))
        }
        Ending::Handler(Err(JobError::Fatal(e))) => {
            tracing::error!(error = format!("{e:#}"), "job failed fatally");
            ("dead", Write::End(JobStatus::Dead, format!("{e:#}")))
        }
    };
    match write_with_retries(pool, lease, &write).await {
        Some(true) => {
            tracing::debug!(outcome = label, "job attempt recorded");
            label
        }
        Some(false) => {
            tracing::warn!(
                outcome = label,
                "lease lost before the outcome was recorded"
            );
            "lease_lost"
        }
        None => "unrecorded",
    }
}

enum Write {
    Complete,
    Retry(DateTime<Utc>, String),
    Defer(DateTime<Utc>, String),
    End(JobStatus, String),
}

/// Runs a database write up to six times through short outages (backoff from 100 ms, doubling
/// up to 5 s); `None` if it never lands. The callers' writes are fenced and idempotent.
async fn briefly_retried<T, Fut>(what: &str, mut write: impl FnMut() -> Fut) -> Option<T>
where
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=6 {
        match write().await {
            Ok(done) => return Some(done),
            Err(e) => {
                tracing::warn!(error = %e, attempt, "{what} failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    None
}

/// Retries the finishing write through short database outages. If it never lands, the lease
/// expires and the reaper re-queues the job: handlers are idempotent, so nothing is lost.
async fn write_with_retries(pool: &MySqlPool, lease: &Lease, write: &Write) -> Option<bool> {
    let applied = briefly_retried("recording the job outcome", || async {
        let now = Utc::now();
        match write {
            Write::Complete => jobs::complete(pool, lease, now).await,
            Write::Retry(at, error) => jobs::retry_later(pool, lease, *at, error, now).await,
            Write::Defer(at, reason) => jobs::defer(pool, lease, *at, reason, now).await,
            Write::End(status, error) => {
                jobs::finish_unsuccessfully(pool, lease, *status, error, now).await
            }
        }
    })
    .await;
    if applied.is_none() {
        tracing::error!(
            "could not record the job outcome; its lease will expire and it will re-run"
        );
    }
    applied
}

/// Logs completions whose lease was lost before they were recorded (another worker owns the
/// job now and will record its own outcome).
fn note_lost_completions(handed: &[Lease], recorded: &[JobId]) {
    if handed.len() != recorded.len() {
        for lease in handed.iter().filter(|l| !recorded.contains(&l.id)) {
            tracing::warn!(job = %lease.id, "lease lost before the completion was recorded");
        }
    }
}

/// Records completions left when the claim loop stops, through short database outages. If
/// they never land, their leases expire and the jobs run again (handlers are idempotent).
async fn record_completions(pool: &MySqlPool, worker: &str, leases: &[Lease]) {
    if leases.is_empty() {
        return;
    }
    let completed = briefly_retried("recording completions", || async {
        jobs::complete_and_claim(pool, worker, leases, &[], 0, Duration::ZERO, Utc::now())
            .await
            .map(|(completed, _)| completed)
            .map_err(|e| match e {
                jobs::QueueError::Db(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            })
    })
    .await;
    match completed {
        Some(completed) => note_lost_completions(leases, &completed),
        None => tracing::error!(
            jobs = leases.len(),
            "could not record completions; their leases will expire and they will re-run"
        ),
    }
}

/// Extends the lease every third of its length; cancels `lost` when the job is no longer ours.
async fn heartbeat_loop(pool: MySqlPool, lease: Lease, length: Duration, lost: CancellationToken) {
    let period = length / 3;
    loop {
        tokio::time::sleep(period).await;
        match jobs::heartbeat(&pool, &lease, length, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A failed heartbeat is not a lost lease: the next one may land in time.
            Err(e) => tracing::warn!(error = %e, job = %lease.id, "heartbeat failed"),
        }
    }
}

async fn reap_loop(pool: MySqlPool, interval: Duration, stop: CancellationToken) {
    loop {
        let jittered = interval.mul_f64(rand::rng().random_range(0.8..1.2));
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(jittered) => {}
        }
        match jobs::reap_expired(&pool, Utc::now()).await {
            Ok(reaped) => {
                if reaped.requeued + reaped.dead > 0 {
                    tracing::warn!(
                        requeued = reaped.requeued,
                        dead = reaped.dead,
                        "took back jobs whose worker stopped"
                    );
                }
                metrics::counter!("jobs_reaped_total", "outcome" => "requeued")
                    .increment(reaped.requeued);
                metrics::counter!("jobs_reaped_total", "outcome" => "dead").increment(reaped.dead);
            }
            Err(e) => tracing::warn!(error = %e, "reaping expired leases failed"),
        }
    }
}

async fn stats_loop(pool: MySqlPool, interval: Duration, stop: CancellationToken) {
    loop {
        match jobs::stats(&pool, Utc::now()).await {
            Ok(stats) => {
                metrics::gauge!("job_queue_depth", "state" => "ready")
                    .set(stats.queued_ready as f64);
                metrics::gauge!("job_queue_depth", "state" => "scheduled")
                    .set(stats.queued_later as f64);
                metrics::gauge!("job_queue_depth", "state" => "running").set(stats.running as f64);
                metrics::gauge!("job_queue_oldest_ready_age_seconds")
                    .set(stats.oldest_ready_age.as_secs_f64());
            }
            Err(e) => tracing::debug!(error = %e, "sampling queue depth failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
