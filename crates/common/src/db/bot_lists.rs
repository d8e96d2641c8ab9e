//! `bot_lists` and `bot_list_entries`: lists of accounts a moderator imported under a name,
//! with the date — a match is a reason with its provenance, never a flag on its own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, MySqlConnection, QueryBuilder};

/// Entries inserted per statement.
const ENTRIES_PER_INSERT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct BotList {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub points: u16,
    pub entries: u32,
    pub imported_at: DateTime<Utc>,
}

const LIST_COLUMNS: &str = "id, user_id, name, points, entries, imported_at";

/// One line of an imported file: a Twitch id (digits) or a login.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    Id(String),
    Login(String),
}

/// Imports `entries` under `name`, replacing the entries of a list of that name (a refresh):
/// one transaction, so a list is never seen half imported. Returns the list's id.
pub async fn import(
    conn: &mut MySqlConnection,
    user_id: u64,
    name: &str,
    points: u16,
    entries: &[Entry],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let done = sqlx::query(
        "INSERT INTO bot_lists (user_id, name, points, entries, imported_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), \
         points = VALUES(points), entries = VALUES(entries), imported_at = VALUES(imported_at)",
    )
    .bind(user_id)
    .bind(name)
    .bind(points)
    .bind(entries.len() as u32)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let list_id = done.last_insert_id();
    sqlx::query("DELETE FROM bot_list_entries WHERE list_id = ?")
        .bind(list_id)
        .execute(&mut *tx)
        .await?;
    for chunk in entries.chunks(ENTRIES_PER_INSERT) {
        let mut insert = QueryBuilder::<MySql>::new(
            "INSERT IGNORE INTO bot_list_entries (list_id, kind, value) ",
        );
        insert.push_values(chunk, |mut row, entry| {
            let (kind, value) = match entry {
                Entry::Id(id) => ("id", id.as_str()),
                Entry::Login(login) => ("login", login.as_str()),
            };
            row.push_bind(list_id).push_bind(kind).push_bind(value);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(list_id)
}

pub async fn of_user(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
) -> Result<Vec<BotList>, sqlx::Error> {
    super::select(LIST_COLUMNS, "bot_lists", "user_id = ? ORDER BY name")
        .bind(user_id)
        .fetch_all(executor)
        .await
}

pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    list_id: u64,
) -> Result<Option<BotList>, sqlx::Error> {
    super::select(LIST_COLUMNS, "bot_lists", "id = ? AND user_id = ?")
        .bind(list_id)
        .bind(user_id)
        .fetch_optional(executor)
        .await
}

/// Deletes the user's list and its entries (their reasons go with them).
pub async fn delete(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    list_id: u64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM bot_lists WHERE id = ? AND user_id = ?")
        .bind(list_id)
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A list an account of a session is on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListMatch {
    pub account_id: u64,
    pub name: String,
    pub points: u16,
    pub imported_at: DateTime<Utc>,
}

/// The session owner's lists each account of the session is on: by id, by current login, or
/// by any login it held before (the rename ledger, which holds renamed accounts only).
pub async fn matches_in_session(
    executor: impl Executor<'_, Database = MySql>,
    session_id: u64,
) -> Result<Vec<ListMatch>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT sa.account_id, l.name, l.points, l.imported_at \
         FROM analysis_sessions s \
         JOIN bot_lists l ON l.user_id = s.user_id \
         JOIN bot_list_entries e ON e.list_id = l.id \
         JOIN twitch_accounts a ON (e.kind = 'id' AND a.twitch_user_id = e.value) \
         JOIN session_accounts sa ON sa.session_id = s.id AND sa.account_id = a.id \
         WHERE s.id = ? \
         UNION \
         SELECT DISTINCT sa.account_id, l.name, l.points, l.imported_at \
         FROM analysis_sessions s \
         JOIN bot_lists l ON l.user_id = s.user_id \
         JOIN bot_list_entries e ON e.list_id = l.id AND e.kind = 'login' \
         JOIN account_names n ON n.login = e.value \
         JOIN session_accounts sa ON sa.session_id = s.id AND sa.account_id = n.account_id \
         WHERE s.id = ? \
         UNION \
         SELECT DISTINCT sa.account_id, l.name, l.points, l.imported_at \
         FROM analysis_sessions s \
         JOIN bot_lists l ON l.user_id = s.user_id \
         JOIN bot_list_entries e ON e.list_id = l.id AND e.kind = 'login' \
         JOIN twitch_accounts a ON a.login = e.value \
         JOIN session_accounts sa ON sa.session_id = s.id AND sa.account_id = a.id \
         WHERE s.id = ? \
         ORDER BY account_id, name",
    )
    .bind(session_id)
    .bind(session_id)
    .bind(session_id)
    .fetch_all(executor)
    .await
}

/// Parses an imported file: one login or id a line, or CSV (the first cell of each row that
/// looks like an id or a login; a header row is skipped). Returns the entries, de-duplicated,
/// and the lines that are neither (line number, text) so the moderator sees what was skipped.
pub fn parse_file(text: &str) -> (Vec<Entry>, Vec<(usize, String)>) {
    let mut entries = std::collections::BTreeSet::new();
    let mut rejected = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line
            .split([',', ';', '\t'])
            .map(|c| c.trim().trim_matches('"').trim())
            .collect();
        if n == 0 && cells.iter().any(|c| is_header(c)) {
            continue;
        }
        let found = cells.iter().find_map(|cell| {
            let cell = cell.trim_start_matches('@');
            if !cell.is_empty() && cell.len() <= 32 && cell.bytes().all(|b| b.is_ascii_digit()) {
                Some(Entry::Id(cell.to_string()))
            } else if (1..=25).contains(&cell.len())
                && cell.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                Some(Entry::Login(cell.to_ascii_lowercase()))
            } else {
                None
            }
        });
        match found {
            Some(entry) => {
                entries.insert(entry);
            }
            None => rejected.push((n + 1, line.chars().take(80).collect())),
        }
    }
    (entries.into_iter().collect(), rejected)
}

/// Column names a CSV header row carries.
fn is_header(cell: &str) -> bool {
    matches!(
        cell.to_ascii_lowercase().as_str(),
        "login" | "user_login" | "username" | "user" | "id" | "user_id" | "twitch_user_id" | "name"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_csv_give_ids_and_logins_and_say_what_was_skipped() {
        let file = "login,reason\nBrook_Fan123,farm\n@spammer_1;x\n12345678\n\n# comment\n\"k3v9\",y\nnot a login!\n12345678\n";
        let (entries, rejected) = parse_file(file);
        assert_eq!(
            entries,
            vec![
                Entry::Id("12345678".into()),
                Entry::Login("brook_fan123".into()),
                Entry::Login("k3v9".into()),
                Entry::Login("spammer_1".into()),
            ]
        );
        assert_eq!(rejected, vec![(8, "not a login!".to_string())]);
    }
}
