//! App users: the moderators who log in.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: u64,
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

const USER_COLUMNS: &str = "id, twitch_user_id, login, display_name, avatar_url";

/// Creates or refreshes a user from their Twitch profile; returns their id.
pub async fn upsert(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
    login: &str,
    display_name: &str,
    avatar_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, avatar_url, created_at, updated_at, \
         last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), login = VALUES(login), \
         display_name = VALUES(display_name), avatar_url = VALUES(avatar_url), \
         updated_at = VALUES(updated_at), last_login_at = VALUES(last_login_at)",
    )
    .bind(twitch_user_id)
    .bind(login)
    .bind(display_name)
    .bind(avatar_url)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.last_insert_id())
}

pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    id: u64,
) -> Result<Option<User>, sqlx::Error> {
    super::select(USER_COLUMNS, "users", "id = ?")
        .bind(id)
        .fetch_optional(executor)
        .await
}

pub async fn find_by_twitch_id(
    executor: impl Executor<'_, Database = MySql>,
    twitch_user_id: &str,
) -> Result<Option<User>, sqlx::Error> {
    super::select(USER_COLUMNS, "users", "twitch_user_id = ?")
        .bind(twitch_user_id)
        .fetch_optional(executor)
        .await
}

/// The language the user chose (`en`, `fr`), if any.
pub async fn locale(
    executor: impl Executor<'_, Database = MySql>,
    id: u64,
) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT locale FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(executor)
            .await?
            .flatten(),
    )
}

/// Keeps the language the user chose.
pub async fn set_locale(
    executor: impl Executor<'_, Database = MySql>,
    id: u64,
    locale: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET locale = ?, updated_at = ? WHERE id = ?")
        .bind(locale)
        .bind(now)
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}
