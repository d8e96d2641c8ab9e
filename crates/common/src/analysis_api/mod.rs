//! The analysis service's internal API (docs/analysis.md), typed once for both sides: the
//! request filters and queries (`request`), every answer (`response`), the export rows whose
//! field names are the CSV headers (`export`), and the gateway's client (`client`).

pub mod client;
pub mod export;
pub mod request;
pub mod response;

pub use client::{AnalysisClient, AnalysisError, Conditional};
pub use request::{AccountsQuery, AnalysisFilter, Period};
