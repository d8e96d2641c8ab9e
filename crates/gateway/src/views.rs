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
#[derive(Debug, Clone, Hash, serde::Serialize)]
pub struct Time {
    pub iso: String,
    pub utc: String,
}

impl Time {
    pub fn new(t: DateTime<Utc>) -> Self {
        Self {
            iso: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            // Shown without JavaScript: written the reader's language's way.
            utc: tca_common::i18n::date_time(crate::i18n::current(), t),
        }
    }
}

pub fn time(t: Option<DateTime<Utc>>) -> Option<Time> {
    t.map(Time::new)
}
