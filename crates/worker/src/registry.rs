//! Job kinds and their handlers. Later capabilities plug in by registering a kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tca_common::db::jobs::ClaimedJob;

/// How a handler says an attempt went wrong; the runner turns it into the queue outcome.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Transient: try again after a backoff, until the attempts run out (then `dead`).
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Not now, and nobody's fault (a rate limit): re-run at `until` without spending an
    /// attempt. A job that simply recurs says `Done::Again` instead.
    #[error("deferred until {until}: {reason}")]
    Defer {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Permanent and expected (bad payload, rights lost): ends `failed`, no retry.
    #[error("{0}")]
    Fail(String),
    /// Permanent and unexpected: ends `dead` at once.
    #[error("{0:#}")]
    Fatal(anyhow::Error),
}

impl From<sqlx::Error> for JobError {
    /// Database faults (a restart, a deadlock, a lost connection) are worth another attempt.
    fn from(error: sqlx::Error) -> Self {
        Self::Retry(error.into())
    }
}

impl From<anyhow::Error> for JobError {
    fn from(error: anyhow::Error) -> Self {
        Self::Retry(error)
    }
}

/// What a successful attempt asks of the queue.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum Done {
    /// The job is over: `succeeded`.
    #[default]
    Finished,
    /// The job did this run's work and runs again at `at` (a recurring job's next slot, a
    /// long job's next part): re-queued without spending an attempt, and not an error.
    Again { at: DateTime<Utc>, reason: String },
}

pub type JobResult = Result<Done, JobError>;

pub type JobFuture = Pin<Box<dyn Future<Output = JobResult> + Send + 'static>>;

/// Runs one attempt of a job. Handlers must be idempotent: an attempt can be cut short at any
/// point (worker killed, lease lost) and run again elsewhere.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, job: ClaimedJob) -> JobFuture;
}

/// A job that simply finishes: any `Fn(ClaimedJob) -> impl Future<Output = Result<(), JobError>>`.
impl<F, Fut> JobHandler for F
where
    F: Fn(ClaimedJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    fn run(&self, job: ClaimedJob) -> JobFuture {
        let attempt = self(job);
        Box::pin(async move { attempt.await.map(|()| Done::Finished) })
    }
}

/// A job that may ask to run again (`Done::Again`): a handler returning a [`JobFuture`].
pub struct WithOutcome<F>(pub F);

impl<F> JobHandler for WithOutcome<F>
where
    F: Fn(ClaimedJob) -> JobFuture + Send + Sync + 'static,
{
    fn run(&self, job: ClaimedJob) -> JobFuture {
        (self.0)(job)
    }
}

/// The kinds a worker runs. It claims only these, so workers of different versions can
/// share one queue without taking each other's jobs.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a kind. Registering a kind twice is a programming error.
    pub fn register(mut self, kind: &str, handler: impl JobHandler) -> Self {
        let previous = self.handlers.insert(kind.to_string(), Arc::new(handler));
        assert!(previous.is_none(), "job kind {kind} registered twice");
        self
    }

    pub fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }
}
