//! What moderators write changes what the analysis says, at once (the data version includes
//! it): a trusted account is never flagged and is counted apart, a `bot` label scores and
//! names its author, notes are searchable, marks follow the Twitch id through renames, bot
//! lists are reasons with their provenance that never flag alone, and only marks of the
//! session's owner or shared with its channels apply. The fixture is analysis_api's
//! (threshold 40: bob 45 is the one flagged account).

use serde_json::Value;
use sqlx::MySqlPool;
use tca_common::db::bot_lists::{self, Entry};
use tca_common::db::marks::{self, Label, MarkInput, ORIGIN_MODERATOR};

use crate::analysis_api::{at, fixture};

fn account<'a>(list: &'a Value, login: &str) -> &'a Value {
    list["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["login"] == login)
        .unwrap_or_else(|| panic!("{login} in {list}"))
}

async fn owner(pool: &MySqlPool, session: u64) -> u64 {
    sqlx::query_scalar("SELECT user_id FROM analysis_sessions WHERE id = ?")
        .bind(session)
        .fetch_one(pool)
        .await
        .expect("owner")
}

async fn mark(
    pool: &MySqlPool,
    user: u64,
    id: &str,
    login: &str,
    label: Option<Label>,
    note: &str,
) {
    let input = MarkInput {
        twitch_user_id: id,
        login,
        label,
        note,
        shared_channel_id: None,
        origin: ORIGIN_MODERATOR,
    };
    marks::save(pool, user, &input, chrono::Utc::now())
        .await
        .expect("mark");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn trusted_is_never_flagged_a_bot_label_scores_and_notes_are_searchable(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    let me = owner(&pool, f.session).await;
    let before = f.json("summary").await;
    assert_eq!(before["flagged"], 1);
    assert_eq!(before["trusted"], 0);

    mark(&pool, me, "1002", "bob", Some(Label::Trusted), "my cousin").await;
    let summary = f.json("summary").await;
    assert_eq!(summary["flagged"], 0, "bob is trusted: no longer flagged");
    assert_eq!(summary["trusted"], 1);
    assert!(f.logins("accounts?flagged=true").await.is_empty());
    let all = f.json("accounts").await;
    let bob = account(&all, "bob");
    assert_eq!(bob["score"], 45, "the score stays visible");
    assert_eq!(bob["trusted"], true);
    assert_eq!(bob["label"], "trusted");
    assert_eq!(bob["note"], "my cousin");
    assert_eq!(bob["marked_by"], "mod");

    // carol was marked under an earlier login: the mark is keyed by her Twitch id.
    mark(
        &pool,
        me,
        "1003",
        "carol_old",
        Some(Label::Bot),
        "Sells follows",
    )
    .await;
    let all = f.json("accounts").await;
    let carol = account(&all, "carol");
    assert_eq!(carol["score"], 35 + 50);
    let reason = carol["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["code"] == "labelled_bot")
        .expect("the label is a reason");
    assert!(
        reason["sentence"]
            .as_str()
            .expect("sentence")
            .contains("by mod"),
        "{reason}"
    );
    assert_eq!(f.logins("accounts?flagged=true").await, ["carol"]);
    assert_eq!(f.logins("accounts?label=bot").await, ["carol"]);
    assert_eq!(
        f.logins("accounts?q=sells").await,
        ["carol"],
        "notes are searched"
    );
    let mut marked = f.logins("accounts?label=any").await;
    marked.sort();
    assert_eq!(marked, ["bob", "carol"]);
    let (status, body) = f.get("accounts?label=friend").await;
    assert_eq!(status, 400);
    assert!(body.contains("label must be one of"), "{body}");

    // carol renames again: the worker's enrichment writes the new login.
    sqlx::query("UPDATE twitch_accounts SET login = 'carol_new', enriched_at = NOW(6) WHERE twitch_user_id = '1003'")
        .execute(&pool)
        .await
        .expect("rename");
    let all = f.json("accounts").await;
    let renamed = account(&all, "carol_new");
    assert_eq!(renamed["label"], "bot");
    assert_eq!(renamed["note"], "Sells follows");

    // Clearing label and note removes the mark: the score falls back at once.
    mark(&pool, me, "1003", "carol_new", None, "").await;
    let all = f.json("accounts").await;
    assert_eq!(account(&all, "carol_new")["score"], 35);
    assert_eq!(account(&all, "carol_new")["label"], Value::Null);

    // The CSV export carries the marks.
    let (status, csv) = f.get("export/accounts.csv").await;
    assert_eq!(status, 200);
    let bob_row = csv
        .lines()
        .find(|l| l.starts_with("1002,"))
        .expect("bob's row");
    assert!(bob_row.contains(",trusted,my cousin,mod,"), "{bob_row}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_list_match_is_a_reason_with_its_provenance_and_goes_with_its_list(pool: MySqlPool) {
    let f = fixture(pool.clone()).await;
    let me = owner(&pool, f.session).await;
    let imported = at(2026, 11, 30, 9);
    // `carol_old` was held by carol and then by dave (the ledger); 1002 is bob's id.
    let entries = [Entry::Login("carol_old".into()), Entry::Id("1002".into())];
    let mut conn = pool.acquire().await.expect("conn");
    let list = bot_lists::import(&mut conn, me, "shared farm list", 45, &entries, imported)
        .await
        .expect("import");
    let all = f.json("accounts").await;
    let dave = account(&all, "dave");
    let reasons = dave["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0]["code"], "bot_list");
    assert_eq!(
        reasons[0]["sentence"],
        "In the list “shared farm list”, imported 2026-11-30."
    );
    assert_eq!(dave["score"], 39, "a list alone stays below the flag (40)");
    assert_eq!(
        account(&all, "carol")["score"],
        35 + 45,
        "with signals of its own, in full"
    );
    assert_eq!(account(&all, "bob")["score"], 45 + 45);
    assert_eq!(account(&all, "alice")["score"], 0);

    assert!(bot_lists::delete(&pool, me, list).await.expect("delete"));
    let all = f.json("accounts").await;
    assert_eq!(
        account(&all, "dave")["score"],
        0,
        "the list's reasons went with it"
    );
    assert_eq!(account(&all, "carol")["score"], 35);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn another_moderators_marks_apply_only_when_shared_with_a_channel_of_the_session(
    pool: MySqlPool,
) {
    let f = fixture(pool.clone()).await;
    let other: u64 = sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, created_at, updated_at) VALUES ('2', 'other_mod', 'Other', NOW(), NOW())",
    )
    .execute(&pool)
    .await
    .expect("user")
    .last_insert_id();
    mark(&pool, other, "1001", "alice", Some(Label::Bot), "private").await;
    assert_eq!(account(&f.json("accounts").await, "alice")["score"], 0);

    let shared = MarkInput {
        twitch_user_id: "1001",
        login: "alice",
        label: Some(Label::Watch),
        note: "raids with hate accounts",
        shared_channel_id: Some("100"),
        origin: ORIGIN_MODERATOR,
    };
    marks::save(&pool, other, &shared, chrono::Utc::now())
        .await
        .expect("share");
    let alice = f.json("accounts").await;
    let alice = account(&alice, "alice");
    assert_eq!(alice["label"], "watch");
    assert_eq!(alice["marked_by"], "other_mod");
    // The owner's own mark wins over a shared one.
    let me = owner(&pool, f.session).await;
    mark(&pool, me, "1001", "alice", Some(Label::Trusted), "").await;
    let alice = f.json("accounts").await;
    assert_eq!(account(&alice, "alice")["label"], "trusted");
}
