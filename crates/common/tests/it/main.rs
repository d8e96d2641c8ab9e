//! Integration tests of tca-common against a real MariaDB (`#[sqlx::test]`: one fresh
//! database per test, on the server of `DATABASE_URL`).
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod common_accounts;
mod common_backup;
mod common_deploy;
mod common_env_example;
mod common_moderation;
mod common_presence;
mod common_queue;
mod common_schema;
mod env_scan;
