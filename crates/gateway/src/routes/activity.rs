//! The user's own audit log.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

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

/// A sentence for an event and its details.
fn describe(event: &str, details: &serde_json::Value) -> String {
    let field = |key: &str| {
        details
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    match event {
        "login" => "Logged in with Twitch".into(),
        "logout" => "Logged out".into(),
        "session_create" => format!("Started session “{}”", field("name")),
        "session_save" => format!("Saved session “{}”", field("name")),
        "session_load" => format!("Resumed session “{}”", field("name")),
        "session_delete" => format!("Deleted session “{}”", field("name")),
        "session_expire" => "An unsaved session expired".into(),
        "capture_request" => format!("Asked for a capture of {}", field("channel")),
        "capture_complete" => format!(
            "Capture of {} finished: {} chatters",
            field("channel"),
            details
                .get("chatters")
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
        ),
        "capture_fail" => format!("Capture of {} failed: {}", field("channel"), field("error")),
        "auto_capture_stop" => format!(
            "Auto-capture of {} stopped: {}",
            field("channel"),
            field("reason")
        ),
        "rename_detected" => {
            let from = details
                .pointer("/from/login")
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            let to = details
                .pointer("/to/login")
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            format!("Rename seen: {from} → {to}")
        }
        "token_invalidated" => format!("Twitch authorization ended: {}", field("reason")),
        "export" => format!("Exported {}", field("what")),
        other => other.replace('_', " "),
    }
}

async fn show_activity(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let rows: Vec<(String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT event, details, created_at FROM audit_logs WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 200",
    )
    .bind(user.id)
    .fetch_all(&state.pool)
    .await?;
    let entries = rows
        .into_iter()
        .map(|(event, details, when)| {
            let details: serde_json::Value = details
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            ActivityRow {
                when: Time::new(when),
                details: describe(&event, &details),
                event,
            }
        })
        .collect();
    let page = ActivityPage {
        layout: Layout::new(&user, "activity"),
        entries,
    };
    Ok(Html(page.render()?).into_response())
}
