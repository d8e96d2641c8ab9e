//! The analysis pages: the dashboard (KPIs, charts, top creation days, suspicious accounts,
//! renames), one creation day, one account.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use tca_common::analysis_api::response::{
    Account, AccountList, Cohort, LoginReuse, Name, Renamed, Sighting, Summary, TopDay,
};
use tca_common::analysis_api::{AccountsQuery, AnalysisFilter, Conditional};
use tca_common::db::moderation::Batch;
use tca_common::db::session_channels::SessionChannel;
use tca_common::db::sessions::Session;
use tca_common::db::{marks, moderation, session_channels};

#[allow(unused_imports)] // the templates call these traits' methods
use crate::display::{AccountDisplay, SightingDisplay, SummaryDisplay, TopDayDisplay};

use super::filter::{Filter, page_number};
use super::{cohort_id, creation_day, twitch_user_id};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::i18n::coded;
use crate::rendered::{DashboardInputs, PageKey, Rendered, fingerprint};
use crate::routes::sessions::viewed_session;
use crate::state::AppState;
use crate::views::{Layout, Time};

#[derive(Hash)]
pub struct ChannelChoice {
    pub broadcaster_id: String,
    pub name: String,
    pub checked: bool,
}

async fn channel_choices(
    state: &AppState,
    session: &Session,
    filter: &Filter,
) -> AppResult<Vec<ChannelChoice>> {
    let channels = session_channels::of_session(&state.pool, session.id).await?;
    Ok(choices_of(&channels, filter))
}

fn choices_of(channels: &[SessionChannel], filter: &Filter) -> Vec<ChannelChoice> {
    channels
        .iter()
        .map(|c| ChannelChoice {
            checked: filter.has_channel(&c.broadcaster_id),
            broadcaster_id: c.broadcaster_id.clone(),
            name: c.broadcaster_name.clone(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub filter: Filter,
    pub channels: Vec<ChannelChoice>,
    pub summary: Summary,
    /// The first cohorts (bot cohorts strongest first, then crowds) and how many there are.
    pub cohorts: Vec<Cohort>,
    pub cohorts_total: usize,
    pub top_days: Vec<TopDay>,
    pub flagged: AccountList,
    pub renamed: Vec<Renamed>,
    pub login_reuse: Vec<LoginReuse>,
    /// The session's moderation batches, newest first.
    pub batches: Vec<BatchLink>,
    /// Raids into the session's channels with their forensics (docs/live.md).
    pub raids: Vec<tca_common::analysis_api::response::Raid>,
}

/// A moderation batch listed on the dashboard.
#[derive(Hash)]
pub struct BatchLink {
    pub public_id: String,
    pub created: Time,
    pub action: String,
    pub channel: String,
    pub targets: u32,
    pub status: String,
}

fn batch_links(batches: &[Batch]) -> Vec<BatchLink> {
    batches
        .iter()
        .map(|b| BatchLink {
            created: Time::new(b.created_at),
            action: coded("batch-action", &b.action),
            status: coded("batch-status", &b.status),
            public_id: b.public_id.clone(),
            channel: b.broadcaster_login.clone(),
            targets: b.targets,
        })
        .collect()
}

/// The session's channels and batches, remembered a second (`AppState::dashboard_inputs`).
async fn dashboard_inputs(state: &AppState, session: &Session) -> AppResult<Arc<DashboardInputs>> {
    if let Some(inputs) = state.dashboard_inputs.get(&session.id) {
        return Ok(inputs);
    }
    let (channels, batches) = tokio::try_join!(
        session_channels::of_session(&state.pool, session.id),
        moderation::of_session(&state.pool, session.id),
    )?;
    let inputs = Arc::new(DashboardInputs {
        session_id: session.id,
        channels,
        batches,
    });
    state.dashboard_inputs.put(session.id, inputs.clone());
    Ok(inputs)
}

impl DashboardPage {
    pub fn raid_time(&self, raid: &tca_common::analysis_api::response::Raid) -> Time {
        Time::new(raid.raided_at)
    }
    fn link(&self, more: &[(&str, &str)]) -> String {
        let q = self.filter.with(more);
        format!("/sessions/{}/analysis?{q}", self.public_id)
    }
    pub fn next_page(&self) -> String {
        self.link(&[("page", &(self.flagged.page + 1).to_string())])
    }
    pub fn previous_page(&self) -> String {
        self.link(&[(
            "page",
            &self.flagged.page.saturating_sub(1).max(1).to_string(),
        )])
    }
    pub fn export(&self, file: &str) -> String {
        format!(
            "/sessions/{}/export/{file}{}",
            self.public_id,
            self.filter.suffix()
        )
    }
}

/// What an analysis page is asked: the user's session, the filter as typed (redisplayed), the
/// filter checked for the analysis service, and the page of a list.
struct Asked {
    session: Session,
    filter: Filter,
    checked: AnalysisFilter,
    page: u32,
}

async fn asked(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    raw: Option<&str>,
) -> AppResult<Asked> {
    let session = viewed_session(state, user, id).await?;
    let (filter, rest) = Filter::parse(raw);
    let page = page_number(&rest)?;
    let checked = filter.checked()?;
    Ok(Asked {
        session,
        filter,
        checked,
        page,
    })
}

/// Cohorts shown on the dashboard; the cohorts export has them all.
const COHORTS_SHOWN: usize = 10;
/// Renames listed on the dashboard; the export has them all.
const RENAMES_SHOWN: usize = 50;
/// Flagged accounts per page of the dashboard.
const FLAGGED_PER_PAGE: u32 = 25;

pub(super) async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let Asked {
        session,
        filter,
        checked,
        page,
    } = asked(&state, &user, &id, raw.as_deref()).await?;
    let flagged = AccountsQuery {
        flagged_only: true,
        per_page: FLAGGED_PER_PAGE,
        page,
        ..AccountsQuery::default()
    };
    let key = PageKey {
        session_id: session.id,
        web_session_id: user.web_session_id,
        query: raw.unwrap_or_default(),
        lang: crate::i18n::current(),
    };
    let held = state.dashboards.get(&key);
    // The reads are independent: ask for them at once; analysis answers every view of the
    // dashboard in one request, on condition when this page was rendered before.
    let (answer, inputs) = tokio::try_join!(
        async {
            Ok::<_, AppError>(
                state
                    .analysis
                    .dashboard(
                        session.id,
                        &checked,
                        &flagged,
                        RENAMES_SHOWN,
                        held.as_ref().map(|h| h.tag.as_str()),
                    )
                    .await?,
            )
        },
        dashboard_inputs(&state, &session),
    )?;
    let channels = choices_of(&inputs.channels, &filter);
    let batches = batch_links(&inputs.batches);
    // What the page shows besides the answer (the public id, filter and language are in
    // the key).
    let layout = Layout::new(&user, "sessions");
    let inputs = fingerprint(&(
        (&layout.display_name, &layout.avatar_url, &layout.csrf),
        &session.name,
        &channels,
        &batches,
    ));
    let (answer, tag) = match (answer, held) {
        (Conditional::NotModified, Some(held)) if held.inputs == inputs => {
            metrics::counter!("dashboard_views_total", "page" => "kept").increment(1);
            return Ok(Html(held.html).into_response());
        }
        (Conditional::NotModified, Some(held)) => (held.answer, held.tag),
        (Conditional::Fresh { value, tag }, _) => (Arc::new(value), tag.unwrap_or_default()),
        (Conditional::NotModified, None) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "analysis answered 304 to a dashboard request without a tag"
            )));
        }
    };
    let views = &answer.views;
    let cohorts_total = views.cohorts.len();
    let page = DashboardPage {
        layout,
        public_id: session.public_id,
        name: session.name,
        filter,
        channels,
        summary: views.summary.clone(),
        cohorts: views.cohorts.iter().take(COHORTS_SHOWN).cloned().collect(),
        cohorts_total,
        top_days: views.top_days.days.clone(),
        flagged: views.accounts.clone(),
        // Analysis sends the most renamed first, RENAMES_SHOWN of them.
        renamed: views.renames.accounts.clone(),
        login_reuse: views.renames.login_reuse.clone(),
        batches,
        raids: answer.raids.clone(),
    };
    let html = Bytes::from(page.render()?);
    metrics::counter!("dashboard_views_total", "page" => "rendered").increment(1);
    if !tag.is_empty() {
        state.dashboards.put(
            key,
            Rendered {
                tag,
                answer,
                inputs,
                html: html.clone(),
            },
        );
    }
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "pages/day.html")]
pub struct DayPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub day: NaiveDate,
    pub filter: Filter,
    pub hours: Vec<(usize, u64)>,
    pub accounts: AccountList,
    pub channels: Vec<ChannelChoice>,
}

impl DayPage {
    fn link(&self, page: u32) -> String {
        let q = self.filter.with(&[("page", &page.to_string())]);
        format!("/sessions/{}/days/{}?{q}", self.public_id, self.day)
    }
    pub fn next_page(&self) -> String {
        self.link(self.accounts.page + 1)
    }
    pub fn previous_page(&self) -> String {
        self.link(self.accounts.page.saturating_sub(1).max(1))
    }
    /// The day written the reader's way ("Mar 14, 2024", "14 mars 2024").
    pub fn day_text(&self) -> String {
        tca_common::i18n::day(crate::i18n::current(), self.day)
    }
    pub fn busiest_hour(&self) -> u64 {
        self.hours.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1)
    }
}

/// Accounts per page of a creation day.
const DAY_PER_PAGE: u32 = 100;

pub(super) async fn day_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_day)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let Asked {
        session,
        filter,
        checked,
        page,
    } = asked(&state, &user, &id, raw.as_deref()).await?;
    let day = creation_day(&raw_day)?;
    let list = AccountsQuery {
        per_page: DAY_PER_PAGE,
        page,
        ..AccountsQuery::default()
    };
    let (hours, accounts) = tokio::try_join!(
        state.analysis.hours(session.id, day, &checked),
        state
            .analysis
            .day_accounts(session.id, day, &checked, &list),
    )?;
    let channels = channel_choices(&state, &session, &filter).await?;
    let page = DayPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        day,
        filter,
        hours: hours.hours.into_iter().enumerate().collect(),
        accounts,
        channels,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "pages/cohort.html")]
pub struct CohortPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub filter: Filter,
    pub cohort: Cohort,
    pub accounts: AccountList,
    pub channels: Vec<ChannelChoice>,
}

impl CohortPage {
    fn link(&self, page: u32) -> String {
        let q = self.filter.with(&[("page", &page.to_string())]);
        format!(
            "/sessions/{}/cohorts/{}?{q}",
            self.public_id, self.cohort.cohort_id
        )
    }
    pub fn next_page(&self) -> String {
        self.link(self.accounts.page + 1)
    }
    pub fn previous_page(&self) -> String {
        self.link(self.accounts.page.saturating_sub(1).max(1))
    }
    pub fn first_created(&self) -> Time {
        Time::new(self.cohort.first_created)
    }
    pub fn last_created(&self) -> Time {
        Time::new(self.cohort.last_created)
    }
}

/// Members per page of a cohort.
const COHORT_PER_PAGE: u32 = 100;

pub(super) async fn cohort_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_cohort)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let Asked {
        session,
        filter,
        checked,
        page,
    } = asked(&state, &user, &id, raw.as_deref()).await?;
    let cohort_id = cohort_id(&raw_cohort)?;
    let list = AccountsQuery {
        per_page: COHORT_PER_PAGE,
        page,
        ..AccountsQuery::default()
    };
    let (detail, accounts) = tokio::try_join!(
        state.analysis.cohort(session.id, cohort_id, &checked),
        state
            .analysis
            .cohort_accounts(session.id, cohort_id, &checked, &list),
    )?;
    let channels = channel_choices(&state, &session, &filter).await?;
    let page = CohortPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        filter,
        cohort: detail.cohort,
        accounts,
        channels,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub public_id: String,
    pub name: String,
    pub account: Account,
    pub names: Vec<Name>,
    pub seen_in: Vec<Sighting>,
    pub flag_threshold: u32,
    /// The user's own mark, for the form (the mark shown may be another's, shared).
    pub own_label: String,
    pub own_note: String,
    pub own_share: String,
    pub channels: Vec<ChannelChoice>,
}

impl AccountPage {
    /// "Labelled by … on …" for the mark in force.
    pub fn marked_text(&self, by: &str) -> String {
        let when = self
            .account
            .marked_at
            .map(|t| tca_common::i18n::date_time(crate::i18n::current(), t))
            .unwrap_or_default();
        crate::i18n::t2("mark-by", "by", by, "when", when)
    }
}

pub(super) async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, raw_user)): Path<(String, String)>,
) -> AppResult<Response> {
    let session = viewed_session(&state, &user, &id).await?;
    let twitch_user_id = twitch_user_id(&raw_user)?;
    let detail = state.analysis.account(session.id, &twitch_user_id).await?;
    let own = marks::own(&state.pool, user.id, twitch_user_id.as_str()).await?;
    let channels = channel_choices(&state, &session, &Filter::default()).await?;
    let page = AccountPage {
        layout: Layout::new(&user, "sessions"),
        public_id: session.public_id,
        name: session.name,
        account: detail.account,
        names: detail.names,
        seen_in: detail.seen_in,
        flag_threshold: detail.flag_threshold,
        own_label: own
            .as_ref()
            .and_then(|m| m.label.clone())
            .unwrap_or_default(),
        own_note: own.as_ref().map(|m| m.note.clone()).unwrap_or_default(),
        own_share: own.and_then(|m| m.shared_channel_id).unwrap_or_default(),
        channels,
    };
    Ok(Html(page.render()?).into_response())
}
