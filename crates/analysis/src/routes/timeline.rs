//! The session's finished captures over time: chatters, viewers and their ratio.

use axum::Json;

use tca_common::analysis_api::response::Timeline;

use super::{ApiResult, Ask};
use crate::db;

pub async fn timeline(ask: Ask) -> ApiResult<Json<Timeline>> {
    let p = ask.prepare().await?;
    let captures =
        db::finished_captures(&ask.state.pool, ask.session_id, &p.filter.broadcaster_ids).await?;
    Ok(Json(Timeline { captures }))
}
