//! The internal API under `/v1/sessions/{session_id}/` (docs/analysis.md). The gateway resolves
//! the session's public id and checks ownership before calling; every route needs the internal
//! token. Every route takes the filter of `AnalysisFilter` (channels, creation period).
//!
//! - `overview`: summary, creation histograms, top days, score distribution;
//! - `accounts`: account lists, one account, renames;
//! - `cohorts`: the session's cohorts and one cohort's accounts;
//! - `timeline`: the captures over time;
//! - `export`: the downloadable files.

mod accounts;
mod cohorts;
mod dashboard;
mod export;
mod overview;
mod raids;
mod timeline;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tca_common::analysis_api::AnalysisFilter;
use tca_common::query::QueryString;

use crate::db::{self, Probe};
pub use crate::error::{ApiError, ApiResult};
use crate::population::{Population, Selection};
pub use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let session = "/v1/sessions/{session_id}";
    Router::new()
        .route(&format!("{session}/dashboard"), get(dashboard::dashboard))
        .route(&format!("{session}/summary"), get(overview::summary))
        .route(&format!("{session}/histogram"), get(overview::histogram))
        .route(&format!("{session}/histogram/hours"), get(overview::hours))
        .route(&format!("{session}/top-days"), get(overview::top_days))
        .route(&format!("{session}/scores"), get(overview::scores))
        .route(&format!("{session}/accounts"), get(accounts::list))
        .route(
            &format!("{session}/days/{{day}}/accounts"),
            get(accounts::created_on_day),
        )
        .route(
            &format!("{session}/accounts/{{twitch_user_id}}"),
            get(accounts::one),
        )
        .route(&format!("{session}/renames"), get(accounts::renames))
        .route(&format!("{session}/cohorts"), get(cohorts::list))
        .route(
            &format!("{session}/cohorts/{{cohort_id}}"),
            get(cohorts::detail),
        )
        .route(
            &format!("{session}/cohorts/{{cohort_id}}/accounts"),
            get(cohorts::accounts),
        )
        .route(&format!("{session}/timeline"), get(timeline::timeline))
        .route(&format!("{session}/raids"), get(raids::raids))
        .route(
            &format!("{session}/captures/{{capture_id}}/findings"),
            get(raids::capture_findings),
        )
        .route(&format!("{session}/export/{{file}}"), get(export::export))
        .route_layer(middleware::from_fn_with_state(
            state.internal_token.clone(),
            tca_common::server::require_internal_token,
        ))
        .layer(middleware::from_fn(language))
        .with_state(state)
}

/// Answers in the language the caller asks for with `Accept-Language` (the gateway sends the
/// reader's), English otherwise.
async fn language(request: axum::extract::Request, next: middleware::Next) -> Response {
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(tca_common::i18n::from_accept_language)
        .unwrap_or_default();
    tca_common::i18n::scope(lang, next.run(request)).await
}

/// What every view is asked: the session and the query string, with the service's state.
pub(super) struct Ask {
    state: AppState,
    session_id: u64,
    raw: Option<String>,
}

impl FromRequestParts<AppState> for Ask {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(session_id) = Path::<u64>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self::new(state.clone(), session_id, raw))
    }
}

impl Ask {
    /// For routes with more path parameters than the session id.
    fn new(state: AppState, session_id: u64, raw: Option<String>) -> Self {
        Self {
            state,
            session_id,
            raw,
        }
    }

    /// The session's probe (channels, data version), or 404 when it does not exist or was
    /// deleted.
    async fn session_exists(&self) -> ApiResult<Probe> {
        db::probe(&self.state.pool, self.session_id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such session"))
    }

    /// The session's scored population and this request's filter. A bad filter is a 400
    /// before any loading.
    async fn prepare(&self) -> ApiResult<Prepared> {
        let probe = self.session_exists().await?;
        self.prepare_with(&probe).await
    }

    /// The session's population for the data version `probe` saw, cached.
    async fn population(&self, probe: &Probe) -> ApiResult<Arc<Population>> {
        Ok(self
            .state
            .cache
            .get(
                &self.state.pool,
                self.session_id,
                probe,
                &self.state.scoring,
            )
            .await?)
    }

    /// `prepare` for a caller that has already probed the session.
    async fn prepare_with(&self, probe: &Probe) -> ApiResult<Prepared> {
        let query = QueryString::parse(self.raw.as_deref());
        let filter = AnalysisFilter::parse(&query).map_err(ApiError::bad)?;
        let (created_from, created_to) = filter.created_window();
        let population = self.population(probe).await?;
        let mut selection = Selection {
            in_channels: None,
            created_from,
            created_to,
        };
        if !filter.broadcaster_ids.is_empty() {
            // Channel ids become the accounts seen there, remembered per data version.
            selection.in_channels = Some(
                population
                    .in_channels(&self.state.pool, self.session_id, &filter.broadcaster_ids)
                    .await?,
            );
        }
        Ok(Prepared {
            population,
            filter,
            selection,
            query,
            channels: probe.channels,
        })
    }

    /// An answer computed from the session's population (and for some views a query or
    /// two): given from memory when this data version has already given it for this query
    /// and channel count (adding a channel changes no data version, but the summary counts
    /// channels), else computed, remembered and sent.
    async fn answer<T: Serialize>(
        &self,
        view: &str,
        compute: impl AsyncFnOnce(&Prepared) -> ApiResult<T>,
    ) -> ApiResult<Response> {
        let prepared = self.prepare().await?;
        Ok(json_body(self.answer_with(&prepared, view, compute).await?))
    }

    /// `answer`'s JSON for a caller that has prepared the request.
    async fn answer_with<T: Serialize>(
        &self,
        prepared: &Prepared,
        view: &str,
        compute: impl AsyncFnOnce(&Prepared) -> ApiResult<T>,
    ) -> ApiResult<Bytes> {
        // Answers hold sentences (reasons, evidence): one per language.
        let key = format!(
            "{view}?{}#{}@{}",
            self.raw.as_deref().unwrap_or(""),
            prepared.channels,
            tca_common::i18n::current().code()
        );
        if let Some(body) = prepared.population.answer(&key) {
            return Ok(body);
        }
        let value = compute(prepared).await?;
        let body = Bytes::from(serde_json::to_vec(&value).map_err(|e| {
            tracing::error!(error = %e, "serializing an answer failed");
            ApiError::internal()
        })?);
        prepared.population.remember_answer(key, body.clone());
        Ok(body)
    }
}

/// What a request works on: the session's scored population, the request's filter, its
/// selection of accounts, the query, and the session's channel count.
struct Prepared {
    population: Arc<Population>,
    filter: AnalysisFilter,
    selection: Selection,
    query: QueryString,
    channels: i64,
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `part / whole` to four decimals (0 when there is no whole).
fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}
