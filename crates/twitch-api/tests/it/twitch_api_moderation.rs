//! `POST /v1/moderation`: bans, timeouts and unbans through the single door, with the
//! moderator's token; the answers a batch relies on, and Twitch's bad days absorbed inside.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::MySqlPool;
use tca_common::twitch_api::{
    ACTIONS_SCOPE, ModerationAction, ModerationOutcome, ModerationRequest, SCOPES, TwitchApiError,
};

use crate::twitch_api_support::{Stack, world};

const CHANNEL: &str = "771043215";
const MOSSY: &str = "538211094";

fn with_actions() -> Vec<&'static str> {
    SCOPES.iter().copied().chain([ACTIONS_SCOPE]).collect()
}

/// Ids of ordinary humans in pixelbrookgames' audience.
fn humans(stack: &Stack, n: usize) -> Vec<String> {
    let world = &stack.fake.state.world;
    let truth = world.truth(0);
    let channel = truth
        .channels
        .iter()
        .find(|c| c.id == CHANNEL)
        .expect("channel");
    channel
        .audience
        .iter()
        .filter(|id| {
            truth
                .accounts
                .iter()
                .any(|a| &a.id == *id && a.role == "human" && !a.suspended)
        })
        .take(n)
        .cloned()
        .collect()
}

fn request(action: ModerationAction, user_id: &str) -> ModerationRequest {
    ModerationRequest {
        action,
        broadcaster_id: CHANNEL.into(),
        moderator_id: MOSSY.into(),
        user_id: user_id.into(),
        duration_secs: (action == ModerationAction::Timeout).then_some(600),
        reason: Some("farm".into()),
    }
}

async fn bans(stack: &Stack) -> Value {
    stack.fake_get("/_fake/bans/pixelbrookgames").await
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_ban_an_unban_and_their_repeats_are_answers_not_failures(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    let people = humans(&stack, 3);

    // Without the actions scope nothing reaches Twitch.
    stack.authorize("mossy_mod").await;
    let missing = stack
        .client
        .moderate(&request(ModerationAction::Ban, &people[0]), None)
        .await
        .expect_err("scope");
    assert!(
        matches!(missing, TwitchApiError::ScopeMissing(_)),
        "{missing:?}"
    );
    assert!(
        bans(&stack).await["banned"]
            .as_array()
            .expect("list")
            .is_empty()
    );

    stack.authorize_with("mossy_mod", &with_actions()).await;
    let ban = |user: &str| request(ModerationAction::Ban, user);
    let outcome = |r: Result<tca_common::twitch_api::ModerationResult, TwitchApiError>| {
        r.expect("answer").outcome
    };
    assert_eq!(
        outcome(stack.client.moderate(&ban(&people[0]), None).await),
        ModerationOutcome::Done
    );
    assert_eq!(
        outcome(stack.client.moderate(&ban(&people[0]), None).await),
        ModerationOutcome::AlreadyDone
    );
    let timeout = request(ModerationAction::Timeout, &people[1]);
    assert_eq!(
        outcome(stack.client.moderate(&timeout, None).await),
        ModerationOutcome::Done
    );
    let protected = stack
        .client
        .moderate(&ban(CHANNEL), None)
        .await
        .expect("answer");
    assert_eq!(protected.outcome, ModerationOutcome::Refused);
    assert!(
        protected
            .message
            .as_deref()
            .is_some_and(|m| m.contains("may not be banned")),
        "{protected:?}"
    );
    let unban = request(ModerationAction::Unban, &people[0]);
    assert_eq!(
        outcome(stack.client.moderate(&unban, None).await),
        ModerationOutcome::Done
    );
    assert_eq!(
        outcome(stack.client.moderate(&unban, None).await),
        ModerationOutcome::AlreadyDone
    );
    let truth = bans(&stack).await;
    assert_eq!(truth["banned"].as_array().expect("list").len(), 1);
    assert_eq!(
        truth["counts"][people[0].as_str()],
        json!({"bans": 1, "unbans": 1})
    );

    // A user who does not moderate the channel.
    stack.authorize_with("stranger", &with_actions()).await;
    let mut foreign = ban(&people[2]);
    foreign.moderator_id = "111111111".into();
    let refused = stack
        .client
        .moderate(&foreign, None)
        .await
        .expect_err("403");
    assert!(
        matches!(refused, TwitchApiError::NotModerator(_)),
        "{refused:?}"
    );

    // Requests Twitch would refuse for their form never leave.
    let mut no_duration = request(ModerationAction::Timeout, &people[2]);
    no_duration.duration_secs = None;
    let mut ban_with_duration = ban(&people[2]);
    ban_with_duration.duration_secs = Some(60);
    let mut long_reason = ban(&people[2]);
    long_reason.reason = Some("x".repeat(501));
    let not_an_id = ban("nightbot");
    for bad in [no_duration, ban_with_duration, long_reason, not_an_id] {
        let error = stack.client.moderate(&bad, None).await.expect_err("400");
        assert!(
            matches!(error, TwitchApiError::BadRequest(_)),
            "{bad:?}: {error:?}"
        );
    }
    assert_eq!(
        bans(&stack).await["banned"].as_array().expect("list").len(),
        1
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn conflicts_5xx_and_lost_answers_still_ban_each_account_once(pool: MySqlPool) {
    let faults = "[faults]\nban_conflict_rate = 0.2\nerror_rate = 0.2\ndrop_rate = 0.15";
    let stack = Stack::start(pool, world(faults), |_| {}).await;
    stack.authorize_with("mossy_mod", &with_actions()).await;
    let people = humans(&stack, 20);
    for user in &people {
        let result = stack
            .client
            .moderate(&request(ModerationAction::Ban, user), None)
            .await
            .expect("banned despite the faults");
        assert_ne!(result.outcome, ModerationOutcome::Refused, "{result:?}");
    }
    let truth = bans(&stack).await;
    assert_eq!(
        truth["banned"].as_array().expect("list").len(),
        people.len()
    );
    for user in &people {
        assert_eq!(truth["counts"][user.as_str()]["bans"], 1, "{user}");
    }
    let stats = stack.fake_get("/_fake/stats").await;
    assert!(
        stats["by_status"]["409"].as_u64().unwrap_or(0) > 0,
        "conflicts were injected: {stats}"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_per_broadcaster_limit_is_waited_out_or_answered_with_a_retry_time(pool: MySqlPool) {
    let limits = "[rate_limit]\nbans_per_window = 3\nbans_window = \"2s\"";
    let stack = Stack::start(pool, world(limits), |_| {}).await;
    stack.authorize_with("mossy_mod", &with_actions()).await;
    let people = humans(&stack, 6);
    for user in &people[..4] {
        let result = stack
            .client
            .moderate(&request(ModerationAction::Ban, user), None)
            .await
            .expect("waited out");
        assert_eq!(result.outcome, ModerationOutcome::Done);
    }
    // The window is full again: a caller that cannot wait is told how long.
    for user in &people[4..] {
        let _ = stack
            .client
            .moderate(
                &request(ModerationAction::Ban, user),
                Some(Duration::from_millis(50)),
            )
            .await;
    }
    let more = stack
        .client
        .moderate(
            &request(ModerationAction::Unban, &people[0]),
            Some(Duration::from_millis(50)),
        )
        .await;
    match more {
        Err(TwitchApiError::RateLimited { retry_after }) => {
            assert!(retry_after >= Duration::from_millis(500), "{retry_after:?}")
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
}
