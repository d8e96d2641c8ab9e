//! `account_marks`: a moderator's label (trusted, bot, watch) and note on a Twitch account,
//! keyed by Twitch user id so that they survive renames (docs/moderation.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, QueryBuilder};

/// A moderator's verdict on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Never flagged, never acted on (a chat bot, a regular).
    Trusted,
    /// A signal with points in the score, naming who set it.
    Bot,
    /// To keep an eye on: shown, scores nothing.
    Watch,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Trusted, Label::Bot, Label::Watch];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Bot => "bot",
            Self::Watch => "watch",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == raw)
    }
}

/// Who wrote a mark: the moderator, or the product trusting the common chat bots for them.
pub const ORIGIN_MODERATOR: &str = "moderator";
pub const ORIGIN_COMMON_BOT: &str = "common_bot";

/// The longest note kept (characters).
pub const NOTE_MAX_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct Mark {
    pub user_id: u64,
    pub twitch_user_id: String,
    pub login_when_marked: String,
    pub label: Option<String>,
    pub note: String,
    pub shared_channel_id: Option<String>,
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The author's Twitch login.
    pub author_login: String,
}

impl Mark {
    pub fn label(&self) -> Option<Label> {
        self.label.as_deref().and_then(Label::parse)
    }
}

const MARK_SELECT: &str = "SELECT m.user_id, m.twitch_user_id, m.login_when_marked, m.label, m.note, \
     m.shared_channel_id, m.origin, m.created_at, m.updated_at, u.login AS author_login \
     FROM account_marks m JOIN users u ON u.id = m.user_id";

/// What a moderator writes on an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkInput<'a> {
    pub twitch_user_id: &'a str,
    pub login: &'a str,
    pub label: Option<Label>,
    pub note: &'a str,
    pub shared_channel_id: Option<&'a str>,
    pub origin: &'static str,
}

/// Writes (or replaces) the user's mark on an account; a mark with neither label nor note is
/// removed. Returns whether anything changed.
pub async fn save(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    mark: &MarkInput<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    if mark.label.is_none() && mark.note.trim().is_empty() {
        return remove(executor, user_id, mark.twitch_user_id).await;
    }
    insert(executor, user_id, mark, now, true).await
}

/// Writes a mark unless the user already has one on that account (theirs wins).
pub async fn save_if_absent(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    mark: &MarkInput<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    insert(executor, user_id, mark, now, false).await
}

/// Inserts the user's mark; an existing one is replaced (`replace`) or kept.
async fn insert(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    mark: &MarkInput<'_>,
    now: DateTime<Utc>,
    replace: bool,
) -> Result<bool, sqlx::Error> {
    let (verb, on_duplicate) = if replace {
        (
            "INSERT",
            " ON DUPLICATE KEY UPDATE login_when_marked = VALUES(login_when_marked), label = VALUES(label), \
             note = VALUES(note), shared_channel_id = VALUES(shared_channel_id), origin = VALUES(origin), \
             updated_at = VALUES(updated_at)",
        )
    } else {
        ("INSERT IGNORE", "")
    };
    // Only constants go into the text; values are bound.
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{verb} INTO account_marks (user_id, twitch_user_id, login_when_marked, label, note, \
         shared_channel_id, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){on_duplicate}"
    )))
    .bind(user_id)
    .bind(mark.twitch_user_id)
    .bind(mark.login)
    .bind(mark.label.map(Label::as_str))
    .bind(mark.note.trim())
    .bind(mark.shared_channel_id)
    .bind(mark.origin)
    .bind(now)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn remove(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    twitch_user_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM account_marks WHERE user_id = ? AND twitch_user_id = ?")
        .bind(user_id)
        .bind(twitch_user_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The user's own mark on an account.
pub async fn own(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    twitch_user_id: &str,
) -> Result<Option<Mark>, sqlx::Error> {
    // Only constants go into the text; values are bound.
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MARK_SELECT} WHERE m.user_id = ? AND m.twitch_user_id = ?"
    )))
    .bind(user_id)
    .bind(twitch_user_id)
    .fetch_optional(executor)
    .await
}

/// What the marks page lists: the user's marks, newest first, optionally of one label and
/// matching `search` in the login or the note.
pub async fn of_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    label: Option<Label>,
    search: Option<&str>,
    limit: u32,
) -> Result<Vec<Mark>, sqlx::Error> {
    let mut query = QueryBuilder::<MySql>::new(MARK_SELECT);
    query.push(" WHERE m.user_id = ").push_bind(user_id);
    if let Some(label) = label {
        query.push(" AND m.label = ").push_bind(label.as_str());
    }
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(search));
        query
            .push(" AND (m.login_when_marked LIKE ")
            .push_bind(pattern.clone())
            .push(" OR m.note LIKE ")
            .push_bind(pattern)
            .push(")");
    }
    query
        .push(" ORDER BY m.updated_at DESC, m.twitch_user_id LIMIT ")
        .push_bind(limit);
    query.build_query_as().fetch_all(executor).await
}

/// `%`, `_` and `\` matched literally in a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The marks that apply in an analysis session: the session owner's, and those other users
/// shared with one of the session's channels. The owner's own mark wins over a shared one;
/// among shared ones, the latest. One per account.
pub async fn in_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<Vec<Mark>, sqlx::Error> {
    let rows: Vec<Mark> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MARK_SELECT} JOIN analysis_sessions s ON s.id = ? \
         WHERE m.user_id = s.user_id \
            OR m.shared_channel_id IN (SELECT broadcaster_id FROM session_channels WHERE session_id = s.id) \
         ORDER BY m.twitch_user_id, m.user_id = s.user_id DESC, m.updated_at DESC"
    )))
    .bind(session_id)
    .fetch_all(executor)
    .await?;
    let mut marks: Vec<Mark> = Vec::with_capacity(rows.len());
    for mark in rows {
        if marks
            .last()
            .is_none_or(|m| m.twitch_user_id != mark.twitch_user_id)
        {
            marks.push(mark);
        }
    }
    Ok(marks)
}

/// Twitch ids trusted in `shared_channel_id`'s channel for the user: their own trusted marks
/// and those other users shared with that channel. Never acted on in the user's batches.
pub async fn trusted_ids(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    shared_channel_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT twitch_user_id FROM account_marks WHERE label = 'trusted' \
         AND (user_id = ? OR shared_channel_id = ?)",
    )
    .bind(user_id)
    .bind(shared_channel_id)
    .fetch_all(executor)
    .await
}

/// Whether the user's common chat bots still need trusting (first login).
pub async fn common_bots_pending(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
) -> Result<bool, sqlx::Error> {
    let pending: Option<bool> =
        sqlx::query_scalar("SELECT common_bots_trusted_at IS NULL FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(executor)
            .await?;
    Ok(pending.unwrap_or(false))
}

pub async fn common_bots_done(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET common_bots_trusted_at = ? WHERE id = ?")
        .bind(now)
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(())
}
