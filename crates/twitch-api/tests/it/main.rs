//! Integration tests of twitch-api against a real MariaDB and an in-process twitch-fake,
//! through the typed client over real HTTP.
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod twitch_api_binary;
mod twitch_api_calls;
mod twitch_api_eventsub;
mod twitch_api_moderation;
mod twitch_api_oauth;
mod twitch_api_support;
