//! Waking a worker when a user queues work they wait for (a capture, a moderation batch), so
//! that it starts now rather than at an idle worker's next poll (500 ms ± 25 %: ~0.3 s on
//! average; tca-bench B3b, docs/queue.md).
//!
//! `WORKER_URL` names the workers' service (`http://worker:8082/` in docker-compose.yml).
//! Scaled with `--scale worker=N`, that name resolves to every replica in turn, so each wake
//! opens a new connection (no pooling) and reaches whichever replica the resolver gave first.
//! A wake is a hint and never the only way work starts: one that fails, or reaches a busy
//! worker, costs at most one poll interval, as before; the queue itself is unchanged.

use std::time::Duration;

use tca_common::config::Secret;
use url::Url;

/// How long a wake may take before it is given up (it never delays the user's answer: it
/// runs on its own task).
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct WorkerWake {
    http: reqwest::Client,
    url: Url,
    token: Secret,
}

impl WorkerWake {
    pub fn new(worker_url: &Url, token: Secret) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(WAKE_TIMEOUT)
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Self {
            http,
            url: worker_url.join("v1/wake")?,
            token,
        })
    }

    /// Asks a worker to claim at once, without waiting for its answer.
    pub fn wake(&self) {
        let request = self
            .http
            .post(self.url.clone())
            .bearer_auth(self.token.expose());
        tokio::spawn(async move {
            match request.send().await.and_then(|r| r.error_for_status()) {
                Ok(_) => metrics::counter!("worker_wakes_total", "outcome" => "sent").increment(1),
                Err(e) => {
                    metrics::counter!("worker_wakes_total", "outcome" => "failed").increment(1);
                    tracing::debug!(error = %e, "waking a worker failed: it claims at its next poll");
                }
            }
        });
    }
}
