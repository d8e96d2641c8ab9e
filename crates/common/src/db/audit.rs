//! The audit log: what happened, for the user's activity page and for operators. Each event
//! is a variant of `Event` whose fields are its details: the name is stored in `event`, the
//! fields as JSON in `details` (DESIGN §4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql};

/// A login or display name, before or after a rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameSeen {
    pub login: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Login {
        login: String,
    },
    Logout,
    SessionCreate {
        name: String,
    },
    SessionSave {
        name: String,
    },
    SessionLoad {
        name: String,
    },
    SessionDelete {
        name: String,
    },
    SessionExpire,
    CaptureRequest {
        capture_id: u64,
        channel: String,
    },
    CaptureComplete {
        capture_id: u64,
        channel: String,
        chatters: u64,
        new_in_session: u64,
    },
    CaptureFail {
        capture_id: u64,
        channel: String,
        error: String,
    },
    AutoCaptureStop {
        channel: String,
        reason: String,
    },
    Export {
        what: String,
    },
    RenameDetected {
        twitch_user_id: String,
        from: NameSeen,
        to: NameSeen,
        login_previously_held_by_accounts: Vec<u64>,
    },
    TokenInvalidated {
        reason: String,
    },
    /// The moderator granted the actions scope (incremental consent).
    ActionsEnabled,
    /// A label or note written on an account (`label` null: a note only).
    MarkSave {
        twitch_user_id: String,
        login: String,
        label: Option<String>,
        shared_channel: Option<String>,
    },
    MarkRemove {
        twitch_user_id: String,
        login: String,
    },
    BotListImport {
        name: String,
        entries: u32,
        points: u16,
    },
    BotListDelete {
        name: String,
    },
    /// A batch confirmed: who it targets, how many were left out.
    BatchConfirm {
        batch: String,
        action: String,
        channel: String,
        targets: u32,
        excluded: u32,
        selection: String,
        undo_of: Option<String>,
    },
    /// One account's result in a batch: `done`, `already` or `refused` (Twitch's words).
    BatchAccount {
        batch: String,
        action: String,
        channel: String,
        twitch_user_id: String,
        login: String,
        result: String,
        message: Option<String>,
    },
    /// A batch ended: `done`, or `stopped` with the reason's message key.
    BatchEnd {
        batch: String,
        action: String,
        channel: String,
        status: String,
        stopped_reason: Option<String>,
    },
}

impl Event {
    /// The stored name and details of the event.
    fn to_row(&self) -> (String, String) {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        let name = value
            .as_object_mut()
            .and_then(|fields| fields.remove("event"))
            .and_then(|name| name.as_str().map(str::to_string))
            .unwrap_or_default();
        (name, value.to_string())
    }

    /// The event a stored row holds; `None` for a name this version does not know.
    pub fn from_row(event: &str, details: Option<&str>) -> Option<Self> {
        let mut value: serde_json::Value = details
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        value
            .as_object_mut()?
            .insert("event".into(), serde_json::Value::from(event));
        serde_json::from_value(value).ok()
    }
}

/// Who and where an event concerns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub user_id: Option<u64>,
    pub session_id: Option<u64>,
    pub ip: Option<&'a str>,
}

impl Subject<'_> {
    pub fn user(user_id: u64) -> Self {
        Self {
            user_id: Some(user_id),
            ..Self::default()
        }
    }

    pub fn session(user_id: Option<u64>, session_id: u64) -> Self {
        Self {
            user_id,
            session_id: Some(session_id),
            ip: None,
        }
    }
}

pub async fn record(
    executor: impl Executor<'_, Database = MySql>,
    event: &Event,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (name, details) = event.to_row();
    sqlx::query(
        "INSERT INTO audit_logs (event, user_id, session_id, details, ip, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(subject.user_id)
    .bind(subject.session_id)
    .bind(details)
    .bind(subject.ip)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// One entry of a user's activity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub event: String,
    pub details: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A user's most recent entries, newest first; one batch's per-account results are left out
/// (the batch's page lists them).
pub async fn recent_for_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    limit: u32,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event, details, created_at FROM audit_logs WHERE user_id = ? AND event <> 'batch_account' \
         ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_stored_as_its_name_and_its_fields() {
        let event = Event::CaptureRequest {
            capture_id: 7,
            channel: "chan".into(),
        };
        let (name, details) = event.to_row();
        assert_eq!(name, "capture_request");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&details).expect("json"),
            serde_json::json!({"capture_id": 7, "channel": "chan"})
        );
        assert_eq!(Event::from_row(&name, Some(&details)), Some(event));
        assert_eq!(Event::Logout.to_row(), ("logout".into(), "{}".into()));
        assert_eq!(Event::from_row("logout", Some("{}")), Some(Event::Logout));
        assert_eq!(Event::from_row("something_else", None), None);
    }
}
