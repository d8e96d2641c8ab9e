//! A session's analysis: the dashboard, a creation day's page, a cohort's page and an
//! account's page (`pages`), and the read-only JSON the dashboard's charts and drill-downs load (`data`).
//! Everything is computed by the analysis service; the gateway checks that the session is the
//! caller's, checks what it forwards, and renders.

mod data;
pub(crate) mod filter;
mod pages;

use axum::Router;
use axum::routing::get;
use chrono::NaiveDate;
use tca_common::analysis_api::request::parse_day;
use tca_common::twitch_id::TwitchId;

use crate::error::{AppError, AppResult};
use crate::i18n::t1;
use crate::state::AppState;

pub use filter::Filter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/analysis", get(pages::dashboard))
        .route("/sessions/{id}/days/{day}", get(pages::day_page))
        .route(
            "/sessions/{id}/cohorts/{cohort_id}",
            get(pages::cohort_page),
        )
        .route(
            "/sessions/{id}/accounts/{twitch_user_id}",
            get(pages::account_page),
        )
        .route("/sessions/{id}/data/{*path}", get(data::data))
}

fn creation_day(raw: &str) -> AppResult<NaiveDate> {
    parse_day(raw, "day").map_err(|_| AppError::BadRequest(t1("error-day", "raw", raw)))
}

fn twitch_user_id(raw: &str) -> AppResult<TwitchId> {
    TwitchId::parse(raw).map_err(|_| AppError::BadRequest(t1("error-twitch-user-id", "raw", raw)))
}

fn cohort_id(raw: &str) -> AppResult<u64> {
    raw.parse()
        .map_err(|_| AppError::BadRequest(t1("error-cohort-id", "raw", raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_days_and_ids_are_refused() {
        assert!(creation_day("2024-02-30").is_err());
        assert!(twitch_user_id("12a").is_err());
        assert!(twitch_user_id("").is_err());
        assert_eq!(twitch_user_id("123").expect("accepted").as_str(), "123");
    }
}
