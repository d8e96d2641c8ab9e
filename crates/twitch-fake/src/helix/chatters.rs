//! Get Chatters and Get Moderated Channels (cursor-paged lists).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use tca_common::query::QueryString;

use super::{SCOPE_CHATTERS, SCOPE_MODERATED};
use super::{
    decode_cursor, encode_cursor, error, helix, invalid_cursor, page_size, pagination, parse_id,
    required,
};
use crate::state::State;
use crate::world::ChannelIdx;

#[derive(Serialize)]
struct ChatterBody {
    user_id: String,
    user_login: String,
    user_name: String,
}

pub(super) async fn get_chatters(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(&state, "chatters", &headers, |inner, world, caller| {
        let Some(me) = caller.user() else {
            return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
        };
        caller.require_scope(SCOPE_CHATTERS)?;
        let broadcaster = required(&query, "broadcaster_id")?;
        let moderator = required(&query, "moderator_id")?;
        let first = page_size(&query, 100, 1000)?;
        if parse_id(moderator) != Some(world.account(me).id) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "The ID in moderator_id must match the user ID found in the request's OAuth token.",
            ));
        }
        let Some(broadcaster_idx) = parse_id(broadcaster).and_then(|id| world.by_id(id)) else {
            return Err(error(StatusCode::BAD_REQUEST, "Invalid broadcaster_id"));
        };
        if inner.is_suspended(world, broadcaster_idx) {
            return Err(error(StatusCode::BAD_REQUEST, "Invalid broadcaster_id"));
        }
        let channel = world.channel_by_account(broadcaster_idx);
        let may_read = broadcaster_idx == me || inner.is_moderator(world, broadcaster_idx, me);
        if !may_read {
            return Err(error(
                StatusCode::FORBIDDEN,
                "The user in moderator_id is not one of the broadcaster's moderators.",
            ));
        }
        let Some(channel) = channel else {
            // A real account that is not a scenario channel: nobody is in its chat.
            return Ok(json!({ "data": [], "pagination": {}, "total": 0 }));
        };
        let (listing, offset, members) = match query.one("after") {
            None => {
                let (number, members) = inner.start_listing(world, channel);
                (number, 0, members)
            }
            Some(cursor) => {
                let (listing, offset) = decode_cursor(cursor)
                    .and_then(|c| parse_chatters_cursor(&c, channel))
                    .ok_or_else(invalid_cursor)?;
                if inner.faults.churn_mid_pass {
                    // The audience moved on since the last page.
                    let (number, members) = inner.start_listing(world, channel);
                    (number, offset, members)
                } else {
                    (listing, offset, inner.listing(world, channel, listing))
                }
            }
        };
        let end = (offset + first).min(members.len());
        let data: Vec<ChatterBody> = members
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&idx| {
                let (user_login, user_name) = inner.names(world, idx);
                ChatterBody {
                    user_id: world.account(idx).id.to_string(),
                    user_login,
                    user_name,
                }
            })
            .collect();
        let mut next = (end < members.len())
            .then(|| encode_cursor(&format!("chatters:{channel}:{listing}:{end}")));
        if inner.faults.repeat_cursor && query.one("after").is_some() {
            next = query.one("after").map(str::to_string);
        }
        Ok(json!({ "data": data, "pagination": pagination(next), "total": members.len() }))
    })
    .await
}

fn parse_chatters_cursor(cursor: &str, channel: ChannelIdx) -> Option<(u32, usize)> {
    let mut parts = cursor.strip_prefix("chatters:")?.split(':');
    let c: ChannelIdx = parts.next()?.parse().ok()?;
    let listing: u32 = parts.next()?.parse().ok()?;
    let offset: usize = parts.next()?.parse().ok()?;
    (c == channel && parts.next().is_none()).then_some((listing, offset))
}

pub(super) async fn get_moderated_channels(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(&state, "moderated_channels", &headers, |inner, world, caller| {
        let Some(me) = caller.user() else {
            return Err(error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token"));
        };
        caller.require_scope(SCOPE_MODERATED)?;
        let user_id = required(&query, "user_id")?;
        let first = page_size(&query, 20, 100)?;
        if parse_id(user_id) != Some(world.account(me).id) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "The ID in user_id must match the user ID found in the request's OAuth token.",
            ));
        }
        // The user's own channel is not listed: a broadcaster does not moderate it.
        let mut channels: Vec<(String, String, String)> = world
            .channels
            .iter()
            .filter(|c| inner.is_moderator(world, c.account, me) && c.account != me)
            .filter(|c| !inner.is_suspended(world, c.account))
            .map(|c| {
                let (login, name) = inner.names(world, c.account);
                (login, world.account(c.account).id.to_string(), name)
            })
            .collect();
        channels.sort();
        let offset = match query.one("after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .and_then(|c| c.strip_prefix(&format!("moderated:{me}:"))?.parse::<usize>().ok())
                .ok_or_else(invalid_cursor)?,
        };
        let end = (offset + first).min(channels.len());
        let data: Vec<Value> = channels
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|(login, id, name)| {
                json!({ "broadcaster_id": id, "broadcaster_login": login, "broadcaster_name": name })
            })
            .collect();
        let mut next =
            (end < channels.len()).then(|| encode_cursor(&format!("moderated:{me}:{end}")));
        if inner.faults.repeat_cursor && query.one("after").is_some() {
            next = query.one("after").map(str::to_string);
        }
        Ok(json!({ "data": data, "pagination": pagination(next) }))
    })
    .await
}
