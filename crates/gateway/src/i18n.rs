//! Which language a request is served in (docs/i18n.md), and the switch.
//!
//! The user's explicit choice wins: it is kept in the `tca_lang` cookie (set by the switch, on
//! every page and on the landing page) and, for a logged-in user, with the user, from where each
//! login restores the cookie, so that the choice follows them to a new browser. Without a
//! choice, the browser's `Accept-Language`; without a language we speak there, English.
//!
//! The middleware puts the language in the request's extensions and in a task-local
//! (`current()`, from `tca_common::i18n`): templates, error pages rendered where no request is
//! at hand, and the analysis client (which passes it on as `Accept-Language`) read it there.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde::Deserialize;
use tca_common::db::users;
use tca_common::i18n::{self, Lang};

use crate::auth::MaybeUser;
use crate::cookies;
use crate::error::AppError;
use crate::state::AppState;

/// The cookie holding the language chosen with the switch.
pub const LANG_COOKIE: &str = "tca_lang";
/// A year: a language choice is not a session.
const LANG_COOKIE_MAX_AGE: i64 = 365 * 86_400;

pub use tca_common::i18n::current;

/// The message `key` in the request's language (templates call `crate::i18n::t("key")`).
pub fn t(key: &str) -> String {
    current().t(key)
}

/// The message `key` with one argument.
pub fn t1<'a>(key: &str, name: &str, value: impl Into<i18n::Arg<'a>>) -> String {
    current().t_args(key, &[(name, value.into())])
}

/// The message `key` with two arguments.
pub fn t2<'a>(
    key: &str,
    name1: &str,
    value1: impl Into<i18n::Arg<'a>>,
    name2: &str,
    value2: impl Into<i18n::Arg<'a>>,
) -> String {
    current().t_args(key, &[(name1, value1.into()), (name2, value2.into())])
}

/// Text stored in the database for users to read (a capture's error, why auto-capture
/// stopped): a message key since this version, shown in the reader's language; older rows hold
/// English sentences, shown as they are.
pub fn stored_text(stored: &str) -> String {
    let key_shaped = !stored.is_empty()
        && stored
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    match key_shaped.then(|| current().try_t(stored)).flatten() {
        Some(text) => text,
        None => stored.to_string(),
    }
}

/// The message `key` with its `count` (plurals: `count-accounts`).
pub fn count<'a>(key: &str, n: impl Into<i18n::Arg<'a>>) -> String {
    t1(key, "count", n)
}

/// The message naming a code of a family: `coded("session-status", "saved")` is the message
/// `session-status-saved` (the keys test knows these families).
pub fn coded(family: &str, code: &str) -> String {
    t(&format!("{family}-{code}"))
}

/// Runs `work` in `lang` (what `current()` answers inside it): for work done after the
/// request's handler returned, such as a stream of live updates.
pub async fn in_language<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    i18n::scope(lang, work).await
}

/// The messages the dashboard's scripts show (charts' titles, legends, tooltips, errors):
/// handed over by the page, never written in the scripts. Placeholders are `{name}`, filled
/// by the script (`web/static/js/strings.js`).
pub const SCRIPT_MESSAGES: &[&str] = &[
    "js-chart-failed",
    "js-no-capture",
    "js-series-chatters",
    "js-series-viewers",
    "js-axis-accounts",
    "js-no-creation-date",
    "js-series-accounts",
    "js-series-expected",
    "js-accounts-failed",
    "js-all-accounts-of-day",
    "js-score",
    "js-created-per-minute",
    "js-created-per-hour",
    "js-created-per-day",
    "js-present-in",
    "js-members-failed",
    "js-all-members",
    "js-cohort-page",
    "js-axis-created",
    "js-axis-captures",
    "label-trusted",
    "label-bot",
    "label-watch",
];

/// `SCRIPT_MESSAGES` in the request's language, as JSON a page embeds in
/// `<script type="application/json">` (`</` escaped so that no message can close the tag).
pub fn script_messages() -> String {
    let lang = current();
    let map: serde_json::Map<String, serde_json::Value> = SCRIPT_MESSAGES
        .iter()
        .map(|key| (key.to_string(), lang.t(key).into()))
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace("</", "<\\/")
}

/// The language for a request's headers: the chosen one (cookie), else the browser's.
pub fn negotiate(headers: &HeaderMap) -> Lang {
    cookies::read(headers, LANG_COOKIE)
        .and_then(|code| Lang::parse(&code))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(i18n::from_accept_language)
        })
        .unwrap_or_default()
}

/// Serves the request in its language: `Extension<Lang>`, `current()`, `Content-Language`.
pub async fn language(mut request: Request, next: Next) -> Response {
    let lang = negotiate(request.headers());
    request.extensions_mut().insert(lang);
    let mut response = i18n::scope(lang, next.run(request)).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    // The same URL is served in two languages: caches must key on what decides it.
    headers.append(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

/// The `Set-Cookie` value keeping `lang` as the browser's choice.
pub fn cookie(secure: bool, lang: Lang) -> String {
    cookies::set(secure, LANG_COOKIE, lang.code(), LANG_COOKIE_MAX_AGE)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/language", post(switch))
}

#[derive(Deserialize)]
struct SwitchForm {
    lang: String,
    #[serde(default)]
    csrf: String,
}

/// The header's and the landing page's switch: keeps the choice in the cookie and, for a
/// logged-in user (CSRF checked), with the user; then back to the page it was made on.
async fn switch(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SwitchForm>,
) -> Result<Response, AppError> {
    if headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| origin != state.config.origin())
    {
        return Err(AppError::Forbidden(current().t("error-other-site")));
    }
    let lang = Lang::parse(&form.lang).ok_or_else(|| {
        AppError::BadRequest(current().t_args(
            "error-unknown-language",
            &[("lang", form.lang.as_str().into())],
        ))
    })?;
    if let Some(user) = &user {
        if !tca_common::server::constant_time_eq(form.csrf.as_bytes(), user.csrf.as_bytes()) {
            return Err(AppError::Forbidden(current().t("error-csrf")));
        }
        users::set_locale(&state.pool, user.id, lang.code(), Utc::now()).await?;
    }
    // Back to the page the switch was on (the same-origin Referer), else home.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix(state.config.origin().as_str()))
        .map_or("/", local_path);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, back.to_string()),
            (
                header::SET_COOKIE,
                cookie(state.config.secure_cookies(), lang),
            ),
        ],
    )
        .into_response())
}

/// `path` when it is a path of this app, else `/` (never another site: `//evil`, `https:`).
fn local_path(path: &str) -> &str {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.contains(['\r', '\n']);
    if local { path } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), value.parse().expect("value"));
        }
        map
    }

    #[test]
    fn the_choice_wins_over_the_browser_which_wins_over_english() {
        assert_eq!(negotiate(&headers(&[])), Lang::En);
        assert_eq!(
            negotiate(&headers(&[(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")])),
            Lang::Fr
        );
        assert_eq!(
            negotiate(&headers(&[(header::ACCEPT_LANGUAGE, "de-DE")])),
            Lang::En,
            "unsupported: English"
        );
        assert_eq!(
            negotiate(&headers(&[
                (header::ACCEPT_LANGUAGE, "fr-FR"),
                (header::COOKIE, "tca_lang=en")
            ])),
            Lang::En
        );
        assert_eq!(
            negotiate(&headers(&[(header::COOKIE, "tca_lang=klingon")])),
            Lang::En
        );
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            local_path("/sessions/abc/analysis?x=1"),
            "/sessions/abc/analysis?x=1"
        );
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }
}
