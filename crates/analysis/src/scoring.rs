//! The suspicion score: 0–100 per account, the sum of the weights of the signals it shows,
//! each with a code, a sentence and the numbers behind it. Signals, not verdicts: every one has
//! innocent explanations (docs/analysis.md lists them).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tca_common::i18n::{Arg, Lang, Texts};

use crate::cohorts::CohortConfig;
pub use tca_common::db::marks::Label;

/// Weights and thresholds (configuration; defaults documented in docs/analysis.md and, for
/// cohorts, docs/cohorts.md).
#[derive(Debug, Clone)]
pub struct ScoringConfig {
    pub young_at_first_sight: u32,
    pub default_profile: u32,
    pub repeated_renames: u32,
    pub always_present: u32,
    pub present_while_offline: u32,
    pub multi_channel: u32,
    pub missing: u32,
    /// A moderator labelled the account `bot` (docs/moderation.md).
    pub bot_label: u32,
    /// "Young" means created less than this many days before first seen.
    pub young_days: i64,
    /// Always present needs at least this many captures to mean anything.
    pub always_present_min_captures: u32,
    /// Accounts at or above this score are "flagged".
    pub flag_threshold: u32,
    pub cohorts: CohortConfig,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            young_at_first_sight: 20,
            default_profile: 15,
            repeated_renames: 10,
            always_present: 10,
            present_while_offline: 10,
            multi_channel: 5,
            missing: 15,
            bot_label: 50,
            young_days: 7,
            always_present_min_captures: 3,
            flag_threshold: 50,
            cohorts: CohortConfig::default(),
        }
    }
}

/// What is known of one account in one session.
#[derive(Debug, Clone)]
pub struct Facts {
    pub created_at: Option<DateTime<Utc>>,
    pub default_avatar: Option<bool>,
    pub description_empty: Option<bool>,
    pub missing: bool,
    pub first_seen_at: DateTime<Utc>,
    pub captures_seen: u32,
    pub captures_seen_offline: u32,
    pub channels_seen: u32,
    /// Distinct names in the ledger (1 = never renamed).
    pub names: u32,
    /// Captures of the channels this account was seen in.
    pub captures_possible: u32,
}

/// An account's cohort (docs/cohorts.md).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortMark {
    /// Stable within the session: the account id of the cohort's earliest-created member.
    pub cohort_id: u64,
    /// 0 for a crowd (created together, otherwise diverse).
    pub strength: u32,
    /// The cohort's evidence in numbers, in each language.
    pub evidence: Arc<Texts>,
}

/// What the session as a whole tells about its accounts, by account id: their cohorts, and
/// what moderators wrote about them (labels, notes, bot lists).
#[derive(Debug, Default)]
pub struct SessionContext {
    pub cohorts: HashMap<u64, CohortMark>,
    pub moderation: HashMap<u64, Moderation>,
}

/// What moderators said of one account: the mark in force in the session (the owner's, else
/// one shared with a channel of the session), and the owner's bot lists it is on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moderation {
    pub mark: Option<MarkView>,
    pub lists: Vec<ListMatch>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarkView {
    pub label: Option<Label>,
    pub note: String,
    /// The author's login.
    pub by: String,
    pub at: DateTime<Utc>,
    /// Written by someone else and shared with a channel of the session.
    pub shared: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListMatch {
    pub name: String,
    pub points: u32,
    pub imported_at: DateTime<Utc>,
}

impl Moderation {
    pub fn label(&self) -> Option<Label> {
        self.mark.as_ref().and_then(|m| m.label)
    }
}

/// One signal: its stable code, its points, and the numbers behind it. The words are chosen
/// when it is shown (`sentence`), in the reader's language: message `reason-{code}`.
#[derive(Debug, Clone)]
pub struct Reason {
    pub code: &'static str,
    pub points: u32,
    args: Vec<(&'static str, Arg<'static>)>,
    /// The cohort's evidence (the `cohort` reason only).
    evidence: Option<Arc<Texts>>,
}

impl Reason {
    pub fn sentence(&self, lang: Lang) -> String {
        let mut args: Vec<(&str, Arg<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, value.clone()))
            .collect();
        if let Some(evidence) = &self.evidence {
            args.push(("evidence", evidence.get(lang).into()));
        }
        lang.t_args(&format!("reason-{}", self.code), &args)
    }
}

#[derive(Debug, Clone)]
pub struct Score {
    pub score: u32,
    pub reasons: Vec<Reason>,
    /// A moderator trusts the account: never flagged, whatever its score.
    pub trusted: bool,
}

impl Score {
    pub fn flagged(&self, threshold: u32) -> bool {
        !self.trusted && self.score >= threshold
    }
}

/// `brook_fan48213` → `brook_fan`: a login ending in 3+ digits after a 3+ letter stem.
pub fn digit_prefix(login: &str) -> Option<&str> {
    let stem = login.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = login.len() - stem.len();
    (digits >= 3 && stem.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3).then_some(stem)
}

/// Letters and digits mixed without a readable rhythm: many transitions between letters and
/// digits, few vowels, high character diversity (`k3v9qzt0wmx2`).
pub fn looks_random(login: &str) -> bool {
    let chars: Vec<char> = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if chars.len() < 8 || login.contains('_') {
        return false;
    }
    let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = chars.len() - digits;
    let vowels = chars.iter().filter(|c| "aeiouy".contains(**c)).count();
    let transitions = chars
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    digits >= 2
        && transitions >= 3
        && (vowels as f64) < 0.3 * letters as f64
        && distinct as f64 >= 0.7 * chars.len() as f64
}

/// The account's score: its cohort's strength if it is in a bot cohort, plus its own signals,
/// plus what moderators said (a `bot` label; bot lists, which alone never reach the flag).
pub fn score(
    facts: &Facts,
    cohort: Option<&CohortMark>,
    moderation: Option<&Moderation>,
    config: &ScoringConfig,
) -> Score {
    let mut reasons = Vec::new();
    if let Some(mark) = cohort.filter(|m| m.strength > 0) {
        reasons.push(Reason {
            code: "cohort",
            points: mark.strength,
            args: vec![
                ("id", mark.cohort_id.to_string().into()),
                ("strength", mark.strength.into()),
            ],
            evidence: Some(mark.evidence.clone()),
        });
    }
    let mut add = |code: &'static str, points: u32, args: Vec<(&'static str, Arg<'static>)>| {
        if points > 0 {
            reasons.push(Reason {
                code,
                points,
                args,
                evidence: None,
            });
        }
    };
    if let Some(created) = facts.created_at {
        let age = (facts.first_seen_at - created).num_days();
        if (0..config.young_days).contains(&age) {
            add(
                "young_at_first_sight",
                config.young_at_first_sight,
                vec![("age", age.into()), ("threshold", config.young_days.into())],
            );
        }
    }
    if facts.default_avatar == Some(true) && facts.description_empty == Some(true) {
        add("default_profile", config.default_profile, Vec::new());
    }
    if facts.names >= 3 {
        add(
            "repeated_renames",
            config.repeated_renames,
            vec![("renames", (facts.names - 1).into())],
        );
    }
    if facts.captures_possible >= config.always_present_min_captures
        && facts.captures_seen >= facts.captures_possible
    {
        add(
            "always_present",
            config.always_present,
            vec![("captures", facts.captures_possible.into())],
        );
    }
    if facts.captures_seen_offline > 0 {
        add(
            "present_while_offline",
            config.present_while_offline,
            vec![("captures", facts.captures_seen_offline.into())],
        );
    }
    if facts.channels_seen >= 2 {
        add(
            "multi_channel",
            config.multi_channel,
            vec![("channels", facts.channels_seen.into())],
        );
    }
    if facts.missing {
        add("missing", config.missing, Vec::new());
    }
    if let Some(mark) = moderation.and_then(|m| m.mark.as_ref())
        && mark.label == Some(Label::Bot)
    {
        add(
            "labelled_bot",
            config.bot_label,
            vec![
                ("by", mark.by.clone().into()),
                ("date", mark.at.format("%Y-%m-%d").to_string().into()),
            ],
        );
    }
    let own: u32 = reasons.iter().map(|r| r.points).sum();
    let mut listed = 0;
    for list in moderation.map_or(&[][..], |m| m.lists.as_slice()) {
        listed += list.points;
        if list.points > 0 {
            reasons.push(Reason {
                code: "bot_list",
                points: list.points,
                args: vec![
                    ("list", list.name.clone().into()),
                    (
                        "date",
                        list.imported_at.format("%Y-%m-%d").to_string().into(),
                    ),
                ],
                evidence: None,
            });
        }
    }
    // A list is provenance, not proof (lists accuse compromised humans too): alone it stays
    // below the flag.
    if own == 0 {
        listed = listed.min(config.flag_threshold.saturating_sub(1));
    }
    Score {
        score: (own + listed).min(100),
        reasons,
        trusted: moderation.and_then(Moderation::label) == Some(Label::Trusted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn human() -> Facts {
        Facts {
            created_at: Some(at(2019, 4, 2)),
            default_avatar: Some(false),
            description_empty: Some(false),
            missing: false,
            first_seen_at: at(2026, 1, 1),
            captures_seen: 1,
            captures_seen_offline: 0,
            channels_seen: 1,
            names: 1,
            captures_possible: 2,
        }
    }

    #[test]
    fn an_ordinary_viewer_scores_zero() {
        let s = score(&human(), None, None, &ScoringConfig::default());
        assert_eq!(s.score, 0);
        assert!(s.reasons.is_empty());
    }

    #[test]
    fn a_cohort_bot_collects_its_cohort_and_every_own_signal_with_their_numbers() {
        let mark = CohortMark {
            cohort_id: 7,
            strength: 60,
            evidence: Arc::new(Texts::new(|_| "8 accounts created …".into())),
        };
        let bot = Facts {
            created_at: Some(at(2025, 12, 30)),
            default_avatar: Some(true),
            description_empty: Some(true),
            missing: false,
            first_seen_at: at(2026, 1, 1),
            captures_seen: 4,
            captures_seen_offline: 1,
            channels_seen: 2,
            names: 1,
            captures_possible: 4,
        };
        let s = score(&bot, Some(&mark), None, &ScoringConfig::default());
        let codes: Vec<&str> = s.reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                "cohort",
                "young_at_first_sight",
                "default_profile",
                "always_present",
                "present_while_offline",
                "multi_channel"
            ]
        );
        assert_eq!(s.score, 100, "capped");
        assert_eq!(
            s.reasons[0].sentence(Lang::En),
            "Member of cohort #7 (strength 60): 8 accounts created …"
        );
        assert_eq!(s.reasons[0].points, 60);
        assert_eq!(
            s.reasons[1].sentence(Lang::En),
            "Only 2 days old when first seen here (threshold: 7 days)."
        );
        assert_eq!(
            s.reasons[1].sentence(Lang::Fr),
            "Âgé de 2 jours seulement à sa première apparition ici (seuil\u{a0}: 7 jours)."
        );
        assert_eq!(
            s.reasons[4].sentence(Lang::Fr),
            "Dans le chat alors que le stream était hors ligne (1 capture)."
        );
    }

    #[test]
    fn a_crowd_member_is_scored_on_its_own_signals() {
        let crowd = CohortMark {
            cohort_id: 7,
            strength: 0,
            evidence: Arc::new(Texts::new(|_| "300 accounts created …".into())),
        };
        let s = score(&human(), Some(&crowd), None, &ScoringConfig::default());
        assert_eq!(s.score, 0);
        assert!(s.reasons.is_empty());
    }

    fn marked(label: Option<Label>, lists: &[(&str, u32)]) -> Moderation {
        Moderation {
            mark: label.map(|label| MarkView {
                label: Some(label),
                note: String::new(),
                by: "mossy_mod".into(),
                at: at(2026, 11, 30),
                shared: false,
            }),
            lists: lists
                .iter()
                .map(|(name, points)| ListMatch {
                    name: (*name).into(),
                    points: *points,
                    imported_at: at(2026, 11, 29),
                })
                .collect(),
        }
    }

    #[test]
    fn a_bot_label_scores_and_names_who_set_it_trusted_is_never_flagged() {
        let config = ScoringConfig::default();
        let labelled = score(
            &human(),
            None,
            Some(&marked(Some(Label::Bot), &[])),
            &config,
        );
        assert_eq!(labelled.score, 50);
        assert!(labelled.flagged(config.flag_threshold));
        assert_eq!(
            labelled.reasons[0].sentence(Lang::En),
            "Labelled “bot” by mossy_mod on 2026-11-30."
        );
        let bot = Facts {
            created_at: Some(at(2025, 12, 31)),
            default_avatar: Some(true),
            description_empty: Some(true),
            captures_seen: 2,
            ..human()
        };
        let mark = CohortMark {
            cohort_id: 7,
            strength: 60,
            evidence: Arc::new(Texts::new(|_| "…".into())),
        };
        let trusted = score(
            &bot,
            Some(&mark),
            Some(&marked(Some(Label::Trusted), &[])),
            &config,
        );
        assert!(
            trusted.score >= config.flag_threshold,
            "the score stays visible"
        );
        assert!(trusted.trusted);
        assert!(!trusted.flagged(config.flag_threshold));
        let watched = score(
            &human(),
            None,
            Some(&marked(Some(Label::Watch), &[])),
            &config,
        );
        assert_eq!(watched.score, 0);
    }

    #[test]
    fn a_list_match_is_a_reason_with_its_provenance_never_a_flag_alone() {
        let config = ScoringConfig::default();
        let listed = score(
            &human(),
            None,
            Some(&marked(None, &[("CommanderRoot export", 30), ("old", 40)])),
            &config,
        );
        assert_eq!(listed.reasons.len(), 2);
        assert_eq!(
            listed.reasons[0].sentence(Lang::En),
            "In the list “CommanderRoot export”, imported 2026-11-29."
        );
        assert_eq!(
            listed.score,
            config.flag_threshold - 1,
            "alone: below the flag"
        );
        assert!(!listed.flagged(config.flag_threshold));
        // With a signal of its own, the list's points count in full.
        let young = Facts {
            created_at: Some(at(2025, 12, 30)),
            ..human()
        };
        let both = score(&young, None, Some(&marked(None, &[("old", 40)])), &config);
        assert_eq!(both.score, 60);
        assert!(both.flagged(config.flag_threshold));
    }

    #[test]
    fn generated_login_patterns() {
        assert_eq!(digit_prefix("brook_fan48213"), Some("brook_fan"));
        assert_eq!(digit_prefix("maria1994"), Some("maria"));
        assert_eq!(digit_prefix("ab12345"), None, "stem too short");
        assert_eq!(digit_prefix("tealkettle"), None);
        assert!(looks_random("k3v9qzt0wmx2"));
        assert!(!looks_random("tealkettle"));
        assert!(!looks_random("maria1994"));
        assert!(!looks_random("silent_falcon_4821"));
    }
}
