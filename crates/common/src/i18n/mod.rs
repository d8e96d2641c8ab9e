//! French and English (docs/i18n.md). Every word a user reads is a Project Fluent message of
//! `locales/<lang>/<area>.ftl`, compiled into the binaries, looked up in the language chosen for
//! the request (`Lang`). Numbers and percentages placed in messages are formatted by the
//! language's rules (`format`), dates by `Lang::date_time`.

mod format;
mod negotiate;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};
use serde::{Deserialize, Serialize};

pub use format::{date_minute, date_time, day};
pub use negotiate::from_accept_language;

static_loader! {
    static LOCALES = {
        locales: "../../locales",
        fallback_language: "en",
        customise: |bundle| {
            // Pages are HTML: Unicode isolation marks around every placeable are noise there.
            bundle.set_use_isolating(false);
            let french = bundle.locales.first().is_some_and(|l| l.language.as_str() == "fr");
            bundle.set_formatter(Some(if french { format::french } else { format::english }));
        },
    };
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request being served (English outside one). Each service's middleware
/// sets it (`scope`) from the request; the analysis client passes it on as `Accept-Language`.
pub fn current() -> Lang {
    CURRENT.try_with(|lang| *lang).unwrap_or_default()
}

/// Runs `work` in `lang` (what `current()` answers inside it).
pub async fn scope<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    CURRENT.scope(lang, work).await
}

/// A text in both languages, made once (a cohort's evidence sentence: shown on many rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    en: String,
    fr: String,
}

impl Texts {
    pub fn new(mut make: impl FnMut(Lang) -> String) -> Self {
        Self {
            en: make(Lang::En),
            fr: make(Lang::Fr),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }
}

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

/// A message's arguments: names and values (numbers are formatted by the language's rules).
pub type Args<'a> = [(&'a str, Arg<'a>)];

/// One argument of a message.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    /// A share (0.061) shown as a percentage (`6.1%`, `6,1 %`) with one decimal.
    Percent(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Text(Cow::Owned(s))
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Arg::Number(n as f64)
            }
        }
        // Templates hand fields over by reference.
        impl From<&$t> for Arg<'_> {
            fn from(n: &$t) -> Self {
                Arg::Number(*n as f64)
            }
        }
    )*};
}
number_arg!(u8, u16, u32, u64, usize, i32, i64, f64);

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 code served in `<html lang>` and kept with the user.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language the switch offers (two languages: the other one).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Fr,
            Lang::Fr => Lang::En,
        }
    }

    /// `fr`, `fr-FR`, `FR`… → French; `en…` → English; anything else → `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Fr => fluent_templates::langid!("fr"),
        }
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        self.t_args(key, &[])
    }

    /// The message `key` with its arguments.
    pub fn t_args(self, key: &str, args: &Args<'_>) -> String {
        let values: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| (Cow::Owned(name.to_string()), fluent_value(value)))
            .collect();
        LOCALES
            .try_lookup_complete(&self.id(), key, Some(&values))
            .unwrap_or_else(|| {
                tracing::error!(key, lang = self.code(), "missing message");
                key.to_string()
            })
    }

    /// The message `key`, or `None` when no language has it.
    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup_complete(&self.id(), key, None)
    }

    /// A whole number with the language's grouping (`5,021`, `5 021`).
    pub fn number(self, n: u64) -> String {
        format::number(self, n as f64, 0, 0)
    }

    /// A measure with one decimal (`12.5`, `12,5`).
    pub fn decimal(self, value: f64) -> String {
        format::number(self, value, 1, 1)
    }

    /// A share as a percentage with one decimal (`6.1%`, `6,1 %`).
    pub fn percent(self, share: f64) -> String {
        format::percent(self, share)
    }
}

fn fluent_value<'a>(arg: &'a Arg<'a>) -> FluentValue<'a> {
    match arg {
        Arg::Text(s) => FluentValue::from(s.as_ref()),
        Arg::Number(n) => FluentValue::from(*n),
        Arg::Percent(share) => format::percent_value(*share),
    }
}

#[cfg(test)]
mod tests;
