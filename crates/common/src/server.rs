//! The HTTP scaffolding every service shares: `/healthz`, `/readyz`, `/metrics`, the
//! middleware stack, and serving with graceful shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::MySqlPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::db;
use crate::telemetry::metrics_handle;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A service's own readiness condition beyond its database (twitch-api: id.twitch.tv
/// accepts the app's credentials); the error says what to fix.
pub type ReadinessCheck = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// What `/readyz` checks.
#[derive(Clone)]
pub enum Readiness {
    /// The database answers and every embedded migration is applied.
    Database(MySqlPool),
    /// Ready as soon as it serves (a service without a database).
    Serving,
    /// Both of one of the above and a service's own condition.
    With(Box<Readiness>, ReadinessCheck),
}

impl Readiness {
    async fn check(&self) -> Result<(), String> {
        match self {
            Self::Serving => Ok(()),
            Self::With(first, own) => {
                Box::pin(first.check()).await?;
                own()
            }
            Self::Database(pool) => {
                let pending =
                    tokio::time::timeout(Duration::from_secs(3), db::pending_migrations(pool))
                        .await
                        .map_err(|_| "database did not answer within 3s".to_string())?
                        .map_err(|e| format!("database unreachable: {e}"))?;
                if pending.is_empty() {
                    Ok(())
                } else {
                    Err(format!("migrations not applied: {pending:?}"))
                }
            }
        }
    }
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn ops_router(readiness: Readiness) -> Router {
    // Install the recorder now: metrics recorded before it exists would be lost.
    let _ = metrics_handle();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(Arc::new(readiness))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    match readiness.check().await {
        Ok(()) => "ready".into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}"),
            )
                .into_response()
        }
    }
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
        .into_response()
}

#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// A request still running after this gets 408; it also bounds graceful shutdown.
    pub request_timeout: Duration,
    /// A client must send a request's headers within this: a half-sent request is closed,
    /// not held for ever (slowloris).
    pub header_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
        }
    }
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Wraps a router in the shared middleware, outermost first: request id → trace span
/// (method, matched route, request id; probes at debug) → metrics → catch panic → timeout.
pub fn with_middleware(router: Router, options: &HttpOptions) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map_or("(unmatched)", MatchedPath::as_str)
                .to_owned();
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if is_probe(request.uri().path()) {
                tracing::debug_span!("http", method = %request.method(), %route, %request_id)
            } else {
                tracing::info_span!("http", method = %request.method(), %route, %request_id)
            }
        })
        .on_request(())
        .on_response(|response: &Response, latency: Duration, _span: &Span| {
            tracing::debug!(status = response.status().as_u16(), ?latency, "response");
        })
        .on_failure(
            |error: tower_http::classify::ServerErrorsFailureClass, latency: Duration, _: &Span| {
                tracing::warn!(%error, ?latency, "request failed");
            },
        );
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(trace)
            .layer(middleware::from_fn(record_metrics))
            .layer(CatchPanicLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                options.request_timeout,
            )),
    )
}

/// `http_requests_total` and `http_request_duration_seconds`, labelled by matched route so
/// that ids in paths do not explode the label set.
async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed);
    response
}

/// Serves until `shutdown` is cancelled, then stops accepting and lets in-flight requests
/// finish (each is bounded by the request timeout).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    header_timeout: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt;

    // axum::serve sets no timer, so hyper's header-read timeout would never fire: connections
    // are served here, with one.
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Handlers see the peer's address (per-IP limits), as `ConnectInfo`.
        let service =
            router
                .clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(remote));
                    request.map(axum::body::Body::new)
                });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Binds a listener, naming the address in the error (a port in use is the usual cause).
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot listen on {addr}")))
}

/// What an HTTP service holds once built: its bound listener and, when it keeps one, its
/// database pool. Serving adds the ops routes and the middleware to the service's own routes.
pub struct HttpCore {
    listener: TcpListener,
    pool: Option<MySqlPool>,
    own_readiness: Option<ReadinessCheck>,
}

impl HttpCore {
    /// Connects to the database (retrying while it starts), applies migrations when
    /// `migrate`, then binds `addr`; returns the core and the service's pool.
    pub async fn with_database(
        addr: std::net::SocketAddr,
        database: &db::DatabaseConfig,
        migrate: bool,
    ) -> anyhow::Result<(Self, MySqlPool)> {
        let pool = db::connect(database).await?;
        if migrate {
            db::migrate(&pool).await?;
        }
        let listener = bind(addr).await?;
        Ok((
            Self {
                listener,
                pool: Some(pool.clone()),
                own_readiness: None,
            },
            pool,
        ))
    }

    pub async fn without_database(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        Ok(Self {
            listener: bind(addr).await?,
            pool: None,
            own_readiness: None,
        })
    }

    /// Adds the service's own condition to `/readyz`.
    pub fn with_readiness(mut self, check: ReadinessCheck) -> Self {
        self.own_readiness = Some(check);
        self
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn pool(&self) -> Option<&MySqlPool> {
        self.pool.as_ref()
    }

    /// Serves `routes` plus `/healthz`, `/readyz`, `/metrics` until `shutdown`, then closes
    /// the pool.
    pub async fn serve(
        self,
        routes: Router,
        options: HttpOptions,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut readiness = match &self.pool {
            Some(pool) => Readiness::Database(pool.clone()),
            None => Readiness::Serving,
        };
        if let Some(own) = self.own_readiness.clone() {
            readiness = Readiness::With(Box::new(readiness), own);
        }
        let app = with_middleware(routes.merge(ops_router(readiness)), &options);
        serve(self.listener, app, shutdown, options.header_timeout).await?;
        if let Some(pool) = self.pool {
            pool.close().await;
        }
        Ok(())
    }
}

/// Constant-time equality, so that comparing secrets does not leak them through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware of every internal API: `Authorization: Bearer $INTERNAL_API_TOKEN` or a 401
/// `{"error": "unauthorized", "message": …}`. Use with
/// `route_layer(middleware::from_fn_with_state(token, require_internal_token))`.
pub async fn require_internal_token(
    State(token): State<crate::config::Secret>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(presented) if constant_time_eq(presented.as_bytes(), token.expose().as_bytes()) => {
            next.run(request).await
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "unauthorized",
                "message": "this internal API needs the internal token",
            })),
        )
            .into_response(),
    }
}
