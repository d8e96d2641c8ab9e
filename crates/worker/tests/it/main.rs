//! Integration tests of the worker against a real MariaDB: the runner in-process, and the
//! `worker` binary as child processes.
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod worker_binary;
mod worker_runner;
