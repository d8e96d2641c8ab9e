//! Analysis sessions: the list and creation (here), one session's page with its captures and
//! live progress (`page`), naming, saving, resuming and deleting (`lifecycle`), and exports
//! (`export`).

pub mod export;
pub mod feed;
pub mod lifecycle;
pub mod page;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use sqlx::{MySql, Transaction};
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::is_unique_violation;
use tca_common::db::sessions::{self, Session, SessionStatus};

use crate::auth::{CurrentUser, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{current, t, t1};
use crate::state::AppState;
use crate::views::{self, Layout, Time};

pub use lifecycle::NameForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", get(page::show_session))
        .route("/sessions/{id}/events", get(page::session_events))
        .route(
            "/sessions/{id}/captures/{capture_id}",
            get(page::show_capture),
        )
        .route("/sessions/{id}/rename", post(lifecycle::rename_session))
        .route("/sessions/{id}/save", post(lifecycle::save_session))
        .route("/sessions/{id}/resume", post(lifecycle::resume_session))
        .route("/sessions/{id}/delete", post(lifecycle::delete_session))
        .route("/sessions/{id}/export/{file}", get(export::export_session))
}

/// Session ids in URLs are UUIDs; anything else is a 400 that says so.
fn parse_session_id(raw: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| AppError::BadRequest(t1("error-session-id", "raw", raw)))
}

/// The user's session by public id; another user's is a 404, never a 403.
pub async fn owned_session(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> AppResult<Session> {
    let public_id = parse_session_id(raw_id)?;
    sessions::find_owned(&state.pool, &public_id, user.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `owned_session` for a request that only reads (pages, their data, exports): remembered for
/// a second (`BriefCache`), so that a dashboard and the requests its scripts make at once read
/// the row once. A change made here forgets it at once (`forget_session`); one made by another
/// replica or by the worker (expiry, purge) shows within the second. Changes themselves read
/// the row fresh with `owned_session`.
pub async fn viewed_session(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> AppResult<Session> {
    let key = (user.id, parse_session_id(raw_id)?);
    if let Some(session) = state.owned_sessions.get(&key) {
        return Ok(session);
    }
    let session = sessions::find_owned(&state.pool, &key.1, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    state.owned_sessions.put(key, session.clone());
    Ok(session)
}

/// After a change to the session's row has committed: the next read sees it.
pub fn forget_session(state: &AppState, session_id: u64) {
    state
        .owned_sessions
        .forget(|cached| cached.id == session_id);
}

fn expiry(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(state.config.session_ttl)
        .unwrap_or(chrono::Duration::hours(24))
}

/// The user's active session, created (and audited) if there is none; activity keeps it
/// alive for another `SESSION_TTL`.
pub async fn active_session(
    state: &AppState,
    tx: &mut Transaction<'static, MySql>,
    user_id: u64,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    if let Some(session) = sessions::find_active(&mut **tx, user_id).await? {
        sessions::touch(&mut **tx, session.id, now, expiry(state, now)).await?;
        return Ok(session);
    }
    // Named in the language of the request that opened it (a name, not a label: it stays).
    let lang = current();
    let name = t1(
        "session-default-name",
        "when",
        tca_common::i18n::date_time(lang, now),
    );
    let session =
        sessions::create_active(&mut *tx, user_id, &name, state.config.session_ttl, now).await?;
    audit::record(
        &mut **tx,
        &Event::SessionCreate { name },
        Subject::session(Some(user_id), session.id),
        now,
    )
    .await?;
    Ok(session)
}

pub struct SessionRow {
    pub public_id: String,
    pub name: String,
    pub created: Time,
    pub expires: Option<Time>,
    pub captures: u64,
    pub accounts: u64,
}

#[derive(Template)]
#[template(path = "pages/sessions.html")]
pub struct SessionsPage {
    pub layout: Layout,
    pub active: Vec<SessionRow>,
    pub saved: Vec<SessionRow>,
    pub expired: Vec<SessionRow>,
    pub saved_limit: u32,
}

/// Sessions listed at most.
const LISTED: u32 = 200;

async fn list_sessions(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let rows = sessions::list_for_user(&state.pool, user.id, LISTED).await?;
    let mut page = SessionsPage {
        layout: Layout::new(&user, "sessions"),
        active: Vec::new(),
        saved: Vec::new(),
        expired: Vec::new(),
        saved_limit: state.config.saved_sessions_limit,
    };
    for row in rows {
        let view = SessionRow {
            public_id: row.public_id,
            name: row.name,
            created: Time::new(row.created_at),
            expires: views::time(row.expires_at),
            captures: row.captures.max(0) as u64,
            accounts: row.accounts.max(0) as u64,
        };
        match row.status {
            SessionStatus::Active => page.active.push(view),
            SessionStatus::Saved => page.saved.push(view),
            _ => page.expired.push(view),
        }
    }
    Ok(Html(page.render()?).into_response())
}

async fn create_session(
    State(state): State<AppState>,
    Posted { user, form }: Posted<NameForm>,
) -> AppResult<Response> {
    let name = lifecycle::valid_name(&form.name)?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let created =
        sessions::create_active(&mut tx, user.id, &name, state.config.session_ttl, now).await;
    let session = match created {
        Ok(session) => session,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(t("error-already-active")));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut *tx,
        &Event::SessionCreate { name },
        Subject::session(Some(user.id), session.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/sessions/{}", session.public_id)).into_response())
}
