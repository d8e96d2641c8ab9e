//! The channels page: the user's own channel and every channel they moderate, with live
//! status, the last capture, "Capture now" and auto-capture settings.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{MySql, Transaction};
use tca_common::db::captures::{self, CaptureTrigger, LatestCapture};
use tca_common::db::jobs;
use tca_common::db::session_channels::{self, SessionChannel};
use tca_common::db::sessions::{self, Session};
use tca_common::twitch_api::Channel;
use tca_common::twitch_id::TwitchId;

use crate::auth::{CurrentUser, NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{coded, stored_text, t, t1};
use crate::routes::sessions::active_session;
use crate::state::AppState;
use crate::views::{Layout, Time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels", get(list_channels))
        .route("/channels/{broadcaster_id}/capture", post(capture_channel))
        .route(
            "/channels/{broadcaster_id}/auto-capture",
            post(set_auto_capture),
        )
}

pub struct ChannelRow {
    pub broadcaster_id: String,
    pub login: String,
    pub name: String,
    pub own: bool,
    pub live: bool,
    pub viewers: u64,
    pub title: String,
    pub game: String,
    pub last_capture: Option<LastCapture>,
    pub auto_enabled: bool,
    pub auto_interval: u16,
    pub auto_only_live: bool,
    pub auto_stopped_reason: Option<String>,
    /// Twitch pushes this channel's live and offline (EventSub); otherwise it is polled.
    pub live_updates: bool,
    /// The user's alert webhooks for this channel.
    pub alerts: i64,
}

pub struct LastCapture {
    pub when: Time,
    pub status: String,
    pub chatters: Option<u64>,
    pub session_public_id: String,
}

#[derive(Template)]
#[template(path = "pages/channels.html")]
pub struct ChannelsPage {
    pub layout: Layout,
    pub channels: Vec<ChannelRow>,
    pub active_session: Option<(String, String)>,
}

async fn list_channels(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let channels = state.twitch.channels(&user.twitch_user_id).await?;
    let ids: Vec<String> = channels
        .iter()
        .take(100)
        .map(|c| c.broadcaster_id.clone())
        .collect();
    let streams = if ids.is_empty() {
        Vec::new()
    } else {
        state.twitch.streams(&ids).await?
    };
    let live: HashMap<&str, &tca_common::twitch_api::StreamStatus> = streams
        .iter()
        .filter(|s| s.live)
        .map(|s| (s.user_id.as_str(), s))
        .collect();

    let last: HashMap<String, LatestCapture> =
        captures::latest_per_channel_of_user(&state.pool, user.id)
            .await?
            .into_iter()
            .map(|r| (r.broadcaster_id.clone(), r))
            .collect();

    let active = sessions::find_active(&state.pool, user.id).await?;
    let auto: HashMap<String, SessionChannel> = match &active {
        Some(session) => session_channels::of_session(&state.pool, session.id)
            .await?
            .into_iter()
            .map(|r| (r.broadcaster_id.clone(), r))
            .collect(),
        None => HashMap::new(),
    };

    let live_updates: std::collections::HashSet<String> =
        tca_common::db::eventsub::subscribed_channels(&state.pool)
            .await?
            .into_iter()
            .collect();
    let alerts: HashMap<String, i64> = tca_common::db::alerts::counts_of_user(&state.pool, user.id)
        .await?
        .into_iter()
        .collect();
    let rows = channels
        .iter()
        .map(|c| {
            let stream = live.get(c.broadcaster_id.as_str());
            let auto = auto.get(&c.broadcaster_id);
            ChannelRow {
                broadcaster_id: c.broadcaster_id.clone(),
                login: c.broadcaster_login.clone(),
                name: c.broadcaster_name.clone(),
                own: c.own,
                live: stream.is_some(),
                viewers: stream.map_or(0, |s| u64::from(s.viewer_count)),
                title: stream.map(|s| s.title.clone()).unwrap_or_default(),
                game: stream.map(|s| s.game_name.clone()).unwrap_or_default(),
                last_capture: last.get(&c.broadcaster_id).map(|r| LastCapture {
                    when: Time::new(r.queued_at),
                    status: coded("capture-status", r.status.as_str()),
                    chatters: r.chatters_count.map(u64::from),
                    session_public_id: r.public_id.clone(),
                }),
                auto_enabled: auto.is_some_and(|a| a.auto_capture_enabled),
                auto_interval: auto.map_or(5, |a| a.auto_capture_interval_min),
                auto_only_live: auto.is_none_or(|a| a.auto_capture_only_live),
                live_updates: live_updates.contains(&c.broadcaster_id),
                alerts: alerts.get(&c.broadcaster_id).copied().unwrap_or(0),
                auto_stopped_reason: auto
                    .and_then(|a| a.auto_capture_stopped_reason.as_deref())
                    .map(stored_text),
            }
        })
        .collect();
    let page = ChannelsPage {
        layout: Layout::new(&user, "channels"),
        channels: rows,
        active_session: active.map(|s| (s.public_id, s.name)),
    };
    Ok(Html(page.render()?).into_response())
}

/// The channel, if the user may capture it: checked with Twitch (through twitch-api), never
/// taken from the form.
pub(crate) async fn allowed_channel(
    state: &AppState,
    user: &CurrentUser,
    broadcaster_id: &str,
) -> AppResult<Channel> {
    let broadcaster_id = TwitchId::parse(broadcaster_id)
        .map_err(|_| AppError::BadRequest(t1("error-channel-id", "id", broadcaster_id)))?;
    state
        .twitch
        .channels(&user.twitch_user_id)
        .await?
        .into_iter()
        .find(|c| c.broadcaster_id == broadcaster_id.as_str())
        .ok_or_else(|| AppError::Forbidden(t("error-not-your-channel")))
}

/// The user's active session (created if none) with the channel in it, in an open
/// transaction, and the channel: refused unless the user may capture it.
async fn channel_in_active_session(
    state: &AppState,
    user: &CurrentUser,
    broadcaster_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(Transaction<'static, MySql>, Session, u64, Channel)> {
    let channel = allowed_channel(state, user, broadcaster_id).await?;
    let mut tx = state.pool.begin().await?;
    let session = active_session(state, &mut tx, user.id, now).await?;
    let session_channel = session_channels::ensure(
        &mut *tx,
        session.id,
        &channel.broadcaster_id,
        &channel.broadcaster_login,
        &channel.broadcaster_name,
        now,
    )
    .await?;
    Ok((tx, session, session_channel, channel))
}

async fn capture_channel(
    State(state): State<AppState>,
    Path(broadcaster_id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let now = Utc::now();
    let (mut tx, session, session_channel, _) =
        channel_in_active_session(&state, &user, &broadcaster_id, now).await?;
    // Fairness (docs/queue.md): one unfinished capture per channel — a second "Capture now"
    // shows the one under way — and a few per user at most.
    if let Some(running) = captures::unfinished_of_channel_locked(&mut tx, session_channel).await? {
        tx.commit().await?;
        // The session may have gained this channel.
        state.forget_dashboard_inputs(session.id);
        return Ok(Redirect::to(&format!(
            "/sessions/{}#capture-{running}",
            session.public_id
        ))
        .into_response());
    }
    let limit = state.config.captures_per_user;
    if captures::unfinished_of_user(&mut tx, user.id).await? >= i64::from(limit) {
        return Err(AppError::Conflict(t1(
            "error-capture-limit",
            "limit",
            limit,
        )));
    }
    let capture_id = captures::request(
        &mut tx,
        session_channel,
        user.id,
        CaptureTrigger::Manual,
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_dashboard_inputs(session.id);
    state.wake_worker();
    metrics::counter!("captures_requested_total", "trigger" => "manual").increment(1);
    Ok(Redirect::to(&format!(
        "/sessions/{}#capture-{capture_id}",
        session.public_id
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct AutoCaptureForm {
    interval: String,
    #[serde(default)]
    only_live: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
}

async fn set_auto_capture(
    State(state): State<AppState>,
    Path(broadcaster_id): Path<String>,
    Posted { user, form }: Posted<AutoCaptureForm>,
) -> AppResult<Response> {
    let interval: u16 = form
        .interval
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=1440).contains(n))
        .ok_or_else(|| {
            AppError::BadRequest(t1("error-interval", "value", form.interval.as_str()))
        })?;
    let enabled = form.enabled.is_some();
    let only_live = form.only_live.is_some();
    let now = Utc::now();
    let (mut tx, session, session_channel, channel) =
        channel_in_active_session(&state, &user, &broadcaster_id, now).await?;
    if enabled {
        session_channels::enable_auto_capture(&mut *tx, session_channel, interval, only_live, now)
            .await?;
        let job = session_channels::auto_capture_job(
            session.id,
            &channel.broadcaster_id,
            session_channel,
            now,
        )?;
        jobs::enqueue(&mut *tx, &job, now).await?;
    } else {
        // Stored as a message key: each reader sees it in their language.
        session_channels::stop_auto_capture(&mut *tx, session_channel, "auto-stop-off", now)
            .await?;
    }
    // EventSub follows the channels auto-captured (docs/live.md): reconciled now.
    jobs::enqueue(
        &mut *tx,
        &tca_common::db::eventsub::reconcile_job(false, now)?,
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_dashboard_inputs(session.id);
    Ok(Redirect::to("/channels").into_response())
}
