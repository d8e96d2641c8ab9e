//! `dashboard`: the gateway's dashboard in one answer. Each view was its own request, and each
//! request probed the session's data version: six probes a page view. Here one probe serves
//! the summary, cohorts, top days, the flagged accounts' page and the renames (remembered
//! together per data version and query), and the raids are read fresh (a raid is recorded
//! before any capture changes the data version).

use axum::response::Response;
use tca_common::analysis_api::response::DashboardViews;

use super::{ApiError, ApiResult, Ask, Prepared, accounts, cohorts, json_body, overview, raids};
use crate::db;

pub async fn dashboard(ask: Ask) -> ApiResult<Response> {
    let prepared = ask.prepare().await?;
    let views = ask
        .answer_with(&prepared, "dashboard", async |p: &Prepared| {
            Ok(DashboardViews {
                summary: overview::summary_of(&ask, p).await?,
                cohorts: cohorts::kept(p),
                top_days: overview::top_days_of(p)?,
                accounts: accounts::list_of(&ask, p)?,
                renames: accounts::renames_of(&ask, p).await?,
            })
        })
        .await?;
    let rows = db::raids(&ask.state.pool, ask.session_id).await?;
    let raids = if rows.is_empty() {
        Vec::new()
    } else {
        raids::forensics(&ask, &prepared.population, rows).await?
    };
    let raids = serde_json::to_vec(&raids).map_err(|e| {
        tracing::error!(error = %e, "serializing the raids failed");
        ApiError::internal()
    })?;
    // `Dashboard` written around the remembered bytes rather than parsed and written again.
    let mut body = Vec::with_capacity(views.len() + raids.len() + 20);
    body.extend_from_slice(b"{\"views\":");
    body.extend_from_slice(&views);
    body.extend_from_slice(b",\"raids\":");
    body.extend_from_slice(&raids);
    body.push(b'}');
    Ok(json_body(body.into()))
}
