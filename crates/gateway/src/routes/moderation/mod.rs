//! The moderator's side (docs/moderation.md): labels and notes (`marks`), bot lists
//! (`lists`), and bulk bans, timeouts and unbans through Twitch (`actions`, choosing accounts
//! in `selection`).

pub mod actions;
pub mod lists;
pub mod marks;
pub mod selection;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/marks", get(marks::page))
        .route("/marks/add", post(marks::add))
        .route("/marks/{twitch_user_id}/remove", post(marks::remove))
        .route(
            "/sessions/{id}/accounts/{twitch_user_id}/mark",
            post(marks::save_on_account),
        )
        .route("/lists", get(lists::page).post(lists::import))
        .route("/lists/{list_id}/delete", post(lists::delete))
        .route("/actions/enable", get(actions::enable))
        .route("/sessions/{id}/actions/preview", post(actions::preview))
        .route("/sessions/{id}/actions/{batch}", get(actions::show))
        .route(
            "/sessions/{id}/actions/{batch}/confirm",
            post(actions::confirm),
        )
        .route("/sessions/{id}/actions/{batch}/undo", post(actions::undo))
        .route(
            "/sessions/{id}/actions/{batch}/ban-list.txt",
            get(actions::ban_list),
        )
        .route(
            "/sessions/{id}/actions/{batch}/accounts.csv",
            get(actions::accounts_csv),
        )
        .route(
            "/sessions/{id}/actions/{batch}/progress",
            get(actions::progress),
        )
        .route(
            "/sessions/{id}/actions/{batch}/events",
            get(actions::events),
        )
}
