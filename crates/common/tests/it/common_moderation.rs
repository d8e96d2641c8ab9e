//! The batch tables' guarantees (docs/moderation.md): an account's result is recorded once,
//! a batch ends only when nothing is pending, a stop skips the rest, confirming queues one job
//! per chunk once, and "already banned" means an earlier batch's ban nobody undid.

use chrono::{Duration, Utc};
use sqlx::MySqlPool;
use tca_common::db::moderation::{self, Action, Batch, NewBatch, Target};

async fn user(pool: &MySqlPool, twitch_id: &str) -> u64 {
    sqlx::query(
        "INSERT INTO users (twitch_user_id, login, display_name, created_at, updated_at) VALUES (?, ?, ?, NOW(6), NOW(6))",
    )
    .bind(twitch_id)
    .bind(format!("mod{twitch_id}"))
    .bind(format!("Mod{twitch_id}"))
    .execute(pool)
    .await
    .expect("user")
    .last_insert_id()
}

fn targets(ids: std::ops::Range<u32>) -> Vec<Target> {
    ids.map(|i| Target {
        twitch_user_id: (1000 + i).to_string(),
        login: format!("farm{i}"),
    })
    .collect()
}

async fn draft(pool: &MySqlPool, user_id: u64, action: Action, targets: &[Target]) -> Batch {
    let new = NewBatch {
        user_id,
        session_id: 1,
        broadcaster_id: "77",
        broadcaster_login: "chan",
        action,
        duration_secs: None,
        reason: "",
        selection: "picked:0",
        undo_of: None,
    };
    let mut conn = pool.acquire().await.expect("conn");
    moderation::create_draft(&mut conn, &new, targets, &[], Utc::now())
        .await
        .expect("draft")
}

/// Runs a batch to the end as a worker would: every pending item of every chunk recorded.
async fn run(pool: &MySqlPool, batch: &Batch, status: &str, at: chrono::DateTime<Utc>) {
    let chunks = (batch.targets as usize).div_ceil(moderation::CHUNK_SIZE) as u32;
    for chunk in 0..chunks {
        for item in moderation::pending_in_chunk(pool, batch.id, chunk)
            .await
            .expect("pending")
        {
            assert!(
                moderation::record(pool, batch.id, &item.twitch_user_id, status, None, at)
                    .await
                    .expect("record")
            );
        }
    }
    assert!(
        moderation::finish_if_complete(pool, batch.id, at)
            .await
            .expect("finish")
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn confirming_queues_each_chunk_once_and_results_are_recorded_once(pool: MySqlPool) {
    let me = user(&pool, "1").await;
    let batch = draft(&pool, me, Action::Ban, &targets(0..120)).await;
    assert_eq!(batch.status, "draft");
    let mut conn = pool.acquire().await.expect("conn");
    assert!(
        moderation::confirm(&mut conn, &batch, Utc::now())
            .await
            .expect("confirm")
    );
    assert!(
        !moderation::confirm(&mut conn, &batch, Utc::now())
            .await
            .expect("again"),
        "a second confirmation does nothing"
    );
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'moderation_chunk'")
        .fetch_one(&pool)
        .await
        .expect("jobs");
    assert_eq!(jobs, 3, "120 accounts in chunks of 50");

    let first = &moderation::pending_in_chunk(&pool, batch.id, 0)
        .await
        .expect("chunk")[0];
    let now = Utc::now();
    assert!(
        moderation::record(&pool, batch.id, &first.twitch_user_id, "done", None, now)
            .await
            .expect("1st")
    );
    assert!(
        !moderation::record(&pool, batch.id, &first.twitch_user_id, "already", None, now)
            .await
            .expect("2nd"),
        "a result is recorded once"
    );
    assert!(
        !moderation::finish_if_complete(&pool, batch.id, now)
            .await
            .expect("not yet"),
        "119 accounts still pending"
    );
    // A stop skips the rest; the batch is over and nothing pends.
    assert!(
        moderation::stop(&mut conn, batch.id, "batch-stop-scope", now)
            .await
            .expect("stop")
    );
    assert!(
        !moderation::stop(&mut conn, batch.id, "batch-stop-scope", now)
            .await
            .expect("once")
    );
    let progress = moderation::progress(&pool, batch.id)
        .await
        .expect("progress");
    assert_eq!(
        (progress.done, progress.skipped, progress.pending),
        (1, 119, 0)
    );
    let stopped = moderation::find_by_id(&pool, batch.id)
        .await
        .expect("find")
        .expect("batch");
    assert_eq!(stopped.status, "stopped");
    assert_eq!(stopped.stopped_reason.as_deref(), Some("batch-stop-scope"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn already_banned_means_banned_by_a_batch_and_not_unbanned_since(pool: MySqlPool) {
    let me = user(&pool, "1").await;
    let earlier = Utc::now() - Duration::minutes(10);
    let ban = draft(&pool, me, Action::Ban, &targets(0..4)).await;
    let mut conn = pool.acquire().await.expect("conn");
    moderation::confirm(&mut conn, &ban, earlier)
        .await
        .expect("confirm");
    run(&pool, &ban, "done", earlier).await;
    let mut banned = moderation::banned_by_batches(&pool, "77")
        .await
        .expect("banned");
    banned.sort();
    assert_eq!(banned, ["1000", "1001", "1002", "1003"]);
    assert!(
        moderation::banned_by_batches(&pool, "78")
            .await
            .expect("other")
            .is_empty()
    );

    // Two of them unbanned later: no longer "already banned".
    let unban = draft(&pool, me, Action::Unban, &targets(0..2)).await;
    moderation::confirm(&mut conn, &unban, Utc::now())
        .await
        .expect("confirm");
    run(&pool, &unban, "done", Utc::now()).await;
    let mut banned = moderation::banned_by_batches(&pool, "77")
        .await
        .expect("banned");
    banned.sort();
    assert_eq!(banned, ["1002", "1003"]);
    // A refused ban bans nobody; a draft's targets are not banned either.
    let refused = draft(&pool, me, Action::Ban, &targets(10..11)).await;
    moderation::confirm(&mut conn, &refused, Utc::now())
        .await
        .expect("confirm");
    run(&pool, &refused, "refused", Utc::now()).await;
    draft(&pool, me, Action::Ban, &targets(20..21)).await;
    assert_eq!(
        moderation::banned_by_batches(&pool, "77")
            .await
            .expect("banned")
            .len(),
        2
    );
    // Drafts older than a day are forgotten, confirmed batches are kept.
    let deleted = moderation::delete_stale_drafts(&pool, Utc::now() + Duration::days(1))
        .await
        .expect("delete");
    assert_eq!(deleted, 1);
}
