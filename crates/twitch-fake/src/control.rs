//! Test control under `/_fake/` (only on the fake): change the world while it runs, mint
//! tokens and codes without the consent page, inject faults, read statistics.

use std::sync::Arc;

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::scenario::Faults;
use crate::state::{Inner, State};
use crate::world::{AccountIdx, World};

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/_fake/channels/{login}/live", post(set_live))
        .route("/_fake/accounts/rename", post(rename_account))
        .route("/_fake/accounts/suspend", post(suspend_account))
        .route("/_fake/tokens", post(mint_tokens))
        .route("/_fake/tokens/expire", post(expire_tokens))
        .route("/_fake/tokens/of/{login}", get(list_tokens))
        .route("/_fake/tokens/revoke-grants", post(revoke_grants))
        .route("/_fake/codes", post(mint_code))
        .route("/_fake/ratelimit/reset", post(reset_buckets))
        .route("/_fake/faults", get(show_faults).post(set_faults))
        .route("/_fake/app/secret", post(rotate_secret))
        .route("/_fake/stats", get(show_stats))
        .route("/_fake/bans/{login}", get(show_bans))
        .route("/_fake/channels/{login}/moderators", post(set_moderator))
        .route("/_fake/channels/{login}/raid", post(raid))
        .route("/_fake/eventsub", get(show_eventsub))
        .route("/_fake/eventsub/{id}/revoke", post(revoke_subscription))
        .with_state(state)
}

/// A refused control request: `{"error": "…"}` with its status.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(status: StatusCode, message: impl Into<String>) -> Response {
    Refusal(status, message.into()).into_response()
}

/// An account named by `id` or `login`.
#[derive(Debug, Deserialize)]
struct AccountRef {
    id: Option<String>,
    login: Option<String>,
}

fn by_login(inner: &Inner, world: &World, login: &str) -> Result<AccountIdx, Refusal> {
    inner
        .resolve_login(world, login)
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, format!("no account '{login}'")))
}

fn find(inner: &Inner, world: &World, who: &AccountRef) -> Result<AccountIdx, Refusal> {
    let found = match (&who.id, &who.login) {
        (Some(id), _) => id.parse().ok().and_then(|id| world.by_id(id)),
        (None, Some(login)) => inner.resolve_login(world, login),
        (None, None) => {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                "give \"id\" or \"login\"".into(),
            ));
        }
    };
    found.ok_or_else(|| Refusal(StatusCode::NOT_FOUND, "no such account".into()))
}

#[derive(Debug, Deserialize)]
struct LiveBody {
    live: bool,
    viewer_count: Option<u32>,
}

async fn set_live(
    AxumState(state): AxumState<Arc<State>>,
    Path(login): Path<String>,
    Json(body): Json<LiveBody>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let Some(channel) = inner
        .resolve_login(world, &login)
        .and_then(|idx| world.channel_by_account(idx))
    else {
        return bad(StatusCode::NOT_FOUND, format!("no channel '{login}'"));
    };
    let c = channel as usize;
    let changed = body.live != inner.live[c];
    if body.live && !inner.live[c] {
        inner.started_at[c] = chrono::Utc::now();
    }
    inner.live[c] = body.live;
    if let Some(viewers) = body.viewer_count {
        inner.viewer_counts[c] = viewers;
    }
    let answer =
        json!({ "login": login, "live": inner.live[c], "viewer_count": inner.viewer_counts[c] });
    let started_at = inner.started_at[c];
    drop(inner);
    if changed {
        // EventSub: stream.online / stream.offline to the channel's subscriptions.
        let account = world.channels[c].account;
        let id = world.account(account).id.to_string();
        let mut event = crate::eventsub::user_fields(&state, account, "broadcaster");
        let kind = if body.live {
            event.insert(
                "id".into(),
                json!(
                    (40_000_000_000u64
                        + crate::rng::hash(world.seed, &[9, c as u64]) % 1_000_000_000)
                        .to_string()
                ),
            );
            event.insert("type".into(), json!("live"));
            event.insert(
                "started_at".into(),
                json!(crate::helix::rfc3339(started_at)),
            );
            "stream.online"
        } else {
            "stream.offline"
        };
        crate::eventsub::notify(
            &state,
            kind,
            |condition| condition["broadcaster_user_id"] == id.as_str(),
            serde_json::Value::Object(event),
        );
    }
    Json(answer).into_response()
}

#[derive(Debug, Deserialize)]
struct RenameBody {
    #[serde(flatten)]
    who: AccountRef,
    new_login: String,
    new_display_name: Option<String>,
}

async fn rename_account(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<RenameBody>,
) -> Response {
    if !crate::scenario::is_valid_login(&body.new_login) {
        return bad(StatusCode::BAD_REQUEST, "new_login is not a Twitch login");
    }
    let world = &state.world;
    let mut inner = state.lock();
    let idx = match find(&inner, world, &body.who) {
        Ok(idx) => idx,
        Err(refused) => return refused.into_response(),
    };
    let new_login = body.new_login.to_ascii_lowercase();
    // A login is held by one account at a time: the previous holder is renamed away, which is
    // how "login reuse" (a name taken over by another user id) is staged.
    if let Some(holder) = inner.resolve_login(world, &new_login).filter(|&h| h != idx) {
        let freed = format!(
            "{}_{}",
            &new_login[..new_login.len().min(18)],
            world.account(holder).id % 10_000
        );
        inner.rename(holder, &freed, &freed);
    }
    let display = body
        .new_display_name
        .unwrap_or_else(|| body.new_login.clone());
    inner.rename(idx, &new_login, &display);
    Json(json!({ "id": world.account(idx).id.to_string(), "login": new_login, "display_name": display }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct SuspendBody {
    #[serde(flatten)]
    who: AccountRef,
    #[serde(default = "yes")]
    suspended: bool,
}

fn yes() -> bool {
    true
}

async fn suspend_account(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<SuspendBody>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let idx = match find(&inner, world, &body.who) {
        Ok(idx) => idx,
        Err(refused) => return refused.into_response(),
    };
    inner.set_suspended(idx, body.suspended);
    Json(json!({ "id": world.account(idx).id.to_string(), "suspended": body.suspended }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct MintBody {
    login: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// A user token pair, answered exactly like `/oauth2/token`.
async fn mint_tokens(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<MintBody>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let Some(idx) = inner.resolve_login(world, &body.login) else {
        return bad(
            StatusCode::NOT_FOUND,
            format!("no account '{}'", body.login),
        );
    };
    let lifetime = state.scenario.tokens.user_token_lifetime;
    Json(inner.issue_user_tokens(idx, body.scopes, lifetime)).into_response()
}

#[derive(Debug, Deserialize)]
struct CodeBody {
    login: String,
    #[serde(default)]
    scopes: Vec<String>,
    redirect_uri: String,
}

async fn mint_code(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<CodeBody>,
) -> Response {
    if !state
        .scenario
        .app
        .redirect_uris
        .contains(&body.redirect_uri)
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not registered for the app",
        );
    }
    let world = &state.world;
    let mut inner = state.lock();
    let Some(idx) = inner.resolve_login(world, &body.login) else {
        return bad(
            StatusCode::NOT_FOUND,
            format!("no account '{}'", body.login),
        );
    };
    let code = inner.issue_code(
        idx,
        body.scopes,
        body.redirect_uri,
        state.scenario.tokens.code_lifetime,
    );
    Json(json!({ "code": code })).into_response()
}

/// The live tokens of a login, so tests can search storage for them.
async fn list_tokens(
    AxumState(state): AxumState<Arc<State>>,
    Path(login): Path<String>,
) -> Response {
    let world = &state.world;
    let inner = state.lock();
    let idx = match by_login(&inner, world, &login) {
        Ok(idx) => idx,
        Err(refused) => return refused.into_response(),
    };
    let (access, refresh) = inner.tokens_of(idx);
    Json(json!({ "access_tokens": access, "refresh_tokens": refresh })).into_response()
}

#[derive(Debug, Deserialize)]
struct ExpireBody {
    token: Option<String>,
    login: Option<String>,
}

/// Expires access tokens now (by token, or every token of a login); refresh tokens still work.
async fn expire_tokens(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<ExpireBody>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let account = match &body.login {
        Some(login) => match by_login(&inner, world, login) {
            Ok(idx) => Some(idx),
            Err(refused) => return refused.into_response(),
        },
        None => None,
    };
    if account.is_none() && body.token.is_none() {
        return bad(StatusCode::BAD_REQUEST, "give \"token\" or \"login\"");
    }
    let expired = inner.expire_tokens(account, body.token.as_deref());
    Json(json!({ "expired": expired })).into_response()
}

/// Invalidates a login's refresh tokens, as when the user disconnects the app on Twitch.
async fn revoke_grants(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<AccountRef>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let idx = match find(&inner, world, &body) {
        Ok(idx) => idx,
        Err(refused) => return refused.into_response(),
    };
    let revoked = inner.revoke_grants(idx);
    let expired = inner.expire_tokens(Some(idx), None);
    let user_id = world.account(idx).id.to_string();
    let depending: Vec<String> = inner
        .subscriptions()
        .iter()
        .filter(|s| s.status == crate::state::eventsub::ENABLED && s.cost == 0)
        .filter(|s| {
            s.condition
                .iter()
                .any(|(k, v)| k.ends_with("user_id") && v.as_str() == Some(user_id.as_str()))
        })
        .map(|s| s.id.clone())
        .collect();
    drop(inner);
    // EventSub: the app's `user.authorization.revoke`, and the subscriptions that were free
    // because of this user's authorization are revoked (`authorization_revoked`).
    let mut event = crate::eventsub::user_fields(&state, idx, "");
    event.insert("client_id".into(), json!(state.scenario.app.client_id));
    let client_id = state.scenario.app.client_id.clone();
    crate::eventsub::notify(
        &state,
        "user.authorization.revoke",
        |condition| condition["client_id"] == client_id.as_str(),
        serde_json::Value::Object(event),
    );
    for id in depending {
        let state = state.clone();
        tokio::spawn(async move {
            crate::eventsub::revoke(&state, &id, "authorization_revoked").await;
        });
    }
    Json(json!({ "refresh_tokens_revoked": revoked, "access_tokens_expired": expired }))
        .into_response()
}

async fn reset_buckets(AxumState(state): AxumState<Arc<State>>) -> Response {
    state.lock().reset_buckets();
    Json(json!({ "reset": true })).into_response()
}

async fn show_faults(AxumState(state): AxumState<Arc<State>>) -> Response {
    Json(state.lock().faults.clone()).into_response()
}

/// Replaces the fault settings (fields left out are off).
async fn set_faults(
    AxumState(state): AxumState<Arc<State>>,
    Json(faults): Json<Faults>,
) -> Response {
    state.lock().faults = faults.clone();
    Json(faults).into_response()
}

#[derive(Deserialize)]
struct SecretBody {
    /// The app's new client secret; absent or null: back to the scenario's.
    #[serde(default)]
    client_secret: Option<String>,
}

/// Rotates the app's client secret, as an operator does in Twitch's console: from now on
/// `/oauth2/token` answers 403 `invalid client secret` to the old one.
async fn rotate_secret(
    AxumState(state): AxumState<Arc<State>>,
    Json(body): Json<SecretBody>,
) -> Response {
    let rotated = body.client_secret.is_some();
    state.lock().rotate_secret(body.client_secret);
    Json(serde_json::json!({ "rotated": rotated })).into_response()
}

async fn show_stats(AxumState(state): AxumState<Arc<State>>) -> Response {
    Json(&state.lock().stats).into_response()
}

/// The truth about a channel's bans: who is banned or timed out now, and how many times each
/// account was banned and unbanned since the fake started (a batch that bans an account
/// twice shows here as `bans: 2`).
async fn show_bans(AxumState(state): AxumState<Arc<State>>, Path(login): Path<String>) -> Response {
    let world = &state.world;
    let inner = state.lock();
    let Some(broadcaster) = inner
        .resolve_login(world, &login)
        .filter(|&idx| world.channel_by_account(idx).is_some())
    else {
        return bad(StatusCode::NOT_FOUND, format!("no channel '{login}'"));
    };
    let mut banned: Vec<_> = inner
        .bans_in(broadcaster)
        .into_iter()
        .map(|(user, ban)| {
            json!({
                "id": world.account(user).id.to_string(),
                "login": inner.names(world, user).0,
                "ends_at": ban.ends_at,
                "reason": ban.reason,
            })
        })
        .collect();
    banned.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let counts: serde_json::Map<String, serde_json::Value> = inner
        .ban_counts_in(broadcaster)
        .into_iter()
        .map(|(user, (bans, unbans))| {
            (
                world.account(user).id.to_string(),
                json!({ "bans": bans, "unbans": unbans }),
            )
        })
        .collect();
    Json(json!({ "banned": banned, "counts": counts })).into_response()
}

#[derive(Debug, Deserialize)]
struct ModeratorBody {
    #[serde(flatten)]
    who: AccountRef,
    #[serde(default = "yes")]
    moderator: bool,
}

/// Makes an account a moderator of the channel (default) or removes it, as the broadcaster
/// does in their chat (`/mod`, `/unmod`).
async fn set_moderator(
    AxumState(state): AxumState<Arc<State>>,
    Path(login): Path<String>,
    Json(body): Json<ModeratorBody>,
) -> Response {
    let world = &state.world;
    let mut inner = state.lock();
    let Some(broadcaster) = inner
        .resolve_login(world, &login)
        .filter(|&idx| world.channel_by_account(idx).is_some())
    else {
        return bad(StatusCode::NOT_FOUND, format!("no channel '{login}'"));
    };
    let who = match find(&inner, world, &body.who) {
        Ok(idx) => idx,
        Err(refused) => return refused.into_response(),
    };
    inner.set_moderator(broadcaster, who, body.moderator);
    Json(json!({ "channel": login, "id": world.account(who).id.to_string(), "moderator": body.moderator }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct RaidBody {
    /// The raiding channel's login.
    from: String,
    /// Viewers announced; default: how many of the raiding channel's audience arrive.
    #[serde(default)]
    viewers: Option<u32>,
}

/// A raid into the channel: when the raiding channel is a scenario channel, its audience now
/// (humans and cohorts alike) arrives in this channel's chat from its next listing on and
/// stays; then `channel.raid` to the subscriptions naming either side.
async fn raid(
    AxumState(state): AxumState<Arc<State>>,
    Path(login): Path<String>,
    Json(body): Json<RaidBody>,
) -> Response {
    let world = &state.world;
    let (to, from, arrived) = {
        let mut inner = state.lock();
        let Some(to) = inner.resolve_login(world, &login) else {
            return bad(StatusCode::NOT_FOUND, format!("no channel '{login}'"));
        };
        let Some(from) = inner.resolve_login(world, &body.from) else {
            return bad(StatusCode::NOT_FOUND, format!("no account '{}'", body.from));
        };
        let arrived = match (world.channel_by_account(from), world.channel_by_account(to)) {
            (Some(from_channel), Some(to_channel)) => {
                inner.raid(world, from_channel, to_channel).to_vec()
            }
            _ => Vec::new(),
        };
        (to, from, arrived)
    };
    let viewers = body.viewers.unwrap_or(arrived.len() as u32);
    let mut event = crate::eventsub::user_fields(&state, from, "from_broadcaster");
    event.extend(crate::eventsub::user_fields(&state, to, "to_broadcaster"));
    event.insert("viewers".into(), json!(viewers));
    let (to_id, from_id) = (
        world.account(to).id.to_string(),
        world.account(from).id.to_string(),
    );
    crate::eventsub::notify(
        &state,
        "channel.raid",
        |condition| {
            condition["to_broadcaster_user_id"] == to_id.as_str()
                || condition["from_broadcaster_user_id"] == from_id.as_str()
        },
        serde_json::Value::Object(event),
    );
    let arrived: Vec<String> = arrived
        .iter()
        .map(|&a| world.account(a).id.to_string())
        .collect();
    Json(json!({ "raid": login, "from": body.from, "viewers": viewers, "arrived": arrived }))
        .into_response()
}

/// The app's subscriptions as Helix shows them, and the deliveries so far.
async fn show_eventsub(AxumState(state): AxumState<Arc<State>>) -> Response {
    let inner = state.lock();
    let subscriptions: Vec<serde_json::Value> = inner
        .subscriptions()
        .iter()
        .map(crate::state::eventsub::Subscription::body)
        .collect();
    let (delivered, failed) = inner.delivery_counts();
    Json(json!({ "subscriptions": subscriptions, "delivered": delivered, "failed": failed }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct RevokeBody {
    #[serde(default = "user_removed")]
    status: String,
}

fn user_removed() -> String {
    "user_removed".into()
}

/// Revokes a subscription as Twitch may at any time, with a `revocation` message.
async fn revoke_subscription(
    AxumState(state): AxumState<Arc<State>>,
    Path(id): Path<String>,
    Json(body): Json<RevokeBody>,
) -> Response {
    if !state.lock().subscriptions().iter().any(|s| s.id == id) {
        return bad(StatusCode::NOT_FOUND, format!("no subscription '{id}'"));
    }
    crate::eventsub::revoke(&state, &id, &body.status).await;
    Json(json!({ "revoked": id, "status": body.status })).into_response()
}
