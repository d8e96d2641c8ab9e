//! The gateway's routes; each module owns its `router()`.

pub mod activity;
pub mod alerts;
pub mod analysis;
pub mod auth;
pub mod channels;
pub mod eventsub;
pub mod moderation;
pub mod sessions;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use crate::client_ip::client_ip;
use crate::error::AppError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.config.static_dir);
    Router::new()
        .merge(auth::router())
        .merge(channels::router())
        .merge(alerts::router())
        .merge(sessions::router())
        .merge(analysis::router())
        .merge(activity::router())
        .merge(moderation::router())
        .merge(crate::i18n::router())
        .route(
            "/eventsub/callback",
            axum::routing::post(eventsub::callback)
                .layer(axum::extract::DefaultBodyLimit::max(eventsub::BODY_LIMIT)),
        )
        .nest_service("/static", static_files)
        .fallback(not_found)
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn(static_names))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), limit_auth))
        // Outermost: every response, error pages included, is in the request's language.
        .layer(middleware::from_fn(crate::i18n::language))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The longest file name a file system takes (ext4, and most others): a longer `/static`
/// segment cannot name a file, and asking the file system would be an error, not a 404.
const MAX_FILE_NAME: usize = 255;

/// `/static/<a segment longer than a file name can be>` is a 404 like any missing file.
async fn static_names(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/static/") && path.split('/').any(|s| s.len() > MAX_FILE_NAME) {
        return AppError::NotFound.into_response();
    }
    next.run(request).await
}

/// Pages, data and exports are a user's own: no cache (the browser's, a proxy's) keeps them.
/// Static files (scripts, styles, vendored charts) may be cached.
async fn no_store(request: Request, next: Next) -> Response {
    let cacheable = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    if !cacheable {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// At most `AUTH_RATE_LIMIT` requests a minute per IP to `/auth/*`.
async fn limit_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/auth/")
        && let Some(ip) = client_ip(
            request.headers(),
            request.extensions(),
            state.config.trust_forwarded_for,
        )
        && state.auth_limiter.check_key(&ip).is_err()
    {
        metrics::counter!("auth_rate_limited_total").increment(1);
        return AppError::TooManyRequests.into_response();
    }
    next.run(request).await
}

/// CSP without inline scripts or styles, no framing, no sniffing, a strict referrer policy,
/// and HSTS when served over https.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' https://static-cdn.jtvnw.net data:; style-src 'self'; \
         script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if state.config.secure_cookies() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}
