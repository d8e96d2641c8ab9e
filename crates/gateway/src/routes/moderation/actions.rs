//! Bulk bans, timeouts and unbans (docs/moderation.md): enabling actions (Twitch's consent for
//! the extra scope), the preview (a draft batch: who will be acted on, who is left out and
//! why), the confirmation (the moderator types the count), the batch's page with live
//! progress and per-account results, the ban list as text or CSV (which needs no scope),
//! and undo (a new batch that unbans what this one banned).

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Json, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::moderation::{self, Action, Batch, Item, NewBatch, Progress, Target};
use tca_common::db::session_channels::{self, SessionChannel};
use tca_common::db::sessions::Session;
use tca_common::twitch_api::ACTIONS_SCOPE;

use super::selection::{self, Chosen};
use crate::auth::{self, CurrentUser, NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{coded, current, stored_text, t, t1};
use crate::routes::sessions::owned_session;
use crate::state::AppState;
use crate::views::{Layout, Time};

/// The longest reason Twitch keeps on a ban (characters).
const REASON_MAX: usize = 500;
/// The longest timeout Twitch accepts: 14 days.
const TIMEOUT_MAX_SECS: u32 = 1_209_600;
/// Accounts listed on a batch's page (the CSV has them all).
const LISTED: u32 = 1000;

/// Whether the user's Twitch authorization carries the actions scope.
pub async fn actions_enabled(state: &AppState, user: &CurrentUser) -> AppResult<bool> {
    Ok(state
        .twitch
        .scopes(&user.twitch_user_id)
        .await?
        .iter()
        .any(|s| s == ACTIONS_SCOPE))
}

#[derive(Deserialize)]
pub struct EnableForm {
    #[serde(default)]
    return_to: String,
}

/// Sends the moderator through Twitch's consent again, asking for the actions scope as well
/// (incremental authorization); they come back to the page they were on. A link, like
/// "Log in with Twitch": a form's redirect to Twitch would break the `form-action 'self'`
/// policy, and the only effect is Twitch's own consent page (the state binds the browser).
pub async fn enable(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(form): Query<EnableForm>,
) -> AppResult<Response> {
    let return_to = auth::local_path(&form.return_to).unwrap_or("/channels");
    let (oauth_state, login_cookie) = auth::new_login_state(&state, Some(return_to)).await?;
    let url = state
        .twitch
        .authorize_url(&oauth_state, &state.config.redirect_uri(), false, true)
        .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, url), (header::SET_COOKIE, login_cookie)],
    )
        .into_response())
}

/// The channel of the session to act in, which the user must still moderate (asked of
/// Twitch through twitch-api, which keeps the list a minute).
async fn acting_channel(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    broadcaster_id: &str,
) -> AppResult<SessionChannel> {
    let channel = session_channels::of_session(&state.pool, session.id)
        .await?
        .into_iter()
        .find(|c| c.broadcaster_id == broadcaster_id)
        .ok_or_else(|| AppError::BadRequest(t1("error-batch-channel", "raw", broadcaster_id)))?;
    let moderated = state.twitch.channels(&user.twitch_user_id).await?;
    if !moderated
        .iter()
        .any(|c| c.broadcaster_id == channel.broadcaster_id)
    {
        return Err(AppError::Forbidden(t("error-not-moderator")));
    }
    Ok(channel)
}

/// The action, its duration (timeouts) and reason from a form.
fn action_of(fields: &HashMap<String, String>) -> AppResult<(Action, Option<u32>, String)> {
    let field = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or("");
    let action = Action::parse(field("action"))
        .ok_or_else(|| AppError::BadRequest(t1("error-batch-action", "raw", field("action"))))?;
    let duration = match action {
        Action::Timeout => {
            let secs: u32 = field("duration_secs")
                .parse()
                .ok()
                .filter(|s| (1..=TIMEOUT_MAX_SECS).contains(s))
                .ok_or_else(|| {
                    AppError::BadRequest(t1("error-batch-duration", "raw", field("duration_secs")))
                })?;
            Some(secs)
        }
        Action::Ban | Action::Unban => None,
    };
    let reason = field("reason").to_string();
    if reason.chars().count() > REASON_MAX {
        return Err(AppError::BadRequest(t1(
            "error-batch-reason",
            "max",
            REASON_MAX as u32,
        )));
    }
    Ok((action, duration, reason))
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

fn batch_path(session: &Session, batch: &Batch) -> String {
    format!(
        "/sessions/{}/actions/{}",
        session.public_id, batch.public_id
    )
}

/// The preview: resolves the choice, leaves out who must be, stores a draft, shows it.
pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { user, form }: Posted<HashMap<String, String>>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let chosen = Chosen::from_form(&form)?;
    let (action, duration_secs, reason) = action_of(&form)?;
    let broadcaster_id = form.get("broadcaster_id").map(|v| v.trim()).unwrap_or("");
    let channel = acting_channel(&state, &user, &session, broadcaster_id).await?;
    let max = state.config.moderation_batch_max;
    let mut accounts = selection::accounts(&state, &session, &chosen, max).await?;
    let extra = form.get("also").map(String::as_str).unwrap_or("");
    for account in selection::also(&state, &session, extra).await? {
        if !accounts
            .iter()
            .any(|a| a.twitch_user_id == account.twitch_user_id)
        {
            accounts.push(account);
        }
    }
    if accounts.is_empty() {
        return Err(selection::nothing_chosen());
    }
    if accounts.len() > max as usize {
        return Err(selection::too_many(accounts.len() as u64, max));
    }
    let (targets, excluded) = selection::split(
        &state,
        &user,
        &session,
        &channel.broadcaster_id,
        action,
        accounts,
    )
    .await?;
    let description = chosen.code();
    let new = NewBatch {
        user_id: user.id,
        session_id: session.id,
        broadcaster_id: &channel.broadcaster_id,
        broadcaster_login: &channel.broadcaster_login,
        action,
        duration_secs,
        reason: &reason,
        selection: &description,
        undo_of: None,
    };
    let mut conn = state.pool.acquire().await?;
    let batch = moderation::create_draft(&mut conn, &new, &targets, &excluded, Utc::now()).await?;
    Ok(see_other(&batch_path(&session, &batch)))
}

/// A batch of the user's session, by its public id.
async fn owned_batch(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    raw_batch: &str,
) -> AppResult<(Session, Batch)> {
    let session = owned_session(state, user, id).await?;
    let public_id = uuid::Uuid::parse_str(raw_batch)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| AppError::BadRequest(t1("error-batch-id", "raw", raw_batch)))?;
    let batch = moderation::find_owned(&state.pool, user.id, &public_id)
        .await?
        .filter(|b| b.session_id == session.id)
        .ok_or(AppError::NotFound)?;
    Ok((session, batch))
}

/// One account on a batch's page.
pub struct ItemRow {
    pub twitch_user_id: String,
    pub login: String,
    pub status: String,
    pub why: String,
}

impl From<Item> for ItemRow {
    fn from(item: Item) -> Self {
        let why = match (&item.excluded_why, &item.message) {
            (Some(why), _) => coded("excluded", why),
            (None, Some(message)) => message.clone(),
            (None, None) => String::new(),
        };
        Self {
            status: coded("result", &item.status),
            twitch_user_id: item.twitch_user_id,
            login: item.login,
            why,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/batch.html")]
pub struct BatchPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub batch: Batch,
    pub progress: Progress,
    pub targets: Vec<ItemRow>,
    pub excluded: Vec<ItemRow>,
    pub results: Vec<ItemRow>,
    pub actions_enabled: bool,
    pub created: Time,
    /// The batch this one undoes, and the undo of this one, if any.
    pub undoes: Option<String>,
    pub undone_by: Option<String>,
}

impl BatchPage {
    pub fn action_text(&self) -> String {
        coded("batch-action", &self.batch.action)
    }
    pub fn heading(&self) -> String {
        current().t_args(
            "batch-heading",
            &[
                ("action", self.action_text().into()),
                ("channel", self.batch.broadcaster_login.as_str().into()),
            ],
        )
    }
    pub fn type_count(&self) -> String {
        current().t_args(
            "batch-type-count",
            &[
                ("count", self.batch.targets.into()),
                ("action", self.action_text().into()),
            ],
        )
    }
    pub fn selection_text(&self) -> String {
        selection::describe(&self.batch.selection)
    }
    pub fn status_text(&self) -> String {
        coded("batch-status", &self.batch.status)
    }
    pub fn stopped_text(&self) -> Option<String> {
        self.batch.stopped_reason.as_deref().map(stored_text)
    }
    pub fn is_draft(&self) -> bool {
        self.batch.status == "draft"
    }
    pub fn is_over(&self) -> bool {
        matches!(self.batch.status.as_str(), "done" | "stopped")
    }
    /// Undo: unbans what a ban or a timeout did, once it is over.
    pub fn can_undo(&self) -> bool {
        self.is_over()
            && self.batch.action() != Action::Unban
            && self.progress.done > 0
            && self.undone_by.is_none()
    }
    pub fn base(&self) -> String {
        format!(
            "/sessions/{}/actions/{}",
            self.public_id, self.batch.public_id
        )
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_batch)): Path<(String, String)>,
) -> AppResult<Response> {
    let (session, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    let pool = &state.pool;
    let progress = moderation::progress(pool, batch.id).await?;
    let (targets, results) = if batch.status == "draft" {
        (
            moderation::items(pool, batch.id, &["pending"], LISTED).await?,
            Vec::new(),
        )
    } else {
        (
            Vec::new(),
            moderation::items(
                pool,
                batch.id,
                &["pending", "done", "already", "refused", "skipped"],
                LISTED,
            )
            .await?,
        )
    };
    let excluded = moderation::items(pool, batch.id, &["excluded"], LISTED).await?;
    let undoes = match batch.undo_of {
        Some(of) => moderation::find_by_id(pool, of).await?.map(|b| b.public_id),
        None => None,
    };
    let undone_by = moderation::undo_of(pool, batch.id)
        .await?
        .map(|b| b.public_id);
    let page = BatchPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        created: Time::new(batch.created_at),
        progress,
        targets: targets.into_iter().map(ItemRow::from).collect(),
        excluded: excluded.into_iter().map(ItemRow::from).collect(),
        results: results.into_iter().map(ItemRow::from).collect(),
        actions_enabled: actions_enabled(&state, &user).await?,
        batch,
        undoes,
        undone_by,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    count: String,
}

/// The confirmation: the typed count must be the batch's; the user must have enabled actions
/// and still moderate the channel. Then the batch runs, one job per chunk.
pub async fn confirm(
    State(state): State<AppState>,
    Path((id, raw_batch)): Path<(String, String)>,
    Posted { user, form }: Posted<ConfirmForm>,
) -> AppResult<Response> {
    let (session, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    if batch.status != "draft" {
        return Err(AppError::Conflict(t("error-batch-not-draft")));
    }
    if batch.targets == 0 {
        return Err(AppError::BadRequest(t("error-batch-empty")));
    }
    let typed = form.count.trim();
    if typed.parse::<u32>().ok() != Some(batch.targets) {
        return Err(AppError::BadRequest(current().t_args(
            "error-batch-count",
            &[
                ("typed", typed.to_string().into()),
                ("count", batch.targets.into()),
            ],
        )));
    }
    if !actions_enabled(&state, &user).await? {
        return Err(AppError::Forbidden(t("error-actions-not-enabled")));
    }
    acting_channel(&state, &user, &session, &batch.broadcaster_id).await?;
    let now = Utc::now();
    let mut conn = state.pool.acquire().await?;
    if !moderation::confirm(&mut conn, &batch, now).await? {
        return Err(AppError::Conflict(t("error-batch-not-draft")));
    }
    // The dashboard lists it from now on; its job starts now.
    state.forget_dashboard_inputs(batch.session_id);
    state.wake_worker();
    let progress = moderation::progress(&mut *conn, batch.id).await?;
    let undo_of = match batch.undo_of {
        Some(of) => moderation::find_by_id(&mut *conn, of)
            .await?
            .map(|b| b.public_id),
        None => None,
    };
    audit::record(
        &mut *conn,
        &Event::BatchConfirm {
            batch: batch.public_id.clone(),
            action: batch.action.clone(),
            channel: batch.broadcaster_login.clone(),
            targets: batch.targets,
            excluded: progress.excluded,
            selection: batch.selection.clone(),
            undo_of,
        },
        Subject::session(Some(user.id), session.id),
        now,
    )
    .await?;
    Ok(see_other(&batch_path(&session, &batch)))
}

/// Undo: a draft unban of every account this batch banned or timed out (result `done`; those
/// Twitch already had banned were banned before and stay so). Confirmed like any batch.
pub async fn undo(
    State(state): State<AppState>,
    Path((id, raw_batch)): Path<(String, String)>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let (session, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    if !matches!(batch.status.as_str(), "done" | "stopped") || batch.action() == Action::Unban {
        return Err(AppError::Conflict(t("error-batch-no-undo")));
    }
    if let Some(existing) = moderation::undo_of(&state.pool, batch.id).await? {
        return Ok(see_other(&batch_path(&session, &existing)));
    }
    let targets: Vec<Target> = moderation::items(&state.pool, batch.id, &["done"], u32::MAX)
        .await?
        .into_iter()
        .map(|i| Target {
            twitch_user_id: i.twitch_user_id,
            login: i.login,
        })
        .collect();
    if targets.is_empty() {
        return Err(AppError::BadRequest(t("error-batch-empty")));
    }
    let description = format!("undo:{}", batch.public_id);
    let new = NewBatch {
        user_id: user.id,
        session_id: session.id,
        broadcaster_id: &batch.broadcaster_id,
        broadcaster_login: &batch.broadcaster_login,
        action: Action::Unban,
        duration_secs: None,
        reason: "",
        selection: &description,
        undo_of: Some(batch.id),
    };
    let mut conn = state.pool.acquire().await?;
    let draft = moderation::create_draft(&mut conn, &new, &targets, &[], Utc::now()).await?;
    Ok(see_other(&batch_path(&session, &draft)))
}

/// The batch's targets as chat commands to paste (`/ban login reason`): what a moderator
/// without the actions scope can still do.
pub async fn ban_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_batch)): Path<(String, String)>,
) -> AppResult<Response> {
    let (_, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    let items = moderation::items(
        &state.pool,
        batch.id,
        &["pending", "done", "already"],
        u32::MAX,
    )
    .await?;
    // Chat commands end at a line break: none may come from the reason.
    let reason: String = batch
        .reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut text = String::new();
    for item in items {
        let line = match batch.action() {
            Action::Ban => format!("/ban {} {}", item.login, reason),
            Action::Timeout => format!(
                "/timeout {} {} {}",
                item.login,
                batch.duration_secs.unwrap_or(600),
                reason
            ),
            Action::Unban => format!("/unban {}", item.login),
        };
        text.push_str(line.trim_end());
        text.push('\n');
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ban-list-{}.txt\"", batch.public_id),
            ),
        ],
        text,
    )
        .into_response())
}

/// Every account of the batch with its state and why, as CSV.
pub async fn accounts_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_batch)): Path<(String, String)>,
) -> AppResult<Response> {
    let (_, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    let items = moderation::items(
        &state.pool,
        batch.id,
        &[
            "pending", "done", "already", "refused", "skipped", "excluded",
        ],
        u32::MAX,
    )
    .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, row: &[&str]| {
        out.write_record(
            row.iter()
                .map(|cell| tca_common::analysis_api::export::spreadsheet_safe(cell).into_owned()),
        )
        .map_err(|e| AppError::Internal(e.into()))
    };
    write(
        &mut out,
        &[
            "twitch_user_id",
            "login",
            "status",
            "excluded_why",
            "message",
            "acted_at",
        ],
    )?;
    for item in &items {
        let acted = item
            .acted_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        write(
            &mut out,
            &[
                &item.twitch_user_id,
                &item.login,
                &item.status,
                item.excluded_why.as_deref().unwrap_or(""),
                item.message.as_deref().unwrap_or(""),
                &acted,
            ],
        )?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{}.csv\"", batch.public_id),
            ),
        ],
        body,
    )
        .into_response())
}

/// A batch's state for scripts and tests.
#[derive(Debug, Serialize)]
pub struct BatchView {
    pub status: String,
    pub status_text: String,
    pub stopped_reason: Option<String>,
    pub targets: u32,
    pub progress: Progress,
}

async fn view(state: &AppState, batch_id: u64) -> AppResult<BatchView> {
    let batch = moderation::find_by_id(&state.pool, batch_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(BatchView {
        status_text: coded("batch-status", &batch.status),
        stopped_reason: batch.stopped_reason.as_deref().map(stored_text),
        progress: moderation::progress(&state.pool, batch.id).await?,
        targets: batch.targets,
        status: batch.status,
    })
}

pub async fn progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_batch)): Path<(String, String)>,
) -> AppResult<Json<BatchView>> {
    let (_, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    Ok(Json(view(&state, batch.id).await?))
}

/// How often a followed batch is read.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How long one stream lasts; the browser reconnects by itself.
const EVENTS_FOR: Duration = Duration::from_secs(600);

/// Server-Sent Events: the batch's progress whenever it changes, until it is over.
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_batch)): Path<(String, String)>,
) -> AppResult<Response> {
    let (_, batch) = owned_batch(&state, &user, &id, &raw_batch).await?;
    let place = crate::streams::place_for(&state, &user)?;
    let lang = current();
    let started = tokio::time::Instant::now();
    let stream =
        futures::stream::unfold((state, String::new(), false), move |(state, last, over)| {
            let _place = &place;
            async move {
                if over {
                    return None;
                }
                loop {
                    if started.elapsed() > EVENTS_FOR || state.shutdown.is_cancelled() {
                        return None;
                    }
                    let read = crate::i18n::in_language(lang, view(&state, batch.id)).await;
                    if let Ok(view) = read {
                        let snapshot = serde_json::to_string(&view).unwrap_or_default();
                        let over = matches!(view.status.as_str(), "done" | "stopped");
                        if snapshot != last {
                            let event = SseEvent::default().event("progress").data(&snapshot);
                            return Some((Ok::<_, Infallible>(event), (state, snapshot, over)));
                        }
                    }
                    tokio::select! {
                        () = state.shutdown.cancelled() => return None,
                        () = tokio::time::sleep(POLL_EVERY) => {}
                    }
                }
            }
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
