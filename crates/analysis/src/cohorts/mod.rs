//! Cohort detection (issue 15): groups of accounts found by the evidence they share. The
//! method, and the reasons for each step, are in docs/cohorts.md.
//!
//! 1. `creation`: windows of account creation far denser than the session's background.
//! 2. `evidence`: what each window's members share beyond the creation time, and its core.
//! 3. Here: windows whose cores share the same evidence are linked into one cohort (the
//!    nights of a drip-fed farm), accounts created around a cohort that match its evidence
//!    join it, and each cohort gets a kind and a strength.

pub mod creation;
pub mod evidence;

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use creation::{CreationWindow, WindowConfig};
use evidence::{Baseline, EvidenceConfig, Family, Member, Shared, families};
use tca_common::i18n::{self, Arg, Lang};

/// How cohorts are formed and weighed (configuration; defaults in docs/cohorts.md).
#[derive(Debug, Clone)]
pub struct CohortConfig {
    pub windows: WindowConfig,
    pub evidence: EvidenceConfig,
    /// Two windows are one cohort when the evidence their cores share overlaps this much
    /// (shared trait-and-value pairs over all pairs of the two)…
    pub link_similarity: f64,
    /// …and they were created within this many days of each other.
    pub link_days: i64,
    /// Accounts in no window created this many hours around a cohort join it when they
    /// match its evidence.
    pub recruit_hours: i64,
    /// Strength: points for the creation window, for each family of shared evidence, and for
    /// each further shared trait; capped at 100.
    pub strength_window: u32,
    pub strength_family: u32,
    pub strength_trait: u32,
}

impl Default for CohortConfig {
    fn default() -> Self {
        Self {
            windows: WindowConfig::default(),
            evidence: EvidenceConfig::default(),
            link_similarity: 0.6,
            link_days: 31,
            recruit_hours: 24,
            strength_window: 20,
            strength_family: 20,
            strength_trait: 5,
        }
    }
}

/// What a cohort is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Created together and alike in two families of evidence, one of them how the
    /// accounts look or are named, or alike in three ways of looking or being named: what a
    /// script makes.
    Bot,
    /// Created together, and otherwise as diverse as everyone else (or moving together but
    /// looking like people): a launch-day crowd, a class, a club.
    Crowd,
}

#[derive(Debug, Clone)]
pub struct Cohort {
    pub kind: Kind,
    /// Indexes into the accounts given to `detect`, in creation order.
    pub members: Vec<usize>,
    /// The creation windows it was found in, earliest first.
    pub windows: Vec<CreationWindow>,
    /// What its members share (for a crowd, what the window's core shares, often nothing).
    pub shared: Vec<Shared>,
    /// 0–100; 0 for a crowd.
    pub strength: u32,
    pub first_created: DateTime<Utc>,
    pub last_created: DateTime<Utc>,
}

/// Alike in two families of evidence, one of them how the accounts look or are named; or
/// alike in three ways of looking or being named (a viewbot farm in an offline channel,
/// where everyone present moves the same way).
fn is_bot(shared: &[Shared]) -> bool {
    let families = families(shared);
    let likeness = shared
        .iter()
        .filter(|s| s.trait_.family() != Family::Movement)
        .count();
    (families.len() >= 2 && families.iter().any(|f| *f != Family::Movement)) || likeness >= 3
}

fn strength(shared: &[Shared], config: &CohortConfig) -> u32 {
    if !is_bot(shared) {
        return 0;
    }
    let families = families(shared).len() as u32;
    let traits = shared.len() as u32;
    (config.strength_window
        + config.strength_family * families
        + config.strength_trait * (traits - families))
        .min(100)
}

/// The cohorts of a session's accounts: bot cohorts strongest and largest first, then crowds,
/// largest first.
pub fn detect(accounts: &[Member<'_>], config: &CohortConfig) -> Vec<Cohort> {
    let created: Vec<Option<DateTime<Utc>>> = accounts.iter().map(|a| a.created_at).collect();
    let windows = creation::find(&created, &config.windows);
    let in_window: HashSet<usize> = windows
        .iter()
        .flat_map(|w| w.members.iter().copied())
        .collect();
    let baseline = Baseline::new(
        accounts
            .iter()
            .enumerate()
            .filter(|(i, _)| !in_window.contains(i))
            .map(|(_, a)| a),
    );
    detect_in(accounts, &windows, &baseline, config)
}

/// The creation periods whose accounts [`detect_in`] may look at: each run of windows less
/// than `link_days` apart (what linking can join into one cohort), widened by
/// `recruit_hours` either side (where a cohort recruits). Sorted, not overlapping.
///
/// An account created outside them is only ever counted in the baseline: cohorts can be
/// found from the windows (found on creation times alone), the baseline (a count over the
/// others, which can be kept while the rows stream by) and the accounts created in these
/// periods — without holding a whole session in memory (docs/cohorts.md).
pub fn periods_looked_at<K>(
    windows: &[CreationWindow<K>],
    config: &CohortConfig,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        windows.iter().map(|w| (w.first, w.last)).collect();
    spans.sort_unstable();
    // A day more than the link rule (whole days apart) ever joins, to stay on the safe side.
    let link = chrono::Duration::days(config.link_days + 1);
    let margin = chrono::Duration::hours(config.recruit_hours);
    let mut runs: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (first, last) in spans {
        match runs.last_mut() {
            Some(run) if first - run.1 <= link => run.1 = run.1.max(last),
            _ => runs.push((first, last)),
        }
    }
    let mut periods: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (first, last) in runs {
        let (from, to) = (first - margin, last + margin);
        match periods.last_mut() {
            Some(period) if from <= period.1 => period.1 = period.1.max(to),
            _ => periods.push((from, to)),
        }
    }
    periods
}

/// Whether `created` falls in one of `periods` (as [`periods_looked_at`] gives them).
pub fn in_periods(periods: &[(DateTime<Utc>, DateTime<Utc>)], created: DateTime<Utc>) -> bool {
    let after = periods.partition_point(|(from, _)| *from <= created);
    after > 0 && created <= periods[after - 1].1
}

/// [`detect`] over a session read as a stream, holding only what it needs: the creation
/// windows (found by [`creation::Finder`] over creation times given in order), a count of the traits of the accounts outside them (the baseline), and
/// the accounts created in the [`periods_looked_at`]. The cohorts come out as [`detect`]'s
/// (tested below), their member indexes into the accounts kept.
pub struct StreamedDetection {
    windows: Vec<CreationWindow<u64>>,
    periods: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Keys of the windows' members.
    in_window: HashSet<u64>,
    baseline: Baseline,
    /// Keys of the accounts kept, in order.
    kept: Vec<u64>,
}

impl StreamedDetection {
    /// Starts from the session's creation windows, their members named by the keys the
    /// accounts will be offered with ([`creation::Finder`] over the creation times).
    pub fn new(windows: Vec<CreationWindow<u64>>, config: &CohortConfig) -> Self {
        let periods = periods_looked_at(&windows, config);
        let in_window = windows
            .iter()
            .flat_map(|w| w.members.iter().copied())
            .collect();
        Self {
            windows,
            periods,
            in_window,
            baseline: Baseline::default(),
            kept: Vec::new(),
        }
    }

    /// The account with `key`: counted, and whether the caller must keep it for
    /// [`Self::finish`].
    pub fn offer(&mut self, key: u64, account: &Member<'_>) -> bool {
        if !self.in_window.contains(&key) {
            self.baseline.add(account);
        }
        let keep = account
            .created_at
            .is_some_and(|c| in_periods(&self.periods, c));
        if keep {
            self.kept.push(key);
        }
        keep
    }

    /// The cohorts, given the accounts kept (in the order they were offered).
    pub fn finish(self, kept: &[Member<'_>], config: &CohortConfig) -> Vec<Cohort> {
        let index_of: std::collections::HashMap<u64, usize> = self
            .kept
            .iter()
            .enumerate()
            .map(|(k, &key)| (key, k))
            .collect();
        let windows: Vec<CreationWindow> = self
            .windows
            .into_iter()
            .map(|w| CreationWindow {
                members: w
                    .members
                    .iter()
                    .filter_map(|key| index_of.get(key).copied())
                    .collect(),
                first: w.first,
                last: w.last,
                expected: w.expected,
                log10_chance: w.log10_chance,
            })
            .collect();
        detect_in(kept, &windows, &self.baseline, config)
    }
}

/// [`detect`] given the creation windows (indexes into `accounts`) and the baseline of the
/// accounts outside them: `accounts` may be only those created in the windows'
/// [`periods_looked_at`], in the order of the whole session, and the cohorts come out the same.
pub fn detect_in(
    accounts: &[Member<'_>],
    windows: &[CreationWindow],
    baseline: &Baseline,
    config: &CohortConfig,
) -> Vec<Cohort> {
    // Each window's core and what it shares.
    let cores: Vec<(Vec<usize>, Vec<Shared>)> = windows
        .iter()
        .map(|w| {
            let group: Vec<&Member<'_>> = w.members.iter().map(|&i| &accounts[i]).collect();
            let excess = w.members.len() as f64 - w.expected;
            let core = evidence::core(&group, baseline, &config.evidence, excess);
            let members = core.members.iter().map(|&k| w.members[k]).collect();
            (members, core.shared)
        })
        .collect();

    // Windows with a bot's evidence, linked when their evidence is alike and close in time.
    let bots: Vec<usize> = (0..windows.len())
        .filter(|&w| is_bot(&cores[w].1))
        .collect();
    let mut links = UnionFind::new(windows.len());
    for (a, &i) in bots.iter().enumerate() {
        for &j in &bots[a + 1..] {
            let apart = (windows[j].first - windows[i].last).num_days().abs();
            if apart <= config.link_days
                && similarity(&cores[i].1, &cores[j].1) >= config.link_similarity
            {
                links.join(i, j);
            }
        }
    }

    // Accounts no bot window's core holds, by creation time: those outside every window,
    // and the rest of the bot windows' days (real sign-ups of the same day, or members of a
    // farm's night whose names the core's majority did not share).
    let in_bot_core: HashSet<usize> = bots
        .iter()
        .flat_map(|&w| cores[w].0.iter().copied())
        .collect();
    let mut unclaimed: Vec<(DateTime<Utc>, usize)> = accounts
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_bot_core.contains(i))
        .filter_map(|(i, a)| a.created_at.map(|c| (c, i)))
        .collect();
    unclaimed.sort_unstable();

    let mut cohorts = Vec::new();
    let mut done = vec![false; windows.len()];
    for &w in &bots {
        if done[w] {
            continue;
        }
        let linked: Vec<usize> = bots
            .iter()
            .copied()
            .filter(|&v| links.find(v) == links.find(w))
            .collect();
        let mut members: BTreeSet<usize> = BTreeSet::new();
        for &v in &linked {
            done[v] = true;
            members.extend(cores[v].0.iter().copied());
        }
        let group: Vec<usize> = members.iter().copied().collect();
        let refs: Vec<&Member<'_>> = group.iter().map(|&i| &accounts[i]).collect();
        let all: Vec<usize> = (0..refs.len()).collect();
        let shared = evidence::shared_traits(
            &refs,
            &all,
            baseline,
            config.evidence.shared_share,
            &config.evidence,
        );
        let cohort_windows: Vec<CreationWindow> =
            linked.iter().map(|&v| windows[v].clone()).collect();
        let (Some(first), Some(last)) = (
            cohort_windows.iter().map(|w| w.first).min(),
            cohort_windows.iter().map(|w| w.last).max(),
        ) else {
            continue;
        };
        // Accounts created around the cohort that match the evidence of the whole cohort:
        // the farm's sign-ups between its windows, and those its windows' cores left out.
        if is_bot(&shared) {
            let margin = chrono::Duration::hours(config.recruit_hours);
            let need = evidence::required_matches(shared.len());
            let from = unclaimed.partition_point(|(c, _)| *c < first - margin);
            let to = unclaimed.partition_point(|(c, _)| *c <= last + margin);
            for &(_, i) in &unclaimed[from..to] {
                if evidence::matches(&accounts[i], &shared) >= need {
                    members.insert(i);
                }
            }
        }
        let kind = if is_bot(&shared) {
            Kind::Bot
        } else {
            Kind::Crowd
        };
        cohorts.push(Cohort {
            kind,
            members: in_creation_order(members, accounts),
            windows: cohort_windows,
            strength: strength(&shared, config),
            shared,
            first_created: first,
            last_created: last,
        });
    }
    // Crowds: the windows without a bot's evidence, less any account a bot cohort recruited.
    let claimed: HashSet<usize> = cohorts
        .iter()
        .flat_map(|c: &Cohort| c.members.iter().copied())
        .collect();
    for (w, window) in windows.iter().enumerate() {
        if is_bot(&cores[w].1) {
            continue;
        }
        let members: Vec<usize> = window
            .members
            .iter()
            .copied()
            .filter(|i| !claimed.contains(i))
            .collect();
        if members.len() < config.windows.min_members {
            continue;
        }
        cohorts.push(Cohort {
            kind: Kind::Crowd,
            members,
            windows: vec![window.clone()],
            shared: cores[w].1.clone(),
            strength: 0,
            first_created: window.first,
            last_created: window.last,
        });
    }
    cohorts.sort_by(|a, b| {
        b.strength
            .cmp(&a.strength)
            .then(b.members.len().cmp(&a.members.len()))
            .then(a.first_created.cmp(&b.first_created))
    });
    cohorts
}

fn in_creation_order(members: BTreeSet<usize>, accounts: &[Member<'_>]) -> Vec<usize> {
    let mut members: Vec<usize> = members.into_iter().collect();
    members.sort_by_key(|&i| (accounts[i].created_at, i));
    members
}

/// Shared trait-and-value pairs of both over those of either.
fn similarity(a: &[Shared], b: &[Shared]) -> f64 {
    let a: HashSet<(evidence::Trait, u64)> = a.iter().map(|s| (s.trait_, s.value)).collect();
    let b: HashSet<(evidence::Trait, u64)> = b.iter().map(|s| (s.trait_, s.value)).collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> Self {
        Self((0..n).collect())
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.0[a.max(b)] = a.min(b);
    }
}

impl Cohort {
    /// The cohort's evidence in numbers, as a moderator reads it, in `lang`: "312 accounts; 312
    /// created 2024-03-14 02:00–04:20 UTC (about 3 expected …); 96 % default avatar (others:
    /// 11 %); …" (messages `evidence-*` and `trait-*` of locales/*/scoring.ftl).
    pub fn evidence(&self, lang: Lang) -> String {
        let expected: f64 = self.windows.iter().map(|w| w.expected).sum();
        let in_windows: usize = self.windows.iter().map(|w| w.members.len()).sum();
        let expected = if expected < 1.0 {
            lang.t("evidence-expected-fewer")
        } else {
            lang.t_args(
                "evidence-expected-about",
                &[("count", expected.round().into())],
            )
        };
        let mut parts = vec![lang.t_args(
            "evidence-created",
            &[
                ("members", self.members.len().into()),
                ("created", in_windows.into()),
                (
                    "period",
                    period(lang, self.first_created, self.last_created).into(),
                ),
                ("expected", expected.into()),
                ("bursts", self.windows.len().into()),
            ],
        )];
        for s in &self.shared {
            let example = || s.example.as_str().into();
            let what = match s.trait_ {
                evidence::Trait::DefaultAvatar => lang.t("trait-default-avatar"),
                evidence::Trait::EmptyBio => lang.t("trait-empty-bio"),
                evidence::Trait::DisplayIsLogin => lang.t("trait-display-is-login"),
                evidence::Trait::LoginTemplate => {
                    lang.t_args("trait-login-template", &[("example", example())])
                }
                evidence::Trait::LoginStem => {
                    lang.t_args("trait-login-stem", &[("example", example())])
                }
                evidence::Trait::Arrival => lang.t_args(
                    "trait-arrival",
                    &[("example", i18n::date_time(lang, s.seen.first).into())],
                ),
                evidence::Trait::Presence => lang.t_args(
                    "trait-presence",
                    &[
                        ("captures", s.seen.captures.into()),
                        ("from", i18n::date_minute(lang, s.seen.first).into()),
                        ("to", i18n::date_time(lang, s.seen.last).into()),
                    ],
                ),
                evidence::Trait::PresentWhileOffline => lang.t("trait-present-while-offline"),
                evidence::Trait::MultiChannel => lang.t("trait-multi-channel"),
            };
            parts.push(lang.t_args(
                "evidence-trait",
                &[
                    ("share", Arg::Percent(whole_percent(s.share))),
                    ("what", what.into()),
                    ("baseline", Arg::Percent(whole_percent(s.baseline))),
                ],
            ));
        }
        parts.join(&format!("{} ", lang.t("punct-semicolon")))
    }
}

/// Shares in evidence sentences are whole percentages: 96 %, not 95.8 %.
fn whole_percent(share: f64) -> f64 {
    (share * 100.0).round() / 100.0
}

fn period(lang: Lang, first: DateTime<Utc>, last: DateTime<Utc>) -> String {
    let (key, to) = if first.date_naive() == last.date_naive() {
        ("evidence-period-day", last.format("%H:%M").to_string())
    } else {
        ("evidence-period-days", i18n::date_minute(lang, last))
    };
    lang.t_args(
        key,
        &[
            ("from", i18n::date_minute(lang, first).into()),
            ("to", to.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("a time")
    }

    /// Capture `n` (1-based) of the session: one an hour from 2026-01-01 10:00.
    fn capture(n: u32) -> DateTime<Utc> {
        at(2026, 1, 1, 9 + n, 0)
    }

    const PEOPLE: [&str; 30] = [
        "tealkettle",
        "harborlight",
        "quietfox",
        "samriver",
        "novaheron",
        "brightpiano",
        "inesmeadow",
        "calmknight",
        "oscarfern",
        "rosagarden",
        "silentfalcon",
        "mapleleaf",
        "stormcloud",
        "ivyraven",
        "leoocean",
        "miaknight",
        "theomeadow",
        "zoepiano",
        "finnshadow",
        "clarariver",
        "hugoheron",
        "ninafern",
        "omarstone",
        "yukimoon",
        "elifcloud",
        "kaiember",
        "linaforest",
        "milobrook",
        "noraleaf",
        "paulastar",
    ];
    const FARM: [&str; 16] = [
        "brook_fan10001",
        "brook_fan10002",
        "brook_fan10003",
        "brook_fan10004",
        "brook_fan10005",
        "brook_fan10006",
        "brook_fan10007",
        "brook_fan10008",
        "brook_fan10009",
        "brook_fan10010",
        "brook_fan10011",
        "brook_fan10012",
        "brook_fan10013",
        "brook_fan10014",
        "brook_fan10015",
        "brook_fan10016",
    ];
    const CLASS: [&str; 6] = [
        "adamwolf",
        "bellasun",
        "carlosreed",
        "dinastone",
        "emilfrost",
        "fayebloom",
    ];

    /// A small session, every number of which is worked out by hand in the test below:
    /// - 30 people created one every 60 days from 2016, all first seen in capture 1, staying
    ///   1 to 4 captures; every tenth with the default avatar, every other with an empty bio,
    ///   display names capitalised;
    /// - a farm of 16 created 8 a night on 2025-06-01 and 02 between 02:00 and 02:35, with
    ///   uploaded avatars and bios but display name = login and `brook_fan` + digits, all
    ///   arriving in capture 2 and staying to capture 4;
    /// - a class of 6 created 2024-03-10 between 10:00 and 10:50, arriving in capture 2 and
    ///   otherwise as diverse as everyone.
    fn session() -> Vec<Member<'static>> {
        let mut accounts = Vec::new();
        for (i, login) in PEOPLE.iter().enumerate() {
            let stay = 1 + (i % 4) as u32;
            accounts.push(Member {
                login,
                display_name: "Someone",
                earlier_names: &[],
                created_at: Some(at(2016, 1, 1, 12, 0) + chrono::Duration::days(60 * i as i64)),
                default_avatar: Some(i % 10 == 0),
                empty_bio: Some(i % 2 == 0),
                first_seen_at: capture(1),
                last_seen_at: capture(stay),
                captures_seen: stay,
                captures_seen_offline: 0,
                channels_seen: 1,
            });
        }
        for (k, login) in FARM.iter().enumerate() {
            let night = (k / 8) as u32;
            accounts.push(Member {
                login,
                display_name: login,
                earlier_names: &[],
                created_at: Some(at(2025, 6, 1 + night, 2, 5 * (k % 8) as u32)),
                default_avatar: Some(false),
                empty_bio: Some(false),
                first_seen_at: capture(2),
                last_seen_at: capture(4),
                captures_seen: 3,
                captures_seen_offline: 0,
                channels_seen: 1,
            });
        }
        for (k, login) in CLASS.iter().enumerate() {
            let stay = 1 + (k % 3) as u32;
            accounts.push(Member {
                login,
                display_name: "Classmate",
                earlier_names: &[],
                created_at: Some(at(2024, 3, 10, 10, 10 * k as u32)),
                default_avatar: Some(false),
                empty_bio: Some(k % 2 == 0),
                first_seen_at: capture(2),
                last_seen_at: capture(1 + stay),
                captures_seen: stay,
                captures_seen_offline: 0,
                channels_seen: 1,
            });
        }
        accounts
    }

    #[test]
    fn a_small_session_worked_out_by_hand() {
        let accounts = session();
        let cohorts = detect(&accounts, &CohortConfig::default());
        assert_eq!(cohorts.len(), 2, "{cohorts:#?}");

        // The farm: its two nights are two windows (23 quiet hours apart) with the same
        // evidence, linked into one cohort of 16. Shared, against the 30 people outside every
        // window: display name = login (100 % vs 0 %), template a_a99999 (100 % vs 0 %),
        // stem brook_fan (100 % vs 0 %), arrival in capture 2 (100 % vs 0 %), presence
        // captures 2–4 (100 % vs 0 %). Avatars and bios are customised: not shared. Three
        // families, five traits: 20 + 3 × 20 + 2 × 5 = 90.
        let farm = &cohorts[0];
        assert_eq!(farm.kind, Kind::Bot);
        assert_eq!(farm.members, (30..46).collect::<Vec<_>>());
        assert_eq!(farm.windows.len(), 2);
        assert_eq!(farm.strength, 90);
        assert_eq!(
            farm.evidence(Lang::En),
            "16 accounts; 16 created Jun 1, 2025, 02:00 – Jun 2, 2025, 02:35 UTC (fewer than 1 \
             expected at this channel's usual pace, in 2 separate bursts); 100% display name \
             = login (others: 0%); 100% login shaped `a_a99999` (others: 0%); 100% login \
             `brook_fan` + digits (others: 0%); 100% first seen in the capture of \
             Jan 1, 2026, 11:00 UTC (others: 0%); 100% present together (3 captures, \
             Jan 1, 2026, 11:00 to Jan 1, 2026, 13:00 UTC) (others: 0%)"
        );
        // The same numbers in French, written the French way.
        assert_eq!(
            farm.evidence(Lang::Fr),
            "16 comptes\u{a0}; 16 créés du 1er juin 2025, 02:00 au 2 juin 2025, 02:35 UTC \
             (moins de 1 attendu au rythme habituel de cette chaîne, en 2 pics distincts)\u{a0}; \
             100\u{202f}% nom affiché = identifiant (autres comptes\u{a0}: 0\u{202f}%)\u{a0}; \
             100\u{202f}% identifiant de forme `a_a99999` (autres comptes\u{a0}: 0\u{202f}%)\u{a0}; \
             100\u{202f}% identifiant `brook_fan` + chiffres (autres comptes\u{a0}: 0\u{202f}%)\u{a0}; \
             100\u{202f}% apparus pour la première fois dans la capture du 1er janv. 2026, 11:00 UTC \
             (autres comptes\u{a0}: 0\u{202f}%)\u{a0}; 100\u{202f}% présents ensemble (3 captures, \
             du 1er janv. 2026, 11:00 au 1er janv. 2026, 13:00 UTC) (autres comptes\u{a0}: 0\u{202f}%)"
        );

        // The class: six sign-ups in 50 minutes are a window, and they arrived together —
        // movement alone, so a crowd, worth nothing.
        let class = &cohorts[1];
        assert_eq!(class.kind, Kind::Crowd);
        assert_eq!(class.members, (46..52).collect::<Vec<_>>());
        assert_eq!(class.strength, 0);
        let traits: Vec<evidence::Trait> = class.shared.iter().map(|s| s.trait_).collect();
        assert_eq!(traits, vec![evidence::Trait::Arrival]);
    }

    /// A larger session: 3,000 people created over ten years (20 of them in one launch-day
    /// crowd), a drip-fed farm (300 over 13 nights 20 days apart, every 13th a sign-up of the
    /// same make between nights), and the hand-worked session's farm and class.
    fn larger_session(names: &[String]) -> Vec<Member<'_>> {
        let mut accounts = session();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |below: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % below
        };
        for (i, login) in names.iter().enumerate() {
            let farm = login.starts_with("zed_bot");
            // A launch-day crowd: every 11th account from the sixth, 20 of them in 20 minutes.
            let crowd = i % 11 == 5 && i < 220;
            let created = if crowd {
                at(2020, 5, 5, 18, 0) + chrono::Duration::minutes((i / 11) as i64)
            } else if farm {
                // Nights every 20 days from 2023-01-05; every 13th one a stray in between.
                let n = (i % 300) as i64;
                let night = at(2023, 1, 5, 3, 0) + chrono::Duration::days(20 * (n / 24));
                if n % 13 == 0 {
                    night + chrono::Duration::days(9)
                } else {
                    night + chrono::Duration::minutes((n % 24) * 3)
                }
            } else {
                at(2015, 1, 1, 0, 0) + chrono::Duration::minutes(next(10 * 365 * 24 * 60) as i64)
            };
            let stay = 1 + next(4) as u32;
            accounts.push(Member {
                login,
                display_name: if farm { login } else { "Viewer" },
                earlier_names: &[],
                created_at: Some(created),
                default_avatar: Some(farm || next(5) == 0),
                empty_bio: Some(farm || next(2) == 0),
                first_seen_at: capture(if farm { 3 } else { 1 + next(2) as u32 }),
                last_seen_at: capture(if farm { 5 } else { 2 + stay }),
                captures_seen: if farm { 3 } else { stay },
                captures_seen_offline: 0,
                channels_seen: 1,
            });
        }
        accounts
    }

    #[test]
    fn a_session_read_as_a_stream_gives_the_same_cohorts() {
        let words = [
            "river", "maple", "quiet", "storm", "ember", "fern", "nova", "pixel",
        ];
        let names: Vec<String> = (0..3_300)
            .map(|i| {
                if i % 11 == 0 {
                    format!("zed_bot{:05}", 10_000 + i)
                } else {
                    format!("{}{}{}", words[i % 8], words[(i / 8) % 8], i)
                }
            })
            .collect();
        let accounts = larger_session(&names);
        let config = CohortConfig::default();
        let whole = detect(&accounts, &config);

        // The creation times in creation order, keyed by position, as MariaDB gives them.
        let mut order: Vec<(i64, u64)> = accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.created_at.map(|c| (c.timestamp(), i as u64)))
            .collect();
        order.sort_unstable();
        let windows = creation::find_in_order(&order, &config.windows).expect("in order");
        let mut streamed = StreamedDetection::new(windows, &config);
        let positions: Vec<usize> = (0..accounts.len())
            .filter(|&i| streamed.offer(i as u64, &accounts[i]))
            .collect();
        let kept: Vec<Member<'_>> = positions.iter().map(|&i| accounts[i].clone()).collect();
        let found = streamed.finish(&kept, &config);

        // Something to compare: the drip-fed farm (its stray sign-ups recruited), the small
        // farm and the class; and far fewer accounts held than the session has.
        assert!(
            whole
                .iter()
                .any(|c| c.kind == Kind::Bot && c.members.len() > 250 && c.windows.len() > 5),
            "{whole:#?}"
        );
        assert!(whole.iter().any(|c| c.kind == Kind::Crowd));
        assert!(kept.len() * 4 < accounts.len(), "{} kept", kept.len());
        assert_eq!(found.len(), whole.len());
        for (streamed, whole) in found.iter().zip(&whole) {
            let members: Vec<usize> = streamed.members.iter().map(|&k| positions[k]).collect();
            assert_eq!(members, whole.members);
            assert_eq!(streamed.kind, whole.kind);
            assert_eq!(streamed.strength, whole.strength);
            assert_eq!(streamed.shared, whole.shared);
            assert_eq!(streamed.evidence(Lang::En), whole.evidence(Lang::En));
        }
    }
}
