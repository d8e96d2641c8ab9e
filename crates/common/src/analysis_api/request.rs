//! What a caller asks the analysis service: the filter every view shares, and the extra
//! parameters of some views. Each type parses itself from a query string (the server) and
//! writes itself into one (the client), so both sides agree on names, values and limits.

use chrono::{Duration, NaiveDate, Utc};

use crate::i18n;
use crate::query::QueryString;
use crate::twitch_id::TwitchId;

type Pairs = url::form_urlencoded::Serializer<'static, String>;

/// A day parameter (`YYYY-MM-DD`); the error names the parameter. Errors are sentences in
/// the request's language (they reach the user).
pub fn parse_day(raw: &str, name: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        i18n::current().t_args(
            "error-param-day",
            &[("name", name.into()), ("raw", raw.into())],
        )
    })
}

/// Which accounts' creation dates a view keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Period {
    #[default]
    All,
    /// Created within the last 7, 30 or 90 days (`period=7d`).
    LastDays(u32),
    /// Created between two days, both included (`from`, `to`; either may be open).
    Range {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
}

/// The filter of every analysis view: channels (accounts seen in any of them) and a creation
/// period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalysisFilter {
    pub broadcaster_ids: Vec<TwitchId>,
    pub period: Period,
}

/// A creation-time window, half-open: `[from, to)`.
pub type CreatedWindow = (Option<chrono::DateTime<Utc>>, Option<chrono::DateTime<Utc>>);

impl AnalysisFilter {
    /// Reads `broadcaster_id` (repeatable), and `period=7d|30d|90d|all` or `from`/`to`.
    pub fn parse(query: &QueryString) -> Result<Self, String> {
        let broadcaster_ids = query
            .all("broadcaster_id")
            .into_iter()
            .map(|b| TwitchId::parse(b).map_err(|_| i18n::current().t("error-param-broadcaster")))
            .collect::<Result<Vec<_>, _>>()?;
        let period = match (query.one("period"), query.one("from"), query.one("to")) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(i18n::current().t("error-param-period-and-range"));
            }
            (Some("all") | None, None, None) => Period::All,
            (Some("7d"), _, _) => Period::LastDays(7),
            (Some("30d"), _, _) => Period::LastDays(30),
            (Some("90d"), _, _) => Period::LastDays(90),
            (Some(other), _, _) => {
                return Err(i18n::current().t_args("error-param-period", &[("raw", other.into())]));
            }
            (None, from, to) => {
                let from = from.map(|f| parse_day(f, "from")).transpose()?;
                let to = to.map(|t| parse_day(t, "to")).transpose()?;
                if let (Some(f), Some(t)) = (from, to)
                    && f > t
                {
                    return Err(i18n::current().t("error-param-from-after-to"));
                }
                Period::Range { from, to }
            }
        };
        Ok(Self {
            broadcaster_ids,
            period,
        })
    }

    /// The creation window this filter keeps, as of now.
    pub fn created_window(&self) -> CreatedWindow {
        let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        match self.period {
            Period::All => (None, None),
            Period::LastDays(days) => (Some(Utc::now() - Duration::days(i64::from(days))), None),
            Period::Range { from, to } => (
                from.and_then(midnight),
                to.and_then(|t| midnight(t + Duration::days(1))),
            ),
        }
    }

    pub fn append_to(&self, out: &mut Pairs) {
        for id in &self.broadcaster_ids {
            out.append_pair("broadcaster_id", id.as_str());
        }
        match self.period {
            Period::All => {}
            Period::LastDays(days) => {
                out.append_pair("period", &format!("{days}d"));
            }
            Period::Range { from, to } => {
                if let Some(from) = from {
                    out.append_pair("from", &from.to_string());
                }
                if let Some(to) = to {
                    out.append_pair("to", &to.to_string());
                }
            }
        }
    }

    /// The filter as a query string ("" when it keeps everything).
    pub fn to_query(&self) -> String {
        let mut out = Pairs::new(String::new());
        self.append_to(&mut out);
        out.finish()
    }
}

/// How an account list is sorted.
pub const SORTS: &[&str] = &[
    "score",
    "login",
    "created_at",
    "first_seen_at",
    "last_seen_at",
    "captures_seen",
    "renames",
];

/// The extra parameters of an account list (`accounts`, `days/{day}/accounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsQuery {
    /// Logins, display names or notes containing this (lower-cased).
    pub search: Option<String>,
    pub flagged_only: bool,
    /// `trusted`, `bot`, `watch`: accounts with that label; `any`: with any mark.
    pub label: Option<String>,
    pub sort: &'static str,
    pub descending: bool,
    pub page: u32,
    pub per_page: u32,
}

impl Default for AccountsQuery {
    fn default() -> Self {
        Self {
            search: None,
            flagged_only: false,
            label: None,
            sort: "score",
            descending: true,
            page: 1,
            per_page: 50,
        }
    }
}

/// What `label=` accepts: a label, or `any` (every marked account).
pub const LABELS: &[&str] = &["trusted", "bot", "watch", "any"];

pub const MAX_PER_PAGE: u32 = 500;
pub const MAX_PAGE: u32 = 1_000_000;

impl AccountsQuery {
    pub fn parse(query: &QueryString) -> Result<Self, String> {
        let sort = match query.one("sort") {
            None => "score",
            Some(raw) => SORTS.iter().copied().find(|s| *s == raw).ok_or_else(|| {
                i18n::current().t_args(
                    "error-param-sort",
                    &[("sorts", SORTS.join(", ").into()), ("raw", raw.into())],
                )
            })?,
        };
        let label = match query.one("label").filter(|l| !l.is_empty()) {
            None => None,
            Some(raw) if LABELS.contains(&raw) => Some(raw.to_string()),
            Some(raw) => {
                return Err(i18n::current().t_args(
                    "error-param-label",
                    &[("labels", LABELS.join(", ").into()), ("raw", raw.into())],
                ));
            }
        };
        Ok(Self {
            search: query
                .one("q")
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
            flagged_only: query.one("flagged") == Some("true"),
            label,
            sort,
            descending: query.one("order") != Some("asc"),
            page: query.number("page", 1, 1, MAX_PAGE)?,
            per_page: query.number("per_page", 50, 1, MAX_PER_PAGE)?,
        })
    }

    pub fn append_to(&self, out: &mut Pairs) {
        if let Some(search) = &self.search {
            out.append_pair("q", search);
        }
        if self.flagged_only {
            out.append_pair("flagged", "true");
        }
        if let Some(label) = &self.label {
            out.append_pair("label", label);
        }
        if self.sort != "score" {
            out.append_pair("sort", self.sort);
        }
        if !self.descending {
            out.append_pair("order", "asc");
        }
        out.append_pair("per_page", &self.per_page.to_string());
        out.append_pair("page", &self.page.to_string());
    }
}

/// A filter and a view's own parameters as one query string.
pub fn query_string(filter: &AnalysisFilter, more: impl FnOnce(&mut Pairs)) -> String {
    let mut out = Pairs::new(String::new());
    filter.append_to(&mut out);
    more(&mut out);
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<AnalysisFilter, String> {
        AnalysisFilter::parse(&QueryString::parse(Some(raw)))
    }

    #[test]
    fn a_filter_survives_the_trip_through_a_query_string() {
        for raw in [
            "",
            "broadcaster_id=1&broadcaster_id=22",
            "period=30d",
            "broadcaster_id=5&from=2024-01-01&to=2024-02-01",
            "to=2024-02-01",
        ] {
            let filter = parse(raw).expect("valid");
            assert_eq!(filter.to_query(), raw);
            assert_eq!(parse(&filter.to_query()), Ok(filter));
        }
        assert_eq!(parse("period=all").expect("valid").to_query(), "");
    }

    #[test]
    fn bad_filters_say_what_is_accepted() {
        for (raw, says) in [
            ("period=1y", "period must be 7d, 30d, 90d or all"),
            ("period=7d&from=2024-01-01", "not both"),
            ("from=2024-02-30", "from must be a date"),
            ("from=2024-03-01&to=2024-02-01", "on or before"),
            ("broadcaster_id=12a", "broadcaster_id must be Twitch ids"),
        ] {
            let err = parse(raw).expect_err(raw);
            assert!(err.contains(says), "{raw}: {err}");
        }
    }

    #[test]
    fn a_range_keeps_both_days_whole() {
        let (from, to) = parse("from=2024-01-01&to=2024-01-31")
            .expect("valid")
            .created_window();
        assert_eq!(
            from.expect("from").to_rfc3339(),
            "2024-01-01T00:00:00+00:00"
        );
        assert_eq!(to.expect("to").to_rfc3339(), "2024-02-01T00:00:00+00:00");
    }

    #[test]
    fn account_queries_check_sort_and_pages() {
        let q = AccountsQuery::parse(&QueryString::parse(Some(
            "sort=renames&order=asc&page=2&per_page=25&flagged=true&q=Bot",
        )))
        .expect("valid");
        assert_eq!(q.sort, "renames");
        assert!(!q.descending && q.flagged_only);
        assert_eq!(q.search.as_deref(), Some("bot"));
        let again = AccountsQuery::parse(&QueryString::parse(Some(&query_string(
            &AnalysisFilter::default(),
            |out| q.append_to(out),
        ))))
        .expect("valid");
        assert_eq!(again, q);
        let err = AccountsQuery::parse(&QueryString::parse(Some("sort=age"))).expect_err("bad");
        assert!(err.contains("sort must be one of score, login"), "{err}");
        assert!(AccountsQuery::parse(&QueryString::parse(Some("per_page=501"))).is_err());
    }
}
