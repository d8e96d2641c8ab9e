//! Ban User, timeouts and Unban User (../shared/twitch-api-reference.md §15): one account a
//! call, with the moderator's token and bucket; "already banned" on a ban and "not banned" on
//! an unban are answers, not failures (a retried call meets them after a lost answer).

use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};
use tca_common::twitch_api::{
    ACTIONS_SCOPE, ModerationAction, ModerationOutcome, ModerationRequest, ModerationResult,
};

use super::helix::Call;
use super::{Actor, Twitch, TwitchError};

impl Twitch {
    /// Acts on one account. A missing scope is `ScopeMissing` before Twitch is asked; a
    /// moderator Twitch no longer lists is `NotModerator`; 409s and 5xx are retried inside.
    pub async fn moderate(
        &self,
        request: &ModerationRequest,
        bucket_deadline: Option<Instant>,
    ) -> Result<ModerationResult, TwitchError> {
        let granted = self
            .tokens
            .load(&request.moderator_id)
            .await?
            .is_some_and(|t| t.scopes.iter().any(|s| s == ACTIONS_SCOPE));
        if !granted {
            return Err(TwitchError::ScopeMissing(format!(
                "the moderator's authorization lacks {ACTIONS_SCOPE}: enable actions first"
            )));
        }
        let actor = Actor::User(request.moderator_id.clone());
        let ids = [
            ("broadcaster_id", request.broadcaster_id.as_str()),
            ("moderator_id", request.moderator_id.as_str()),
            ("user_id", request.user_id.as_str()),
        ];
        let answer = match request.action {
            ModerationAction::Ban | ModerationAction::Timeout => {
                let mut data = json!({ "user_id": request.user_id });
                if request.action == ModerationAction::Timeout {
                    data["duration"] = json!(request.duration_secs.unwrap_or(600));
                }
                if let Some(reason) = request.reason.as_deref().filter(|r| !r.is_empty()) {
                    data["reason"] = json!(reason);
                }
                let body = json!({ "data": data });
                let call = Call {
                    method: Method::POST,
                    endpoint: "ban",
                    path: "moderation/bans",
                    query: &ids[..2],
                    body: Some(&body),
                };
                self.helix_call::<Value>(&actor, &call, None, bucket_deadline)
                    .await
            }
            ModerationAction::Unban => {
                let call = Call {
                    method: Method::DELETE,
                    endpoint: "unban",
                    path: "moderation/bans",
                    query: &ids,
                    body: None,
                };
                self.helix_call::<Value>(&actor, &call, None, bucket_deadline)
                    .await
            }
        };
        match answer {
            Ok(_) => Ok(ModerationResult {
                outcome: ModerationOutcome::Done,
                message: None,
            }),
            Err(TwitchError::BadRequest(message)) => Ok(refusal(request.action, message)),
            Err(TwitchError::ReauthRequired(message)) if message.contains("Missing scope") => {
                Err(TwitchError::ScopeMissing(message))
            }
            Err(other) => Err(other),
        }
    }
}

/// What Twitch's 400 means for this action. Twitch's texts are the only signal; the phrases
/// matched are the ones independent clients match (reference §15.1–15.2).
fn refusal(action: ModerationAction, message: String) -> ModerationResult {
    let lower = message.to_ascii_lowercase();
    let nothing_to_do = match action {
        ModerationAction::Ban | ModerationAction::Timeout => lower.contains("already banned"),
        ModerationAction::Unban => lower.contains("not banned"),
    };
    ModerationResult {
        outcome: if nothing_to_do {
            ModerationOutcome::AlreadyDone
        } else {
            ModerationOutcome::Refused
        },
        message: (!nothing_to_do).then_some(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_banned_and_not_banned_are_answers_and_the_rest_refusals() {
        let already = refusal(
            ModerationAction::Ban,
            "The user specified in the user_id field is already banned.".into(),
        );
        assert_eq!(already.outcome, ModerationOutcome::AlreadyDone);
        let not_banned = refusal(
            ModerationAction::Unban,
            "The user specified in the user_id query parameter is not banned.".into(),
        );
        assert_eq!(not_banned.outcome, ModerationOutcome::AlreadyDone);
        let protected = refusal(
            ModerationAction::Ban,
            "The user specified in the user_id field may not be banned.".into(),
        );
        assert_eq!(protected.outcome, ModerationOutcome::Refused);
        assert!(
            protected
                .message
                .is_some_and(|m| m.contains("may not be banned"))
        );
        // "not banned" on a ban is no reason to count it done.
        let odd = refusal(ModerationAction::Ban, "user is not banned".into());
        assert_eq!(odd.outcome, ModerationOutcome::Refused);
    }
}
