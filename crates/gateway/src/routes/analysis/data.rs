//! `/sessions/{id}/data/…`: the analysis views the dashboard's scripts load, proxied with
//! ownership checked. Errors are JSON (`{"error": sentence}`), which the scripts show.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{cohort_id, creation_day, twitch_user_id};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, JsonError};
use crate::routes::sessions::viewed_session;
use crate::state::AppState;

/// Which analysis reads the browser may make: read-only views, never exports (those are
/// audited and go through `/sessions/{id}/export/…`).
fn allowed_data_path(path: &str) -> AppResult<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [
            "summary" | "histogram" | "top-days" | "timeline" | "accounts" | "renames" | "scores"
            | "cohorts" | "raids",
        ] => Ok(path.to_string()),
        ["cohorts", id] => Ok(format!("cohorts/{}", cohort_id(id)?)),
        ["cohorts", id, "accounts"] => Ok(format!("cohorts/{}/accounts", cohort_id(id)?)),
        ["histogram", "hours"] => Ok(path.to_string()),
        ["days", day, "accounts"] => Ok(format!("days/{}/accounts", creation_day(day)?)),
        ["accounts", user] => Ok(format!("accounts/{}", twitch_user_id(user)?)),
        _ => Err(AppError::NotFound),
    }
}

pub(super) async fn data(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, path)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, JsonError> {
    let session = viewed_session(&state, &user, &id).await?;
    let path = allowed_data_path(&path)?;
    let upstream = state
        .analysis
        .get(session.id, &path, raw.as_deref())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from_stream(upstream.bytes_stream()),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_analysis_paths_are_proxied() {
        assert_eq!(allowed_data_path("timeline").expect("accepted"), "timeline");
        assert_eq!(
            allowed_data_path("histogram/hours").expect("accepted"),
            "histogram/hours"
        );
        assert_eq!(
            allowed_data_path("days/2024-03-14/accounts").expect("accepted"),
            "days/2024-03-14/accounts"
        );
        assert!(matches!(
            allowed_data_path("export/accounts.csv"),
            Err(AppError::NotFound)
        ));
        assert!(matches!(allowed_data_path("../x"), Err(AppError::NotFound)));
        assert!(matches!(
            allowed_data_path("days/nope/accounts"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            allowed_data_path("accounts/1;drop"),
            Err(AppError::BadRequest(_))
        ));
        assert_eq!(allowed_data_path("cohorts").expect("accepted"), "cohorts");
        assert_eq!(
            allowed_data_path("cohorts/21000296/accounts").expect("accepted"),
            "cohorts/21000296/accounts"
        );
        assert_eq!(
            allowed_data_path("cohorts/21000296").expect("accepted"),
            "cohorts/21000296"
        );
        assert!(matches!(
            allowed_data_path("cohorts/x1/accounts"),
            Err(AppError::BadRequest(_))
        ));
    }
}
