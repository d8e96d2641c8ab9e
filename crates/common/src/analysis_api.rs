//! The typed client of the analysis service's internal API (docs/analysis.md).

use std::time::Duration;

use url::Url;

use crate::config::Secret;

#[derive(Debug, Clone)]
pub struct AnalysisClient {
    http: reqwest::Client,
    base: Url,
    token: Secret,
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
        let mut url = self
            .base
            .join(&format!("v1/sessions/{session_id}/{path}"))
            .map_err(|e| AnalysisError::Failed(format!("bad URL: {e}")))?;
        url.set_query(query.filter(|q| !q.is_empty()));
        let response = self
            .http
            .get(url)
            .bearer_auth(self.token.expose())
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let message = body["message"].as_str().unwrap_or("").to_string();
        Err(match status.as_u16() {
            400 => AnalysisError::BadRequest(message),
            404 => AnalysisError::NotFound,
            _ => AnalysisError::Failed(format!("{status}: {message}")),
        })
    }

    /// `get`, with the JSON answer decoded.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        session_id: u64,
        path: &str,
        query: Option<&str>,
    ) -> Result<T, AnalysisError> {
        let response = self.get(session_id, path, query).await?;
        Ok(response.json().await?)
    }
}
