//! Login with Twitch, the callback, logout, and the landing page.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::{users, web_sessions};
use tca_common::twitch_api::{ACTIONS_SCOPE, TwitchApiError};

use crate::auth::{self, CurrentUser, MaybeUser, NoFields, Posted};
use crate::client_ip::client_ip;
use crate::cookies::{self, LOGIN_COOKIE, WEB_SESSION_COOKIE};
use crate::error::{AppError, AppResult, ErrorPage};
use crate::i18n::{self, t, t1};
use crate::state::AppState;
use tca_common::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_landing))
        .route("/auth/login", get(start_login))
        .route("/auth/callback", get(finish_login))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
pub struct LandingQuery {
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/landing.html")]
pub struct LandingPage {
    pub notice: Option<String>,
}

async fn show_landing(
    MaybeUser(user): MaybeUser,
    Query(query): Query<LandingQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/channels").into_response());
    }
    let notice = match query.notice.as_deref() {
        Some("login-required") => Some(t("notice-login-required")),
        Some("reauth") => Some(t("notice-reauth")),
        Some("logged-out") => Some(t("notice-logged-out")),
        _ => None,
    };
    Ok(Html(LandingPage { notice }.render()?).into_response())
}

#[derive(Deserialize)]
pub struct LoginQuery {
    /// `other`: the user wants another Twitch account than the one their browser is signed
    /// in with: Twitch shows its consent (and account) page again.
    #[serde(default)]
    account: Option<String>,
}

/// Sends the browser to Twitch with a fresh single-use state bound to it.
async fn start_login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> AppResult<Response> {
    let (oauth_state, login_cookie) = auth::new_login_state(&state, None).await?;
    let another_account = query.account.as_deref() == Some("other");
    let url = state
        .twitch
        .authorize_url(
            &oauth_state,
            &state.config.redirect_uri(),
            another_account,
            false,
        )
        .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, url), (header::SET_COOKIE, login_cookie)],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn login_problem(status: StatusCode, title: &str, message: &str) -> Response {
    ErrorPage {
        status: status.as_u16(),
        title: title.to_string(),
        message: message.to_string(),
        action_href: "/auth/login",
        action_label: t("login-again"),
    }
    .response(status)
}

/// The code of a callback that may log someone in (and where to go after), or the page that
/// says why it cannot. The state is consumed even when the user cancelled: a state works once,
/// whatever happened.
async fn checked_callback<'q>(
    state: &AppState,
    query: &'q CallbackQuery,
    browser: Option<&str>,
) -> AppResult<Result<(&'q str, Option<String>), Response>> {
    let problem = |title: &str, message: &str| {
        Ok(Err(login_problem(StatusCode::BAD_REQUEST, title, message)))
    };
    let Some(oauth_state) = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 256)
    else {
        return problem(&t("login-incomplete"), &t("login-no-state"));
    };
    let consumed = auth::consume_login_state(state, oauth_state, browser).await?;
    // Before the state is known to be ours, nothing of the query is shown: anyone can craft a
    // link to this page with an `error_description` of their choosing.
    let Some(return_to) = consumed else {
        return problem(&t("login-link-unusable"), &t("login-link-unusable-message"));
    };
    if let Some(error) = query.error.as_deref() {
        let message = if error == "access_denied" {
            t("login-cancelled-message")
        } else {
            t1(
                "login-refused-message",
                "reason",
                query.error_description.as_deref().unwrap_or(error),
            )
        };
        return problem(&t("login-cancelled"), &message);
    }
    match query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 512)
    {
        Some(code) => Ok(Ok((code, return_to))),
        None => problem(&t("login-incomplete"), &t("login-no-code")),
    }
}

async fn finish_login(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    request: Request,
) -> AppResult<Response> {
    let (mut parts, _) = request.into_parts();
    let browser = cookies::read(&parts.headers, LOGIN_COOKIE);
    // The browser's web session, if it has one (a moderator enabling actions): kept when the
    // same user comes back, so that their other tabs' forms stay valid.
    let already = match CurrentUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => Some(user),
        Err(AppError::LoginRequired) => None,
        Err(other) => return Err(other),
    };
    let (code, return_to) = match checked_callback(&state, &query, browser.as_deref()).await? {
        Ok(checked) => checked,
        Err(page) => return Ok(page),
    };
    let authorized = match state
        .twitch
        .exchange(code, &state.config.redirect_uri())
        .await
    {
        Ok(user) => user,
        Err(TwitchApiError::BadRequest(message)) => {
            return Ok(login_problem(
                StatusCode::BAD_REQUEST,
                &t("login-refused"),
                &message,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let now = Utc::now();
    let user_id = users::upsert(
        &state.pool,
        &authorized.user_id,
        &authorized.login,
        &authorized.display_name,
        Some(&authorized.profile_image_url)
            .filter(|u| !u.is_empty())
            .map(String::as_str),
        now,
    )
    .await?;
    let ip = client_ip(
        &parts.headers,
        &parts.extensions,
        state.config.trust_forwarded_for,
    )
    .map(|ip| ip.to_string());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let session_cookie = match already {
        Some(user) if user.id == user_id => None,
        _ => Some(auth::start_web_session(&state, user_id, user_agent, ip.as_deref()).await?),
    };
    // The language the user chose before, in whatever browser: it follows them.
    let chosen = users::locale(&state.pool, user_id)
        .await?
        .and_then(|code| Lang::parse(&code));
    audit::record(
        &state.pool,
        &Event::Login {
            login: authorized.login.clone(),
        },
        Subject {
            user_id: Some(user_id),
            session_id: None,
            ip: ip.as_deref(),
        },
        now,
    )
    .await?;
    // Moderator actions enabled: the consent for the extra scope was given (docs/moderation.md).
    if return_to.is_some() && authorized.scopes.iter().any(|s| s == ACTIONS_SCOPE) {
        audit::record(
            &state.pool,
            &Event::ActionsEnabled,
            Subject::user(user_id),
            now,
        )
        .await?;
    }
    crate::routes::moderation::marks::trust_common_bots_once(&state, user_id, now).await?;
    let next = return_to
        .as_deref()
        .and_then(auth::local_path)
        .unwrap_or("/channels");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::LOCATION,
        next.parse()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
    );
    if let Some(cookie) = session_cookie {
        headers.append(
            header::SET_COOKIE,
            cookie
                .parse()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
        );
    }
    headers.append(
        header::SET_COOKIE,
        cookies::clear(LOGIN_COOKIE)
            .parse()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
    );
    if let Some(lang) = chosen {
        headers.append(
            header::SET_COOKIE,
            i18n::cookie(state.config.secure_cookies(), lang)
                .parse()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
        );
    }
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

/// Revokes the Twitch authorization, ends the web session. Only by POST (with CSRF).
async fn logout(
    State(state): State<AppState>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    finish_logout(&state, &user).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/?notice=logged-out".to_string()),
            (header::SET_COOKIE, cookies::clear(WEB_SESSION_COOKIE)),
        ],
    )
        .into_response())
}

async fn finish_logout(state: &AppState, user: &CurrentUser) -> AppResult<()> {
    if let Err(e) = state.twitch.revoke(&user.twitch_user_id).await {
        // The web session still ends; twitch-api forgets the token even when Twitch is down.
        tracing::warn!(error = %e, "revoking the Twitch authorization at logout failed");
    }
    web_sessions::delete(&state.pool, user.web_session_id).await?;
    state
        .web_sessions
        .forget(|cached| cached.web_session_id == user.web_session_id);
    audit::record(
        &state.pool,
        &Event::Logout,
        Subject::user(user.id),
        Utc::now(),
    )
    .await?;
    Ok(())
}
