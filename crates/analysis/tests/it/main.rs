//! Integration tests of the `analysis` service against a real MariaDB.
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod analysis_api;
mod analysis_binary;
mod analysis_moderation;
