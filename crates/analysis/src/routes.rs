//! The internal API under `/v1/sessions/{session_id}/` (docs/analysis.md). The gateway resolves
//! the session's public id and checks ownership before calling; every route needs the internal
//! token. Filters, on every route: `broadcaster_id` (repeatable: accounts seen in those
//! channels), and `period=7d|30d|90d|all` or `from`/`to` (YYYY-MM-DD, inclusive), applied to
//! the accounts' creation dates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_common::config::Secret;

use crate::histogram::{self, BurstRule, Granularity};
use crate::population::{Cache, Filter, Population, Probe, Scored};
use crate::scoring::ScoringConfig;

#[derive(Clone)]
pub struct AppState {
    pub pool: MySqlPool,
    pub internal_token: Secret,
    pub scoring: Arc<ScoringConfig>,
    pub cache: Arc<Cache>,
}

#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "analysis query failed");
        Self(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.0 {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::NOT_FOUND => "not_found",
            _ => "internal",
        };
        (self.0, Json(json!({"error": code, "message": self.1}))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/sessions/{session_id}/summary", get(summary))
        .route(
            "/v1/sessions/{session_id}/histogram",
            get(creation_histogram),
        )
        .route(
            "/v1/sessions/{session_id}/histogram/hours",
            get(creation_hours),
        )
        .route("/v1/sessions/{session_id}/top-days", get(top_days))
        .route(
            "/v1/sessions/{session_id}/days/{day}/accounts",
            get(day_accounts),
        )
        .route("/v1/sessions/{session_id}/timeline", get(timeline))
        .route("/v1/sessions/{session_id}/accounts", get(accounts))
        .route(
            "/v1/sessions/{session_id}/accounts/{twitch_user_id}",
            get(account),
        )
        .route("/v1/sessions/{session_id}/renames", get(renames))
        .route("/v1/sessions/{session_id}/scores", get(scores))
        .route("/v1/sessions/{session_id}/export/{file}", get(export))
        .route_layer(middleware::from_fn_with_state(
            state.internal_token.clone(),
            tca_common::server::require_internal_token,
        ))
        .with_state(state)
}

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn number(&self, key: &str, default: u32, max: u32) -> ApiResult<u32> {
        match self.one(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(format!(
                        "{key} must be a whole number from 1 to {max}, got '{raw}'"
                    ))
                }),
        }
    }
}

fn day(raw: &str, name: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::bad(format!(
            "{name} must be a date like 2024-03-14, got '{raw}'"
        ))
    })
}

/// The channels asked for (Twitch broadcaster ids), checked.
fn channel_filter(query: &Query) -> ApiResult<Vec<&str>> {
    let broadcasters = query.all("broadcaster_id");
    if broadcasters
        .iter()
        .any(|b| b.is_empty() || b.len() > 32 || !b.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(ApiError::bad("broadcaster_id must be Twitch ids (digits)"));
    }
    Ok(broadcasters)
}

/// The creation period asked for (`period`, or `from`/`to`), checked.
fn period_filter(query: &Query) -> ApiResult<Filter> {
    let mut filter = Filter::default();
    let now = Utc::now();
    match (query.one("period"), query.one("from"), query.one("to")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::bad("give period or from/to, not both"));
        }
        (Some("all") | None, None, None) => {}
        (Some(p @ ("7d" | "30d" | "90d")), _, _) => {
            let days: i64 = p.trim_end_matches('d').parse().unwrap_or(7);
            filter.created_from = Some(now - Duration::days(days));
        }
        (Some(other), _, _) => {
            return Err(ApiError::bad(format!(
                "period must be 7d, 30d, 90d or all, got '{other}'"
            )));
        }
        (None, from, to) => {
            if let Some(from) = from {
                filter.created_from = Some(
                    day(from, "from")?
                        .and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc())
                        .unwrap_or(now),
                );
            }
            if let Some(to) = to {
                let to = day(to, "to")? + Duration::days(1);
                filter.created_to =
                    Some(to.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now));
            }
            if let (Some(f), Some(t)) = (filter.created_from, filter.created_to)
                && f >= t
            {
                return Err(ApiError::bad("from must be on or before to"));
            }
        }
    }
    Ok(filter)
}

/// The session's probe (channels, data version), or 404 when it does not exist or was deleted.
async fn session_exists(state: &AppState, session_id: u64) -> ApiResult<Probe> {
    state
        .cache
        .probe(&state.pool, session_id)
        .await?
        .ok_or(ApiError(StatusCode::NOT_FOUND, "no such session".into()))
}

/// What a request works on: the session's scored population, the request's filter and
/// query, and the session's channel count.
struct Prepared {
    population: Arc<Population>,
    filter: Filter,
    query: Query,
    channels: i64,
}

/// The session's scored population and this request's filter.
async fn prepare(state: &AppState, session_id: u64, raw: Option<&str>) -> ApiResult<Prepared> {
    let probe = session_exists(state, session_id).await?;
    let query = Query::parse(raw);
    // A bad filter is a 400 before any loading.
    let mut filter = period_filter(&query)?;
    let broadcasters: Vec<String> = channel_filter(&query)?
        .into_iter()
        .map(str::to_string)
        .collect();
    let population = state
        .cache
        .get(&state.pool, session_id, &probe, &state.scoring)
        .await?;
    if !broadcasters.is_empty() {
        // Channel ids become the accounts seen there, remembered per data version.
        filter.in_channels = Some(
            population
                .in_channels(&state.pool, session_id, &broadcasters)
                .await?,
        );
    }
    Ok(Prepared {
        population,
        filter,
        query,
        channels: probe.channels,
    })
}

fn selected<'a>(
    population: &'a Population,
    filter: &'a Filter,
) -> impl Iterator<Item = &'a Scored> + 'a {
    population
        .accounts
        .iter()
        .filter(move |a| filter.keeps(&a.row))
}

/// An answer computed from the session's population (and for some views a query or two):
/// given from memory when this data version has already given it for this query and channel
/// count (adding a channel changes no data version, but the summary counts channels), else
/// computed, remembered and sent.
async fn answer(
    state: &AppState,
    session_id: u64,
    raw: Option<&str>,
    view: &str,
    compute: impl AsyncFnOnce(&Prepared) -> ApiResult<Value>,
) -> ApiResult<Response> {
    let prepared = prepare(state, session_id, raw).await?;
    let key = format!("{view}?{}#{}", raw.unwrap_or(""), prepared.channels);
    if let Some(body) = prepared.population.answer(&key) {
        return Ok(json_body(body));
    }
    let value = compute(&prepared).await?;
    remember(&prepared.population, key, &value)
}

/// Serializes an answer once, keeps it for this data version, and sends it.
fn remember(population: &Population, key: String, value: &Value) -> ApiResult<Response> {
    let body = Bytes::from(serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "serializing an answer failed");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
    })?);
    population.remember_answer(key, body.clone());
    Ok(json_body(body))
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

async fn summary(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    answer(
        &state,
        session_id,
        raw.as_deref(),
        "summary",
        async |Prepared {
                   population,
                   filter,
                   query,
                   channels,
               }: &Prepared| {
            let threshold = state.scoring.flag_threshold;
            let (mut total, mut young7, mut young30, mut enriched, mut flagged) =
                (0usize, 0usize, 0usize, 0usize, 0usize);
            for a in selected(population, filter) {
                total += 1;
                if let Some(created) = a.row.twitch_created_at {
                    let age = a.row.first_seen_at - created;
                    young7 += usize::from(age < Duration::days(7));
                    young30 += usize::from(age < Duration::days(30));
                }
                enriched += usize::from(a.row.enriched);
                flagged += usize::from(a.score.score >= threshold);
            }
            let captures = captures(&state, session_id, query).await?;
            Ok(json!({
                "accounts": total,
                "captures": captures.len(),
                "channels": channels,
                "last_capture_at": captures.iter().filter_map(|c| c.finished_at).max(),
                "young_7d": young7,
                "young_30d": young30,
                "enriched_share": share(enriched, total),
                "flagged": flagged,
                "flagged_share": share(flagged, total),
                "flag_threshold": threshold,
            }))
        },
    )
    .await
}

fn counts_by_day<'a>(accounts: impl Iterator<Item = &'a Scored>) -> BTreeMap<NaiveDate, u64> {
    let mut days = BTreeMap::new();
    for a in accounts {
        if let Some(created) = a.row.twitch_created_at {
            *days.entry(created.date_naive()).or_default() += 1;
        }
    }
    days
}

fn buckets(
    population: &Population,
    filter: &Filter,
    query: &Query,
) -> ApiResult<Vec<histogram::Bucket>> {
    let granularity = match query.one("bucket") {
        None => Granularity::Day,
        Some(raw) => Granularity::parse(raw).ok_or_else(|| {
            ApiError::bad(format!("bucket must be day, week or month, got '{raw}'"))
        })?,
    };
    Ok(histogram::build(
        &counts_by_day(selected(population, filter)),
        granularity,
        BurstRule::default(),
    ))
}

async fn creation_histogram(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    answer(
        &state,
        session_id,
        raw.as_deref(),
        "histogram",
        async |Prepared {
                   population,
                   filter,
                   query,
                   ..
               }: &Prepared| {
            Ok(json!({ "buckets": buckets(population, filter, query)? }))
        },
    )
    .await
}

async fn creation_hours(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let Prepared {
        population,
        filter,
        query,
        ..
    } = prepare(&state, session_id, raw.as_deref()).await?;
    let wanted = day(
        query
            .one("day")
            .ok_or_else(|| ApiError::bad("day is required (YYYY-MM-DD)"))?,
        "day",
    )?;
    let mut hours = [0u64; 24];
    for a in selected(&population, &filter) {
        if let Some(created) = a.row.twitch_created_at
            && created.date_naive() == wanted
        {
            hours[created.hour() as usize] += 1;
        }
    }
    Ok(Json(json!({ "day": wanted, "hours": hours })))
}

async fn top_days(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    answer(&state, session_id, raw.as_deref(), "top-days", async |Prepared { population, filter, .. }: &Prepared| {
        let total = selected(population, filter).count();
        let mut days = histogram::build(
            &counts_by_day(selected(population, filter)),
            Granularity::Day,
            BurstRule::default(),
        );
        days.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.excess.total_cmp(&a.excess))
                .then(a.start.cmp(&b.start))
        });
        // Gap days (count 0) fill the histogram's axis; they are never a "top" day.
        let top: Vec<Value> = days
            .iter()
            .filter(|d| d.count > 0)
            .take(10)
            .map(|d| json!({"day": d.start, "count": d.count, "share": share(d.count as usize, total), "baseline": d.baseline, "excess": d.excess, "burst": d.burst}))
            .collect();
        Ok(json!({ "days": top }))
    })
    .await
}

/// How many accounts score 0–9, 10–19, …, 90–100 (the last bucket also holds 100).
async fn scores(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let Prepared {
        population, filter, ..
    } = prepare(&state, session_id, raw.as_deref()).await?;
    let mut counts = [0u64; 10];
    for a in selected(&population, &filter) {
        counts[(a.score.score / 10).min(9) as usize] += 1;
    }
    let buckets: Vec<Value> = counts
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"from": i * 10, "to": if i == 9 { 100 } else { i * 10 + 9 }, "count": n}))
        .collect();
    Ok(Json(json!({
        "buckets": buckets,
        "flag_threshold": state.scoring.flag_threshold,
    })))
}

#[derive(Serialize)]
struct AccountView<'a> {
    twitch_user_id: &'a str,
    login: &'a str,
    display_name: &'a str,
    created_at: Option<DateTime<Utc>>,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    captures_seen: u32,
    captures_seen_offline: u32,
    channels_seen: u16,
    renames: u32,
    default_avatar: Option<bool>,
    empty_bio: Option<bool>,
    missing: bool,
    score: u32,
    reasons: &'a [crate::scoring::Reason],
}

fn view(a: &Scored) -> AccountView<'_> {
    AccountView {
        twitch_user_id: &a.row.twitch_user_id,
        login: &a.row.login,
        display_name: &a.row.display_name,
        created_at: a.row.twitch_created_at,
        first_seen_at: a.row.first_seen_at,
        last_seen_at: a.row.last_seen_at,
        captures_seen: a.row.captures_seen,
        captures_seen_offline: a.row.captures_seen_offline,
        channels_seen: a.row.channels_seen,
        renames: a.renames(),
        default_avatar: a.row.default_avatar,
        empty_bio: a.row.description_empty,
        missing: a.row.missing,
        score: a.score.score,
        reasons: &a.score.reasons,
    }
}

fn page(mut list: Vec<&Scored>, query: &Query) -> ApiResult<Value> {
    let per_page = query.number("per_page", 50, 500)? as usize;
    let page = query.number("page", 1, 1_000_000)? as usize;
    let total = list.len();
    let start = (page - 1) * per_page;
    let items: Vec<AccountView> = list
        .drain(start.min(total)..(start + per_page).min(total))
        .map(view)
        .collect();
    Ok(json!({ "total": total, "page": page, "per_page": per_page, "accounts": items }))
}

async fn day_accounts(
    State(state): State<AppState>,
    Path((session_id, raw_day)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let wanted = day(&raw_day, "day")?;
    let view = format!("days/{wanted}/accounts");
    answer(
        &state,
        session_id,
        raw.as_deref(),
        &view,
        async |Prepared {
                   population,
                   filter,
                   query,
                   ..
               }: &Prepared| {
            let mut list: Vec<&Scored> = selected(population, filter)
                .filter(|a| {
                    a.row
                        .twitch_created_at
                        .is_some_and(|c| c.date_naive() == wanted)
                })
                .collect();
            list.sort_by_key(|a| a.row.twitch_created_at);
            page(list, query)
        },
    )
    .await
}

const SORTS: &str = "score, login, created_at, first_seen_at, last_seen_at, captures_seen, renames";

async fn accounts(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let threshold = state.scoring.flag_threshold;
    answer(
        &state,
        session_id,
        raw.as_deref(),
        "accounts",
        async |Prepared {
                   population,
                   filter,
                   query,
                   ..
               }: &Prepared| {
            let search = query.one("q").map(str::to_ascii_lowercase);
            let flagged_only = query.one("flagged") == Some("true");
            let mut list: Vec<&Scored> = selected(population, filter)
                .filter(|a| search.as_deref().is_none_or(|q| a.row.login.contains(q)))
                .filter(|a| !flagged_only || a.score.score >= threshold)
                .collect();
            let descending = query.one("order") != Some("asc");
            match query.one("sort").unwrap_or("score") {
                "score" => list.sort_by(|a, b| {
                    a.score
                        .score
                        .cmp(&b.score.score)
                        .then(b.row.login.cmp(&a.row.login))
                }),
                "login" => list.sort_by(|a, b| a.row.login.cmp(&b.row.login)),
                "created_at" => list.sort_by_key(|a| a.row.twitch_created_at),
                "first_seen_at" => list.sort_by_key(|a| a.row.first_seen_at),
                "last_seen_at" => list.sort_by_key(|a| a.row.last_seen_at),
                "captures_seen" => list.sort_by_key(|a| a.row.captures_seen),
                "renames" => list.sort_by_key(|a| a.renames()),
                other => {
                    return Err(ApiError::bad(format!(
                        "sort must be one of {SORTS}, got '{other}'"
                    )));
                }
            }
            if descending {
                list.reverse();
            }
            page(list, query)
        },
    )
    .await
}

#[derive(Debug, sqlx::FromRow, Serialize)]
struct Name {
    #[serde(skip)]
    account_id: u64,
    login: String,
    display_name: String,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

async fn names_of(pool: &MySqlPool, ids: &[u64]) -> Result<Vec<Name>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
        "SELECT account_id, login, display_name, first_seen_at, last_seen_at FROM account_names WHERE account_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY account_id, first_seen_at, id");
    q.build_query_as().fetch_all(pool).await
}

async fn renames(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    answer(&state, session_id, raw.as_deref(), "renames", async |Prepared { population, filter, query, .. }: &Prepared| {
        let limit = match query.one("limit") {
            None => usize::MAX,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    ApiError::bad(format!("limit must be a positive number, got '{raw}'"))
                })?,
        };
        // Most renamed first; `limit` keeps the head (login reuse is still found among all).
        let mut renamed: Vec<&Scored> = selected(population, filter)
            .filter(|a| a.row.names > 1)
            .collect();
        renamed.sort_by(|a, b| {
            b.renames()
                .cmp(&a.renames())
                .then(a.row.login.cmp(&b.row.login))
        });
        let total = renamed.len();
        let ids: Vec<u64> = renamed.iter().map(|a| a.row.account_id).collect();
        let names = names_of(&state.pool, &ids).await?;
        let logins: HashSet<&str> = names.iter().map(|n| n.login.as_str()).collect();
        let mut reused = Vec::new();
        if !logins.is_empty() {
            let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
                "SELECT n.login, a.twitch_user_id FROM account_names n JOIN twitch_accounts a ON a.id = n.account_id WHERE n.login IN (",
            );
            let mut list = q.separated(", ");
            for login in &logins {
                list.push_bind(*login);
            }
            q.push(") GROUP BY n.login, a.twitch_user_id");
            let holders: Vec<(String, String)> = q.build_query_as().fetch_all(&state.pool).await?;
            let mut by_login: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (login, holder) in holders {
                by_login.entry(login).or_default().push(holder);
            }
            reused = by_login
                .into_iter()
                .filter(|(_, holders)| holders.len() > 1)
                .map(|(login, holders)| json!({"login": login, "held_by": holders}))
                .collect();
        }
        let mut ledgers: HashMap<u64, Vec<&Name>> = HashMap::new();
        for name in &names {
            ledgers.entry(name.account_id).or_default().push(name);
        }
        let accounts: Vec<Value> = renamed
            .iter()
            .take(limit)
            .map(|a| {
                let ledger = ledgers.get(&a.row.account_id).map_or(&[][..], Vec::as_slice);
                json!({"twitch_user_id": a.row.twitch_user_id, "login": a.row.login, "renames": a.renames(), "names": ledger})
            })
            .collect();
        Ok(json!({ "total": total, "accounts": accounts, "login_reuse": reused }))
    })
    .await
}

/// A capture an account was seen in: capture id, channel, when, live or not.
type Sighting = (u64, String, Option<DateTime<Utc>>, Option<bool>);

async fn account(
    State(state): State<AppState>,
    Path((session_id, twitch_user_id)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let Prepared { population, .. } = prepare(&state, session_id, raw.as_deref()).await?;
    let found = population
        .accounts
        .iter()
        .find(|a| a.row.twitch_user_id == twitch_user_id)
        .ok_or(ApiError(
            StatusCode::NOT_FOUND,
            "this account was not seen in this session".into(),
        ))?;
    let names = names_of(&state.pool, &[found.row.account_id]).await?;
    let seen: Vec<Sighting> = sqlx::query_as(
        "SELECT c.id, c.broadcaster_login, c.finished_at, c.stream_live FROM capture_chatters cc \
         JOIN captures c ON c.id = cc.capture_id WHERE cc.account_id = ? AND c.session_id = ? ORDER BY c.id",
    )
    .bind(found.row.account_id)
    .bind(session_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(json!({
        "account": view(found),
        "flag_threshold": state.scoring.flag_threshold,
        "names": names,
        "seen_in": seen.into_iter().map(|(id, channel, at, live)| json!({"capture_id": id, "channel": channel, "at": at, "live": live})).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, sqlx::FromRow, Serialize)]
struct CapturePoint {
    id: u64,
    broadcaster_login: String,
    finished_at: Option<DateTime<Utc>>,
    chatters_count: Option<u32>,
    new_in_session_count: Option<u32>,
    viewer_count: Option<u32>,
    stream_live: Option<bool>,
}

async fn captures(
    state: &AppState,
    session_id: u64,
    query: &Query,
) -> Result<Vec<CapturePoint>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
        "SELECT c.id, c.broadcaster_login, c.finished_at, c.chatters_count, c.new_in_session_count, c.viewer_count, \
         c.stream_live FROM captures c JOIN session_channels sc ON sc.id = c.session_channel_id \
         WHERE c.status = 'done' AND c.session_id = ",
    );
    q.push_bind(session_id);
    let broadcasters = query.all("broadcaster_id");
    if !broadcasters.is_empty() {
        q.push(" AND sc.broadcaster_id IN (");
        let mut list = q.separated(", ");
        for b in broadcasters {
            list.push_bind(b.to_string());
        }
        q.push(")");
    }
    q.push(" ORDER BY c.finished_at, c.id");
    q.build_query_as().fetch_all(&state.pool).await
}

fn ratio(point: &CapturePoint) -> Option<f64> {
    match (point.chatters_count, point.viewer_count) {
        (Some(c), Some(v)) if v > 0 => {
            Some((f64::from(c) / f64::from(v) * 1000.0).round() / 1000.0)
        }
        _ => None,
    }
}

async fn timeline(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let Prepared { query, .. } = prepare(&state, session_id, raw.as_deref()).await?;
    let points: Vec<Value> = captures(&state, session_id, &query)
        .await?
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            v["chatters_per_viewer"] = json!(ratio(p));
            v
        })
        .collect();
    Ok(Json(json!({ "captures": points })))
}

/// Streams an export: accounts, creation (by `bucket=day|month`) or timeline, as CSV or JSON.
/// Rows are written to the response as they are produced, in chunks.
async fn export(
    State(state): State<AppState>,
    Path((session_id, file)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    session_exists(&state, session_id).await?;
    let query = Query::parse(raw.as_deref());
    let period = period_filter(&query)?;
    let broadcasters = channel_filter(&query)?;
    let (what, format) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::bad("export names are accounts|creation|timeline plus .csv or .json")
    })?;
    let format = match format {
        "csv" => crate::export::Format::Csv,
        "json" => crate::export::Format::Json,
        other => {
            return Err(ApiError::bad(format!(
                "export format must be csv or json, got '{other}'"
            )));
        }
    };
    let body = match what {
        "accounts" => {
            // Streamed from the database, not from the cached population: an export of a
            // million accounts must not hold a million accounts.
            let context =
                crate::population::session_context(&state.pool, session_id, &state.scoring).await?;
            let captures_done: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM captures WHERE session_id = ? AND status = 'done'",
            )
            .bind(session_id)
            .fetch_one(&state.pool)
            .await?;
            crate::export::accounts(
                state.pool.clone(),
                crate::export::AccountSelection {
                    session_id,
                    broadcasters: broadcasters.iter().map(|b| b.to_string()).collect(),
                    created_from: period.created_from,
                    created_to: period.created_to,
                },
                Arc::new(context),
                captures_done.max(0) as u32,
                state.scoring.clone(),
                format,
            )
        }
        "creation" => {
            if !matches!(query.one("bucket"), None | Some("day" | "month")) {
                return Err(ApiError::bad("creation exports are by day or month"));
            }
            // Buckets are few (one per day at most); they come from the cached population.
            let Prepared {
                population,
                filter,
                query,
                ..
            } = prepare(&state, session_id, raw.as_deref()).await?;
            crate::export::creation(buckets(&population, &filter, &query)?, format)
        }
        "timeline" => {
            let points = captures(&state, session_id, &query).await?;
            crate::export::timeline(
                points
                    .into_iter()
                    .map(|p| {
                        let r = ratio(&p);
                        (
                            p.id,
                            p.broadcaster_login,
                            p.finished_at,
                            p.chatters_count,
                            p.new_in_session_count,
                            p.viewer_count,
                            p.stream_live,
                            r,
                        )
                    })
                    .collect(),
                format,
            )
        }
        other => {
            return Err(ApiError::bad(format!(
                "unknown export '{other}': accounts, creation or timeline"
            )));
        }
    };
    let content_type = match format {
        crate::export::Format::Csv => "text/csv; charset=utf-8",
        crate::export::Format::Json => "application/json",
    };
    metrics::counter!("exports_total", "what" => what.to_string()).increment(1);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(body),
    )
        .into_response())
}

pub type ByteStream = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;
