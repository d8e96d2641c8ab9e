//! `twitch_accounts` and their rename ledger `account_names`: every Twitch account ever seen
//! in a capture, shared by all sessions. The worker writes them (captures upsert them,
//! enrichment fills in Get Users data); analysis reads them.
//!
//! The ledger holds the names of accounts that were **renamed**: an account never renamed
//! has no ledger row, its one name being the account row's own (login, display name, first
//! and last seen). The first rename writes both names. Why: most accounts are never renamed,
//! and a ledger row for each was a fifth of what a capture of new chatters wrote (B3,
//! docs/benchmarks.md). Readers of "every name an account held" read the ledger *and* the
//! account rows (`names_of`, `login_holders` in analysis, the bot lists' login match).
//! Ledgers written before this (a row for every account) read the same.

use chrono::{DateTime, Utc};
use sqlx::{Executor, MySql, MySqlConnection, QueryBuilder};

/// An account as a capture needs it: to tell new from known and renamed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownAccount {
    pub id: u64,
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A name as Twitch lists it with a chatter.
#[derive(Debug, Clone, Copy)]
pub struct ListedName<'a> {
    pub twitch_user_id: &'a str,
    pub login: &'a str,
    pub display_name: &'a str,
}

/// The known accounts among these Twitch ids.
pub async fn find_by_twitch_ids<'e, 'a, E>(
    executor: E,
    twitch_ids: impl Iterator<Item = &'a str>,
) -> Result<Vec<KnownAccount>, sqlx::Error>
where
    E: Executor<'e, Database = MySql>,
{
    let mut q = QueryBuilder::<MySql>::new(
        "SELECT id, twitch_user_id, login, display_name, first_seen_at, last_seen_at FROM twitch_accounts WHERE twitch_user_id IN (",
    );
    let mut list = q.separated(", ");
    let mut any = false;
    for id in twitch_ids {
        list.push_bind(id.to_string());
        any = true;
    }
    if !any {
        return Ok(Vec::new());
    }
    q.push(")");
    q.build_query_as().fetch_all(executor).await
}

/// Moves these accounts' `last_seen_at` forward to `seen_at` (never back).
pub async fn touch_seen(
    executor: impl Executor<'_, Database = MySql>,
    account_ids: &[u64],
    seen_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if account_ids.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "UPDATE twitch_accounts SET last_seen_at = GREATEST(last_seen_at, ",
    );
    q.push_bind(seen_at).push(") WHERE id IN (");
    let mut list = q.separated(", ");
    for id in account_ids {
        list.push_bind(*id);
    }
    q.push(")");
    q.build().execute(executor).await?;
    Ok(())
}

/// Inserts accounts seen for the first time; returns them. An account another capture
/// inserted a moment ago is taken as it is. Autocommit statements, idempotent: a retry writes
/// the same rows. No ledger row: the account's name is its only one until a rename.
pub async fn insert_new(
    conn: &mut MySqlConnection,
    new: &[ListedName<'_>],
    seen_at: DateTime<Utc>,
) -> Result<Vec<KnownAccount>, sqlx::Error> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<MySql>::new(
        "INSERT INTO twitch_accounts (twitch_user_id, login, display_name, first_seen_at, last_seen_at) ",
    );
    q.push_values(new, |mut row, n| {
        row.push_bind(n.twitch_user_id.to_string())
            .push_bind(n.login.to_string())
            .push_bind(n.display_name.to_string())
            .push_bind(seen_at)
            .push_bind(seen_at);
    });
    // RETURNING (MariaDB 10.5+) gives every row the statement wrote, inserted or (inserted by
    // another capture a moment ago) updated, as it now stands: no read-back of the page.
    q.push(
        " ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at)) \
         RETURNING id, twitch_user_id, login, display_name, first_seen_at, last_seen_at",
    );
    q.build_query_as().fetch_all(&mut *conn).await
}

/// A new login or display name, in the caller's transaction: the account takes it, the
/// ledger closes the old name at its last sighting and opens the new one. Returns the other
/// accounts that held the new login before (login reuse).
pub async fn rename(
    conn: &mut MySqlConnection,
    account: &KnownAccount,
    to: ListedName<'_>,
    seen_at: DateTime<Utc>,
) -> Result<Vec<u64>, sqlx::Error> {
    // The old name, closed at its last sighting; written here on the account's first rename,
    // when it was the account row's alone (first seen with the account).
    sqlx::query(
        "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) \
         VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))",
    )
    .bind(account.id)
    .bind(&account.login)
    .bind(&account.display_name)
    .bind(account.first_seen_at)
    .bind(account.last_seen_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO account_names (account_id, login, display_name, first_seen_at, last_seen_at) \
         VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))",
    )
    .bind(account.id)
    .bind(to.login)
    .bind(to.display_name)
    .bind(seen_at)
    .bind(seen_at)
    .execute(&mut *conn)
    .await?;
    // names_count is recounted, not incremented: a name taken again adds no ledger row.
    sqlx::query(
        "UPDATE twitch_accounts SET login = ?, display_name = ?, last_seen_at = GREATEST(last_seen_at, ?), \
         names_count = (SELECT COUNT(*) FROM account_names WHERE account_id = twitch_accounts.id) WHERE id = ?",
    )
    .bind(to.login)
    .bind(to.display_name)
    .bind(seen_at)
    .bind(account.id)
    .execute(&mut *conn)
    .await?;
    // Held before: in another account's ledger, or as the name of an account never renamed
    // (Twitch has since given the login to this account, so that one was renamed unseen).
    sqlx::query_scalar(
        "SELECT account_id FROM account_names WHERE login = ? AND account_id <> ? \
         UNION SELECT id FROM twitch_accounts WHERE login = ? AND id <> ?",
    )
    .bind(to.login)
    .bind(account.id)
    .bind(to.login)
    .bind(account.id)
    .fetch_all(&mut *conn)
    .await
}

/// An account waiting for Get Users.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrichmentCandidate {
    pub id: u64,
    pub twitch_user_id: String,
}

/// Up to `limit` accounts to enrich: never enriched first, then those enriched before
/// `stale_before`, stalest first.
pub async fn enrichment_candidates(
    executor: impl Executor<'_, Database = MySql> + Copy,
    stale_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<EnrichmentCandidate>, sqlx::Error> {
    let mut found: Vec<EnrichmentCandidate> = sqlx::query_as(
        "SELECT id, twitch_user_id FROM twitch_accounts WHERE enriched_at IS NULL ORDER BY id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    if (found.len() as u32) < limit {
        let stale: Vec<EnrichmentCandidate> = sqlx::query_as(
            "SELECT id, twitch_user_id FROM twitch_accounts WHERE enriched_at < ? ORDER BY enriched_at LIMIT ?",
        )
        .bind(stale_before)
        .bind(limit - found.len() as u32)
        .fetch_all(executor)
        .await?;
        found.extend(stale);
    }
    Ok(found)
}

/// The moderator whose captures hold most of `accounts` (ids of `twitch_accounts`) and whose
/// Twitch authorization is still good: enrichment may spend their bucket as well as the app's.
/// Captures are read through `capture_chatters`' account index, the owner through the session.
pub async fn enrichment_moderator(
    executor: impl Executor<'_, Database = MySql>,
    accounts: &[u64],
) -> Result<Option<String>, sqlx::Error> {
    if accounts.is_empty() {
        return Ok(None);
    }
    let mut q = sqlx::QueryBuilder::<MySql>::new(
        "SELECT u.twitch_user_id FROM capture_chatters cc \
         JOIN captures c ON c.id = cc.capture_id \
         JOIN analysis_sessions s ON s.id = c.session_id \
         JOIN users u ON u.id = s.user_id \
         JOIN twitch_tokens t ON t.twitch_user_id = u.twitch_user_id AND t.invalid_since IS NULL \
         WHERE cc.account_id IN (",
    );
    let mut ids = q.separated(", ");
    for id in accounts {
        ids.push_bind(*id);
    }
    q.push(") GROUP BY u.twitch_user_id ORDER BY COUNT(*) DESC, u.twitch_user_id LIMIT 1");
    q.build_query_scalar().fetch_optional(executor).await
}

/// Accounts waiting for their first enrichment.
pub async fn unenriched_count(
    executor: impl Executor<'_, Database = MySql>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM twitch_accounts WHERE enriched_at IS NULL")
        .fetch_one(executor)
        .await
}

/// What Get Users says of one account.
#[derive(Debug, Clone)]
pub struct Profile<'a> {
    pub account_id: u64,
    pub twitch_user_id: &'a str,
    pub login: &'a str,
    pub display_name: &'a str,
    pub created_at: DateTime<Utc>,
    pub account_type: &'a str,
    pub broadcaster_type: &'a str,
    pub description_empty: bool,
    pub default_avatar: bool,
    pub profile_image_url: String,
}

/// Stores enrichment in the caller's transaction: the profiles found, and the accounts Twitch
/// no longer returns marked missing (suspended or deleted) since `now` unless already.
pub async fn store_enrichment(
    conn: &mut MySqlConnection,
    found: &[Profile<'_>],
    missing: &[u64],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if !found.is_empty() {
        // Upsert by primary key: every row exists, so this is a multi-row UPDATE in one
        // statement. login and display_name are required by the INSERT form only.
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT INTO twitch_accounts (id, twitch_user_id, login, display_name, first_seen_at, last_seen_at, \
             twitch_created_at, account_type, broadcaster_type, description_empty, default_avatar, \
             profile_image_url, enriched_at, missing_since) ",
        );
        q.push_values(found, |mut row, p| {
            row.push_bind(p.account_id)
                .push_bind(p.twitch_user_id.to_string())
                .push_bind(p.login.to_string())
                .push_bind(p.display_name.to_string())
                .push_bind(now)
                .push_bind(now)
                .push_bind(p.created_at)
                .push_bind(p.account_type.to_string())
                .push_bind(p.broadcaster_type.to_string())
                .push_bind(p.description_empty)
                .push_bind(p.default_avatar)
                .push_bind(p.profile_image_url.clone())
                .push_bind(now)
                .push("NULL");
        });
        q.push(
            " ON DUPLICATE KEY UPDATE twitch_created_at = VALUES(twitch_created_at), \
             account_type = VALUES(account_type), broadcaster_type = VALUES(broadcaster_type), \
             description_empty = VALUES(description_empty), default_avatar = VALUES(default_avatar), \
             profile_image_url = VALUES(profile_image_url), enriched_at = VALUES(enriched_at), missing_since = NULL",
        );
        q.build().execute(&mut *conn).await?;
    }
    if !missing.is_empty() {
        let mut q = QueryBuilder::<MySql>::new(
            "UPDATE twitch_accounts SET missing_since = COALESCE(missing_since, ",
        );
        q.push_bind(now)
            .push("), enriched_at = ")
            .push_bind(now)
            .push(" WHERE id IN (");
        let mut list = q.separated(", ");
        for id in missing {
            list.push_bind(*id);
        }
        q.push(")");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
