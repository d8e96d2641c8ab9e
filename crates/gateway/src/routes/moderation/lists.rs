//! Bot lists (docs/moderation.md): imported under a name and a date (one login or id a line,
//! or CSV, pasted or read from a file by the page), listed, refreshed by importing again under
//! the same name, deleted (their reasons go with them).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use tca_common::db::audit::{self, Event, Subject};
use tca_common::db::bot_lists::{self, BotList};

use crate::auth::{CurrentUser, NoFields, Posted};
use crate::error::{AppError, AppResult};
use crate::i18n::{current, t, t1};
use crate::state::AppState;
use crate::views::{Layout, Time};

/// The largest import taken: 4 MiB, about 200,000 logins.
const IMPORT_LIMIT: usize = 4 * 1024 * 1024;
/// Points of a list match unless the importer says otherwise.
pub const DEFAULT_POINTS: u16 = 20;
const NAME_MAX: usize = 100;

pub struct ListRow {
    pub id: u64,
    pub name: String,
    pub points: u16,
    pub entries: u32,
    pub imported: Time,
}

impl From<BotList> for ListRow {
    fn from(list: BotList) -> Self {
        Self {
            id: list.id,
            imported: Time::new(list.imported_at),
            name: list.name,
            points: list.points,
            entries: list.entries,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/lists.html")]
pub struct ListsPage {
    pub layout: Layout,
    pub lists: Vec<ListRow>,
    pub notice: Option<String>,
    pub default_points: u16,
}

#[derive(Deserialize, Default)]
pub struct ListsQuery {
    #[serde(default)]
    imported: Option<u32>,
    #[serde(default)]
    skipped: Option<u32>,
    #[serde(default)]
    deleted: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListsQuery>,
) -> AppResult<Response> {
    let notice = match (query.imported, query.deleted) {
        (Some(entries), _) => Some(current().t_args(
            "lists-imported",
            &[
                ("entries", entries.into()),
                ("skipped", query.skipped.unwrap_or(0).into()),
            ],
        )),
        (None, Some(name)) => Some(t1("lists-deleted", "name", name)),
        (None, None) => None,
    };
    let page = ListsPage {
        layout: Layout::new(&user, "lists"),
        lists: bot_lists::of_user(&state.pool, user.id)
            .await?
            .into_iter()
            .map(ListRow::from)
            .collect(),
        notice,
        default_points: DEFAULT_POINTS,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    entries: String,
}

/// Imports (or refreshes, under the same name) a list.
pub async fn import(
    State(state): State<AppState>,
    Posted { user, form }: Posted<ImportForm, IMPORT_LIMIT>,
) -> AppResult<Response> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return Err(AppError::BadRequest(t1(
            "error-list-name",
            "max",
            NAME_MAX as u32,
        )));
    }
    let points: u16 = match form.points.trim() {
        "" => DEFAULT_POINTS,
        raw => raw
            .parse()
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| AppError::BadRequest(t1("error-list-points", "raw", raw)))?,
    };
    let (entries, rejected) = bot_lists::parse_file(&form.entries);
    if entries.is_empty() {
        return Err(AppError::BadRequest(t("error-list-empty")));
    }
    let now = Utc::now();
    let mut conn = state.pool.acquire().await?;
    bot_lists::import(&mut conn, user.id, name, points, &entries, now).await?;
    audit::record(
        &mut *conn,
        &Event::BotListImport {
            name: name.to_string(),
            entries: entries.len() as u32,
            points,
        },
        Subject::user(user.id),
        now,
    )
    .await?;
    let to = format!(
        "/lists?imported={}&skipped={}",
        entries.len(),
        rejected.len()
    );
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> AppResult<Response> {
    let list_id: u64 = raw_id
        .parse()
        .map_err(|_| AppError::BadRequest(t1("error-list-id", "raw", raw_id.as_str())))?;
    let list = bot_lists::find(&state.pool, user.id, list_id)
        .await?
        .ok_or(AppError::NotFound)?;
    bot_lists::delete(&state.pool, user.id, list.id).await?;
    audit::record(
        &state.pool,
        &Event::BotListDelete {
            name: list.name.clone(),
        },
        Subject::user(user.id),
        Utc::now(),
    )
    .await?;
    let mut to = url::form_urlencoded::Serializer::new(String::from("/lists?"));
    to.append_pair("deleted", &list.name);
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to.finish())]).into_response())
}
