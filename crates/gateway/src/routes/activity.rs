//! The user's own audit log.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tca_common::db::audit::{self, Event};

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::i18n::{coded, current, stored_text, t, t1, t2};
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

/// A sentence for an event in the reader's language (an unknown one is shown by its name).
fn describe(name: &str, details: Option<&str>) -> String {
    let Some(event) = Event::from_row(name, details) else {
        return name.replace('_', " ");
    };
    match event {
        Event::Login { .. } => t("activity-login"),
        Event::Logout => t("activity-logout"),
        Event::SessionCreate { name } => t1("activity-session-create", "name", name),
        Event::SessionSave { name } => t1("activity-session-save", "name", name),
        Event::SessionLoad { name } => t1("activity-session-resume", "name", name),
        Event::SessionDelete { name } => t1("activity-session-delete", "name", name),
        Event::SessionExpire => t("activity-session-expire"),
        Event::CaptureRequest { channel, .. } => t1("activity-capture-request", "channel", channel),
        Event::CaptureComplete {
            channel, chatters, ..
        } => t2(
            "activity-capture-complete",
            "channel",
            channel,
            "chatters",
            chatters,
        ),
        Event::CaptureFail { channel, error, .. } => t2(
            "activity-capture-fail",
            "channel",
            channel,
            "error",
            stored_text(&error),
        ),
        Event::AutoCaptureStop { channel, reason } => t2(
            "activity-auto-stop",
            "channel",
            channel,
            "reason",
            stored_text(&reason),
        ),
        Event::RenameDetected { from, to, .. } => {
            t2("activity-rename", "from", from.login, "to", to.login)
        }
        Event::TokenInvalidated { reason } => {
            t1("activity-token-invalidated", "reason", stored_text(&reason))
        }
        Event::Export { what } => t1("activity-export", "what", what),
        Event::ActionsEnabled => t("activity-actions-enabled"),
        Event::MarkSave { login, label, .. } => match label {
            Some(label) => t2(
                "activity-mark-label",
                "login",
                login,
                "label",
                coded("label", &label),
            ),
            None => t1("activity-mark-note", "login", login),
        },
        Event::MarkRemove { login, .. } => t1("activity-mark-remove", "login", login),
        Event::BotListImport { name, entries, .. } => {
            t2("activity-list-import", "name", name, "entries", entries)
        }
        Event::BotListDelete { name } => t1("activity-list-delete", "name", name),
        Event::BatchConfirm {
            action,
            channel,
            targets,
            ..
        } => current().t_args(
            "activity-batch-confirm",
            &[
                ("action", coded("batch-action", &action).into()),
                ("channel", channel.into()),
                ("count", targets.into()),
            ],
        ),
        Event::BatchAccount { login, result, .. } => t2(
            "activity-batch-account",
            "login",
            login,
            "result",
            coded("result", &result),
        ),
        Event::BatchEnd {
            action,
            channel,
            status,
            stopped_reason,
            ..
        } => match stopped_reason {
            Some(reason) if status == "stopped" => current().t_args(
                "activity-batch-stopped",
                &[
                    ("action", coded("batch-action", &action).into()),
                    ("channel", channel.into()),
                    ("reason", stored_text(&reason).into()),
                ],
            ),
            _ => t2(
                "activity-batch-done",
                "action",
                coded("batch-action", &action),
                "channel",
                channel,
            ),
        },
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
