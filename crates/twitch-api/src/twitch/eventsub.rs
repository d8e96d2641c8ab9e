//! EventSub subscriptions (reference §14.2–14.6), managed with the app token: the reconciler
//! keeps exactly the subscriptions needed — `stream.online`, `stream.offline` and
//! `channel.raid` (raids into) for every auto-captured channel, and `user.authorization.revoke`
//! for the app — creating what is missing, deleting what is not needed, and re-creating what
//! Twitch revoked or could not verify.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use tca_common::twitch_api::Reconciled;

use super::helix::Call;
use super::{Actor, Twitch, TwitchError};

#[derive(Debug, Deserialize)]
struct Listed {
    data: Vec<Subscription>,
    #[serde(default)]
    pagination: super::helix::Pagination,
    #[serde(default)]
    total_cost: u32,
    #[serde(default)]
    max_total_cost: u32,
}

#[derive(Debug, Clone, Deserialize)]
struct Subscription {
    id: String,
    status: String,
    #[serde(rename = "type")]
    kind: String,
    condition: Value,
    transport: Value,
}

/// One subscription the app needs: its type and condition.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    kind: &'static str,
    condition: Value,
}

/// Pages of Get EventSub Subscriptions read at most (100 each, Twitch's unspecified size).
const MAX_PAGES: u32 = 200;

impl Twitch {
    /// Makes Twitch's subscriptions for `callback` exactly what `broadcasters` need.
    pub async fn reconcile_eventsub(
        &self,
        callback: &str,
        secret: &str,
        broadcasters: &[String],
    ) -> Result<Reconciled, TwitchError> {
        let mut wanted: Vec<Wanted> = vec![Wanted {
            kind: "user.authorization.revoke",
            condition: json!({ "client_id": self.config().client_id }),
        }];
        for id in broadcasters {
            wanted.push(Wanted {
                kind: "stream.online",
                condition: json!({ "broadcaster_user_id": id }),
            });
            wanted.push(Wanted {
                kind: "stream.offline",
                condition: json!({ "broadcaster_user_id": id }),
            });
            wanted.push(Wanted {
                kind: "channel.raid",
                condition: json!({ "to_broadcaster_user_id": id }),
            });
        }
        let existing = self.eventsub_list().await?;
        let ours: Vec<&Subscription> = existing
            .0
            .iter()
            .filter(|s| s.transport["callback"] == callback)
            .collect();
        let mut result = Reconciled::default();
        // Kept: wanted and alive. Everything else of ours goes (unneeded, revoked, failed).
        let alive = |s: &Subscription| {
            matches!(
                s.status.as_str(),
                "enabled" | "webhook_callback_verification_pending"
            )
        };
        let mut missing: Vec<&Wanted> = Vec::new();
        for want in &wanted {
            if ours
                .iter()
                .any(|s| alive(s) && s.kind == want.kind && s.condition == want.condition)
            {
                result.kept += 1;
            } else {
                missing.push(want);
            }
        }
        for sub in &ours {
            let needed = alive(sub)
                && wanted
                    .iter()
                    .any(|w| w.kind == sub.kind && w.condition == sub.condition);
            if !needed {
                self.eventsub_delete(&sub.id).await?;
                result.deleted += 1;
            }
        }
        for want in missing {
            let body = json!({
                "type": want.kind,
                "version": "1",
                "condition": want.condition,
                "transport": { "method": "webhook", "callback": callback, "secret": secret },
            });
            let call = Call {
                method: Method::POST,
                endpoint: "eventsub_create",
                path: "eventsub/subscriptions",
                query: &[],
                body: Some(&body),
            };
            match self
                .helix_call::<Value>(&Actor::App, &call, None, None)
                .await
            {
                Ok(_) => result.created += 1,
                // Twitch refused it (a budget full, a user gone): said, not retried in a loop.
                Err(TwitchError::BadRequest(message)) => result
                    .refused
                    .push(format!("{} {}: {message}", want.kind, want.condition)),
                Err(e) => return Err(e),
            }
        }
        result.total_cost = existing.1;
        result.max_total_cost = existing.2;
        let refused = |id: &str| {
            result
                .refused
                .iter()
                .any(|r| r.contains(&format!("\"{id}\"")))
        };
        result.subscribed = broadcasters
            .iter()
            .filter(|id| !refused(id))
            .cloned()
            .collect();
        Ok(result)
    }

    /// Every subscription of the app, with the cost totals.
    async fn eventsub_list(&self) -> Result<(Vec<Subscription>, u32, u32), TwitchError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query: Vec<(&str, &str)> = Vec::new();
            if let Some(c) = &cursor {
                query.push(("after", c.as_str()));
            }
            let page: Listed = self
                .helix_get(
                    &Actor::App,
                    "eventsub_list",
                    "eventsub/subscriptions",
                    &query,
                    None,
                )
                .await?;
            all.extend(page.data);
            match page.pagination.cursor.filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(next),
                None => return Ok((all, page.total_cost, page.max_total_cost)),
            }
        }
        Err(TwitchError::PagingBroken(
            "Get EventSub Subscriptions never ended".into(),
        ))
    }

    async fn eventsub_delete(&self, id: &str) -> Result<(), TwitchError> {
        let call = Call {
            method: Method::DELETE,
            endpoint: "eventsub_delete",
            path: "eventsub/subscriptions",
            query: &[("id", id)],
            body: None,
        };
        match self
            .helix_call::<Value>(&Actor::App, &call, None, None)
            .await
        {
            // Already gone: what was wanted.
            Ok(_) | Err(TwitchError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
