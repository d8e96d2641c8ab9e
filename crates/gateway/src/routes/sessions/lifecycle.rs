//! A session's life: renamed, saved (kept), resumed (active again), deleted. Each change is
//! committed with its audit entry.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{MySql, Transaction};
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::is_unique_violation;
use tca_common::db::sessions::{self, Session, SessionStatus};

use super::{expiry, forget_session, owned_session};
use crate::auth::{NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{t, t1};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NameForm {
    pub name: String,
}

pub(super) fn valid_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(t("error-session-name")));
    }
    Ok(name.to_string())
}

pub(super) async fn rename_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, form }: Posted<NameForm>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let name = valid_name(&form.name)?;
    sessions::rename(&state.pool, session.id, &name, Utc::now()).await?;
    forget_session(&state, session.id);
    Ok(Redirect::to(&format!("/sessions/{}", session.public_id)).into_response())
}

pub(super) async fn save_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    if session.status != SessionStatus::Active {
        return Err(AppError::Conflict(t("error-save-not-active")));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let saved = sessions::count_saved_locked(&mut tx, user.id).await?;
    if saved >= i64::from(state.config.saved_sessions_limit) {
        return Err(AppError::Conflict(t1("error-saved-limit", "saved", saved)));
    }
    sessions::save(&mut *tx, session.id, now).await?;
    let target = format!("/sessions/{}", session.public_id);
    let event = Event::SessionSave {
        name: session.name.clone(),
    };
    audited(&state, tx, event, &session, now, &target).await
}

/// Records a session action in the audit log, commits it with the change, and shows `target`
/// (the session's remembered row forgotten once the change is in).
async fn audited(
    state: &AppState,
    mut tx: Transaction<'static, MySql>,
    event: Event,
    session: &Session,
    now: DateTime<Utc>,
    target: &str,
) -> AppResult<Response> {
    audit::record(
        &mut *tx,
        &event,
        Subject::session(Some(session.user_id), session.id),
        now,
    )
    .await?;
    tx.commit().await?;
    forget_session(state, session.id);
    Ok(Redirect::to(target).into_response())
}

pub(super) async fn resume_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    if session.status != SessionStatus::Saved {
        return Err(AppError::Conflict(t("error-resume-not-saved")));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    match sessions::resume(&mut *tx, session.id, now, expiry(&state, now)).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(t("error-another-active")));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("/sessions/{}", session.public_id);
    let event = Event::SessionLoad {
        name: session.name.clone(),
    };
    audited(&state, tx, event, &session, now, &target).await
}

pub(super) async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    sessions::mark_deleted(&mut tx, session.id, now).await?;
    let event = Event::SessionDelete {
        name: session.name.clone(),
    };
    audited(&state, tx, event, &session, now, "/sessions").await
}
