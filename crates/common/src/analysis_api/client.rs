//! The gateway's client of the analysis service: one method per view, typed by the request
//! and response types of this module; exports and the dashboard's read-only JSON are streamed
//! through unread (`get`).

use std::time::Duration;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use url::Url;

use super::request::{AccountsQuery, AnalysisFilter, query_string};
use super::response::{
    AccountDetail, AccountList, CaptureFindings, CohortDetail, CohortList, Dashboard, ErrorBody,
    Hours, Raids, Renames, Summary, TopDays,
};
use crate::config::Secret;
use crate::twitch_id::TwitchId;

#[derive(Debug, Clone)]
pub struct AnalysisClient {
    http: reqwest::Client,
    base: Url,
    token: Secret,
}

/// An answer asked for on condition (`If-None-Match`).
#[derive(Debug)]
pub enum Conditional<T> {
    /// The answer, with its tag when it has one: it changed, or nothing was held.
    Fresh { value: T, tag: Option<String> },
    /// The answer held still stands.
    NotModified,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("analysis failed: {0}")]
    Failed(String),
    #[error("cannot reach analysis: {0}")]
    Transport(#[from] reqwest::Error),
}

impl AnalysisClient {
    pub fn new(base: Url, token: Secret) -> Result<Self, AnalysisError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(120))
            .build()?;
        Ok(Self { http, base, token })
    }

    /// `GET /v1/sessions/{session_id}/{path}?{query}`; an error answer becomes a typed error,
    /// a success is returned unread (exports are streamed through).
    pub async fn get(
        &self,
        session_id: u64,
        path: &str,
        query: Option<&str>,
    ) -> Result<reqwest::Response, AnalysisError> {
        self.send(session_id, path, query, None).await
    }

    /// `get`, on condition when `if_none_match` is given: then a `304 Not Modified` is
    /// returned as it came.
    async fn send(
        &self,
        session_id: u64,
        path: &str,
        query: Option<&str>,
        if_none_match: Option<&str>,
    ) -> Result<reqwest::Response, AnalysisError> {
        let mut url = self
            .base
            .join(&format!("v1/sessions/{session_id}/{path}"))
            .map_err(|e| AnalysisError::Failed(format!("bad URL: {e}")))?;
        url.set_query(query.filter(|q| !q.is_empty()));
        // Sentences in answers (reasons, evidence, errors) come in the caller's language.
        let mut request = self.http.get(url).bearer_auth(self.token.expose()).header(
            reqwest::header::ACCEPT_LANGUAGE,
            crate::i18n::current().code(),
        );
        if let Some(tag) = if_none_match {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let response = request.send().await?;
        let status = response.status();
        if status.is_success()
            || (if_none_match.is_some() && status == reqwest::StatusCode::NOT_MODIFIED)
        {
            return Ok(response);
        }
        let message = response
            .json::<ErrorBody>()
            .await
            .map(|body| body.message)
            .unwrap_or_default();
        Err(match status.as_u16() {
            400 => AnalysisError::BadRequest(message),
            404 => AnalysisError::NotFound,
            _ => AnalysisError::Failed(format!("{status}: {message}")),
        })
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        session_id: u64,
        path: &str,
        query: &str,
    ) -> Result<T, AnalysisError> {
        let response = self.get(session_id, path, Some(query)).await?;
        Ok(response.json().await?)
    }

    pub async fn summary(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
    ) -> Result<Summary, AnalysisError> {
        self.get_json(session_id, "summary", &filter.to_query())
            .await
    }

    pub async fn top_days(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
    ) -> Result<TopDays, AnalysisError> {
        self.get_json(session_id, "top-days", &filter.to_query())
            .await
    }

    pub async fn accounts(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
        list: &AccountsQuery,
    ) -> Result<AccountList, AnalysisError> {
        let query = query_string(filter, |out| list.append_to(out));
        self.get_json(session_id, "accounts", &query).await
    }

    pub async fn day_accounts(
        &self,
        session_id: u64,
        day: NaiveDate,
        filter: &AnalysisFilter,
        list: &AccountsQuery,
    ) -> Result<AccountList, AnalysisError> {
        let query = query_string(filter, |out| list.append_to(out));
        self.get_json(session_id, &format!("days/{day}/accounts"), &query)
            .await
    }

    pub async fn hours(
        &self,
        session_id: u64,
        day: NaiveDate,
        filter: &AnalysisFilter,
    ) -> Result<Hours, AnalysisError> {
        let query = query_string(filter, |out| {
            out.append_pair("day", &day.to_string());
        });
        self.get_json(session_id, "histogram/hours", &query).await
    }

    /// The `limit` most renamed accounts (all of them when `None`).
    pub async fn renames(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
        limit: Option<usize>,
    ) -> Result<Renames, AnalysisError> {
        let query = query_string(filter, |out| {
            if let Some(limit) = limit {
                out.append_pair("limit", &limit.to_string());
            }
        });
        self.get_json(session_id, "renames", &query).await
    }

    pub async fn account(
        &self,
        session_id: u64,
        twitch_user_id: &TwitchId,
    ) -> Result<AccountDetail, AnalysisError> {
        self.get_json(session_id, &format!("accounts/{twitch_user_id}"), "")
            .await
    }

    /// The session's cohorts with a member the filter keeps, bot cohorts strongest first.
    pub async fn cohorts(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
    ) -> Result<CohortList, AnalysisError> {
        self.get_json(session_id, "cohorts", &filter.to_query())
            .await
    }

    pub async fn cohort(
        &self,
        session_id: u64,
        cohort_id: u64,
        filter: &AnalysisFilter,
    ) -> Result<CohortDetail, AnalysisError> {
        self.get_json(
            session_id,
            &format!("cohorts/{cohort_id}"),
            &filter.to_query(),
        )
        .await
    }

    /// The dashboard's views in one request (`response::Dashboard`), on condition: with the
    /// tag of an answer already held, `NotModified` while that answer still stands.
    pub async fn dashboard(
        &self,
        session_id: u64,
        filter: &AnalysisFilter,
        accounts: &AccountsQuery,
        renames_limit: usize,
        held: Option<&str>,
    ) -> Result<Conditional<Dashboard>, AnalysisError> {
        let query = query_string(filter, |out| {
            accounts.append_to(out);
            out.append_pair("limit", &renames_limit.to_string());
        });
        let response = self
            .send(session_id, "dashboard", Some(&query), held)
            .await?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        let tag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Conditional::Fresh {
            value: response.json().await?,
            tag,
        })
    }

    /// The session's raids and what came with each (docs/live.md).
    pub async fn raids(&self, session_id: u64) -> Result<Raids, AnalysisError> {
        self.get_json(session_id, "raids", "").await
    }

    pub async fn capture_findings(
        &self,
        session_id: u64,
        capture_id: u64,
    ) -> Result<CaptureFindings, AnalysisError> {
        self.get_json(session_id, &format!("captures/{capture_id}/findings"), "")
            .await
    }

    pub async fn cohort_accounts(
        &self,
        session_id: u64,
        cohort_id: u64,
        filter: &AnalysisFilter,
        list: &AccountsQuery,
    ) -> Result<AccountList, AnalysisError> {
        let query = query_string(filter, |out| list.append_to(out));
        self.get_json(session_id, &format!("cohorts/{cohort_id}/accounts"), &query)
            .await
    }
}
