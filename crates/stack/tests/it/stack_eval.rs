//! The detection evaluation on a tiny world whose figures are known by hand: a farm of 30
//! (one creation hour, `stem` + digits, default profiles), a legit cohort of 10 that looks
//! exactly like it (created in the same hour, `stem` + digits, default profiles: the case
//! nothing can tell apart), 20 humans always present, the moderator and the broadcaster.
//!
//! Expected: the farm and the look-alikes are one creation window and one bot cohort (default
//! avatar, empty bio, display name = login, login template `a99999` and stem `brookfan`
//! shared by 75 % of the 40, all present together). Every bot is in it (recall 1). Of the
//! look-alikes, nine are: `lookalike9599`, the one with a 4-digit suffix (seed 3), misses both
//! the template and the stem, more than the quarter of the evidence a member may miss (the
//! farm's own 4-digit members keep the stem). Nobody else is flagged: the false-positive rate
//! is 9 / (20 + 10 + 2) and precision 30 / 39; the top creation day is the farm's (30 bots of
//! its 40 accounts).

use sqlx::MySqlPool;
use tca_stack::eval::measure;
use tca_stack::{Options, Stack};
use tca_twitch_fake::Scenario;

fn tiny_world() -> Scenario {
    Scenario::parse(
        r#"
seed = 3
[app]
client_id = "stack-client"
client_secret = "stack-secret"
redirect_uris = ["http://localhost:8080/auth/callback"]
[[users]]
login = "mossy_mod"
[[channels]]
login = "watched"
moderators = ["mossy_mod"]
live = true
viewer_count = 100
[channels.audience]
humans = 20
lurkers = 20
[[channels.audience.cohorts]]
name = "farm"
size = 30
created_from = "-2d"
created_within = "1h"
prefix = "brookfan"
[[channels.audience.cohorts]]
name = "lookalikes"
kind = "legit"
size = 10
created_from = "-2d"
created_within = "1h"
prefix = "lookalike"
"#,
    )
    .expect("scenario")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_evaluation_of_a_tiny_world_gives_the_figures_known_by_hand(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), tiny_world(), Options::default())
        .await
        .expect("stack");
    let truth = serde_json::to_value(stack.fake.state.world.truth(0)).expect("truth");
    let m = measure(&stack.public_url, &pool, &truth, "mossy_mod", 4)
        .await
        .expect("measured");
    assert_eq!((m.bots, m.humans), (30, 32), "{m:?}");
    assert_eq!(m.recall, 1.0, "{m:?}");
    assert_eq!(m.fpr, 9.0 / 32.0, "{m:?}");
    assert_eq!(m.precision, 30.0 / 39.0, "{m:?}");
    assert!(m.top_is_bot, "{m:?}");
    assert!(m.first_cohort_is_bot, "{m:?}");
    assert_eq!(m.legit_flagged, 9);
    let cohorts: Vec<(&str, &str, usize, usize)> = m
        .cohorts
        .iter()
        .map(|c| (c.name.as_str(), c.kind.as_str(), c.seen, c.flagged))
        .collect();
    assert_eq!(
        cohorts,
        [("farm", "bot", 30, 30), ("lookalikes", "legit", 10, 9)]
    );
}
