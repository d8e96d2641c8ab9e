//! Get Users.

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use tca_common::query::QueryString;

use super::{error, helix, parse_id};
use crate::rng;
use crate::state::{Inner, State};
use crate::world::{AccountIdx, World};

#[derive(Serialize)]
struct UserBody {
    id: String,
    login: String,
    display_name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    broadcaster_type: &'static str,
    description: String,
    profile_image_url: String,
    offline_image_url: String,
    view_count: u64,
    created_at: String,
}

/// Default avatars live under `user-default-pictures-uv/`; the analyser recognises them there.
const DEFAULT_AVATARS: &[&str] = &[
    "ce57700a-def9-11e9-842d-784f43822e80",
    "13e5fa74-defa-11e9-809c-784f43822e80",
    "294c98b5-e34d-42cd-a8f0-140b72fba9b0",
    "998f01ae-def8-11e9-b95c-784f43822e80",
    "de130ab0-def7-11e9-b668-784f43822e80",
    "dbdc9198-def8-11e9-8681-784f43822e80",
];

pub fn profile_image_url(world: &World, idx: AccountIdx) -> String {
    let account = world.account(idx);
    let h = rng::hash(world.seed, &[8, u64::from(idx)]);
    if account.default_avatar {
        format!(
            "https://static-cdn.jtvnw.net/user-default-pictures-uv/{}-profile_image-300x300.png",
            DEFAULT_AVATARS[(h % DEFAULT_AVATARS.len() as u64) as usize]
        )
    } else {
        format!(
            "https://static-cdn.jtvnw.net/jtv_user_pictures/{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}-profile_image-300x300.png",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xfff,
            (h >> 20) & 0xfff,
            h & 0xffff_ffff_ffff
        )
    }
}

pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn user_body(inner: &Inner, world: &World, idx: AccountIdx) -> UserBody {
    let account = world.account(idx);
    let (login, display_name) = inner.names(world, idx);
    UserBody {
        id: account.id.to_string(),
        login,
        display_name,
        kind: "",
        broadcaster_type: account.broadcaster_type,
        description: account.description.clone(),
        profile_image_url: profile_image_url(world, idx),
        offline_image_url: String::new(),
        view_count: 0,
        created_at: rfc3339(account.created_at),
    }
}

pub(super) async fn get_users(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = QueryString::parse(raw.as_deref());
    helix(&state, "users", &headers, |inner, world, caller| {
        let ids = query.all("id");
        let logins = query.all("login");
        if ids.len() + logins.len() > 100 {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "The parameters \"id\" and \"login\" may be repeated at most 100 times combined",
            ));
        }
        let malformed = ids.iter().any(|id| parse_id(id).is_none())
            || logins.iter().any(|l| !crate::scenario::is_valid_login(l));
        if malformed {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Invalid login names, emails or IDs in request",
            ));
        }
        let mut wanted: Vec<AccountIdx> = Vec::new();
        if ids.is_empty() && logins.is_empty() {
            match caller.user() {
                Some(me) => wanted.push(me),
                None => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Must provide an ID, Login or OAuth Token",
                    ));
                }
            }
        }
        wanted.extend(
            ids.iter()
                .filter_map(|id| parse_id(id).and_then(|id| world.by_id(id))),
        );
        wanted.extend(
            logins
                .iter()
                .filter_map(|login| inner.resolve_login(world, login)),
        );
        let mut seen = std::collections::HashSet::new();
        let data: Vec<UserBody> = wanted
            .into_iter()
            // Unknown ids are simply absent; so are suspended accounts.
            .filter(|idx| seen.insert(*idx) && !inner.is_suspended(world, *idx))
            .map(|idx| user_body(inner, world, idx))
            .collect();
        Ok(json!({ "data": data }))
    })
    .await
}
