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

use super::{expiry, owned_session};
use crate::auth::{NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NameForm {
    pub name: String,
}

pub(super) fn valid_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "A session name has 1 to 100 characters.".into(),
        ));
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
    Ok(Redirect::to(&format!("/sessions/{}", session.public_id)).into_response())
}

pub(super) async fn save_session(
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
    let saved = sessions::count_saved_locked(&mut tx, user.id).await?;
    if saved >= i64::from(state.config.saved_sessions_limit) {
        return Err(AppError::Conflict(format!(
            "You already have {saved} saved sessions, the most allowed. Delete one you no longer need, then save this one. Nothing was deleted for you."
        )));
    }
    sessions::save(&mut *tx, session.id, now).await?;
    let target = format!("/sessions/{}", session.public_id);
    let event = Event::SessionSave {
        name: session.name.clone(),
    };
    audited(tx, event, &session, now, &target).await
}

/// Records a session action in the audit log, commits it with the change, and shows `target`.
async fn audited(
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
    Ok(Redirect::to(target).into_response())
}

pub(super) async fn resume_session(
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
    match sessions::resume(&mut *tx, session.id, now, expiry(&state, now)).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "You have another active session. Save it or delete it first; one session is active at a time.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("/sessions/{}", session.public_id);
    let event = Event::SessionLoad {
        name: session.name.clone(),
    };
    audited(tx, event, &session, now, &target).await
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
    audited(tx, event, &session, now, "/sessions").await
}
