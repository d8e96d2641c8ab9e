//! Cohort detection (issue 15): groups of accounts found by the evidence they share. The plan
//! and the reasons for each step are in docs/cohorts.md; this module grows one step at a time.
//!
//! - `creation`: windows of account creation far denser than the session's background — the
//!   candidates every other piece of shared evidence is then weighed on.

pub mod creation;
