//! Cross-service tests: the real services in one process, over real HTTP, against a real
//! MariaDB (one database per test).
//!
//! Module names are prefixed with the crate: `#[sqlx::test]` names each test database after
//! the test's module path, and every crate's test binary is called `it`.

mod stack_alerts;
mod stack_analysis;
mod stack_auto_capture;
mod stack_browser;
mod stack_capture;
mod stack_eval;
mod stack_gateway;
mod stack_housekeeping;
mod stack_i18n;
mod stack_live;
mod stack_moderation;
mod stack_monitoring;
mod stack_web;
mod stack_worker_processes;
mod stack_worlds;
