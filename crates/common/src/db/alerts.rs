//! Outbound alerts (docs/live.md): a moderator's webhooks per channel with their thresholds
//! (`alert_webhooks`), the alerts raised (`alerts`), and the accounts each webhook was already
//! told about as a bot cohort (`alert_cohort_accounts`).
//!
//! A capture of a live channel with webhooks queues an `alert_check` (in the capture's own
//! transaction); the check asks the analysis service what the capture found and raises at
//! most one alert per webhook and capture, naming only cohorts the webhook has not heard of;
//! each alert is sent by an `alert_delivery` job, retried with the queue's backoff.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Executor, MySql, MySqlPool, QueryBuilder, Transaction};
use url::Url;

use super::jobs::{self, JobKind, NewJob, QueueError};
use crate::sealing::{SealError, Sealer};

/// Webhooks a user may keep per channel.
pub const MAX_WEBHOOKS_PER_CHANNEL: usize = 5;
/// Attempts a delivery gets (backoff between them, up to the queue's maximum).
pub const DELIVERY_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    /// Discord's "Execute Webhook": `content` and an embed.
    Discord,
    /// Our own JSON document (docs/live.md), for any receiver.
    Json,
}

impl WebhookKind {
    pub const ALL: [Self; 2] = [Self::Discord, Self::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Json => "json",
        }
    }
}

impl std::str::FromStr for WebhookKind {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "discord" => Ok(Self::Discord),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown webhook kind '{other}'")),
        }
    }
}

crate::sql_string_enum!(WebhookKind);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: u64,
    pub user_id: u64,
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub kind: WebhookKind,
    pub url_sealed: Option<Vec<u8>>,
    pub url_hint: String,
    pub min_cohort: u32,
    pub young_share_pct: u8,
    pub locale: String,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const WEBHOOK_COLUMNS: &str = "id, user_id, broadcaster_id, broadcaster_login, kind, url_sealed, url_hint, \
     min_cohort, young_share_pct, locale, last_status, last_error, last_at, created_at";

/// What a new webhook is.
#[derive(Debug, Clone)]
pub struct NewWebhook<'a> {
    pub user_id: u64,
    pub broadcaster_id: &'a str,
    pub broadcaster_login: &'a str,
    pub kind: WebhookKind,
    pub url: &'a Url,
    pub min_cohort: u32,
    pub young_share_pct: u8,
    pub locale: &'a str,
}

/// A sealed URL opens only in its own row.
fn seal_context(webhook_id: u64) -> String {
    format!("alert_webhooks:{webhook_id}:url")
}

/// Adds a webhook, its URL sealed; its id.
pub async fn create(
    tx: &mut Transaction<'_, MySql>,
    sealer: &Sealer,
    hook: &NewWebhook<'_>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let id = sqlx::query(
        "INSERT INTO alert_webhooks (user_id, broadcaster_id, broadcaster_login, kind, url_sealed, url_hint, \
         min_cohort, young_share_pct, locale, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
    )
    .bind(hook.user_id)
    .bind(hook.broadcaster_id)
    .bind(hook.broadcaster_login)
    .bind(hook.kind)
    .bind(crate::webhooks::mask(hook.url))
    .bind(hook.min_cohort)
    .bind(hook.young_share_pct)
    .bind(hook.locale)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .last_insert_id();
    let sealed = sealer
        .seal(hook.url.as_str().as_bytes(), &seal_context(id))
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query("UPDATE alert_webhooks SET url_sealed = ? WHERE id = ?")
        .bind(sealed)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// The webhook's URL, opened.
pub fn open_url(sealer: &Sealer, hook: &Webhook) -> Result<String, SealError> {
    let sealed = hook.url_sealed.as_deref().ok_or(SealError::Open)?;
    let plain = sealer.open(sealed, &seal_context(hook.id))?;
    String::from_utf8(plain).map_err(|_| SealError::Open)
}

/// The user's webhooks for a channel, oldest first.
pub async fn of_channel(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    broadcaster_id: &str,
) -> Result<Vec<Webhook>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM alert_webhooks WHERE user_id = ? AND broadcaster_id = ? ORDER BY id"
    )))
    .bind(user_id)
    .bind(broadcaster_id)
    .fetch_all(executor)
    .await
}

/// How many webhooks each of the user's channels has, by broadcaster id.
pub async fn counts_of_user(
    pool: &MySqlPool,
    user_id: u64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT broadcaster_id, COUNT(*) FROM alert_webhooks WHERE user_id = ? GROUP BY broadcaster_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// One of the user's webhooks (never another user's).
pub async fn find(
    executor: impl Executor<'_, Database = MySql>,
    user_id: u64,
    webhook_id: u64,
) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM alert_webhooks WHERE id = ? AND user_id = ?"
    )))
    .bind(webhook_id)
    .bind(user_id)
    .fetch_optional(executor)
    .await
}

/// Removes one of the user's webhooks with its alerts; `false` if it was not theirs.
pub async fn delete(pool: &MySqlPool, user_id: u64, webhook_id: u64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM alert_webhooks WHERE id = ? AND user_id = ?")
            .bind(webhook_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Whether the owner of a session has a webhook for this channel: a capture queues a check
/// only then.
pub async fn any_for_session_channel(
    executor: impl Executor<'_, Database = MySql>,
    session_channel_id: u64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM session_channels sc JOIN analysis_sessions s ON s.id = sc.session_id \
         JOIN alert_webhooks w ON w.user_id = s.user_id AND w.broadcaster_id = sc.broadcaster_id \
         WHERE sc.id = ? LIMIT 1",
    )
    .bind(session_channel_id)
    .fetch_optional(executor)
    .await?;
    Ok(found.is_some())
}

/// The payload of an `alert_check` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckJob {
    pub capture_id: u64,
}

pub fn check_job(capture_id: u64, now: DateTime<Utc>) -> Result<NewJob, QueueError> {
    Ok(
        NewJob::new(JobKind::AlertCheck.as_str(), &CheckJob { capture_id }, now)?
            .dedupe_key(format!("alert_check:{capture_id}"))
            .priority(1),
    )
}

/// The payload of an `alert_delivery` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub alert_id: u64,
}

fn delivery_job(alert_id: u64, now: DateTime<Utc>) -> Result<NewJob, QueueError> {
    Ok(NewJob::new(
        JobKind::AlertDelivery.as_str(),
        &DeliveryJob { alert_id },
        now,
    )?
    .dedupe_key(format!("alert:{alert_id}"))
    .max_attempts(DELIVERY_ATTEMPTS)
    .priority(2))
}

/// What an alert says, in no language (the text is written when it is sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// A test from the page's button: no capture, nothing found.
    pub test: bool,
    pub broadcaster_login: String,
    pub session_public_id: Option<String>,
    pub capture_id: Option<u64>,
    pub captured_at: Option<DateTime<Utc>>,
    /// The bot cohorts new to this webhook, largest first.
    pub cohorts: Vec<FoundCohort>,
    /// Accounts seen for the first time in the session by this capture, and the young ones.
    pub newcomers: u64,
    pub young: u64,
    /// The young newcomers' share passed the webhook's threshold (in percent).
    pub young_share_pct: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundCohort {
    pub cohort_id: u64,
    /// Members in the whole session.
    pub size: u64,
    /// Members in this capture.
    pub in_capture: u64,
    pub strength: u32,
    pub first_created: DateTime<Utc>,
    pub last_created: DateTime<Utc>,
}

/// The user's webhooks for the capture's channel, locked: checks of two captures of the same
/// channel take turns, so a cohort seen by both is alerted once.
pub async fn lock_webhooks(
    tx: &mut Transaction<'_, MySql>,
    user_id: u64,
    broadcaster_id: &str,
) -> Result<Vec<Webhook>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM alert_webhooks WHERE user_id = ? AND broadcaster_id = ? \
         ORDER BY id FOR UPDATE"
    )))
    .bind(user_id)
    .bind(broadcaster_id)
    .fetch_all(&mut **tx)
    .await
}

/// Whether the webhook was told about any of these accounts as a bot cohort.
pub async fn knows_any(
    tx: &mut Transaction<'_, MySql>,
    webhook_id: u64,
    account_ids: &[u64],
) -> Result<bool, sqlx::Error> {
    for chunk in account_ids.chunks(1000) {
        let mut q =
            QueryBuilder::<MySql>::new("SELECT 1 FROM alert_cohort_accounts WHERE webhook_id = ");
        q.push_bind(webhook_id).push(" AND account_id IN (");
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(") LIMIT 1");
        if q.build().fetch_optional(&mut **tx).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the webhook raised a young-share alert since `since` (one an hour at most: a
/// stream full of young newcomers is one piece of news, not one per capture).
pub async fn young_alert_since(
    tx: &mut Transaction<'_, MySql>,
    webhook_id: u64,
    since: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM alerts WHERE webhook_id = ? AND young_share AND created_at >= ? LIMIT 1",
    )
    .bind(webhook_id)
    .bind(since)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.is_some())
}

/// Raises an alert for a capture and queues its delivery, remembering the cohorts' members;
/// `None` if this webhook already has an alert for this capture (a check run twice).
pub async fn raise(
    tx: &mut Transaction<'_, MySql>,
    webhook_id: u64,
    session_id: u64,
    findings: &Findings,
    cohort_members: &[u64],
    now: DateTime<Utc>,
) -> Result<Option<u64>, QueueError> {
    let inserted = sqlx::query(
        "INSERT IGNORE INTO alerts (webhook_id, capture_id, session_id, findings, young_share, status, created_at) \
         VALUES (?, ?, ?, ?, ?, 'pending', ?)",
    )
    .bind(webhook_id)
    .bind(findings.capture_id)
    .bind(session_id)
    .bind(serde_json::to_string(findings)?)
    .bind(findings.young_share_pct.is_some())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    let alert_id = inserted.last_insert_id();
    for chunk in cohort_members.chunks(1000) {
        let mut q = QueryBuilder::<MySql>::new(
            "INSERT IGNORE INTO alert_cohort_accounts (webhook_id, account_id, alert_id) ",
        );
        q.push_values(chunk, |mut row, account| {
            row.push_bind(webhook_id)
                .push_bind(*account)
                .push_bind(alert_id);
        });
        q.build().execute(&mut **tx).await?;
    }
    jobs::enqueue(&mut **tx, &delivery_job(alert_id, now)?, now).await?;
    Ok(Some(alert_id))
}

/// Queues a test alert for a webhook; `None` while an earlier test is still on its way.
pub async fn raise_test(
    pool: &MySqlPool,
    hook: &Webhook,
    now: DateTime<Utc>,
) -> Result<Option<u64>, QueueError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT id FROM alert_webhooks WHERE id = ? FOR UPDATE")
        .bind(hook.id)
        .execute(&mut *tx)
        .await?;
    let pending: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM alerts WHERE webhook_id = ? AND capture_id IS NULL AND status = 'pending' LIMIT 1",
    )
    .bind(hook.id)
    .fetch_optional(&mut *tx)
    .await?;
    if pending.is_some() {
        return Ok(None);
    }
    let findings = Findings {
        test: true,
        broadcaster_login: hook.broadcaster_login.clone(),
        session_public_id: None,
        capture_id: None,
        captured_at: None,
        cohorts: Vec::new(),
        newcomers: 0,
        young: 0,
        young_share_pct: None,
    };
    let alert_id = sqlx::query(
        "INSERT INTO alerts (webhook_id, capture_id, session_id, findings, status, created_at) \
         VALUES (?, NULL, NULL, ?, 'pending', ?)",
    )
    .bind(hook.id)
    .bind(serde_json::to_string(&findings)?)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .last_insert_id();
    jobs::enqueue(&mut *tx, &delivery_job(alert_id, now)?, now).await?;
    tx.commit().await?;
    Ok(Some(alert_id))
}

/// An alert to send, with its webhook.
#[derive(Debug, Clone)]
pub struct ToSend {
    pub alert_id: u64,
    pub status: String,
    pub findings: Findings,
    pub webhook: Webhook,
}

pub async fn to_send(pool: &MySqlPool, alert_id: u64) -> Result<Option<ToSend>, sqlx::Error> {
    let row: Option<(u64, String, String)> =
        sqlx::query_as("SELECT webhook_id, status, findings FROM alerts WHERE id = ?")
            .bind(alert_id)
            .fetch_optional(pool)
            .await?;
    let Some((webhook_id, status, findings)) = row else {
        return Ok(None);
    };
    let webhook: Option<Webhook> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM alert_webhooks WHERE id = ?"
    )))
    .bind(webhook_id)
    .fetch_optional(pool)
    .await?;
    let Some(webhook) = webhook else {
        return Ok(None);
    };
    let findings = serde_json::from_str(&findings)
        .map_err(|e| sqlx::Error::Decode(format!("alert {alert_id} findings: {e}").into()))?;
    Ok(Some(ToSend {
        alert_id,
        status,
        findings,
        webhook,
    }))
}

/// How a delivery attempt ended, for the alert and its webhook's "last" columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Will be tried again.
    Retrying,
    /// Given up.
    Failed,
}

pub async fn record_attempt(
    pool: &MySqlPool,
    alert_id: u64,
    webhook_id: u64,
    attempt: Attempt,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let error = error.map(|e| e.chars().take(250).collect::<String>());
    let (status, last) = match attempt {
        Attempt::Sent => ("sent", "sent"),
        Attempt::Retrying => ("pending", "retrying"),
        Attempt::Failed => ("failed", "failed"),
    };
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ?, \
         sent_at = IF(? = 'sent', ?, sent_at) WHERE id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(&error)
    .bind(status)
    .bind(now)
    .bind(alert_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE alert_webhooks SET last_status = ?, last_error = ?, last_at = ? WHERE id = ?",
    )
    .bind(last)
    .bind(&error)
    .bind(now)
    .bind(webhook_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A finished capture as an alert check needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaptureToCheck {
    pub session_id: u64,
    pub session_public_id: String,
    pub user_id: u64,
    pub broadcaster_id: String,
    pub broadcaster_login: String,
    pub finished_at: DateTime<Utc>,
}

pub async fn capture_to_check(
    pool: &MySqlPool,
    capture_id: u64,
) -> Result<Option<CaptureToCheck>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.session_id, s.public_id AS session_public_id, s.user_id, c.broadcaster_id, \
         c.broadcaster_login, c.finished_at FROM captures c JOIN analysis_sessions s ON s.id = c.session_id \
         WHERE c.id = ? AND c.status = 'done' AND c.finished_at IS NOT NULL AND s.status IN ('active', 'saved')",
    )
    .bind(capture_id)
    .fetch_optional(pool)
    .await
}

/// Accounts of the capture that enrichment has not reached yet (neither enriched nor known
/// to be gone).
pub async fn unenriched_in_capture(pool: &MySqlPool, capture_id: u64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM capture_chatters cc JOIN twitch_accounts a ON a.id = cc.account_id \
         WHERE cc.capture_id = ? AND a.enriched_at IS NULL AND a.missing_since IS NULL",
    )
    .bind(capture_id)
    .fetch_one(pool)
    .await
}
