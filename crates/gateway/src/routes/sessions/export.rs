//! Downloads: an export of the user's session, streamed through from the analysis service
//! with the page's filters, and written to the audit log.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tca_common::analysis_api::export::ExportKind;
use tca_common::db::audit::{self, Event, Subject};

use super::viewed_session;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub(super) async fn export_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, file)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let session = viewed_session(&state, &user, &id).await?;
    if ExportKind::parse_file(&file).is_err() {
        return Err(AppError::BadRequest(crate::i18n::t1(
            "error-export-file",
            "raw",
            file.as_str(),
        )));
    }
    let upstream = state
        .analysis
        .get(session.id, &format!("export/{file}"), raw.as_deref())
        .await?;
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    audit::record(
        &state.pool,
        &Event::Export { what: file.clone() },
        Subject::session(Some(user.id), session.id),
        Utc::now(),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"session-{}-{file}\"",
        session.public_id
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(upstream.bytes_stream()),
    )
        .into_response())
}
