//! A channel's alert webhooks (docs/live.md): listed with masked URLs and how their latest
//! delivery went, added (the URL checked against the SSRF rules and sealed), removed, and
//! tried with a test alert. Only for a channel the user may capture, checked with Twitch.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use tca_common::db::alerts::{self, MAX_WEBHOOKS_PER_CHANNEL, NewWebhook, Webhook, WebhookKind};
use tca_common::webhooks::{self, TargetError};

use crate::auth::{CurrentUser, NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{coded, t, t1};
use crate::routes::channels::allowed_channel;
use crate::state::AppState;
use crate::views::{Layout, Time};

/// Defaults the form offers: a cohort of 20 is past what chance makes in one capture, and
/// more than half of the newcomers under a week old is a flood, not a crowd.
const DEFAULT_MIN_COHORT: u32 = 20;
const DEFAULT_YOUNG_SHARE_PCT: u8 = 50;
const MAX_MIN_COHORT: u32 = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels/{broadcaster_id}/alerts", get(page).post(add))
        .route(
            "/channels/{broadcaster_id}/alerts/{webhook_id}/delete",
            post(delete),
        )
        .route(
            "/channels/{broadcaster_id}/alerts/{webhook_id}/test",
            post(test),
        )
}

pub struct WebhookRow {
    pub id: u64,
    pub kind: String,
    pub url_hint: String,
    pub min_cohort: u32,
    pub young_share_pct: u8,
    /// How the latest delivery went, in words, and when.
    pub last: Option<(String, Time)>,
    pub last_status: String,
    pub last_error: Option<String>,
}

impl From<Webhook> for WebhookRow {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            kind: coded("alert-kind", w.kind.as_str()),
            url_hint: w.url_hint,
            min_cohort: w.min_cohort,
            young_share_pct: w.young_share_pct,
            last: w
                .last_status
                .as_deref()
                .zip(w.last_at)
                .map(|(status, at)| (coded("alert-status", status), Time::new(at))),
            last_status: w.last_status.unwrap_or_default(),
            last_error: w.last_error,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/alerts.html")]
pub struct AlertsPage {
    pub layout: Layout,
    pub broadcaster_id: String,
    pub channel_name: String,
    pub webhooks: Vec<WebhookRow>,
    pub full: bool,
    pub max: usize,
    pub min_cohort: u32,
    pub young_share_pct: u8,
    pub notice: Option<String>,
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    broadcaster_id: &str,
    notice: Option<String>,
) -> AppResult<Response> {
    let channel = allowed_channel(state, user, broadcaster_id).await?;
    let webhooks: Vec<WebhookRow> =
        alerts::of_channel(&state.pool, user.id, &channel.broadcaster_id)
            .await?
            .into_iter()
            .map(WebhookRow::from)
            .collect();
    let page = AlertsPage {
        layout: Layout::new(user, "channels"),
        broadcaster_id: channel.broadcaster_id,
        channel_name: channel.broadcaster_name,
        full: webhooks.len() >= MAX_WEBHOOKS_PER_CHANNEL,
        webhooks,
        max: MAX_WEBHOOKS_PER_CHANNEL,
        min_cohort: DEFAULT_MIN_COHORT,
        young_share_pct: DEFAULT_YOUNG_SHARE_PCT,
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    /// After "Send a test alert": `queued`, or `pending` when one is still on its way.
    #[serde(default)]
    test: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Path(broadcaster_id): Path<String>,
    Query(query): Query<PageQuery>,
    user: CurrentUser,
) -> AppResult<Response> {
    let notice = match query.test.as_deref() {
        Some("queued") => Some(t("alerts-test-queued")),
        Some("pending") => Some(t("alerts-test-pending")),
        _ => None,
    };
    render(&state, &user, &broadcaster_id, notice).await
}

#[derive(Deserialize)]
pub struct AddForm {
    kind: String,
    url: String,
    min_cohort: String,
    young_share_pct: String,
}

fn target_error(e: &TargetError, raw: &str) -> AppError {
    AppError::BadRequest(t1(e.key(), "url", raw.trim()))
}

async fn add(
    State(state): State<AppState>,
    Path(broadcaster_id): Path<String>,
    Posted { user, form }: Posted<AddForm>,
) -> AppResult<Response> {
    let channel = allowed_channel(&state, &user, &broadcaster_id).await?;
    let kind: WebhookKind = form
        .kind
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(t1("error-alert-kind", "raw", form.kind.as_str())))?;
    let min_cohort: u32 = form
        .min_cohort
        .trim()
        .parse()
        .ok()
        .filter(|n| (2..=MAX_MIN_COHORT).contains(n))
        .ok_or_else(|| {
            AppError::BadRequest(t1(
                "error-alert-min-cohort",
                "raw",
                form.min_cohort.as_str(),
            ))
        })?;
    let young_share_pct: u8 = form
        .young_share_pct
        .trim()
        .parse()
        .ok()
        .filter(|n| *n <= 100)
        .ok_or_else(|| {
            AppError::BadRequest(t1(
                "error-alert-young-share",
                "raw",
                form.young_share_pct.as_str(),
            ))
        })?;
    let allow_private = state.config.alerts.allow_private;
    let url = webhooks::parse(&form.url, allow_private).map_err(|e| target_error(&e, &form.url))?;
    // Checked again at each delivery: a name can resolve elsewhere later.
    webhooks::resolve(&url, allow_private)
        .await
        .map_err(|e| target_error(&e, &form.url))?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    // Counted under the user's row lock: two tabs cannot pass the cap together.
    sqlx::query("SELECT id FROM users WHERE id = ? FOR UPDATE")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    if alerts::of_channel(&mut *tx, user.id, &channel.broadcaster_id)
        .await?
        .len()
        >= MAX_WEBHOOKS_PER_CHANNEL
    {
        return Err(AppError::Conflict(t1(
            "error-alert-limit",
            "max",
            MAX_WEBHOOKS_PER_CHANNEL as u32,
        )));
    }
    alerts::create(
        &mut tx,
        &state.config.alerts.sealer,
        &NewWebhook {
            user_id: user.id,
            broadcaster_id: &channel.broadcaster_id,
            broadcaster_login: &channel.broadcaster_login,
            kind,
            url: &url,
            min_cohort,
            young_share_pct,
            locale: tca_common::i18n::current().code(),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/channels/{}/alerts", channel.broadcaster_id)).into_response())
}

fn webhook_id(raw: &str) -> AppResult<u64> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn delete(
    State(state): State<AppState>,
    Path((broadcaster_id, raw_id)): Path<(String, String)>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let channel = allowed_channel(&state, &user, &broadcaster_id).await?;
    if !alerts::delete(&state.pool, user.id, webhook_id(&raw_id)?).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/channels/{}/alerts", channel.broadcaster_id)).into_response())
}

async fn test(
    State(state): State<AppState>,
    Path((broadcaster_id, raw_id)): Path<(String, String)>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let channel = allowed_channel(&state, &user, &broadcaster_id).await?;
    let hook = alerts::find(&state.pool, user.id, webhook_id(&raw_id)?)
        .await?
        .filter(|h| h.broadcaster_id == channel.broadcaster_id)
        .ok_or(AppError::NotFound)?;
    let outcome = match alerts::raise_test(&state.pool, &hook, Utc::now()).await? {
        Some(_) => "queued",
        None => "pending",
    };
    Ok(Redirect::to(&format!(
        "/channels/{}/alerts?test={outcome}",
        channel.broadcaster_id
    ))
    .into_response())
}
