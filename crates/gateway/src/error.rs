//! One error type for every route: rendered as a page that says what happened and what to do
//! (pages), or as `{"error": sentence}` (JSON routes, through `JsonError`); never with
//! internals (those are logged, once).

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tca_common::twitch_api::TwitchApiError;

use crate::i18n::t;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("login required")]
    LoginRequired,
    #[error("Twitch authorization ended")]
    ReauthRequired,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests,
    /// Too many live-update streams open; the sentence says which cap.
    #[error("{0}")]
    TooManyStreams(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<tca_common::db::jobs::QueueError> for AppError {
    fn from(e: tca_common::db::jobs::QueueError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<tca_common::analysis_api::AnalysisError> for AppError {
    fn from(e: tca_common::analysis_api::AnalysisError) -> Self {
        use tca_common::analysis_api::AnalysisError;
        match e {
            AnalysisError::BadRequest(message) => Self::BadRequest(message),
            AnalysisError::NotFound => Self::NotFound,
            other => Self::Internal(anyhow::anyhow!(other)),
        }
    }
}

impl From<TwitchApiError> for AppError {
    fn from(e: TwitchApiError) -> Self {
        match e {
            TwitchApiError::ReauthRequired(_) => Self::ReauthRequired,
            TwitchApiError::NotModerator(_) => Self::Forbidden(t("error-not-moderator")),
            TwitchApiError::ScopeMissing(_) => Self::Forbidden(t("error-actions-not-enabled")),
            TwitchApiError::NotFound(_) => Self::NotFound,
            TwitchApiError::RateLimited { .. }
            | TwitchApiError::Unavailable(_)
            | TwitchApiError::PagingBroken(_)
            | TwitchApiError::Transport(_) => Self::Unavailable(t("error-twitch-down")),
            other => Self::Internal(anyhow::anyhow!(other)),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub title: String,
    pub message: String,
    pub action_href: &'static str,
    pub action_label: String,
}

impl ErrorPage {
    pub fn response(self, status: StatusCode) -> Response {
        match self.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (status, self.message).into_response()
            }
        }
    }
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // Titles and actions are messages (`error-*`, `action-*`); messages carried by the
        // error were written in the request's language where they were made.
        let page =
            |status: StatusCode, title: &str, message: String, href: &'static str, label: &str| {
                ErrorPage {
                    status: status.as_u16(),
                    title: t(title),
                    message,
                    action_href: href,
                    action_label: t(label),
                }
                .response(status)
            };
        match self {
            Self::LoginRequired => redirect("/?notice=login-required"),
            Self::ReauthRequired => {
                let mut response = redirect("/?notice=reauth");
                if let Ok(value) = crate::cookies::clear(crate::cookies::WEB_SESSION_COOKIE).parse()
                {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
                response
            }
            Self::BadRequest(message) => page(
                StatusCode::BAD_REQUEST,
                "error-bad-request",
                message,
                "/channels",
                "action-channels",
            ),
            Self::Forbidden(message) => page(
                StatusCode::FORBIDDEN,
                "error-forbidden",
                message,
                "/channels",
                "action-channels",
            ),
            Self::NotFound => page(
                StatusCode::NOT_FOUND,
                "error-not-found",
                t("error-not-found-message"),
                "/sessions",
                "action-sessions",
            ),
            Self::Conflict(message) => page(
                StatusCode::CONFLICT,
                "error-conflict",
                message,
                "/sessions",
                "action-sessions",
            ),
            Self::TooManyStreams(message) => page(
                StatusCode::TOO_MANY_REQUESTS,
                "error-too-many",
                message,
                "/sessions",
                "action-sessions",
            ),
            Self::TooManyRequests => page(
                StatusCode::TOO_MANY_REQUESTS,
                "error-too-many",
                t("error-too-many-message"),
                "/",
                "action-home",
            ),
            Self::Unavailable(message) => page(
                StatusCode::BAD_GATEWAY,
                "error-unavailable",
                message,
                "/channels",
                "action-try-again",
            ),
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-internal",
                    t("error-internal-message"),
                    "/channels",
                    "action-channels",
                )
            }
        }
    }
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::LoginRequired | Self::ReauthRequired => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests | Self::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The error of a JSON route (what the dashboard's scripts fetch): `{"error": sentence}` with
/// the same status a page would have; a script shows the sentence.
#[derive(Debug)]
pub struct JsonError(pub AppError);

impl From<AppError> for JsonError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<sqlx::Error> for JsonError {
    fn from(e: sqlx::Error) -> Self {
        Self(e.into())
    }
}

impl From<tca_common::analysis_api::AnalysisError> for JsonError {
    fn from(e: tca_common::analysis_api::AnalysisError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = match self.0 {
            AppError::LoginRequired | AppError::ReauthRequired => t("json-error-login"),
            AppError::NotFound => t("json-error-not-found"),
            AppError::TooManyRequests => t("json-error-too-many"),
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                t("json-error-internal")
            }
            AppError::BadRequest(m)
            | AppError::TooManyStreams(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Unavailable(m) => m,
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}
