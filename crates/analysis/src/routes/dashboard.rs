//! `dashboard`: the gateway's dashboard in one answer. Each view was its own request, and each
//! request probed the session's data version: six probes a page view. Here one probe serves
//! the summary, cohorts, top days, the flagged accounts' page, the renames and the raids,
//! remembered together per data version, raids version and query.
//!
//! The answer carries an entity tag computed from the probe alone, and a request that sends
//! it back (`If-None-Match`) gets `304 Not Modified` without the answer being built or sent:
//! the gateway keeps the page it rendered from the answer and renders it again only when the
//! tag changes (tca-bench B6, docs/analysis.md).

use std::hash::{Hash, Hasher};

use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tca_common::analysis_api::response::{Dashboard, DashboardViews};

use super::{ApiError, ApiResult, Ask, Prepared, accounts, cohorts, json_body, overview, raids};
use crate::db::{self, Probe};

pub async fn dashboard(ask: Ask, headers: HeaderMap) -> ApiResult<Response> {
    let probe = db::probe_with_raids(&ask.state.pool, ask.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such session"))?;
    let tag = entity_tag(&ask, &probe);
    if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|asked| asked.as_bytes() == tag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response());
    }
    let prepared = ask.prepare_with(&probe).await?;
    // Raids are only ever added: their version in the key makes a new raid a new answer.
    let view = format!(
        "dashboard~{}",
        probe.raids_version.as_deref().unwrap_or_default()
    );
    let body = ask
        .answer_with(&prepared, &view, async |p: &Prepared| {
            let rows = db::raids(&ask.state.pool, ask.session_id).await?;
            let raids = if rows.is_empty() {
                Vec::new()
            } else {
                raids::forensics(&ask, &p.population, rows).await?
            };
            Ok(Dashboard {
                views: DashboardViews {
                    summary: overview::summary_of(&ask, p).await?,
                    cohorts: cohorts::kept(p),
                    top_days: overview::top_days_of(p)?,
                    accounts: accounts::list_of(&ask, p)?,
                    renames: accounts::renames_of(&ask, p).await?,
                },
                raids,
            })
        })
        .await?;
    let mut response = json_body(body);
    response.headers_mut().insert(ETAG, tag);
    Ok(response)
}

/// Everything the answer is made from, as the probe saw it, hashed: the build and its
/// settings, the data version, the raids, the channel count, the query and the language. The
/// same tag means the same answer.
fn entity_tag(ask: &Ask, probe: &Probe) -> HeaderValue {
    let mut hasher = std::hash::DefaultHasher::new();
    ask.state.answers_seed.hash(&mut hasher);
    probe.captures_version.hash(&mut hasher);
    probe.last_enriched.hash(&mut hasher);
    probe.moderation_version.hash(&mut hasher);
    probe.raids_version.hash(&mut hasher);
    probe.channels.hash(&mut hasher);
    ask.raw.hash(&mut hasher);
    tca_common::i18n::current().code().hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .expect("hex digits in quotes are a header value")
}
