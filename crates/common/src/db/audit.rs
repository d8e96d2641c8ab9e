//! The audit log: what happened, for the user's activity page and for operators.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

/// Events recorded (DESIGN §4).
pub mod event {
    pub const LOGIN: &str = "login";
    pub const LOGOUT: &str = "logout";
    pub const SESSION_CREATE: &str = "session_create";
    pub const SESSION_SAVE: &str = "session_save";
    pub const SESSION_LOAD: &str = "session_load";
    pub const SESSION_DELETE: &str = "session_delete";
    pub const SESSION_EXPIRE: &str = "session_expire";
    pub const CAPTURE_REQUEST: &str = "capture_request";
    pub const CAPTURE_COMPLETE: &str = "capture_complete";
    pub const CAPTURE_FAIL: &str = "capture_fail";
    pub const AUTO_CAPTURE_STOP: &str = "auto_capture_stop";
    pub const EXPORT: &str = "export";
    pub const RENAME_DETECTED: &str = "rename_detected";
    pub const TOKEN_INVALIDATED: &str = "token_invalidated";
}

pub async fn record<'e, E>(
    executor: E,
    event: &str,
    user_id: Option<u64>,
    session_id: Option<u64>,
    details: &serde_json::Value,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    sqlx::query(
        "INSERT INTO audit_logs (event, user_id, session_id, details, ip, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(event)
    .bind(user_id)
    .bind(session_id)
    .bind(details.to_string())
    .bind(ip)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}
