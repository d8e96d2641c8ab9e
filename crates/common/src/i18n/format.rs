//! Numbers, percentages and dates by each language's conventions (CLDR): English `5,021`,
//! `6.1%`, `Nov 30, 2026, 06:51`; French `5 021`, `6,1 %`, `30 nov. 2026, 06:51` (French
//! groups and precedes `%` with a narrow no-break space, U+202F).
//!
//! Fluent's own number formatting does not group digits, so each bundle gets `english` or
//! `french` as its formatter: every number a message places goes through here.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use fluent_bundle::FluentValue;
use fluent_bundle::types::{FluentNumber, FluentNumberOptions, FluentNumberStyle};

use super::Lang;

/// U+202F, French's thousands separator and the space before `%`.
const NARROW_NBSP: char = '\u{202f}';

/// `value` with `min`–`max` decimals, grouped and punctuated for `lang`.
pub(super) fn number(lang: Lang, value: f64, min: usize, max: usize) -> String {
    let (group, decimal) = match lang {
        Lang::En => (',', '.'),
        Lang::Fr => (NARROW_NBSP, ','),
    };
    let fixed = format!("{:.*}", max, value.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    // Trailing zeros beyond the minimum go: 6.10 → 6.1 with min 0, max 2.
    let mut frac = frac.to_string();
    while frac.len() > min && frac.ends_with('0') {
        frac.pop();
    }
    let mut out = String::new();
    if value < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(&frac);
    }
    out
}

/// A share (0.061) as a percentage with at most one decimal.
pub(super) fn percent(lang: Lang, share: f64) -> String {
    let n = number(lang, share * 100.0, 0, 1);
    match lang {
        Lang::En => format!("{n}%"),
        Lang::Fr => format!("{n}{NARROW_NBSP}%"),
    }
}

/// A share as a Fluent number in percent style (formatted by `percent` when placed).
pub(super) fn percent_value(share: f64) -> FluentValue<'static> {
    let options = FluentNumberOptions {
        style: FluentNumberStyle::Percent,
        ..FluentNumberOptions::default()
    };
    FluentValue::Number(FluentNumber::new(share, options))
}

fn format_value(lang: Lang, value: &FluentValue<'_>) -> Option<String> {
    let FluentValue::Number(n) = value else {
        return None;
    };
    if n.options.style == FluentNumberStyle::Percent {
        return Some(percent(lang, n.value));
    }
    let min = n.options.minimum_fraction_digits.unwrap_or(0);
    let max = n
        .options
        .maximum_fraction_digits
        .unwrap_or(if n.value.fract() == 0.0 { 0 } else { 3 })
        .max(min);
    Some(number(lang, n.value, min, max))
}

/// The English bundle's formatter.
pub(super) fn english<M>(value: &FluentValue<'_>, _: &M) -> Option<String> {
    format_value(Lang::En, value)
}

/// The French bundle's formatter.
pub(super) fn french<M>(value: &FluentValue<'_>, _: &M) -> Option<String> {
    format_value(Lang::Fr, value)
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// A day: `Mar 14, 2024` / `14 mars 2024`.
pub fn day(lang: Lang, d: NaiveDate) -> String {
    let month = d.month0() as usize;
    match lang {
        Lang::En => format!("{} {}, {}", MONTHS_EN[month], d.day(), d.year()),
        // French writes the first of the month as an ordinal: 1er mars.
        Lang::Fr if d.day() == 1 => format!("1er {} {}", MONTHS_FR[month], d.year()),
        Lang::Fr => format!("{} {} {}", d.day(), MONTHS_FR[month], d.year()),
    }
}

/// A day and minute, time zone unsaid: `Nov 30, 2026, 06:51` / `30 nov. 2026, 06:51`.
pub fn date_minute(lang: Lang, t: DateTime<Utc>) -> String {
    format!(
        "{}, {:02}:{:02}",
        day(lang, t.date_naive()),
        t.hour(),
        t.minute()
    )
}

/// A time in UTC: `Nov 30, 2026, 06:51 UTC` / `30 nov. 2026, 06:51 UTC`.
pub fn date_time(lang: Lang, t: DateTime<Utc>) -> String {
    format!("{} UTC", date_minute(lang, t))
}
