//! The user's own audit log.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tca_common::db::audit::{self, Event};

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::state::AppState;
use crate::views::{Layout, Time};

pub fn router() -> Router<AppState> {
    Router::new().route("/activity", get(show_activity))
}

pub struct ActivityRow {
    pub when: Time,
    pub event: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "pages/activity.html")]
pub struct ActivityPage {
    pub layout: Layout,
    pub entries: Vec<ActivityRow>,
}

/// A sentence for an event (an unknown one is shown by its name).
fn describe(name: &str, details: Option<&str>) -> String {
    let Some(event) = Event::from_row(name, details) else {
        return name.replace('_', " ");
    };
    match event {
        Event::Login { .. } => "Logged in with Twitch".into(),
        Event::Logout => "Logged out".into(),
        Event::SessionCreate { name } => format!("Started session “{name}”"),
        Event::SessionSave { name } => format!("Saved session “{name}”"),
        Event::SessionLoad { name } => format!("Resumed session “{name}”"),
        Event::SessionDelete { name } => format!("Deleted session “{name}”"),
        Event::SessionExpire => "An unsaved session expired".into(),
        Event::CaptureRequest { channel, .. } => format!("Asked for a capture of {channel}"),
        Event::CaptureComplete {
            channel, chatters, ..
        } => format!("Capture of {channel} finished: {chatters} chatters"),
        Event::CaptureFail { channel, error, .. } => {
            format!("Capture of {channel} failed: {error}")
        }
        Event::AutoCaptureStop { channel, reason } => {
            format!("Auto-capture of {channel} stopped: {reason}")
        }
        Event::RenameDetected { from, to, .. } => {
            format!("Rename seen: {} → {}", from.login, to.login)
        }
        Event::TokenInvalidated { reason } => format!("Twitch authorization ended: {reason}"),
        Event::Export { what } => format!("Exported {what}"),
    }
}

/// Entries shown on the activity page.
const SHOWN: u32 = 200;

async fn show_activity(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let entries = audit::recent_for_user(&state.pool, user.id, SHOWN)
        .await?
        .into_iter()
        .map(|entry| ActivityRow {
            when: Time::new(entry.created_at),
            details: describe(&entry.event, entry.details.as_deref()),
            event: entry.event,
        })
        .collect();
    let page = ActivityPage {
        layout: Layout::new(&user, "activity"),
        entries,
    };
    Ok(Html(page.render()?).into_response())
}
