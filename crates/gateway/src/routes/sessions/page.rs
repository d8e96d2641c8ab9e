//! One session's page: its channels and captures, the capture progress pushed live over
//! Server-Sent Events, and one capture's status as JSON.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tca_common::db::captures::{self, Capture, CaptureStatus};
use tca_common::db::session_channels;
use tca_common::db::sessions::SessionStatus;

use super::viewed_session;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, JsonError};
use crate::i18n::{coded, current, stored_text, t, t1};
use crate::state::AppState;
use crate::views::{self, Layout, Time};

/// A capture as the page and its live updates show it: codes (`status`, `trigger`) stay
/// stable for scripts and tests; the `*_label` fields and numbers are in the reader's language.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureView {
    pub id: u64,
    pub channel: String,
    pub trigger: &'static str,
    pub trigger_label: String,
    pub status: &'static str,
    pub status_label: String,
    pub chatters: Option<String>,
    pub new_in_session: Option<String>,
    /// The viewer count, or "offline" (in words) for a capture of an offline channel.
    pub viewers: Option<String>,
    pub live: Option<bool>,
    pub queued: Time,
    pub finished: Option<Time>,
    pub error: Option<String>,
}

impl From<Capture> for CaptureView {
    fn from(c: Capture) -> Self {
        let lang = current();
        let number = |n: Option<u32>| n.map(|n| lang.number(u64::from(n)));
        Self {
            id: c.id,
            channel: c.broadcaster_login,
            trigger: c.capture_trigger.as_str(),
            trigger_label: coded("capture-trigger", c.capture_trigger.as_str()),
            status: c.status.as_str(),
            status_label: coded("capture-status", c.status.as_str()),
            chatters: number(c.chatters_count),
            new_in_session: number(c.new_in_session_count),
            viewers: number(c.viewer_count)
                .or_else(|| (c.stream_live == Some(false)).then(|| t("capture-offline"))),
            live: c.stream_live,
            queued: Time::new(c.queued_at),
            finished: views::time(c.finished_at),
            error: c.error.as_deref().map(stored_text),
        }
    }
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

/// Captures listed on the page.
const CAPTURES_SHOWN: u32 = 200;

pub(super) async fn progress(state: &AppState, session_id: u64) -> Result<Progress, sqlx::Error> {
    let recent = captures::recent_of_session(&state.pool, session_id, CAPTURES_SHOWN).await?;
    // The distinct accounts are the sum of the finished captures' new-to-session counts: with
    // every capture of the session on the page, summed here instead of read again.
    let distinct = if recent.len() < CAPTURES_SHOWN as usize {
        recent
            .iter()
            .filter(|c| c.status == CaptureStatus::Done)
            .map(|c| u64::from(c.new_in_session_count.unwrap_or(0)))
            .sum()
    } else {
        captures::distinct_accounts_of_session(&state.pool, session_id).await?
    };
    let captures: Vec<CaptureView> = recent.into_iter().map(CaptureView::from).collect();
    Ok(Progress {
        running: captures
            .iter()
            .any(|c| c.status == "queued" || c.status == "running"),
        captures,
        distinct_accounts: current().number(distinct),
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

pub(super) async fn show_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let session = viewed_session(&state, &user, &id).await?;
    let channels = session_channels::of_session(&state.pool, session.id).await?;
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
                auto_stopped_reason: c.auto_capture_stopped_reason.as_deref().map(stored_text),
            })
            .collect(),
        progress: progress(&state, session.id).await?,
    };
    Ok(Html(page.render()?).into_response())
}

/// How long one live-update stream lasts; the browser reconnects by itself.
const EVENTS_FOR: Duration = Duration::from_secs(600);

/// Server-Sent Events: the session's progress whenever it changes, from the session's shared
/// feed (`feed`: one read a second however many streams follow it).
pub(super) async fn session_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let session = viewed_session(&state, &user, &id).await?;
    // A place among the streams open; freed when the stream ends (it lives in the stream).
    let place = crate::streams::place_for(&state, &user)?;
    let stop = state.shutdown.clone();
    // The session's shared feed, in the request's language (the stream outlives the handler).
    let feed = state.feeds.follow(&state, session.id, current());
    let started = tokio::time::Instant::now();
    // The current snapshot first (if the feed has read one), then one event per change.
    let stream = futures::stream::unfold((feed, true), move |(mut feed, first)| {
        let stop = stop.clone();
        let _place = &place;
        async move {
            if first {
                let snapshot = feed.borrow_and_update().clone();
                if !snapshot.is_empty() {
                    let event = Event::default().event("progress").data(snapshot);
                    return Some((Ok::<_, Infallible>(event), (feed, false)));
                }
            }
            loop {
                let left = EVENTS_FOR.saturating_sub(started.elapsed());
                tokio::select! {
                    () = stop.cancelled() => return None,
                    () = tokio::time::sleep(left) => return None,
                    changed = feed.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        // `changed` marked the new value seen: send it.
                        let snapshot = feed.borrow_and_update().clone();
                        if !snapshot.is_empty() {
                            let event = Event::default().event("progress").data(snapshot);
                            return Some((Ok::<_, Infallible>(event), (feed, false)));
                        }
                    }
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One capture's status as JSON (what scripts and tests poll).
pub(super) async fn show_capture(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, capture_id)): Path<(String, String)>,
) -> Result<Json<CaptureView>, JsonError> {
    let session = viewed_session(&state, &user, &id).await?;
    let capture_id: u64 = capture_id
        .parse()
        .map_err(|_| AppError::BadRequest(t1("error-capture-id", "id", capture_id.as_str())))?;
    let capture = captures::find_in_session(&state.pool, capture_id, session.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(CaptureView::from(capture)))
}
