//! Shared scaffolding of the Twitch Chatters Analyser services. No service logic lives here:
//! configuration, telemetry, shutdown, the HTTP bootstrap, the database and the job queue,
//! and the two languages every user-facing word is written in (`i18n`).

pub mod analysis_api;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod eventsub;
pub mod i18n;
pub mod query;
pub mod sealing;
pub mod server;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod twitch_api;
pub mod twitch_id;
pub mod webhooks;
