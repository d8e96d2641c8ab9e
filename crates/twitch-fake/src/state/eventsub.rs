//! The app's EventSub subscriptions (reference §14): what exists, with its status and cost,
//! and the checks a create meets. Deliveries are in `crate::eventsub`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Inner;

/// One subscription. `secret` is never shown.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub kind: String,
    pub version: String,
    pub condition: Map<String, Value>,
    pub callback: String,
    pub secret: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub cost: u32,
    /// Messages in a row given up on.
    pub failures: u32,
}

pub const ENABLED: &str = "enabled";
pub const PENDING: &str = "webhook_callback_verification_pending";
pub const VERIFICATION_FAILED: &str = "webhook_callback_verification_failed";
pub const FAILURES_EXCEEDED: &str = "notification_failures_exceeded";

/// Nanosecond RFC 3339, as Twitch writes subscription and message times.
pub fn nanos(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

impl Subscription {
    /// As Helix shows it (no secret).
    pub fn body(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "type": self.kind,
            "version": self.version,
            "condition": self.condition,
            "created_at": nanos(self.created_at),
            "transport": { "method": "webhook", "callback": self.callback },
            "cost": self.cost,
        })
    }

    /// Whether it counts against the budget and receives events.
    pub fn is_live(&self) -> bool {
        self.status == ENABLED || self.status == PENDING
    }
}

/// The subscription store.
#[derive(Debug, Default)]
pub struct EventSubs {
    pub subscriptions: Vec<Subscription>,
    /// Messages delivered (2xx) and given up on, for tests.
    pub delivered: u64,
    pub failed: u64,
}

impl Inner {
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.eventsub.subscriptions
    }

    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.eventsub.subscriptions.iter_mut().find(|s| s.id == id)
    }

    /// (total, total cost) of the live subscriptions.
    pub fn subscription_totals(&self) -> (usize, u32) {
        let live = self.eventsub.subscriptions.iter().filter(|s| s.is_live());
        live.fold((0, 0), |(n, cost), s| (n + 1, cost + s.cost))
    }

    pub fn add_subscription(&mut self, subscription: Subscription) {
        self.eventsub.subscriptions.push(subscription);
    }

    pub fn remove_subscription(&mut self, id: &str) -> bool {
        let before = self.eventsub.subscriptions.len();
        self.eventsub.subscriptions.retain(|s| s.id != id);
        self.eventsub.subscriptions.len() != before
    }

    /// Records a delivery's outcome; a subscription that failed `threshold` messages in a row
    /// is revoked (`notification_failures_exceeded`): `true` when this call revoked it.
    pub fn delivery_outcome(&mut self, id: &str, delivered: bool, threshold: u32) -> bool {
        if delivered {
            self.eventsub.delivered += 1;
        } else {
            self.eventsub.failed += 1;
        }
        let Some(subscription) = self.subscription_mut(id) else {
            return false;
        };
        if delivered {
            subscription.failures = 0;
            return false;
        }
        subscription.failures += 1;
        if subscription.failures >= threshold && subscription.status == ENABLED {
            subscription.status = FAILURES_EXCEEDED.to_string();
            return true;
        }
        false
    }

    pub fn delivery_counts(&self) -> (u64, u64) {
        (self.eventsub.delivered, self.eventsub.failed)
    }
}
