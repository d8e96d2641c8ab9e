//! Accounts: the filtered list, the accounts created on one day, one account, and renames.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use tca_common::analysis_api::AccountsQuery;
use tca_common::analysis_api::request::parse_day;
use tca_common::analysis_api::response::{
    AccountDetail, AccountList, LoginReuse, Name, Renamed, Renames,
};

use super::{ApiError, ApiResult, AppState, Ask, Prepared};
use crate::db;
use crate::population::Scored;

/// One page of `list`, sorted as asked.
pub(super) fn page(mut list: Vec<&Scored>, query: &AccountsQuery) -> AccountList {
    match query.sort {
        "login" => list.sort_by(|a, b| a.row.login.cmp(&b.row.login)),
        "created_at" => list.sort_by_key(|a| a.row.twitch_created_at),
        "first_seen_at" => list.sort_by_key(|a| a.row.first_seen_at),
        "last_seen_at" => list.sort_by_key(|a| a.row.last_seen_at),
        "captures_seen" => list.sort_by_key(|a| a.row.captures_seen),
        "renames" => list.sort_by_key(|a| a.renames()),
        _ => list.sort_by(|a, b| {
            a.score
                .score
                .cmp(&b.score.score)
                .then(b.row.login.cmp(&a.row.login))
        }),
    }
    if query.descending {
        list.reverse();
    }
    paginate(list, query)
}

fn paginate(list: Vec<&Scored>, query: &AccountsQuery) -> AccountList {
    let total = list.len();
    let per_page = query.per_page as usize;
    let start = (query.page as usize - 1) * per_page;
    let accounts = list[start.min(total)..(start + per_page).min(total)]
        .iter()
        .map(|a| a.to_account())
        .collect();
    AccountList {
        total: total as u64,
        page: query.page,
        per_page: query.per_page,
        accounts,
    }
}

/// A search matches the login, the display name or the moderator's note.
fn matches_search(account: &Scored, query: &str) -> bool {
    account.row.login.contains(query)
        || account.row.display_name.to_lowercase().contains(query)
        || account
            .mark
            .as_ref()
            .is_some_and(|m| m.note.to_lowercase().contains(query))
}

pub(super) fn accounts_query(p: &Prepared) -> ApiResult<AccountsQuery> {
    AccountsQuery::parse(&p.query).map_err(ApiError::bad)
}

pub async fn list(ask: Ask) -> ApiResult<Response> {
    ask.answer("accounts", async |p: &Prepared| list_of(&ask, p))
        .await
}

pub(super) fn list_of(ask: &Ask, p: &Prepared) -> ApiResult<AccountList> {
    let threshold = ask.state.scoring.flag_threshold;
    let query = accounts_query(p)?;
    let list: Vec<&Scored> = p
        .selection
        .of(&p.population)
        .filter(|a| query.search.as_deref().is_none_or(|q| matches_search(a, q)))
        .filter(|a| !query.flagged_only || a.flagged(threshold))
        .filter(|a| match query.label.as_deref() {
            None => true,
            Some("any") => a.mark.is_some(),
            Some(label) => a.label().is_some_and(|l| l.as_str() == label),
        })
        .collect();
    Ok(page(list, &query))
}

/// The accounts created on one day, in creation order.
pub async fn created_on_day(
    State(state): State<AppState>,
    Path((session_id, raw_day)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let ask = Ask::new(state, session_id, raw);
    let wanted = parse_day(&raw_day, "day").map_err(ApiError::bad)?;
    let view = format!("days/{wanted}/accounts");
    ask.answer(&view, async |p: &Prepared| {
        let query = accounts_query(p)?;
        let mut list: Vec<&Scored> = p
            .selection
            .of(&p.population)
            .filter(|a| {
                a.row
                    .twitch_created_at
                    .is_some_and(|c| c.date_naive() == wanted)
            })
            .collect();
        list.sort_by_key(|a| a.row.twitch_created_at);
        Ok(paginate(list, &query))
    })
    .await
}

/// Renamed accounts, most renamed first (`limit` keeps the head; login reuse is still found
/// among all of them), and the logins held by more than one account.
pub async fn renames(ask: Ask) -> ApiResult<Response> {
    ask.answer("renames", async |p: &Prepared| renames_of(&ask, p).await)
        .await
}

pub(super) async fn renames_of(ask: &Ask, p: &Prepared) -> ApiResult<Renames> {
    let limit = match p.query.one("limit") {
        None => usize::MAX,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                ApiError::bad(
                    tca_common::i18n::current().t_args("error-param-limit", &[("raw", raw.into())]),
                )
            })?,
    };
    let mut renamed: Vec<&Scored> = p
        .selection
        .of(&p.population)
        .filter(|a| a.row.names > 1)
        .collect();
    renamed.sort_by(|a, b| {
        b.renames()
            .cmp(&a.renames())
            .then(a.row.login.cmp(&b.row.login))
    });
    let ids: Vec<u64> = renamed.iter().map(|a| a.row.account_id).collect();
    let names = db::names_of(&ask.state.pool, &ids).await?;
    let logins: Vec<&str> = names
        .iter()
        .map(|n| n.login.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut by_login: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (login, holder) in db::login_holders(&ask.state.pool, &logins).await? {
        by_login.entry(login).or_default().push(holder);
    }
    let login_reuse = by_login
        .into_iter()
        .filter(|(_, holders)| holders.len() > 1)
        .map(|(login, held_by)| LoginReuse { login, held_by })
        .collect();
    let mut ledgers: HashMap<u64, Vec<Name>> = HashMap::new();
    for name in &names {
        ledgers
            .entry(name.account_id)
            .or_default()
            .push(name.into());
    }
    let accounts = renamed
        .iter()
        .take(limit)
        .map(|a| Renamed {
            twitch_user_id: a.row.twitch_user_id.clone(),
            login: a.row.login.clone(),
            renames: a.renames(),
            names: ledgers.remove(&a.row.account_id).unwrap_or_default(),
        })
        .collect();
    Ok(Renames {
        total: renamed.len() as u64,
        accounts,
        login_reuse,
    })
}

/// One account of the session: its score, its names, the captures it was seen in.
pub async fn one(
    State(state): State<AppState>,
    Path((session_id, twitch_user_id)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AccountDetail>> {
    let ask = Ask::new(state, session_id, raw);
    let p = ask.prepare().await?;
    let found = p
        .population
        .accounts
        .iter()
        .find(|a| a.row.twitch_user_id == twitch_user_id)
        .ok_or_else(|| ApiError::not_found("this account was not seen in this session"))?;
    let names = db::names_of(&ask.state.pool, &[found.row.account_id]).await?;
    let seen_in = db::sightings(&ask.state.pool, ask.session_id, found.row.account_id).await?;
    Ok(Json(AccountDetail {
        account: found.to_account(),
        flag_threshold: ask.state.scoring.flag_threshold,
        names: names.iter().map(Name::from).collect(),
        seen_in,
    }))
}
