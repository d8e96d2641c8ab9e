//! Display-ready values shared by pages: the layout's user bar, and times.

use chrono::{DateTime, Utc};

use crate::auth::CurrentUser;

/// What `base.html` needs on every logged-in page.
pub struct Layout {
    pub display_name: String,
    pub avatar_url: String,
    pub csrf: String,
    /// Which nav entry is current: "channels", "sessions", "activity".
    pub section: &'static str,
}

impl Layout {
    pub fn new(user: &CurrentUser, section: &'static str) -> Self {
        Self {
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone().unwrap_or_default(),
            csrf: user.csrf.clone(),
            section,
        }
    }
}

/// A time the browser turns into its own time zone (`<time datetime=…>`), with a readable
/// UTC fallback for pages viewed without JavaScript.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Time {
    pub iso: String,
    pub utc: String,
}

impl Time {
    pub fn new(t: DateTime<Utc>) -> Self {
        Self {
            iso: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            utc: t.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

pub fn time(t: Option<DateTime<Utc>>) -> Option<Time> {
    t.map(Time::new)
}

/// "12,345"
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(12_345), "12,345");
        assert_eq!(super::count(1_000_000), "1,000,000");
    }
}
