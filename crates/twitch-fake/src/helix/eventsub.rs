//! Create, Get and Delete EventSub Subscriptions (reference §14.1–14.6), webhook transport.
//!
//! The fake's choices where Twitch is silent (docs/twitch-fake.md): a create past
//! `max_total_cost` is 429 `maximum total cost exceeded`; a create identical (type, version,
//! condition, callback) to a live subscription is 409 `subscription already exists`; a fourth
//! identical (type, version, condition) one is 429; plain-http callbacks are accepted unless
//! `[eventsub] require_https`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};
use tca_common::query::QueryString;

use super::{
    Caller, HelixError, decode_cursor, encode_cursor, error, helix, invalid_cursor, parse_id,
};
use crate::state::eventsub::{PENDING, Subscription};
use crate::state::{Inner, State};
use crate::world::World;

/// Types the fake serves, each with the condition fields it requires (all version "1").
const TYPES: &[(&str, &[&str])] = &[
    ("stream.online", &["broadcaster_user_id"]),
    ("stream.offline", &["broadcaster_user_id"]),
    ("channel.raid", &[]),
    ("user.authorization.revoke", &["client_id"]),
];
const PAGE: usize = 100;

fn bad(message: &str) -> HelixError {
    error(StatusCode::BAD_REQUEST, message)
}

/// Webhook subscriptions are managed with an app token.
fn require_app(caller: &Caller) -> Result<(), HelixError> {
    match caller.user() {
        None => Ok(()),
        Some(_) => Err(bad("invalid transport and auth combination")),
    }
}

/// The condition, checked for its type: every id names an existing account, a raid names
/// exactly one side, the client id is the app's. Returns the accounts it names.
fn check_condition(
    inner: &Inner,
    world: &World,
    kind: &str,
    condition: &Map<String, Value>,
    client_id: &str,
) -> Result<Vec<crate::world::AccountIdx>, HelixError> {
    let required = TYPES
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, fields)| *fields)
        .ok_or_else(|| {
            bad("The combination of values in the type and version fields is not valid")
        })?;
    let text = |key: &str| condition.get(key).and_then(Value::as_str);
    for field in required {
        if text(field).is_none_or(str::is_empty) {
            return Err(bad(&format!("The condition is missing the {field} field")));
        }
    }
    if kind == "channel.raid" {
        let from = text("from_broadcaster_user_id").filter(|v| !v.is_empty());
        let to = text("to_broadcaster_user_id").filter(|v| !v.is_empty());
        if from.is_some() == to.is_some() {
            return Err(bad(
                "The condition must name exactly one of from_broadcaster_user_id and to_broadcaster_user_id",
            ));
        }
    }
    if kind == "user.authorization.revoke" && text("client_id") != Some(client_id) {
        return Err(bad(
            "The client_id in the condition must be the app's client ID",
        ));
    }
    let mut named = Vec::new();
    for (key, value) in condition {
        if key.ends_with("user_id") {
            let idx = value
                .as_str()
                .and_then(parse_id)
                .and_then(|id| world.by_id(id))
                .filter(|&idx| !inner.is_suspended(world, idx))
                .ok_or_else(|| bad(&format!("The {key} in the condition is not a user")))?;
            named.push(idx);
        }
    }
    Ok(named)
}

fn check_callback(callback: &str, require_https: bool) -> Result<(), HelixError> {
    let url = url::Url::parse(callback).map_err(|_| bad("The callback is not a valid URL"))?;
    let https = url.scheme() == "https" && url.port_or_known_default() == Some(443);
    let allowed = https || (!require_https && url.scheme() == "http");
    if !allowed {
        return Err(bad("The callback must use HTTPS on port 443"));
    }
    Ok(())
}

pub(super) async fn create(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let settings = state.scenario.eventsub.clone();
    let client_id = state.scenario.app.client_id.clone();
    let spawner = state.clone();
    helix(
        &state,
        "eventsub_create",
        &headers,
        move |inner, world, caller| {
            let doc: Value = serde_json::from_slice(&body)
                .map_err(|_| bad("The request body is not valid JSON."))?;
            let field = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or("");
            let transport = doc.get("transport").cloned().unwrap_or(Value::Null);
            let method = transport
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("");
            if method != "webhook" {
                if method.is_empty() {
                    return Err(bad("The transport method is missing"));
                }
                return Err(bad("The fake serves the webhook transport only"));
            }
            require_app(&caller)?;
            let kind = field("type");
            if field("version") != "1" || kind.is_empty() {
                return Err(bad(
                    "The combination of values in the type and version fields is not valid",
                ));
            }
            let Some(Value::Object(condition)) = doc.get("condition") else {
                return Err(bad("The condition field is missing"));
            };
            let named = check_condition(inner, world, kind, condition, &client_id)?;
            let callback = transport
                .get("callback")
                .and_then(Value::as_str)
                .unwrap_or("");
            check_callback(callback, settings.require_https)?;
            let secret = transport
                .get("secret")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !(10..=100).contains(&secret.len()) || !secret.is_ascii() {
                return Err(bad("The secret must be 10 to 100 ASCII characters"));
            }
            let identical: Vec<&Subscription> = inner
                .subscriptions()
                .iter()
                .filter(|s| s.is_live() && s.kind == kind && &s.condition == condition)
                .collect();
            if identical.iter().any(|s| s.callback == callback) {
                return Err(error(StatusCode::CONFLICT, "subscription already exists"));
            }
            if identical.len() >= 3 {
                return Err(error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "maximum subscriptions with type and condition exceeded",
                ));
            }
            // Free when every user it names has authorized the app; 1 otherwise (§14.6).
            let authorized =
                !named.is_empty() && named.iter().all(|&idx| !inner.tokens_of(idx).1.is_empty());
            let cost = if kind == "user.authorization.revoke" || !authorized {
                1
            } else {
                0
            };
            let (_, total_cost) = inner.subscription_totals();
            if total_cost + cost > settings.max_total_cost {
                return Err(error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "maximum total cost exceeded",
                ));
            }
            let subscription = Subscription {
                id: uuid::Uuid::new_v4().to_string(),
                kind: kind.to_string(),
                version: "1".into(),
                condition: condition.clone(),
                callback: callback.to_string(),
                secret: secret.to_string(),
                status: PENDING.into(),
                created_at: Utc::now(),
                cost,
                failures: 0,
            };
            let shown = subscription.body();
            crate::eventsub::verify_later(spawner, subscription.id.clone());
            inner.add_subscription(subscription);
            let (total, total_cost) = inner.subscription_totals();
            Ok(json!({
                "data": [shown],
                "total": total,
                "total_cost": total_cost,
                "max_total_cost": settings.max_total_cost,
                "__status": 202,
            }))
        },
    )
    .await
}

pub(super) async fn list(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    let max_total_cost = state.scenario.eventsub.max_total_cost;
    helix(
        &state,
        "eventsub_list",
        &headers,
        |inner, _world, caller| {
            require_app(&caller)?;
            let filters: Vec<(&str, &str)> = ["status", "type", "user_id", "subscription_id"]
                .iter()
                .filter_map(|k| query.one(k).map(|v| (*k, v)))
                .collect();
            if filters.len() > 1 {
                return Err(bad(
                    "Only one of status, type, user_id and subscription_id may be given",
                ));
            }
            let keep = |s: &Subscription| match filters.first() {
                None => true,
                Some(("status", v)) => s.status == *v,
                Some(("type", v)) => s.kind == *v,
                Some(("user_id", v)) => s
                    .condition
                    .iter()
                    .any(|(k, c)| k.ends_with("user_id") && c.as_str() == Some(v)),
                Some((_, v)) => s.id == *v,
            };
            let all: Vec<Value> = inner
                .subscriptions()
                .iter()
                .filter(|s| keep(s))
                .map(Subscription::body)
                .collect();
            let offset = match query.one("after") {
                None => 0,
                Some(cursor) => decode_cursor(cursor)
                    .and_then(|c| c.strip_prefix("eventsub:")?.parse::<usize>().ok())
                    .ok_or_else(invalid_cursor)?,
            };
            let end = (offset + PAGE).min(all.len());
            let next = (end < all.len()).then(|| encode_cursor(&format!("eventsub:{end}")));
            let (total, total_cost) = inner.subscription_totals();
            Ok(json!({
                "total": total,
                "data": all.get(offset.min(end)..end).unwrap_or(&[]),
                "total_cost": total_cost,
                "max_total_cost": max_total_cost,
                "pagination": super::pagination(next),
            }))
        },
    )
    .await
}

pub(super) async fn delete(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(
        &state,
        "eventsub_delete",
        &headers,
        |inner, _world, caller| {
            require_app(&caller)?;
            let id = super::required(&query, "id")?;
            if inner.remove_subscription(id) {
                Ok(Value::Null)
            } else {
                Err(error(StatusCode::NOT_FOUND, "subscription not found"))
            }
        },
    )
    .await
}
