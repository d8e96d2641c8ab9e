//! `export/{accounts|creation|timeline}.{csv|json}`, streamed.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tca_common::analysis_api::AnalysisFilter;
use tca_common::analysis_api::export::ExportKind;
use tca_common::query::QueryString;

use super::overview::buckets;
use super::{ApiError, ApiResult, AppState, Ask};
use crate::db::{self, AccountSelection};
use crate::export;

pub async fn export(
    State(state): State<AppState>,
    Path((session_id, file)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let ask = Ask::new(state, session_id, raw);
    let probe = ask.session_exists().await?;
    let query = QueryString::parse(ask.raw.as_deref());
    let filter = AnalysisFilter::parse(&query).map_err(ApiError::bad)?;
    let (kind, format) = ExportKind::parse_file(&file).map_err(ApiError::bad)?;
    let body = match kind {
        ExportKind::Accounts => {
            // Rows are streamed from the database, not from the cached population, so the
            // export holds a chunk of rows at a time however long the file; each row is scored
            // with the session's cohorts, found once per data version without loading the
            // population (the loaded one's when the dashboard has loaded it), and cached.
            let context = ask
                .state
                .cache
                .context(&ask.state.pool, ask.session_id, &probe, &ask.state.scoring)
                .await?;
            let (created_from, created_to) = filter.created_window();
            export::accounts(
                ask.state.pool.clone(),
                AccountSelection {
                    session_id: ask.session_id,
                    broadcasters: filter.broadcaster_ids,
                    created_from,
                    created_to,
                },
                context,
                ask.state.scoring.clone(),
                format,
            )
        }
        ExportKind::Cohorts => {
            // Few rows (one per cohort), from the cached population like the cohort list.
            let p = ask.prepare_with(&probe).await?;
            export::cohorts(super::cohorts::kept(&p), format)
        }
        ExportKind::Creation => {
            if !matches!(query.one("bucket"), None | Some("day" | "month")) {
                return Err(ApiError::bad(
                    tca_common::i18n::current().t("error-param-creation-bucket"),
                ));
            }
            // Buckets are few (one per day at most); they come from the cached population.
            let p = ask.prepare_with(&probe).await?;
            export::creation(buckets(&p.population, &p.selection, &p.query)?, format)
        }
        ExportKind::Timeline => {
            let points =
                db::finished_captures(&ask.state.pool, ask.session_id, &filter.broadcaster_ids)
                    .await?;
            export::timeline(points, format)
        }
    };
    metrics::counter!("exports_total", "what" => kind.as_str()).increment(1);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from_stream(body),
    )
        .into_response())
}
