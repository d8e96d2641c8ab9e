//! The filter form every analysis page shares, as the browser submits it: channels and a
//! creation period (`period`, or `from`/`to`). Kept as typed for redisplay, and checked
//! into the analysis API's `AnalysisFilter` before anything is asked.

use tca_common::analysis_api::AnalysisFilter;
use tca_common::query::QueryString;

use crate::error::{AppError, AppResult};

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub channels: Vec<String>,
    pub period: String,
    pub from: String,
    pub to: String,
}

impl Filter {
    /// The filter fields of a query string, and the rest. Empty fields and `period=all` mean
    /// "no filter" (an HTML form submits them empty).
    pub fn parse(raw: Option<&str>) -> (Self, Vec<(String, String)>) {
        let mut filter = Self::default();
        let mut rest = Vec::new();
        for (key, value) in QueryString::parse(raw).into_pairs() {
            let value = value.trim().to_string();
            match key.as_str() {
                "broadcaster_id" if !value.is_empty() => filter.channels.push(value),
                "period" if value != "all" => filter.period = value,
                "from" => filter.from = value,
                "to" => filter.to = value,
                "broadcaster_id" | "period" => {}
                _ => rest.push((key, value)),
            }
        }
        (filter, rest)
    }

    /// The filter the analysis service takes; a bad value is a 400 that says what is accepted.
    pub fn checked(&self) -> AppResult<AnalysisFilter> {
        AnalysisFilter::parse(&QueryString::parse(Some(&self.query())))
            .map_err(AppError::BadRequest)
    }

    /// The filter as a query string for links ("" when none).
    pub fn query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for channel in &self.channels {
            out.append_pair("broadcaster_id", channel);
        }
        for (key, value) in [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }

    /// `query()` joined with more parameters.
    pub fn with(&self, more: &[(&str, &str)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(self.query());
        for (key, value) in more {
            out.append_pair(key, value);
        }
        out.finish()
    }

    pub fn has_channel(&self, broadcaster_id: &str) -> bool {
        self.channels.iter().any(|c| c == broadcaster_id)
    }

    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }

    /// "?broadcaster_id=…" or "" — appended to links so drill-downs keep the filter.
    pub fn suffix(&self) -> String {
        let q = self.query();
        if q.is_empty() { q } else { format!("?{q}") }
    }
}

/// The `page` parameter (1 when absent).
pub fn page_number(rest: &[(String, String)]) -> AppResult<u32> {
    match rest.iter().find(|(k, _)| k == "page") {
        None => Ok(1),
        Some((_, raw)) => raw
            .parse()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(crate::i18n::t1("error-page", "raw", raw.as_str()))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_its_fields_drops_empty_ones_and_returns_the_rest() {
        let (filter, rest) = Filter::parse(Some(
            "broadcaster_id=1&broadcaster_id=&broadcaster_id=22&period=all&from=2024-01-01&to=&page=3",
        ));
        assert_eq!(filter.channels, ["1", "22"]);
        assert_eq!(filter.period, "");
        assert_eq!(
            filter.query(),
            "broadcaster_id=1&broadcaster_id=22&from=2024-01-01"
        );
        assert_eq!(rest, [("page".to_string(), "3".to_string())]);
        assert_eq!(page_number(&rest).expect("accepted"), 3);
        assert!(Filter::parse(None).0.is_empty());
        assert_eq!(Filter::parse(Some("period=7d")).0.suffix(), "?period=7d");
    }

    #[test]
    fn a_bad_filter_is_refused_before_analysis_is_asked() {
        let (filter, _) = Filter::parse(Some("period=1y"));
        assert!(
            matches!(filter.checked(), Err(AppError::BadRequest(m)) if m.contains("period must be"))
        );
        let (filter, _) = Filter::parse(Some("broadcaster_id=5&from=2024-01-01"));
        assert_eq!(
            filter.checked().expect("valid").to_query(),
            "broadcaster_id=5&from=2024-01-01"
        );
    }

    #[test]
    fn bad_pages_are_refused() {
        assert!(page_number(&[("page".into(), "0".into())]).is_err());
        assert!(page_number(&[("page".into(), "x".into())]).is_err());
    }
}
