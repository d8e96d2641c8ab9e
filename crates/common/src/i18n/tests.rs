use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

#[test]
fn languages_are_parsed_from_codes() {
    assert_eq!(Lang::parse("fr"), Some(Lang::Fr));
    assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
    assert_eq!(Lang::parse("FR_fr"), Some(Lang::Fr));
    assert_eq!(Lang::parse("en-US"), Some(Lang::En));
    assert_eq!(Lang::parse("de"), None);
    assert_eq!(Lang::parse(""), None);
    assert_eq!(Lang::Fr.code(), "fr");
}

#[test]
fn numbers_follow_each_languages_conventions() {
    assert_eq!(Lang::En.number(5_021), "5,021");
    assert_eq!(Lang::Fr.number(5_021), "5\u{202f}021");
    assert_eq!(Lang::Fr.number(1_000_000), "1\u{202f}000\u{202f}000");
    assert_eq!(Lang::Fr.number(999), "999");
    assert_eq!(Lang::En.percent(0.061), "6.1%");
    assert_eq!(Lang::Fr.percent(0.061), "6,1\u{202f}%");
    assert_eq!(Lang::Fr.percent(0.5), "50\u{202f}%");
    assert_eq!(Lang::En.percent(0.0), "0%");
}

#[test]
fn dates_follow_each_languages_conventions() {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 51, 9)
        .single()
        .expect("a time");
    assert_eq!(date_time(Lang::En, t), "Nov 30, 2026, 06:51 UTC");
    assert_eq!(date_time(Lang::Fr, t), "30 nov. 2026, 06:51 UTC");
    let d = NaiveDate::from_ymd_opt(2024, 2, 1).expect("a day");
    assert_eq!(day(Lang::Fr, d), "1er févr. 2024");
    assert_eq!(day(Lang::En, d), "Feb 1, 2024");
}

#[test]
fn messages_place_numbers_and_plurals_by_the_languages_rules() {
    let accounts = |lang: Lang, n: u64| lang.t_args("count-accounts", &[("count", n.into())]);
    assert_eq!(accounts(Lang::En, 1), "1 account");
    assert_eq!(accounts(Lang::En, 5_021), "5,021 accounts");
    assert_eq!(accounts(Lang::Fr, 1), "1 compte");
    // French: 0 and 1 are singular.
    assert_eq!(accounts(Lang::Fr, 0), "0 compte");
    assert_eq!(accounts(Lang::Fr, 5_021), "5\u{202f}021 comptes");
    let share = |lang: Lang| lang.t_args("share-of-accounts", &[("share", Arg::Percent(0.061))]);
    assert_eq!(share(Lang::En), "6.1% of accounts");
    assert_eq!(share(Lang::Fr), "6,1\u{202f}% des comptes");
}

#[test]
fn a_missing_message_shows_its_key() {
    assert_eq!(Lang::Fr.t("no-such-message"), "no-such-message");
}
