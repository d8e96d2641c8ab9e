//! Analysis sessions: the list, one session's page with its captures (live over SSE),
//! naming, saving, resuming, deleting.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlConnection, Transaction};
use tca_common::db::captures::{CaptureStatus, CaptureTrigger};
use tca_common::db::sessions::{self, Session, SessionStatus};
use tca_common::db::{audit, is_unique_violation};

use crate::auth::{CurrentUser, Posted};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::views::{self, Layout, Time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", get(show_session))
        .route("/sessions/{id}/events", get(session_events))
        .route("/sessions/{id}/captures/{capture_id}", get(show_capture))
        .route("/sessions/{id}/rename", post(rename_session))
        .route("/sessions/{id}/save", post(save_session))
        .route("/sessions/{id}/resume", post(resume_session))
        .route("/sessions/{id}/delete", post(delete_session))
        .route("/sessions/{id}/export/{file}", get(export_session))
}

/// Session ids in URLs are UUIDs; anything else is a 400 that says so.
fn parse_session_id(raw: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            AppError::BadRequest(format!(
                "'{raw}' is not a session id (a UUID like 0b6f…-…)."
            ))
        })
}

/// The user's session by public id; another user's is a 404, never a 403.
pub async fn owned_session(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> AppResult<Session> {
    let public_id = parse_session_id(raw_id)?;
    let session: Option<Session> = sqlx::query_as(
        "SELECT id, public_id, user_id, name, status, created_at, last_activity_at, expires_at \
         FROM analysis_sessions WHERE public_id = ? AND user_id = ? AND status <> 'deleted'",
    )
    .bind(public_id)
    .bind(user.id)
    .fetch_optional(&state.pool)
    .await?;
    session.ok_or(AppError::NotFound)
}

fn expiry(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(state.config.session_ttl)
        .unwrap_or(chrono::Duration::hours(24))
}

/// The user's active session, created (and audited) if there is none.
pub async fn active_session(
    state: &AppState,
    tx: &mut Transaction<'static, MySql>,
    user_id: u64,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    if let Some(session) = sessions::find_active(&mut **tx, user_id).await? {
        touch(&mut *tx, state, session.id, now).await?;
        return Ok(session);
    }
    let name = format!("Session of {}", now.format("%Y-%m-%d %H:%M UTC"));
    let session =
        sessions::create_active(&mut *tx, user_id, &name, state.config.session_ttl, now).await?;
    audit::record(
        &mut **tx,
        audit::event::SESSION_CREATE,
        Some(user_id),
        Some(session.id),
        &serde_json::json!({"name": name}),
        None,
        now,
    )
    .await?;
    Ok(session)
}

/// Activity keeps an active session alive for another `SESSION_TTL`.
async fn touch(
    conn: &mut MySqlConnection,
    state: &AppState,
    session_id: u64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analysis_sessions SET last_activity_at = ?, expires_at = ? WHERE id = ? AND status = 'active'",
    )
    .bind(now)
    .bind(expiry(state, now))
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

// --- the list --------------------------------------------------------------------------------

pub struct SessionRow {
    pub public_id: String,
    pub name: String,
    pub created: Time,
    pub expires: Option<Time>,
    pub captures: String,
    pub accounts: String,
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

#[derive(sqlx::FromRow)]
struct ListedSession {
    public_id: String,
    name: String,
    status: SessionStatus,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    captures: i64,
    accounts: i64,
}

async fn list_sessions(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let rows: Vec<ListedSession> = sqlx::query_as(
        "SELECT s.public_id, s.name, s.status, s.created_at, s.expires_at, \
         (SELECT COUNT(*) FROM captures c WHERE c.session_id = s.id) AS captures, \
         (SELECT COUNT(*) FROM session_accounts a WHERE a.session_id = s.id) AS accounts \
         FROM analysis_sessions s WHERE s.user_id = ? AND s.status <> 'deleted' ORDER BY s.created_at DESC LIMIT 200",
    )
    .bind(user.id)
    .fetch_all(&state.pool)
    .await?;
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
            captures: views::count(row.captures.max(0) as u64),
            accounts: views::count(row.accounts.max(0) as u64),
        };
        match row.status {
            SessionStatus::Active => page.active.push(view),
            SessionStatus::Saved => page.saved.push(view),
            _ => page.expired.push(view),
        }
    }
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

fn valid_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "A session name has 1 to 100 characters.".into(),
        ));
    }
    Ok(name.to_string())
}

async fn create_session(
    State(state): State<AppState>,
    Posted { user, form }: Posted<NameForm>,
) -> AppResult<Response> {
    let name = valid_name(&form.name)?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let created =
        sessions::create_active(&mut tx, user.id, &name, state.config.session_ttl, now).await;
    let session = match created {
        Ok(session) => session,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "You already have an active session. Save it (to keep it) or delete it before starting another."
                    .into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut *tx,
        audit::event::SESSION_CREATE,
        Some(user.id),
        Some(session.id),
        &serde_json::json!({"name": name}),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/sessions/{}", session.public_id)).into_response())
}

// --- one session ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct CaptureView {
    pub id: u64,
    pub channel: String,
    pub trigger: &'static str,
    pub status: &'static str,
    pub chatters: Option<String>,
    pub new_in_session: Option<String>,
    pub viewers: Option<String>,
    pub live: Option<bool>,
    pub queued: Time,
    pub finished: Option<Time>,
    pub error: Option<String>,
}

pub struct ChannelView {
    pub login: String,
    pub name: String,
    pub auto_enabled: bool,
    pub auto_interval: u16,
    pub auto_only_live: bool,
    pub auto_stopped_reason: Option<String>,
}

/// What the session page shows, and what its live updates carry.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub captures: Vec<CaptureView>,
    pub distinct_accounts: String,
    pub running: bool,
}

#[derive(sqlx::FromRow)]
struct CaptureRow {
    id: u64,
    broadcaster_login: String,
    capture_trigger: CaptureTrigger,
    status: CaptureStatus,
    chatters_count: Option<u32>,
    new_in_session_count: Option<u32>,
    viewer_count: Option<u32>,
    stream_live: Option<bool>,
    queued_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

impl From<CaptureRow> for CaptureView {
    fn from(c: CaptureRow) -> Self {
        Self {
            id: c.id,
            channel: c.broadcaster_login,
            trigger: c.capture_trigger.as_str(),
            status: c.status.as_str(),
            chatters: c.chatters_count.map(|n| views::count(u64::from(n))),
            new_in_session: c.new_in_session_count.map(|n| views::count(u64::from(n))),
            viewers: c.viewer_count.map(|n| views::count(u64::from(n))),
            live: c.stream_live,
            queued: Time::new(c.queued_at),
            finished: views::time(c.finished_at),
            error: c.error,
        }
    }
}

const CAPTURE_COLUMNS: &str = "id, broadcaster_login, capture_trigger, status, chatters_count, new_in_session_count, \
     viewer_count, stream_live, queued_at, finished_at, error";

async fn progress(state: &AppState, session_id: u64) -> Result<Progress, sqlx::Error> {
    let captures: Vec<CaptureRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAPTURE_COLUMNS} FROM captures WHERE session_id = ? ORDER BY id DESC LIMIT 200"
    )))
    .bind(session_id)
    .fetch_all(&state.pool)
    .await?;
    // Each capture stores how many of its accounts were new to the session (captures of a
    // session are written one at a time), so their sum is the session's distinct accounts:
    // a sum over captures instead of counting every account on every page view and every
    // second of the live-update stream.
    let distinct: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(new_in_session_count), 0) AS SIGNED) FROM captures \
         WHERE session_id = ? AND status = 'done'",
    )
    .bind(session_id)
    .fetch_one(&state.pool)
    .await?;
    let captures: Vec<CaptureView> = captures.into_iter().map(CaptureView::from).collect();
    Ok(Progress {
        running: captures
            .iter()
            .any(|c| c.status == "queued" || c.status == "running"),
        captures,
        distinct_accounts: views::count(distinct.max(0) as u64),
    })
}

#[derive(Template)]
#[template(path = "pages/session.html")]
pub struct SessionPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub status: &'static str,
    pub created: Time,
    pub expires: Option<Time>,
    pub channels: Vec<ChannelView>,
    pub progress: Progress,
}

async fn show_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let channels: Vec<sessions::SessionChannel> = sqlx::query_as(
        "SELECT id, session_id, broadcaster_id, broadcaster_login, broadcaster_name, auto_capture_enabled, \
         auto_capture_interval_min, auto_capture_only_live, auto_capture_stopped_reason \
         FROM session_channels WHERE session_id = ? ORDER BY broadcaster_login",
    )
    .bind(session.id)
    .fetch_all(&state.pool)
    .await?;
    let page = SessionPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id.clone(),
        name: session.name.clone(),
        status: session.status.as_str(),
        created: Time::new(session.created_at),
        expires: if session.status == SessionStatus::Active {
            views::time(session.expires_at)
        } else {
            None
        },
        channels: channels
            .into_iter()
            .map(|c| ChannelView {
                login: c.broadcaster_login,
                name: c.broadcaster_name,
                auto_enabled: c.auto_capture_enabled,
                auto_interval: c.auto_capture_interval_min,
                auto_only_live: c.auto_capture_only_live,
                auto_stopped_reason: c.auto_capture_stopped_reason,
            })
            .collect(),
        progress: progress(&state, session.id).await?,
    };
    Ok(Html(page.render()?).into_response())
}

/// How long one live-update stream lasts; the browser reconnects by itself.
const EVENTS_FOR: Duration = Duration::from_secs(600);
const EVENTS_EVERY: Duration = Duration::from_millis(1000);

/// Server-Sent Events: the session's progress whenever it changes (checked every second).
async fn session_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let stop = state.shutdown.clone();
    let started = tokio::time::Instant::now();
    let stream = futures::stream::unfold((state, String::new()), move |(state, last)| {
        let stop = stop.clone();
        async move {
            loop {
                if stop.is_cancelled() || started.elapsed() > EVENTS_FOR {
                    return None;
                }
                let snapshot = match progress(&state, session.id).await {
                    Ok(p) => serde_json::to_string(&p).unwrap_or_default(),
                    Err(e) => {
                        tracing::warn!(error = %e, "live update failed");
                        String::new()
                    }
                };
                if !snapshot.is_empty() && snapshot != last {
                    let event = Event::default().event("progress").data(snapshot.clone());
                    return Some((Ok::<_, Infallible>(event), (state, snapshot)));
                }
                tokio::select! {
                    () = stop.cancelled() => return None,
                    () = tokio::time::sleep(EVENTS_EVERY) => {}
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One capture's status as JSON (what scripts and tests poll).
async fn show_capture(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, capture_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let capture_id: u64 = capture_id
        .parse()
        .map_err(|_| AppError::BadRequest(format!("'{capture_id}' is not a capture number.")))?;
    let capture: Option<CaptureRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAPTURE_COLUMNS} FROM captures WHERE id = ? AND session_id = ?"
    )))
    .bind(capture_id)
    .bind(session.id)
    .fetch_optional(&state.pool)
    .await?;
    let capture = capture.ok_or(AppError::NotFound)?;
    Ok(Json(CaptureView::from(capture)).into_response())
}

/// Downloads an export (accounts, creation or timeline; CSV or JSON) of the user's session,
/// streamed through from the analysis service with the page's filters.
async fn export_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, file)): Path<(String, String)>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let allowed = ["accounts", "creation", "timeline"]
        .iter()
        .flat_map(|what| ["csv", "json"].map(|ext| format!("{what}.{ext}")))
        .any(|name| name == file);
    if !allowed {
        return Err(AppError::BadRequest(format!(
            "'{file}' is not an export: accounts, creation or timeline, as .csv or .json."
        )));
    }
    let upstream = state
        .analysis
        .get(session.id, &format!("export/{file}"), raw.as_deref())
        .await?;
    let content_type = upstream
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    audit::record(
        &state.pool,
        audit::event::EXPORT,
        Some(user.id),
        Some(session.id),
        &serde_json::json!({"what": file}),
        None,
        Utc::now(),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"session-{}-{file}\"",
        session.public_id
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(upstream.bytes_stream()),
    )
        .into_response())
}

async fn rename_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, form }: Posted<NameForm>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let name = valid_name(&form.name)?;
    sqlx::query("UPDATE analysis_sessions SET name = ?, updated_at = ? WHERE id = ?")
        .bind(&name)
        .bind(Utc::now())
        .bind(session.id)
        .execute(&state.pool)
        .await?;
    Ok(Redirect::to(&format!("/sessions/{}", session.public_id)).into_response())
}

#[derive(Deserialize)]
pub struct NoFields {}

async fn save_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    if session.status != SessionStatus::Active {
        return Err(AppError::Conflict(
            "Only the active session can be saved.".into(),
        ));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    // Count under the user's row lock: two saves at once cannot both pass the limit.
    sqlx::query("SELECT id FROM users WHERE id = ? FOR UPDATE")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let saved: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM analysis_sessions WHERE user_id = ? AND status = 'saved'",
    )
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    if saved >= i64::from(state.config.saved_sessions_limit) {
        return Err(AppError::Conflict(format!(
            "You already have {saved} saved sessions, the most allowed. Delete one you no longer need, then save this one. Nothing was deleted for you."
        )));
    }
    sqlx::query(
        "UPDATE analysis_sessions SET status = 'saved', saved_at = ?, expires_at = NULL, updated_at = ? WHERE id = ? AND status = 'active'",
    )
    .bind(now)
    .bind(now)
    .bind(session.id)
    .execute(&mut *tx)
    .await?;
    let target = format!("/sessions/{}", session.public_id);
    audited(
        tx,
        audit::event::SESSION_SAVE,
        &user,
        &session,
        now,
        &target,
    )
    .await
}

/// Records a session action in the audit log, commits it with the change, and shows `target`.
async fn audited(
    mut tx: Transaction<'static, MySql>,
    event: &'static str,
    user: &CurrentUser,
    session: &Session,
    now: DateTime<Utc>,
    target: &str,
) -> AppResult<Response> {
    audit::record(
        &mut *tx,
        event,
        Some(user.id),
        Some(session.id),
        &serde_json::json!({"name": session.name}),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(target).into_response())
}

async fn resume_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    if session.status != SessionStatus::Saved {
        return Err(AppError::Conflict(
            "Only a saved session can be resumed.".into(),
        ));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let resumed = sqlx::query(
        "UPDATE analysis_sessions SET status = 'active', saved_at = NULL, last_activity_at = ?, expires_at = ?, \
         updated_at = ? WHERE id = ? AND status = 'saved'",
    )
    .bind(now)
    .bind(expiry(&state, now))
    .bind(now)
    .bind(session.id)
    .execute(&mut *tx)
    .await;
    match resumed {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "You have another active session. Save it or delete it first; one session is active at a time.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("/sessions/{}", session.public_id);
    audited(
        tx,
        audit::event::SESSION_LOAD,
        &user,
        &session,
        now,
        &target,
    )
    .await
}

async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    // Marked now, purged by housekeeping in bounded batches (a big session is many rows).
    sqlx::query("UPDATE analysis_sessions SET status = 'deleted', ended_at = ?, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(now)
        .bind(session.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE session_channels SET auto_capture_enabled = FALSE WHERE session_id = ?")
        .bind(session.id)
        .execute(&mut *tx)
        .await?;
    audited(
        tx,
        audit::event::SESSION_DELETE,
        &user,
        &session,
        now,
        "/sessions",
    )
    .await
}
