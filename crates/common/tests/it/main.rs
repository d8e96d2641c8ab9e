//! Integration tests of tca-common against a real MariaDB (`#[sqlx::test]`: one fresh
//! database per test, on the server of `DATABASE_URL`).

mod queue;
mod schema;
