//! Labels and notes (docs/moderation.md): written on an account's page, listed and searched
//! on the marks page, where accounts can be trusted by login too. Keyed by Twitch id.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::jobs::{self, JobKind, NewJob};
use tca_common::db::marks::{self, Label, MarkInput, NOTE_MAX_CHARS, ORIGIN_MODERATOR};
use tca_common::db::session_channels;
use tca_common::twitch_id::TwitchId;

use crate::auth::{CurrentUser, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{coded, t, t1};
use crate::routes::sessions::owned_session;
use crate::state::AppState;
use crate::views::{Layout, Time};

/// Queues the trusting of the common chat bots for a user who has not had it yet (after a
/// login; the worker resolves the bots' ids through twitch-api).
pub async fn trust_common_bots_once(
    state: &AppState,
    user_id: u64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if marks::common_bots_pending(&state.pool, user_id).await? {
        let job = NewJob::new(
            JobKind::TrustCommonBots.as_str(),
            &serde_json::json!({ "user_id": user_id }),
            now,
        )?
        .dedupe_key(format!("trust-bots-{user_id}"))
        .max_attempts(10);
        jobs::enqueue(&state.pool, &job, now).await?;
    }
    Ok(())
}

fn label_of(raw: &str) -> AppResult<Option<Label>> {
    match raw.trim() {
        "" => Ok(None),
        other => Label::parse(other)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest(t1("error-mark-label", "raw", other))),
    }
}

fn note_of(raw: &str) -> AppResult<&str> {
    if raw.chars().count() > NOTE_MAX_CHARS {
        return Err(AppError::BadRequest(t1(
            "error-mark-note",
            "max",
            NOTE_MAX_CHARS as u32,
        )));
    }
    Ok(raw.trim())
}

async fn audit_mark(
    state: &AppState,
    user: &CurrentUser,
    mark: &MarkInput<'_>,
    removed: bool,
) -> AppResult<()> {
    let event = if removed {
        Event::MarkRemove {
            twitch_user_id: mark.twitch_user_id.to_string(),
            login: mark.login.to_string(),
        }
    } else {
        Event::MarkSave {
            twitch_user_id: mark.twitch_user_id.to_string(),
            login: mark.login.to_string(),
            label: mark.label.map(|l| l.as_str().to_string()),
            shared_channel: mark.shared_channel_id.map(str::to_string),
        }
    };
    audit::record(&state.pool, &event, Subject::user(user.id), Utc::now()).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct MarkForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    note: String,
    /// A channel of the session to share the mark with; empty: only me.
    #[serde(default)]
    share: String,
}

/// Writes the user's label and note on an account of their session (both empty: removed).
pub async fn save_on_account(
    State(state): State<AppState>,
    Path((id, raw_user)): Path<(String, String)>,
    Posted { user, form }: Posted<MarkForm>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let twitch_user_id = TwitchId::parse(&raw_user)
        .map_err(|_| AppError::BadRequest(t1("error-twitch-user-id", "raw", raw_user.as_str())))?;
    let label = label_of(&form.label)?;
    let note = note_of(&form.note)?;
    let share = form.share.trim();
    if !share.is_empty()
        && !session_channels::of_session(&state.pool, session.id)
            .await?
            .iter()
            .any(|c| c.broadcaster_id == share)
    {
        return Err(AppError::BadRequest(t1(
            "error-batch-channel",
            "raw",
            share,
        )));
    }
    // The account must be one of the session's (its login comes from there).
    let detail = state.analysis.account(session.id, &twitch_user_id).await?;
    let mark = MarkInput {
        twitch_user_id: twitch_user_id.as_str(),
        login: &detail.account.login,
        label,
        note,
        shared_channel_id: Some(share).filter(|s| !s.is_empty()),
        origin: ORIGIN_MODERATOR,
    };
    marks::save(&state.pool, user.id, &mark, Utc::now()).await?;
    audit_mark(&state, &user, &mark, label.is_none() && note.is_empty()).await?;
    let back = format!(
        "/sessions/{}/accounts/{}",
        session.public_id, twitch_user_id
    );
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response())
}

#[derive(Deserialize, Default)]
pub struct MarksQuery {
    #[serde(default)]
    label: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    notice: String,
}

pub struct MarkRow {
    pub twitch_user_id: String,
    pub login: String,
    pub label: String,
    pub label_code: String,
    pub note: String,
    pub shared: bool,
    pub common_bot: bool,
    pub updated: Time,
}

#[derive(Template)]
#[template(path = "pages/marks.html")]
pub struct MarksPage {
    pub layout: Layout,
    pub label: String,
    pub q: String,
    pub notice: Option<String>,
    pub marks: Vec<MarkRow>,
}

/// Marks listed at once (the search narrows them).
const MARKS_SHOWN: u32 = 500;

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MarksQuery>,
) -> AppResult<Response> {
    let label = label_of(&query.label)?;
    let rows = marks::of_user(
        &state.pool,
        user.id,
        label,
        Some(query.q.as_str()),
        MARKS_SHOWN,
    )
    .await?;
    let notice = match query.notice.as_str() {
        "added" => Some(t("marks-added")),
        "removed" => Some(t("marks-removed")),
        _ => None,
    };
    let page = MarksPage {
        layout: Layout::new(&user, "marks"),
        label: label.map(|l| l.as_str().to_string()).unwrap_or_default(),
        q: query.q.clone(),
        notice,
        marks: rows
            .into_iter()
            .map(|m| MarkRow {
                label: m
                    .label
                    .as_deref()
                    .map(|l| coded("label", l))
                    .unwrap_or_default(),
                label_code: m.label.clone().unwrap_or_default(),
                shared: m.shared_channel_id.is_some(),
                common_bot: m.origin == marks::ORIGIN_COMMON_BOT,
                updated: Time::new(m.updated_at),
                twitch_user_id: m.twitch_user_id,
                login: m.login_when_marked,
                note: m.note,
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    note: String,
}

/// Marks an account by login (resolved to its Twitch id through twitch-api, as the user).
pub async fn add(
    State(state): State<AppState>,
    Posted { user, form }: Posted<AddForm>,
) -> AppResult<Response> {
    let login = form
        .login
        .trim()
        .trim_start_matches('@')
        .to_ascii_lowercase();
    let valid = (1..=25).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(AppError::BadRequest(t1(
            "error-mark-login",
            "raw",
            login.as_str(),
        )));
    }
    let label = label_of(&form.label)?;
    let note = note_of(&form.note)?;
    if label.is_none() && note.is_empty() {
        return Err(AppError::BadRequest(t("error-mark-empty")));
    }
    let found = state
        .twitch
        .users_by_login(
            std::slice::from_ref(&login),
            Some(&user.twitch_user_id),
            None,
        )
        .await?;
    let Some(account) = found.into_iter().next() else {
        return Err(AppError::BadRequest(t1(
            "error-mark-unknown",
            "login",
            login.as_str(),
        )));
    };
    let mark = MarkInput {
        twitch_user_id: &account.id,
        login: &account.login,
        label,
        note,
        shared_channel_id: None,
        origin: ORIGIN_MODERATOR,
    };
    marks::save(&state.pool, user.id, &mark, Utc::now()).await?;
    audit_mark(&state, &user, &mark, false).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/marks?notice=added")],
    )
        .into_response())
}

/// Removes one of the user's marks.
pub async fn remove(
    State(state): State<AppState>,
    Path(raw_user): Path<String>,
    Posted { user, .. }: Posted<crate::auth::NoFields>,
) -> AppResult<Response> {
    let twitch_user_id = TwitchId::parse(&raw_user)
        .map_err(|_| AppError::BadRequest(t1("error-twitch-user-id", "raw", raw_user.as_str())))?;
    let Some(existing) = marks::own(&state.pool, user.id, twitch_user_id.as_str()).await? else {
        return Err(AppError::NotFound);
    };
    marks::remove(&state.pool, user.id, twitch_user_id.as_str()).await?;
    let mark = MarkInput {
        twitch_user_id: twitch_user_id.as_str(),
        login: &existing.login_when_marked,
        label: None,
        note: "",
        shared_channel_id: None,
        origin: ORIGIN_MODERATOR,
    };
    audit_mark(&state, &user, &mark, true).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/marks?notice=removed")],
    )
        .into_response())
}
