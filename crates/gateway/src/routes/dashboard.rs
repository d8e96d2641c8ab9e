//! A session's analysis: the dashboard (KPIs, charts, top creation days, suspicious accounts,
//! renames), a creation day's page, an account's page, and the read-only JSON the dashboard's
//! charts and drill-downs load. Everything is computed by the analysis service; the gateway
//! checks that the session is the caller's, validates what it forwards, and renders.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tca_common::db::sessions::Session;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::routes::sessions::owned_session;
use crate::state::AppState;
use crate::views::{self, Layout, Time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/analysis", get(dashboard))
        .route("/sessions/{id}/days/{day}", get(day_page))
        .route(
            "/sessions/{id}/accounts/{twitch_user_id}",
            get(account_page),
        )
        .route("/sessions/{id}/data/{*path}", get(data))
}

// --- the filter every analysis view shares -----------------------------------------------------

/// Channels, and a creation period (`period`, or `from`/`to`), as the filter form submits them.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub channels: Vec<String>,
    pub period: String,
    pub from: String,
    pub to: String,
}

impl Filter {
    /// The filter fields of a query string, and the rest. Empty fields and `period=all` mean
    /// "no filter" (an HTML form submits them empty); values are checked by the analysis
    /// service, whose 400 message is shown as is.
    fn parse(raw: Option<&str>) -> (Self, Vec<(String, String)>) {
        let mut filter = Self::default();
        let mut rest = Vec::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned() {
            let value = value.trim().to_string();
            match key.as_str() {
                "broadcaster_id" if !value.is_empty() => filter.channels.push(value),
                "period" if value != "all" => filter.period = value,
                "from" => filter.from = value,
                "to" => filter.to = value,
                "broadcaster_id" | "period" => {}
                _ => rest.push((key, value)),
            }
        }
        (filter, rest)
    }

    /// The filter as a query string for the analysis service and for links ("" when none).
    pub fn query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for channel in &self.channels {
            out.append_pair("broadcaster_id", channel);
        }
        for (key, value) in [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }

    /// `query()` joined with more parameters.
    fn with(&self, more: &[(&str, &str)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(self.query());
        for (key, value) in more {
            out.append_pair(key, value);
        }
        out.finish()
    }

    pub fn has_channel(&self, broadcaster_id: &str) -> bool {
        self.channels.iter().any(|c| c == broadcaster_id)
    }

    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }

    /// "?broadcaster_id=…" or "" — appended to links so drill-downs keep the filter.
    pub fn suffix(&self) -> String {
        let q = self.query();
        if q.is_empty() { q } else { format!("?{q}") }
    }
}

fn page_number(rest: &[(String, String)]) -> AppResult<u32> {
    match rest.iter().find(|(k, _)| k == "page") {
        None => Ok(1),
        Some((_, raw)) => raw
            .parse()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!("page must be a whole number from 1, got '{raw}'."))
            }),
    }
}

fn creation_day(raw: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "'{raw}' is not a day (YYYY-MM-DD, e.g. 2024-03-14)."
        ))
    })
}

fn twitch_id(raw: &str) -> AppResult<&str> {
    if !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw)
    } else {
        Err(AppError::BadRequest(format!(
            "'{raw}' is not a Twitch user id (digits)."
        )))
    }
}

// --- what the analysis service answers ---------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct Summary {
    pub accounts: u64,
    pub captures: u64,
    pub channels: u64,
    pub last_capture_at: Option<DateTime<Utc>>,
    pub young_7d: u64,
    pub young_30d: u64,
    pub enriched_share: f64,
    pub flagged: u64,
    pub flagged_share: f64,
    pub flag_threshold: u32,
}

impl Summary {
    pub fn accounts_text(&self) -> String {
        views::count(self.accounts)
    }
    pub fn flagged_percent(&self) -> String {
        percent(self.flagged_share)
    }
    pub fn enriched_percent(&self) -> String {
        percent(self.enriched_share)
    }
    pub fn last_capture(&self) -> Option<Time> {
        views::time(self.last_capture_at)
    }
}

#[derive(Debug, Deserialize)]
pub struct TopDay {
    pub day: NaiveDate,
    pub count: u64,
    pub share: f64,
    pub baseline: f64,
    pub excess: f64,
    pub burst: bool,
}

impl TopDay {
    pub fn percent(&self) -> String {
        percent(self.share)
    }
}

#[derive(Debug, Deserialize)]
struct TopDays {
    days: Vec<TopDay>,
}

#[derive(Debug, Deserialize)]
pub struct Reason {
    pub code: String,
    pub points: u32,
    pub sentence: String,
}

#[derive(Debug, Deserialize)]
pub struct Account {
    pub twitch_user_id: String,
    pub login: String,
    pub display_name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub captures_seen: u32,
    pub captures_seen_offline: u32,
    pub channels_seen: u16,
    pub renames: u32,
    pub default_avatar: Option<bool>,
    pub empty_bio: Option<bool>,
    pub missing: bool,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

impl Account {
    pub fn created(&self) -> Option<Time> {
        views::time(self.created_at)
    }
    pub fn first_seen(&self) -> Time {
        Time::new(self.first_seen_at)
    }
    pub fn last_seen(&self) -> Time {
        Time::new(self.last_seen_at)
    }
}

#[derive(Debug, Deserialize)]
pub struct AccountList {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub accounts: Vec<Account>,
}

impl AccountList {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page.max(1))).max(1)
    }
    pub fn has_next(&self) -> bool {
        u64::from(self.page) < self.pages()
    }
}

#[derive(Debug, Deserialize)]
pub struct Name {
    pub login: String,
    pub display_name: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl Name {
    pub fn first_seen(&self) -> Time {
        Time::new(self.first_seen_at)
    }
    pub fn last_seen(&self) -> Time {
        Time::new(self.last_seen_at)
    }
}

#[derive(Debug, Deserialize)]
pub struct Renamed {
    pub twitch_user_id: String,
    pub login: String,
    pub renames: u32,
    pub names: Vec<Name>,
}

#[derive(Debug, Deserialize)]
pub struct LoginReuse {
    pub login: String,
    pub held_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Renames {
    accounts: Vec<Renamed>,
    login_reuse: Vec<LoginReuse>,
}

#[derive(Debug, Deserialize)]
pub struct Sighting {
    pub capture_id: u64,
    pub channel: String,
    pub at: Option<DateTime<Utc>>,
    pub live: Option<bool>,
}

impl Sighting {
    pub fn when(&self) -> Option<Time> {
        views::time(self.at)
    }
}

#[derive(Debug, Deserialize)]
struct AccountDetail {
    account: Account,
    flag_threshold: u32,
    names: Vec<Name>,
    seen_in: Vec<Sighting>,
}

#[derive(Debug, Deserialize)]
struct Hours {
    hours: Vec<u64>,
}

/// "12.5 %"
fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

// --- pages ---------------------------------------------------------------------------------------

pub struct ChannelChoice {
    pub broadcaster_id: String,
    pub name: String,
    pub checked: bool,
}

async fn channel_choices(
    state: &AppState,
    session: &Session,
    filter: &Filter,
) -> AppResult<Vec<ChannelChoice>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT broadcaster_id, broadcaster_name FROM session_channels WHERE session_id = ? ORDER BY broadcaster_login",
    )
    .bind(session.id)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(broadcaster_id, name)| ChannelChoice {
            checked: filter.has_channel(&broadcaster_id),
            broadcaster_id,
            name,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub filter: Filter,
    pub channels: Vec<ChannelChoice>,
    pub summary: Summary,
    pub top_days: Vec<TopDay>,
    pub flagged: AccountList,
    pub renamed: Vec<Renamed>,
    pub login_reuse: Vec<LoginReuse>,
}

impl DashboardPage {
    fn link(&self, more: &[(&str, &str)]) -> String {
        let q = self.filter.with(more);
        format!("/sessions/{}/analysis?{q}", self.public_id)
    }
    pub fn next_page(&self) -> String {
        self.link(&[("page", &(self.flagged.page + 1).to_string())])
    }
    pub fn previous_page(&self) -> String {
        self.link(&[(
            "page",
            &self.flagged.page.saturating_sub(1).max(1).to_string(),
        )])
    }
    pub fn export(&self, file: &str) -> String {
        format!(
            "/sessions/{}/export/{file}{}",
            self.public_id,
            self.filter.suffix()
        )
    }
}

/// Renames listed on the dashboard; the export has them all.
const RENAMES_SHOWN: usize = 50;

async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let (filter, rest) = Filter::parse(raw.as_deref());
    let page = page_number(&rest)?.to_string();
    let query = filter.query();
    let flagged_query = filter.with(&[("flagged", "true"), ("per_page", "25"), ("page", &page)]);
    let shown = RENAMES_SHOWN.to_string();
    let renames_query = filter.with(&[("limit", &shown)]);
    let analysis = &state.analysis;
    // The four reads are independent: ask for them at once.
    let (summary, top, flagged, renames, channels) = tokio::try_join!(
        async {
            Ok::<_, AppError>(
                analysis
                    .get_json::<Summary>(session.id, "summary", Some(&query))
                    .await?,
            )
        },
        async {
            Ok(analysis
                .get_json::<TopDays>(session.id, "top-days", Some(&query))
                .await?)
        },
        async {
            Ok(analysis
                .get_json::<AccountList>(session.id, "accounts", Some(&flagged_query))
                .await?)
        },
        async {
            Ok(analysis
                .get_json::<Renames>(session.id, "renames", Some(&renames_query))
                .await?)
        },
        channel_choices(&state, &session, &filter),
    )?;
    // Analysis sends the most renamed first, RENAMES_SHOWN of them.
    let renamed = renames.accounts;
    let page = DashboardPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        filter,
        channels,
        summary,
        top_days: top.days,
        flagged,
        renamed,
        login_reuse: renames.login_reuse,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "pages/day.html")]
pub struct DayPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub day: NaiveDate,
    pub filter: Filter,
    pub hours: Vec<(usize, u64)>,
    pub accounts: AccountList,
}

impl DayPage {
    fn link(&self, page: u32) -> String {
        let q = self.filter.with(&[("page", &page.to_string())]);
        format!("/sessions/{}/days/{}?{q}", self.public_id, self.day)
    }
    pub fn next_page(&self) -> String {
        self.link(self.accounts.page + 1)
    }
    pub fn previous_page(&self) -> String {
        self.link(self.accounts.page.saturating_sub(1).max(1))
    }
    pub fn busiest_hour(&self) -> u64 {
        self.hours.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1)
    }
}

async fn day_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_day)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let day = creation_day(&raw_day)?;
    let (filter, rest) = Filter::parse(raw.as_deref());
    let page = page_number(&rest)?.to_string();
    let hours_query = filter.with(&[("day", &day.to_string())]);
    let list_query = filter.with(&[("per_page", "100"), ("page", &page)]);
    let list_path = format!("days/{day}/accounts");
    let (hours, accounts) = tokio::try_join!(
        state
            .analysis
            .get_json::<Hours>(session.id, "histogram/hours", Some(&hours_query)),
        state
            .analysis
            .get_json::<AccountList>(session.id, &list_path, Some(&list_query)),
    )?;
    let page = DayPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        day,
        filter,
        hours: hours.hours.into_iter().enumerate().collect(),
        accounts,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub account: Account,
    pub names: Vec<Name>,
    pub seen_in: Vec<Sighting>,
    pub flag_threshold: u32,
}

async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_user)): Path<(String, String)>,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let twitch_user_id = twitch_id(&raw_user)?;
    let detail_path = format!("accounts/{twitch_user_id}");
    let detail: AccountDetail = state
        .analysis
        .get_json(session.id, &detail_path, None)
        .await?;
    let page = AccountPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        account: detail.account,
        names: detail.names,
        seen_in: detail.seen_in,
        flag_threshold: detail.flag_threshold,
    };
    Ok(Html(page.render()?).into_response())
}

// --- JSON for the dashboard's scripts ------------------------------------------------------------

/// Which analysis reads the browser may make: read-only views, never exports (those are
/// audited and go through `/sessions/{id}/export/…`).
fn allowed_data_path(path: &str) -> AppResult<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["summary" | "histogram" | "top-days" | "timeline" | "accounts" | "renames" | "scores"] => {
            Ok(path.to_string())
        }
        ["histogram", "hours"] => Ok(path.to_string()),
        ["days", day, "accounts"] => Ok(format!("days/{}/accounts", creation_day(day)?)),
        ["accounts", user] => Ok(format!("accounts/{}", twitch_id(user)?)),
        _ => Err(AppError::NotFound),
    }
}

async fn data(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, path)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let session = owned_session(&state, &user, &id).await?;
    let path = allowed_data_path(&path)?;
    let upstream = state
        .analysis
        .get(session.id, &path, raw.as_deref())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from_stream(upstream.bytes_stream()),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_its_fields_drops_empty_ones_and_returns_the_rest() {
        let (filter, rest) = Filter::parse(Some(
            "broadcaster_id=1&broadcaster_id=&broadcaster_id=22&period=all&from=2024-01-01&to=&page=3",
        ));
        assert_eq!(filter.channels, ["1", "22"]);
        assert_eq!(filter.period, "");
        assert_eq!(
            filter.query(),
            "broadcaster_id=1&broadcaster_id=22&from=2024-01-01"
        );
        assert_eq!(rest, [("page".to_string(), "3".to_string())]);
        assert_eq!(page_number(&rest).expect("accepted"), 3);
        assert!(Filter::parse(None).0.is_empty());
        assert_eq!(Filter::parse(Some("period=7d")).0.suffix(), "?period=7d");
    }

    #[test]
    fn bad_pages_days_and_ids_are_refused() {
        assert!(page_number(&[("page".into(), "0".into())]).is_err());
        assert!(page_number(&[("page".into(), "x".into())]).is_err());
        assert!(creation_day("2024-02-30").is_err());
        assert!(twitch_id("12a").is_err());
        assert!(twitch_id("").is_err());
        assert_eq!(twitch_id("123").expect("accepted"), "123");
    }

    #[test]
    fn only_read_only_analysis_paths_are_proxied() {
        assert_eq!(allowed_data_path("timeline").expect("accepted"), "timeline");
        assert_eq!(
            allowed_data_path("histogram/hours").expect("accepted"),
            "histogram/hours"
        );
        assert_eq!(
            allowed_data_path("days/2024-03-14/accounts").expect("accepted"),
            "days/2024-03-14/accounts"
        );
        assert!(matches!(
            allowed_data_path("export/accounts.csv"),
            Err(AppError::NotFound)
        ));
        assert!(matches!(allowed_data_path("../x"), Err(AppError::NotFound)));
        assert!(matches!(
            allowed_data_path("days/nope/accounts"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            allowed_data_path("accounts/1;drop"),
            Err(AppError::BadRequest(_))
        ));
    }
}
