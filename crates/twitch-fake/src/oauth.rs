//! `id.twitch.tv/oauth2`: the consent page (authorize), the token endpoint (authorization
//! code, refresh token with rotation, client credentials), validate and revoke. Error bodies
//! use id.twitch.tv's shape `{"status", "message"}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use tca_common::query::QueryString;

use crate::state::{State, Subject};
use crate::world::AccountIdx;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/oauth2/authorize", get(show_consent).post(decide_consent))
        .route("/oauth2/token", post(token))
        .route("/oauth2/validate", get(validate))
        .route("/oauth2/revoke", post(revoke))
        .with_state(state)
}

/// An id.twitch.tv error body.
pub fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "status": status.as_u16(), "message": message })),
    )
        .into_response()
}

/// An id.twitch.tv fault from the current `Faults` (`oauth_*`), if one is set: the answer to
/// give instead of the real one, after the configured stall.
async fn oauth_fault(state: &State) -> Option<Response> {
    let (status, drop, stall) = {
        let faults = &state.lock().faults;
        (
            faults.oauth_status,
            faults.oauth_drop,
            faults.oauth_stall_ms,
        )
    };
    if stall > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(stall)).await;
    }
    if drop {
        state.lock().stats.count_fault("oauth-drop");
        return Some(crate::helix::dropped_connection());
    }
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| !s.is_success())?;
    state.lock().stats.count_fault("oauth-status");
    let message = match status {
        StatusCode::TOO_MANY_REQUESTS => "Too Many Requests",
        s if s.is_server_error() => "Internal Server Error",
        _ => "injected fault",
    };
    Some(error(status, message))
}

fn scopes_of(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The error page /oauth2/authorize shows instead of redirecting.
struct ErrorPage(&'static str);

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><title>Twitch — error</title><h1>Something went wrong</h1><p>{}</p>",
                escape(self.0)
            )),
        )
            .into_response()
    }
}

/// What /oauth2/authorize checks before showing or acting on the consent page. Twitch shows
/// an error page (no redirect) for a bad client or redirect URI.
fn check_request(state: &State, pairs: &QueryString) -> Result<(), ErrorPage> {
    let app = &state.scenario.app;
    let page = ErrorPage;
    if pairs.last("client_id") != Some(app.client_id.as_str()) {
        return Err(page("invalid client: this client id is not registered"));
    }
    let redirect = pairs.last("redirect_uri").unwrap_or("");
    if !app.redirect_uris.iter().any(|u| u == redirect) {
        return Err(page("Parameter redirect_uri does not match registered URI"));
    }
    if pairs.last("response_type") != Some("code") {
        return Err(page("unsupported response_type: only 'code' is supported"));
    }
    Ok(())
}

async fn show_consent(
    AxumState(state): AxumState<Arc<State>>,
    headers: axum::http::HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    // Like Twitch, the consent page speaks the browser's language (French or English here).
    let lang = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(tca_common::i18n::from_accept_language)
        .unwrap_or_default();
    let t = |key: &str| escape(&lang.t(key));
    let app_name = escape(&state.scenario.app.name);
    let authorize_app = escape(&lang.t_args(
        "fake-authorize-app",
        &[("app", state.scenario.app.name.as_str().into())],
    ));
    // Twitch accepts the parameters in the query string as well as in the form body; a body
    // value overrides the query string's (`last`).
    let pairs = QueryString::parse(raw.as_deref());
    if let Err(page) = check_request(&state, &pairs) {
        return page.into_response();
    }
    let hidden: String = [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
    ]
    .iter()
    .map(|key| {
        format!(
            r#"<input type="hidden" name="{key}" value="{}">"#,
            escape(pairs.last(key).unwrap_or(""))
        )
    })
    .collect();
    let users: String = state
        .world
        .users
        .iter()
        .enumerate()
        .map(|(n, &idx)| {
            let account = state.world.account(idx);
            format!(
                r#"<label class="user"><input type="radio" name="login" value="{login}"{checked}> <strong>{name}</strong> <span>@{login}</span></label>"#,
                login = escape(&account.login),
                name = escape(&account.display_name),
                checked = if n == 0 { " checked" } else { "" },
            )
        })
        .collect();
    let scopes: String = scopes_of(pairs.last("scope"))
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    Html(format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{authorize_app} — twitch-fake</title>
<style>
body{{font-family:system-ui,sans-serif;background:#0e0e10;color:#efeff1;display:grid;place-items:center;min-height:100vh;margin:0}}
main{{background:#18181b;padding:2rem;border-radius:8px;max-width:28rem;width:100%}}
h1{{font-size:1.3rem}} .note{{color:#adadb8;font-size:.85rem}}
.user{{display:block;padding:.5rem;border:1px solid #333;border-radius:4px;margin:.3rem 0;cursor:pointer}}
.user span{{color:#adadb8}} button{{padding:.6rem 1.2rem;border:0;border-radius:4px;font-weight:600;cursor:pointer;margin-right:.5rem}}
#authorize{{background:#9147ff;color:#fff}} #cancel{{background:#333;color:#efeff1}}
</style></head>
<body><main>
<h1>{authorize} <strong>{app_name}</strong></h1>
<p class="note">{note}</p>
<form method="post" action="/oauth2/authorize">
{hidden}
<fieldset style="border:0;padding:0"><legend>{sign_in_as}</legend>{users}</fieldset>
<p>{will_be_able}</p><ul>{scopes}</ul>
<button id="authorize" type="submit" name="decision" value="authorize">{authorize}</button>
<button id="cancel" type="submit" name="decision" value="cancel">{cancel}</button>
</form></main></body></html>"#,
        lang = lang.code(),
        authorize = t("fake-authorize"),
        note = t("fake-note"),
        sign_in_as = t("fake-sign-in-as"),
        will_be_able = t("fake-will-be-able"),
        cancel = t("fake-cancel"),
    ))
    .into_response()
}

async fn decide_consent(AxumState(state): AxumState<Arc<State>>, body: Bytes) -> Response {
    let pairs = QueryString::parse_with_body(None, &body);
    if let Err(page) = check_request(&state, &pairs) {
        return page.into_response();
    }
    let redirect_uri = pairs.last("redirect_uri").unwrap_or("").to_string();
    let Ok(mut target) = url::Url::parse(&redirect_uri) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Parameter redirect_uri does not match registered URI",
        );
    };
    let scope = pairs.last("scope").unwrap_or("").to_string();
    let csrf_state = pairs.last("state").map(str::to_string);
    if pairs.last("decision") == Some("authorize") {
        let login = pairs.last("login").unwrap_or("");
        let account = state
            .world
            .users
            .iter()
            .copied()
            .find(|&idx| state.world.account(idx).login == login);
        let Some(account) = account else {
            return error(StatusCode::BAD_REQUEST, "unknown user");
        };
        let code = state.lock().issue_code(
            account,
            scopes_of(Some(&scope)),
            redirect_uri.clone(),
            state.scenario.tokens.code_lifetime,
        );
        let mut query = target.query_pairs_mut();
        query
            .append_pair("code", &code)
            .append_pair("scope", &scope);
        if let Some(s) = &csrf_state {
            query.append_pair("state", s);
        }
    } else {
        let mut query = target.query_pairs_mut();
        query
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied you access");
        if let Some(s) = &csrf_state {
            query.append_pair("state", s);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

async fn token(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(fault) = oauth_fault(&state).await {
        return fault;
    }
    let pairs = QueryString::parse_with_body(raw.as_deref(), &body);
    let app = &state.scenario.app;
    if pairs.last("client_id") != Some(app.client_id.as_str()) {
        return error(StatusCode::BAD_REQUEST, "invalid client");
    }
    // The secret the app has now: the scenario's, or the one a "rotation" set.
    let secret = state.lock().client_secret(&app.client_secret);
    if pairs.last("client_secret") != Some(secret.as_str()) {
        return error(StatusCode::FORBIDDEN, "invalid client secret");
    }
    let lifetimes = &state.scenario.tokens;
    match pairs.last("grant_type") {
        Some("authorization_code") => {
            let code = pairs.last("code").unwrap_or("");
            let redirect_uri = pairs.last("redirect_uri").unwrap_or("");
            let mut inner = state.lock();
            match inner.redeem_code(code, redirect_uri) {
                Ok((account, scopes)) => axum::Json(inner.issue_user_tokens(
                    account,
                    scopes,
                    lifetimes.user_token_lifetime,
                ))
                .into_response(),
                Err(message) => error(StatusCode::BAD_REQUEST, message),
            }
        }
        Some("refresh_token") => {
            let refresh = pairs.last("refresh_token").unwrap_or("");
            match state.lock().refresh(refresh, lifetimes.user_token_lifetime) {
                Some(tokens) => axum::Json(tokens).into_response(),
                None => error(StatusCode::BAD_REQUEST, "Invalid refresh token"),
            }
        }
        Some("client_credentials") => {
            axum::Json(state.lock().issue_app_token(lifetimes.app_token_lifetime)).into_response()
        }
        _ => error(StatusCode::BAD_REQUEST, "Invalid grant type"),
    }
}

async fn validate(AxumState(state): AxumState<Arc<State>>, headers: HeaderMap) -> Response {
    if let Some(fault) = oauth_fault(&state).await {
        return fault;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("OAuth ")
                .or_else(|| v.strip_prefix("Bearer "))
                .or_else(|| v.strip_prefix("oauth "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return error(StatusCode::UNAUTHORIZED, "missing authorization token");
    };
    let inner = state.lock();
    let Some(found) = inner.valid_token(token) else {
        return error(StatusCode::UNAUTHORIZED, "invalid access token");
    };
    let expires_in = (found.expires_at - chrono::Utc::now()).num_seconds().max(0);
    let client_id = &state.scenario.app.client_id;
    let body = match found.subject {
        Subject::App => json!({
            "client_id": client_id, "login": null, "scopes": [], "user_id": null, "expires_in": expires_in,
        }),
        Subject::User(idx) => {
            let idx: AccountIdx = idx;
            if inner.is_suspended(&state.world, idx) {
                return error(StatusCode::UNAUTHORIZED, "invalid access token");
            }
            let (login, _) = inner.names(&state.world, idx);
            json!({
                "client_id": client_id,
                "login": login,
                "scopes": found.scopes,
                "user_id": state.world.account(idx).id.to_string(),
                "expires_in": expires_in,
            })
        }
    };
    axum::Json(body).into_response()
}

async fn revoke(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(fault) = oauth_fault(&state).await {
        return fault;
    }
    let pairs = QueryString::parse_with_body(raw.as_deref(), &body);
    if pairs.last("client_id") != Some(state.scenario.app.client_id.as_str()) {
        return error(StatusCode::NOT_FOUND, "client does not exist");
    }
    let token = pairs.last("token").unwrap_or("");
    if state.lock().revoke(token) {
        StatusCode::OK.into_response()
    } else {
        error(StatusCode::BAD_REQUEST, "Invalid token")
    }
}
