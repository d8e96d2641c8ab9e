//! How the analysis service's answers read on a page: times the browser localises, counts and
//! percentages. Traits, because the answer types live in `tca-common`; a page module imports
//! the ones its template uses.

use tca_common::analysis_api::response::{Account, Name, Sighting, Summary, TopDay};

use crate::views::{self, Time};

/// A share as a percentage in the reader's language ("12.5%", "12,5 %").
pub fn percent(share: f64) -> String {
    crate::i18n::current().percent(share)
}

pub trait SummaryDisplay {
    fn accounts_text(&self) -> String;
    fn flagged_percent(&self) -> String;
    fn enriched_percent(&self) -> String;
    fn last_capture(&self) -> Option<Time>;
}

impl SummaryDisplay for Summary {
    fn accounts_text(&self) -> String {
        crate::i18n::current().number(self.accounts)
    }
    fn flagged_percent(&self) -> String {
        percent(self.flagged_share)
    }
    fn enriched_percent(&self) -> String {
        percent(self.enriched_share)
    }
    fn last_capture(&self) -> Option<Time> {
        views::time(self.last_capture_at)
    }
}

pub trait TopDayDisplay {
    fn percent(&self) -> String;
}

impl TopDayDisplay for TopDay {
    fn percent(&self) -> String {
        percent(self.share)
    }
}

pub trait AccountDisplay {
    fn created(&self) -> Option<Time>;
    fn first_seen(&self) -> Time;
    fn last_seen(&self) -> Time;
}

impl AccountDisplay for Account {
    fn created(&self) -> Option<Time> {
        views::time(self.created_at)
    }
    fn first_seen(&self) -> Time {
        Time::new(self.first_seen_at)
    }
    fn last_seen(&self) -> Time {
        Time::new(self.last_seen_at)
    }
}

impl AccountDisplay for Name {
    fn created(&self) -> Option<Time> {
        None
    }
    fn first_seen(&self) -> Time {
        Time::new(self.first_seen_at)
    }
    fn last_seen(&self) -> Time {
        Time::new(self.last_seen_at)
    }
}

pub trait SightingDisplay {
    fn when(&self) -> Option<Time>;
}

impl SightingDisplay for Sighting {
    fn when(&self) -> Option<Time> {
        views::time(self.at)
    }
}
