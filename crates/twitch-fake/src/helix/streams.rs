//! Get Streams.

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tca_common::query::QueryString;

use super::rfc3339;
use super::{
    decode_cursor, encode_cursor, error, helix, invalid_cursor, page_size, pagination, parse_id,
};
use crate::rng;
use crate::state::{Inner, State};
use crate::world::{AccountIdx, World};

pub(super) async fn get_streams(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(&state, "streams", &headers, |inner, world, _caller| {
        let user_ids = query.all("user_id");
        let user_logins = query.all("user_login");
        if user_ids.len() > 100 || user_logins.len() > 100 {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "you may only send 100 of each parameter",
            ));
        }
        match query.one("type") {
            None | Some("all") | Some("live") => {}
            Some(_) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "The parameter \"type\" was malformed: the value must be one of all, live",
                ));
            }
        }
        let first = page_size(&query, 20, 100)?;
        let filtered = !user_ids.is_empty() || !user_logins.is_empty();
        let wanted: Vec<AccountIdx> = user_ids
            .iter()
            .filter_map(|id| parse_id(id).and_then(|id| world.by_id(id)))
            .chain(
                user_logins
                    .iter()
                    .filter_map(|l| inner.resolve_login(world, l)),
            )
            .collect();
        let mut live: Vec<usize> = (0..world.channels.len())
            .filter(|&c| inner.live[c])
            .filter(|&c| !filtered || wanted.contains(&world.channels[c].account))
            .filter(|&c| !inner.is_suspended(world, world.channels[c].account))
            .collect();
        live.sort_by_key(|&c| (std::cmp::Reverse(inner.viewer_counts[c]), c));
        let offset = match query.one("after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .and_then(|c| c.strip_prefix("streams:")?.parse::<usize>().ok())
                .ok_or_else(invalid_cursor)?,
        };
        let end = (offset + first).min(live.len());
        let data: Vec<Value> = live
            .get(offset.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&c| stream_body(inner, world, c))
            .collect();
        let next = (end < live.len()).then(|| encode_cursor(&format!("streams:{end}")));
        Ok(json!({ "data": data, "pagination": pagination(next) }))
    })
    .await
}

fn stream_body(inner: &Inner, world: &World, c: usize) -> Value {
    let channel = &world.channels[c];
    let account = world.account(channel.account);
    let (login, name) = inner.names(world, channel.account);
    let game_id = rng::hash_str(&channel.game) % 1_000_000;
    json!({
        "id": (40_000_000_000u64 + rng::hash(world.seed, &[9, c as u64]) % 1_000_000_000).to_string(),
        "user_id": account.id.to_string(),
        "user_login": login,
        "user_name": name,
        "game_id": if channel.game.is_empty() { String::new() } else { game_id.to_string() },
        "game_name": channel.game,
        "type": "live",
        "title": channel.title,
        "tags": ["English"],
        "viewer_count": inner.viewer_counts[c],
        "started_at": rfc3339(inner.started_at[c]),
        "language": "en",
        "thumbnail_url": format!("https://static-cdn.jtvnw.net/previews-ttv/live_user_{login}-{{width}}x{{height}}.jpg"),
        "tag_ids": [],
        "is_mature": false,
    })
}
