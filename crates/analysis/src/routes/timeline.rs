//! The session's finished captures over time: chatters, viewers and their ratio.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use tca_common::analysis_api::response::Timeline;

use super::{ApiResult, AppState, prepare};
use crate::db;

pub async fn timeline(
    State(state): State<AppState>,
    Path(session_id): Path<u64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Timeline>> {
    let p = prepare(&state, session_id, raw.as_deref()).await?;
    let captures =
        db::finished_captures(&state.pool, session_id, &p.filter.broadcaster_ids).await?;
    Ok(Json(Timeline { captures }))
}
