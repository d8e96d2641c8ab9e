//! Times in scenario files: absolute (`"2024-03-14T02:10:00Z"`) or relative to the world's
//! "now" (`"now"`, `"-3d"`, `"-7mo"`, `"-2h"`, `"-15m"`, `"-1y"`), so that a world with young
//! accounts does not go stale.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(DateTime<Utc>),
    /// This long before (negative) or after the world's "now".
    FromNow(Duration),
}

impl When {
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::At(t) => t,
            Self::FromNow(d) => now + d,
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "now" {
            return Ok(Self::FromNow(Duration::zero()));
        }
        if let Some(rest) = raw.strip_prefix('-').or_else(|| raw.strip_prefix('+')) {
            let sign = if raw.starts_with('-') { -1 } else { 1 };
            let split = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (number, unit) = rest.split_at(split);
            let n: i64 = number.parse().map_err(|_| bad(raw))?;
            let span = match unit {
                "m" => Duration::minutes(n),
                "h" => Duration::hours(n),
                "d" => Duration::days(n),
                "w" => Duration::weeks(n),
                // Calendar months and years vary; a world needs only their typical length.
                "mo" => Duration::days(30 * n),
                "y" => Duration::days(365 * n),
                _ => return Err(bad(raw)),
            };
            return Ok(Self::FromNow(span * sign));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Self::At(t.with_timezone(&Utc)))
            .map_err(|_| bad(raw))
    }
}

fn bad(raw: &str) -> String {
    format!(
        "'{raw}' is not a time: an RFC 3339 date (2024-03-14T02:10:00Z), \"now\", or relative like \"-3d\", \"-7mo\", \"-2h\""
    )
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times_resolve_against_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let at = |raw: &str| When::parse(raw).expect(raw).resolve(now).to_rfc3339();
        assert_eq!(at("now"), "2026-11-30T00:00:00+00:00");
        assert_eq!(at("-3d"), "2026-11-27T00:00:00+00:00");
        assert_eq!(at("-2h"), "2026-11-29T22:00:00+00:00");
        assert_eq!(at("-7mo"), "2026-05-04T00:00:00+00:00");
        assert_eq!(at("2024-03-14T02:10:00Z"), "2024-03-14T02:10:00+00:00");
        for bad in ["yesterday", "-3", "-3x", "3d"] {
            assert!(When::parse(bad).is_err(), "{bad}");
        }
    }
}
