//! Ban User, Unban User and Get Banned Users (../shared/twitch-api-reference.md §15).
//!
//! The fake's choices where Twitch is silent (docs/twitch-fake.md): who "may not be banned"
//! is the broadcaster, and any moderator of the channel (chat bots included) unless the
//! broadcaster is the caller; the per-broadcaster limit is `[rate_limit] bans_per_window`
//! ban and unban calls per `bans_window`, answered 429; a 409 is injected at
//! `[faults] ban_conflict_rate`, before anything changes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tca_common::query::QueryString;

use super::{
    Caller, HelixError, decode_cursor, encode_cursor, error, helix, invalid_cursor, page_size,
    pagination, parse_id, required, rfc3339,
};
use crate::scenario::RateLimit;
use crate::state::{BanRefusal, Inner, State};
use crate::world::{AccountIdx, World};

pub const SCOPE_MANAGE_BANS: &str = "moderator:manage:banned_users";
pub const SCOPE_READ_MODERATION: &str = "moderation:read";

/// The longest timeout Twitch accepts: two weeks, in seconds.
const MAX_TIMEOUT_SECS: i64 = 1_209_600;
const MAX_REASON_CHARS: usize = 500;

const INVALID_IDS: &str = "One of broadcaster ID, user ID or the moderator ID is invalid.";

/// Who acts where: the caller (the token's user, named in `moderator_id`) and the channel,
/// once the token, the scope, the ids and the caller's moderatorship are checked.
struct Acting {
    moderator: AccountIdx,
    broadcaster: AccountIdx,
}

fn acting(
    inner: &Inner,
    world: &World,
    caller: &Caller,
    query: &QueryString,
) -> Result<Acting, HelixError> {
    let Some(me) = caller.user() else {
        return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
    };
    caller.require_scope(SCOPE_MANAGE_BANS)?;
    let broadcaster = required(query, "broadcaster_id")?;
    let moderator = required(query, "moderator_id")?;
    let Some(moderator) = parse_id(moderator) else {
        return Err(error(StatusCode::BAD_REQUEST, INVALID_IDS));
    };
    if moderator != world.account(me).id {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "The ID in moderator_id must match the user ID found in the request's OAuth token.",
        ));
    }
    let broadcaster = parse_id(broadcaster)
        .and_then(|id| world.by_id(id))
        .filter(|&idx| !inner.is_suspended(world, idx))
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, INVALID_IDS))?;
    if broadcaster != me && !inner.is_moderator(world, broadcaster, me) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "The user in moderator_id is not one of the broadcaster's moderators.",
        ));
    }
    Ok(Acting {
        moderator: me,
        broadcaster,
    })
}

/// The per-broadcaster limit, then the injected conflict: both before anything changes.
fn admit(
    inner: &mut Inner,
    limits: &RateLimit,
    seed: u64,
    broadcaster: AccountIdx,
) -> Result<(), HelixError> {
    if !inner.admit_ban_call(broadcaster, limits.bans_per_window, limits.bans_window) {
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "The app has exceeded the number of requests it may make per minute for this broadcaster.",
        ));
    }
    if inner.ban_conflict(seed) {
        return Err(error(
            StatusCode::CONFLICT,
            "You may not update the user's ban state while someone else is updating the state.",
        ));
    }
    Ok(())
}

/// The body's `data` object: `user_id`, and optionally `duration` and `reason`.
struct BanRequest {
    user_id: String,
    duration: Option<u32>,
    reason: String,
}

fn ban_request(body: &[u8]) -> Result<BanRequest, HelixError> {
    let bad = |message: &str| error(StatusCode::BAD_REQUEST, message);
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| bad("The request body is not valid JSON."))?;
    let data = match doc.get("data") {
        Some(Value::Object(data)) => data,
        Some(Value::Array(_)) => {
            return Err(bad("The data field must be an object, not an array."));
        }
        _ => return Err(bad("Missing required parameter \"data\"")),
    };
    let user_id = match data.get("user_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("Missing required parameter \"user_id\"")),
    };
    let duration = match data.get("duration") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let seconds = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            };
            match seconds {
                Some(s) if (1..=MAX_TIMEOUT_SECS).contains(&s) => Some(s as u32),
                _ => return Err(bad("The value in the duration field is not valid.")),
            }
        }
    };
    let reason = match data.get("reason") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(r)) => r.clone(),
        Some(_) => return Err(bad("The value in the reason field is not valid.")),
    };
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(bad("The text in the reason field is too long."));
    }
    Ok(BanRequest {
        user_id,
        duration,
        reason,
    })
}

/// The account to ban or unban; suspended accounts can still be acted on by id.
fn target(world: &World, raw: &str) -> Result<AccountIdx, HelixError> {
    parse_id(raw)
        .and_then(|id| world.by_id(id))
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, INVALID_IDS))
}

pub(super) async fn ban_user(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    let limits = &state.scenario.rate_limit;
    let seed = state.world.seed;
    helix(&state, "ban", &headers, |inner, world, caller| {
        let acting = acting(inner, world, &caller, &query)?;
        let request = ban_request(&body)?;
        let user = target(world, &request.user_id)?;
        let protected = user == acting.broadcaster
            || (acting.moderator != acting.broadcaster
                && inner.is_moderator(world, acting.broadcaster, user));
        if protected {
            let what = if request.duration.is_some() {
                "timed out"
            } else {
                "banned"
            };
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("The user specified in the user_id field may not be {what}."),
            ));
        }
        admit(inner, limits, seed, acting.broadcaster)?;
        let ban = inner
            .ban(
                acting.broadcaster,
                user,
                acting.moderator,
                request.duration,
                &request.reason,
            )
            .map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    "The user specified in the user_id field is already banned.",
                )
            })?;
        Ok(json!({ "data": [{
            "broadcaster_id": world.account(acting.broadcaster).id.to_string(),
            "moderator_id": world.account(acting.moderator).id.to_string(),
            "user_id": world.account(user).id.to_string(),
            "created_at": rfc3339(ban.created_at),
            "end_time": ban.ends_at.map(rfc3339),
        }]}))
    })
    .await
}

pub(super) async fn unban_user(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    let limits = &state.scenario.rate_limit;
    let seed = state.world.seed;
    helix(&state, "unban", &headers, |inner, world, caller| {
        let acting = acting(inner, world, &caller, &query)?;
        let user = target(world, required(&query, "user_id")?)?;
        admit(inner, limits, seed, acting.broadcaster)?;
        match inner.unban(acting.broadcaster, user) {
            Ok(()) => Ok(Value::Null),
            Err(BanRefusal::NotBanned | BanRefusal::AlreadyBanned) => Err(error(
                StatusCode::BAD_REQUEST,
                "The user specified in the user_id query parameter is not banned.",
            )),
        }
    })
    .await
}

pub(super) async fn get_banned_users(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(&state, "banned", &headers, |inner, world, caller| {
        let Some(me) = caller.user() else {
            return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
        };
        if caller.require_scope(SCOPE_MANAGE_BANS).is_err() {
            caller.require_scope(SCOPE_READ_MODERATION)?;
        }
        let broadcaster = required(&query, "broadcaster_id")?;
        // Only the broadcaster may list their bans: a moderator's token is refused.
        if parse_id(broadcaster) != Some(world.account(me).id) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "The ID in broadcaster_id must match the user ID found in the request's OAuth token.",
            ));
        }
        let user_ids = query.all("user_id");
        if user_ids.len() > 100 {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "The parameter \"user_id\" may be repeated at most 100 times",
            ));
        }
        let first = page_size(&query, 20, 100)?;
        let mut banned: Vec<(u64, AccountIdx)> = inner
            .bans_in(me)
            .into_iter()
            .map(|(user, _)| (world.account(user).id, user))
            .collect();
        if user_ids.is_empty() {
            banned.sort_unstable();
        } else {
            // In the order asked, only those banned or timed out.
            banned = user_ids
                .iter()
                .filter_map(|raw| parse_id(raw))
                .filter_map(|id| banned.iter().find(|(b, _)| *b == id).copied())
                .collect();
        }
        let offset = match query.one("after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .and_then(|c| c.strip_prefix("banned:")?.parse::<usize>().ok())
                .ok_or_else(invalid_cursor)?,
        };
        let end = (offset + first).min(banned.len());
        let data: Vec<Value> = banned
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&(_, user)| {
                let ban = inner.ban_of(me, user)?;
                let (login, name) = inner.names(world, user);
                let (mod_login, mod_name) = inner.names(world, ban.moderator);
                Some(json!({
                    "user_id": world.account(user).id.to_string(),
                    "user_login": login,
                    "user_name": name,
                    // A string, empty for a permanent ban (not null).
                    "expires_at": ban.ends_at.map(rfc3339).unwrap_or_default(),
                    "created_at": rfc3339(ban.created_at),
                    "reason": ban.reason,
                    "moderator_id": world.account(ban.moderator).id.to_string(),
                    "moderator_login": mod_login,
                    "moderator_name": mod_name,
                }))
            })
            .collect();
        let next = (end < banned.len()).then(|| encode_cursor(&format!("banned:{end}")));
        Ok(json!({ "data": data, "pagination": pagination(next) }))
    })
    .await
}
