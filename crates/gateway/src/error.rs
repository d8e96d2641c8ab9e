//! One error type for every route: rendered as a page that says what happened and what to do
//! (pages), or as `{"error": sentence}` (JSON routes, through `JsonError`); never with
//! internals (those are logged, once).

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tca_common::twitch_api::TwitchApiError;

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
            TwitchApiError::NotModerator(_) => {
                Self::Forbidden("Twitch says you are not a moderator of this channel.".into())
            }
            TwitchApiError::NotFound(_) => Self::NotFound,
            TwitchApiError::RateLimited { .. }
            | TwitchApiError::Unavailable(_)
            | TwitchApiError::Transport(_) => Self::Unavailable(
                "Twitch is not answering right now. Try again in a minute.".into(),
            ),
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
    pub action_label: &'static str,
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
        let page = |status: StatusCode,
                    title: &str,
                    message: String,
                    href: &'static str,
                    label: &'static str| {
            ErrorPage {
                status: status.as_u16(),
                title: title.to_string(),
                message,
                action_href: href,
                action_label: label,
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
                "That request was not valid",
                message,
                "/channels",
                "Back to your channels",
            ),
            Self::Forbidden(message) => page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                message,
                "/channels",
                "Back to your channels",
            ),
            Self::NotFound => page(
                StatusCode::NOT_FOUND,
                "Nothing here",
                "This page does not exist, or it is not yours.".into(),
                "/sessions",
                "Your sessions",
            ),
            Self::Conflict(message) => page(
                StatusCode::CONFLICT,
                "That cannot be done now",
                message,
                "/sessions",
                "Your sessions",
            ),
            Self::TooManyRequests => page(
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "Too many login attempts from your address. Wait a minute and try again.".into(),
                "/",
                "Home",
            ),
            Self::Unavailable(message) => page(
                StatusCode::BAD_GATEWAY,
                "Twitch is unavailable",
                message,
                "/channels",
                "Try again",
            ),
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error was logged. Try again; if it keeps happening, tell the people running this app.".into(),
                    "/channels",
                    "Back to your channels",
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
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
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
            AppError::LoginRequired | AppError::ReauthRequired => {
                "Your login has ended. Reload the page and log in again.".to_string()
            }
            AppError::NotFound => "This does not exist, or it is not yours.".to_string(),
            AppError::TooManyRequests => "Too many requests. Wait a minute.".to_string(),
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                "Something went wrong; the error was logged.".to_string()
            }
            AppError::BadRequest(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Unavailable(m) => m,
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}
