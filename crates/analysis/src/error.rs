//! The one error answer of the internal API: `{"error": code, "message": sentence}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tca_common::analysis_api::response::ErrorBody;

#[derive(Debug)]
pub struct ApiError(StatusCode, String);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, message.into())
    }

    pub fn internal() -> Self {
        Self(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "analysis query failed");
        Self::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.0 {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::NOT_FOUND => "not_found",
            _ => "internal",
        };
        let body = ErrorBody {
            error: code.into(),
            message: self.1,
        };
        (self.0, Json(body)).into_response()
    }
}
