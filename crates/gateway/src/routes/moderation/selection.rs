//! Which accounts a moderator chose to act on — a cohort, the flagged accounts under the
//! dashboard's filters, a creation day, or hand-picked rows — read from the analysis service,
//! and who of them is left out and why (docs/moderation.md).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use tca_common::analysis_api::request::MAX_PER_PAGE;
use tca_common::analysis_api::response::{Account, AccountList};
use tca_common::analysis_api::{AccountsQuery, AnalysisFilter};
use tca_common::db::marks;
use tca_common::db::moderation::{self, Action, Excluded, Target};
use tca_common::db::sessions::Session;
use tca_common::twitch_id::TwitchId;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::i18n::{t, t1};
use crate::routes::analysis::filter::Filter;
use crate::state::AppState;

/// What was chosen.
#[derive(Debug, Clone)]
pub enum Chosen {
    Cohort(u64),
    /// The flagged accounts under the dashboard's filter (as typed, redisplayed).
    Flagged(Filter),
    Day(NaiveDate),
    Picked(Vec<TwitchId>),
}

impl Chosen {
    /// As stored with the batch and in the audit log: `kind:value` (`cohort:160`,
    /// `flagged:<filter query>`, `day:2024-03-14`, `picked:2`); `describe` words it.
    pub fn code(&self) -> String {
        match self {
            Self::Cohort(id) => format!("cohort:{id}"),
            Self::Flagged(filter) => format!("flagged:{}", filter.query()),
            Self::Day(day) => format!("day:{day}"),
            Self::Picked(ids) => format!("picked:{}", ids.len()),
        }
    }

    /// Reads the choice from the preview form's fields.
    pub fn from_form(fields: &HashMap<String, String>) -> AppResult<Self> {
        let field = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or("");
        match field("kind") {
            "cohort" => field("cohort_id").parse().map(Self::Cohort).map_err(|_| {
                AppError::BadRequest(t1("error-cohort-id", "raw", field("cohort_id")))
            }),
            "flagged" => {
                let (filter, _) = Filter::parse(Some(field("filter")));
                filter.checked()?;
                Ok(Self::Flagged(filter))
            }
            "day" => NaiveDate::parse_from_str(field("day"), "%Y-%m-%d")
                .map(Self::Day)
                .map_err(|_| AppError::BadRequest(t1("error-day", "raw", field("day")))),
            "picked" => {
                let mut ids: Vec<TwitchId> = Vec::new();
                for key in fields.keys() {
                    if let Some(raw) = key.strip_prefix("pick-") {
                        let id = TwitchId::parse(raw).map_err(|_| {
                            AppError::BadRequest(t1("error-twitch-user-id", "raw", raw))
                        })?;
                        ids.push(id);
                    }
                }
                ids.sort();
                Ok(Self::Picked(ids))
            }
            other => Err(AppError::BadRequest(t1(
                "error-selection-kind",
                "raw",
                other,
            ))),
        }
    }
}

/// Every account of the choice, read page by page; more than `max` is a 400 before the rest
/// is read.
pub async fn accounts(
    state: &AppState,
    session: &Session,
    chosen: &Chosen,
    max: u32,
) -> AppResult<Vec<Account>> {
    let analysis = &state.analysis;
    let everything = AnalysisFilter::default();
    let mut accounts: Vec<Account> = Vec::new();
    if let Chosen::Picked(ids) = chosen {
        if ids.len() > max as usize {
            return Err(too_many(ids.len() as u64, max));
        }
        for id in ids {
            match analysis.account(session.id, id).await {
                Ok(detail) => accounts.push(detail.account),
                Err(tca_common::analysis_api::AnalysisError::NotFound) => {
                    return Err(AppError::BadRequest(t1(
                        "error-picked-unknown",
                        "id",
                        id.to_string(),
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(accounts);
    }
    let mut page = 1;
    loop {
        let list = AccountsQuery {
            flagged_only: matches!(chosen, Chosen::Flagged(_)),
            per_page: MAX_PER_PAGE,
            page,
            ..AccountsQuery::default()
        };
        let answer: AccountList = match chosen {
            Chosen::Cohort(id) => {
                analysis
                    .cohort_accounts(session.id, *id, &everything, &list)
                    .await?
            }
            Chosen::Flagged(filter) => {
                analysis
                    .accounts(session.id, &filter.checked()?, &list)
                    .await?
            }
            Chosen::Day(day) => {
                analysis
                    .day_accounts(session.id, *day, &everything, &list)
                    .await?
            }
            Chosen::Picked(_) => unreachable!("read above"),
        };
        if answer.total > u64::from(max) {
            return Err(too_many(answer.total, max));
        }
        let more = answer.has_next();
        accounts.extend(answer.accounts);
        if !more {
            return Ok(accounts);
        }
        page += 1;
    }
}

pub fn too_many(n: u64, max: u32) -> AppError {
    AppError::BadRequest(crate::i18n::current().t_args(
        "error-batch-too-large",
        &[("count", n.into()), ("max", max.into())],
    ))
}

/// Accounts of the session named by login in the form's `also` field (commas, spaces or
/// lines between them): what a moderator adds to a choice by hand ("the farm, and these
/// two"). A login the session never saw is a 400 that names it.
pub async fn also(state: &AppState, session: &Session, raw: &str) -> AppResult<Vec<Account>> {
    let logins: Vec<String> = raw
        .split([',', ' ', '\n', '\r', '\t', ';'])
        .map(|l| l.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    let mut accounts = Vec::with_capacity(logins.len());
    for login in logins {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT a.twitch_user_id FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
             WHERE sa.session_id = ? AND a.login = ?",
        )
        .bind(session.id)
        .bind(&login)
        .fetch_optional(&state.pool)
        .await?;
        let id = id.and_then(|id| TwitchId::parse(&id).ok()).ok_or_else(|| {
            AppError::BadRequest(t1("error-also-unknown", "login", login.as_str()))
        })?;
        accounts.push(state.analysis.account(session.id, &id).await?.account);
    }
    Ok(accounts)
}

/// Twitch ids of the accounts seen in one channel of the session: its per-channel rows, or,
/// while the session has captures of one channel only, its accounts when that is the channel
/// (`tca_common::db::presence::record_capture`).
async fn seen_in_channel(
    state: &AppState,
    session_id: u64,
    broadcaster_id: &str,
) -> AppResult<HashSet<String>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT a.twitch_user_id FROM session_channel_accounts sca \
         JOIN session_channels sc ON sc.id = sca.session_channel_id \
         JOIN twitch_accounts a ON a.id = sca.account_id \
         WHERE sc.session_id = ? AND sc.broadcaster_id = ? \
         UNION ALL SELECT a.twitch_user_id FROM analysis_sessions s \
         JOIN session_channels sc ON sc.id = s.presence_channel_id \
         JOIN session_accounts sa ON sa.session_id = s.id \
         JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE s.id = ? AND NOT s.presence_per_channel AND sc.broadcaster_id = ?",
    )
    .bind(session_id)
    .bind(broadcaster_id)
    .bind(session_id)
    .bind(broadcaster_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(ids.into_iter().collect())
}

/// The targets of a batch and who is left out, with why: for a ban or a timeout, trusted
/// accounts (the user's, and those shared with the channel), the broadcaster, the moderator
/// themself, accounts an earlier batch banned and nobody unbanned; for any action, accounts
/// never seen in this channel's captures.
pub async fn split(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    broadcaster_id: &str,
    action: Action,
    accounts: Vec<Account>,
) -> AppResult<(Vec<Target>, Vec<(Target, Excluded)>)> {
    let in_channel = seen_in_channel(state, session.id, broadcaster_id).await?;
    let (trusted, banned): (HashSet<String>, HashSet<String>) = if action == Action::Unban {
        (HashSet::new(), HashSet::new())
    } else {
        (
            marks::trusted_ids(&state.pool, user.id, broadcaster_id)
                .await?
                .into_iter()
                .collect(),
            moderation::banned_by_batches(&state.pool, broadcaster_id)
                .await?
                .into_iter()
                .collect(),
        )
    };
    let mut targets = Vec::new();
    let mut excluded = Vec::new();
    for account in accounts {
        let id = account.twitch_user_id.as_str();
        let why = if action != Action::Unban && (account.trusted || trusted.contains(id)) {
            Some(Excluded::Trusted)
        } else if id == broadcaster_id {
            Some(Excluded::Broadcaster)
        } else if id == user.twitch_user_id {
            Some(Excluded::Moderator)
        } else if !in_channel.contains(id) {
            Some(Excluded::NotInChannel)
        } else if action == Action::Ban && banned.contains(id) {
            Some(Excluded::AlreadyBanned)
        } else {
            None
        };
        let target = Target {
            twitch_user_id: account.twitch_user_id,
            login: account.login,
        };
        match why {
            Some(why) => excluded.push((target, why)),
            None => targets.push(target),
        }
    }
    Ok((targets, excluded))
}

/// The message shown when nothing was chosen.
pub fn nothing_chosen() -> AppError {
    AppError::BadRequest(t("error-batch-empty"))
}

/// A stored selection (`Chosen::code`, or `undo:<batch>`) in the reader's language.
pub fn describe(code: &str) -> String {
    let (kind, value) = code.split_once(':').unwrap_or((code, ""));
    match kind {
        "cohort" => t1("selection-cohort", "id", value),
        "flagged" if value.is_empty() => t("selection-flagged"),
        "flagged" => t1("selection-flagged-filtered", "filter", value),
        "day" => t1("selection-day", "day", value),
        "picked" => t1(
            "selection-picked",
            "count",
            value.parse::<u32>().unwrap_or(0),
        ),
        "undo" => t("selection-undo"),
        _ => code.to_string(),
    }
}
