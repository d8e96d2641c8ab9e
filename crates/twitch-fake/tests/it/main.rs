//! Integration tests of twitch-fake: in-process servers over real HTTP, and the binary.
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod support;
mod twitch_fake_bans;
mod twitch_fake_binary;
mod twitch_fake_eventsub;
mod twitch_fake_fixtures;
mod twitch_fake_helix;
mod twitch_fake_oauth;
mod twitch_fake_scenario_v2;
