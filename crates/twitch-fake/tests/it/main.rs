//! Integration tests of the `twitch-fake` binary.
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod twitch_fake_binary;
