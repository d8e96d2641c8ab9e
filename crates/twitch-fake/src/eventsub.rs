//! EventSub deliveries (reference §14.8–14.11): the verification challenge after a create,
//! notifications when something happens in the world (a channel goes live or offline, a raid,
//! a user disconnecting the app), and revocations. Every message carries Twitch's seven
//! headers and its HMAC signature; a failed or slow answer is retried with the same message id
//! (`[eventsub] retries`, `retry_delay`), and a subscription failing `failure_threshold`
//! messages in a row is revoked (`notification_failures_exceeded`).

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use tca_common::eventsub as headers;

use crate::state::State;
use crate::state::eventsub::{ENABLED, FAILURES_EXCEEDED, PENDING, VERIFICATION_FAILED, nanos};
use crate::world::AccountIdx;

/// One message to send to one subscription's callback; `id` stays the same through retries
/// and duplicates.
struct Message {
    id: String,
    subscription_id: String,
    kind: &'static str,
    body: Value,
}

impl Message {
    fn new(subscription_id: &str, kind: &'static str, body: Value) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            subscription_id: subscription_id.to_string(),
            kind,
            body,
        }
    }
}

/// Notifications sent so far, for `duplicate_rate`'s draw.
static NOTIFIED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sends `message`, retrying with the same id; returns the answer's status and body when the
/// callback answered 2xx.
async fn send(state: &State, message: &Message) -> Option<(u16, String)> {
    let (callback, secret, sub_type, version) = {
        let inner = state.lock();
        let sub = inner
            .subscriptions()
            .iter()
            .find(|s| s.id == message.subscription_id)?;
        (
            sub.callback.clone(),
            sub.secret.clone(),
            sub.kind.clone(),
            sub.version.clone(),
        )
    };
    let settings = &state.scenario.eventsub;
    let id = &message.id;
    let body = serde_json::to_vec(&message.body).unwrap_or_default();
    for attempt in 0..=settings.retries {
        if attempt > 0 {
            tokio::time::sleep(settings.retry_delay).await;
        }
        let timestamp = nanos(Utc::now());
        let signature = headers::signature(&secret, id, &timestamp, &body);
        let sent = state
            .http
            .post(&callback)
            .header("content-type", "application/json")
            .header(headers::MESSAGE_ID, id)
            .header(headers::MESSAGE_RETRY, attempt.to_string())
            .header(headers::MESSAGE_TYPE, message.kind)
            .header(headers::MESSAGE_SIGNATURE, signature)
            .header(headers::MESSAGE_TIMESTAMP, &timestamp)
            .header(headers::SUBSCRIPTION_TYPE, &sub_type)
            .header(headers::SUBSCRIPTION_VERSION, &version)
            .body(body.clone())
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                return Some((status, text));
            }
        }
    }
    None
}

/// After a create: the challenge. Only 200 with exactly the challenge as the body enables the
/// subscription.
pub fn verify_later(state: Arc<State>, subscription_id: String) {
    tokio::spawn(async move {
        let (challenge, body) = {
            let inner = state.lock();
            let Some(sub) = inner
                .subscriptions()
                .iter()
                .find(|s| s.id == subscription_id)
            else {
                return;
            };
            let challenge = uuid::Uuid::new_v4().to_string();
            let body = json!({ "challenge": challenge, "subscription": sub.body() });
            (challenge, body)
        };
        let message = Message::new(&subscription_id, headers::VERIFICATION, body);
        let answered = send(&state, &message).await;
        let ok = matches!(&answered, Some((200, text)) if *text == challenge);
        let mut inner = state.lock();
        if let Some(sub) = inner.subscription_mut(&subscription_id)
            && sub.status == PENDING
        {
            sub.status = if ok { ENABLED } else { VERIFICATION_FAILED }.to_string();
        }
    });
}

/// Notifies every enabled subscription of `kind` whose condition `matches` of `event`.
pub fn notify(state: &Arc<State>, kind: &str, matches: impl Fn(&Value) -> bool, event: Value) {
    let targets: Vec<(String, Value)> = {
        let inner = state.lock();
        inner
            .subscriptions()
            .iter()
            .filter(|s| s.status == ENABLED && s.kind == kind)
            .filter(|s| matches(&Value::Object(s.condition.clone())))
            .map(|s| (s.id.clone(), s.body()))
            .collect()
    };
    for (subscription_id, subscription) in targets {
        let state = state.clone();
        let body = json!({ "subscription": subscription, "event": event });
        tokio::spawn(async move {
            let message = Message::new(&subscription_id, headers::NOTIFICATION, body);
            let n = NOTIFIED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let rate = state.scenario.eventsub.duplicate_rate;
            let duplicate =
                rate > 0.0 && crate::rng::unit(crate::rng::hash(state.world.seed, &[12, n])) < rate;
            let delivered = send(&state, &message).await.is_some();
            if duplicate {
                // Twitch's "at least once": the same message, the same id, again.
                let _ = send(&state, &message).await;
            }
            let threshold = state.scenario.eventsub.failure_threshold.max(1);
            let revoked = state
                .lock()
                .delivery_outcome(&subscription_id, delivered, threshold);
            if revoked {
                revoke(&state, &subscription_id, FAILURES_EXCEEDED).await;
            }
        });
    }
}

/// Revokes a subscription with `status` and tells its callback (a `revocation` message).
pub async fn revoke(state: &Arc<State>, subscription_id: &str, status: &str) {
    let body = {
        let mut inner = state.lock();
        let Some(sub) = inner.subscription_mut(subscription_id) else {
            return;
        };
        sub.status = status.to_string();
        json!({ "subscription": sub.body() })
    };
    let _ = send(
        state,
        &Message::new(subscription_id, headers::REVOCATION, body),
    )
    .await;
}

/// The user triple of an account, as event payloads name it: `{prefix}_user_id`, `…_login`,
/// `…_name`, or `user_id`, … without a prefix.
pub fn user_fields(state: &State, idx: AccountIdx, prefix: &str) -> serde_json::Map<String, Value> {
    let (login, name) = state.lock().names(&state.world, idx);
    let key = |field: &str| {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}_{field}")
        }
    };
    let mut fields = serde_json::Map::new();
    fields.insert(
        key("user_id"),
        json!(state.world.account(idx).id.to_string()),
    );
    fields.insert(key("user_login"), json!(login));
    fields.insert(key("user_name"), json!(name));
    fields
}
