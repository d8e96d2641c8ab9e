//! Logs (tracing) and metrics (Prometheus text format), initialised once per process.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::EnvReader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// A `RUST_LOG`-style filter.
    pub filter: String,
}

/// Quiet defaults: our crates at info, noisy dependencies at warn.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,hyper=warn,reqwest=warn";

impl TelemetryConfig {
    pub fn read(env: &mut EnvReader) -> Self {
        let format = match env
            .one_of("LOG_FORMAT", "pretty", &["json", "pretty"])
            .as_str()
        {
            "json" => LogFormat::Json,
            _ => LogFormat::Pretty,
        };
        let filter = env.string_or("RUST_LOG", DEFAULT_LOG_FILTER);
        Self { format, filter }
    }
}

/// Installs the global subscriber. Later calls (tests starting several apps) are no-ops.
pub fn init_logging(service: &'static str, config: &TelemetryConfig) {
    let filter =
        EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .flatten_event(true),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().with_target(true))
            .try_init(),
    };
    if result.is_ok() {
        tracing::debug!(service, "logging initialised");
    }
}

/// Logging for tests: silent unless `TEST_LOG` is set, then pretty at the `RUST_LOG` level.
pub fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_LOG_FILTER.to_string());
        let _ = tracing_subscriber::registry()
            .with(EnvFilter::new(filter))
            .with(tracing_subscriber::fmt::layer().with_test_writer())
            .try_init();
    }
}

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Seconds buckets for every `*_seconds` histogram: 1 ms to 2 minutes.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Size buckets for capture sizes (chatters per capture).
const SIZE_BUCKETS: &[f64] = &[
    10.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0, 100_000.0, 500_000.0,
];

/// Makes counters exist at 0 before their first event: a rate over a series that does not
/// exist yet is empty, not 0, and alerts on it could never resolve nor fire.
pub fn register_counters(counters: &[(&'static str, &[(&'static str, &'static str)])]) {
    metrics_handle();
    for (name, labels) in counters {
        let labels: Vec<metrics::Label> = labels
            .iter()
            .map(|(k, v)| metrics::Label::new(*k, *v))
            .collect();
        metrics::counter!(*name, labels).increment(0);
    }
}

/// The process-wide Prometheus recorder; installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("capture_chatters".into()), SIZE_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("chatters_stream_size".into()),
                        SIZE_BUCKETS,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then ours simply stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
