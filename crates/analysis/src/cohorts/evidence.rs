//! What the members of a creation window share, and who among them shares it.
//!
//! A script makes its accounts alike; people are diverse. For every window, each trait below
//! is looked at: the value most of the window's members show (an arrival capture, a presence
//! pattern, a login template, a default avatar…), the share of members showing it, and the
//! share of the session's other accounts (those in no window) showing the same value — its
//! *lift*. A trait is shared evidence when most of the group shows it and far more of the
//! group than of everyone else does: a channel where nobody sets an avatar does not make every
//! window a farm, and arriving in the first capture like everyone else is no evidence.
//!
//! A farm's day also holds the real people who signed up that day, so the group is refined to
//! its **core**: the members matching nearly all of the shared traits, with the shares measured
//! again on the core until it is stable.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::scoring::{digit_prefix, looks_random};

/// A name an account held before its current one (from the rename ledger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierName {
    pub login: String,
    pub display_name: String,
}

/// What is known of one account for cohort detection.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    /// The rename ledger's other names: a farm's accounts sold on and renamed still share
    /// the names they were made with.
    pub earlier_names: &'a [EarlierName],
    pub created_at: Option<DateTime<Utc>>,
    pub default_avatar: Option<bool>,
    pub empty_bio: Option<bool>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub captures_seen: u32,
    pub captures_seen_offline: u32,
    pub channels_seen: u16,
}

/// The evidence families: a bot cohort needs two of them, one being how its accounts look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// How the accounts' profiles look.
    Profile,
    /// How their names are made.
    Names,
    /// How they come and go.
    Movement,
}

/// One trait a group can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trait {
    DefaultAvatar,
    EmptyBio,
    /// The display name is the login exactly (people capitalise theirs; Twitch lets Latin
    /// display names differ from the login only in case).
    DisplayIsLogin,
    /// The login's template: letter runs as `a`, digit runs as one `9` per digit
    /// (`brook_fan48213` → `a_a99999`), or "random-looking".
    LoginTemplate,
    /// The login's stem before 3+ trailing digits (`brook_fan`).
    LoginStem,
    /// First seen in the same capture.
    Arrival,
    /// The same first and last capture and the same number of captures seen.
    Presence,
    PresentWhileOffline,
    MultiChannel,
}

pub const TRAITS: [Trait; 9] = [
    Trait::DefaultAvatar,
    Trait::EmptyBio,
    Trait::DisplayIsLogin,
    Trait::LoginTemplate,
    Trait::LoginStem,
    Trait::Arrival,
    Trait::Presence,
    Trait::PresentWhileOffline,
    Trait::MultiChannel,
];

impl Trait {
    pub fn family(self) -> Family {
        match self {
            Trait::DefaultAvatar | Trait::EmptyBio | Trait::DisplayIsLogin => Family::Profile,
            Trait::LoginTemplate | Trait::LoginStem => Family::Names,
            Trait::Arrival | Trait::Presence | Trait::PresentWhileOffline | Trait::MultiChannel => {
                Family::Movement
            }
        }
    }

    /// Whether the trait is read from a name (and so from every name of the rename ledger).
    fn of_names(self) -> bool {
        matches!(
            self,
            Trait::DisplayIsLogin | Trait::LoginTemplate | Trait::LoginStem
        )
    }

    /// The value a name shows for a name trait.
    fn name_value(self, login: &str, display_name: &str) -> Option<u64> {
        match self {
            Trait::DisplayIsLogin => (display_name == login).then_some(1),
            Trait::LoginTemplate => Some(hash(&login_template(login))),
            Trait::LoginStem => digit_prefix(login).map(hash),
            _ => None,
        }
    }

    /// The member's value for this trait under its current name; `None` when it does not
    /// show it (a custom avatar, a login without trailing digits) or when Twitch has not
    /// described the account yet.
    pub fn value(self, m: &Member<'_>) -> Option<u64> {
        let yes = |b: bool| b.then_some(1);
        match self {
            Trait::DisplayIsLogin | Trait::LoginTemplate | Trait::LoginStem => {
                self.name_value(m.login, m.display_name)
            }
            Trait::DefaultAvatar => m.default_avatar.and_then(yes),
            Trait::EmptyBio => m.empty_bio.and_then(yes),
            Trait::Arrival => Some(m.first_seen_at.timestamp_micros() as u64),
            Trait::Presence => Some(hash(&(
                m.first_seen_at.timestamp_micros(),
                m.last_seen_at.timestamp_micros(),
                m.captures_seen,
            ))),
            Trait::PresentWhileOffline => yes(m.captures_seen_offline > 0),
            Trait::MultiChannel => yes(m.channels_seen >= 2),
        }
    }

    /// Calls `f` with every distinct value the member shows: one at most, except for name
    /// traits of a renamed account, where each name of the ledger counts. (No allocation for
    /// the accounts never renamed: this runs for every account and trait.)
    pub fn for_each_value(self, m: &Member<'_>, mut f: impl FnMut(u64)) {
        let current = self.value(m);
        if !self.of_names() || m.earlier_names.is_empty() {
            current.into_iter().for_each(f);
            return;
        }
        let mut values: Vec<u64> = current.into_iter().collect();
        for n in m.earlier_names {
            if let Some(v) = self.name_value(&n.login, &n.display_name)
                && !values.contains(&v)
            {
                values.push(v);
            }
        }
        values.into_iter().for_each(&mut f);
    }

    /// Whether the member shows `value` (under any of its names for a name trait).
    pub fn shows(self, m: &Member<'_>, value: u64) -> bool {
        self.value(m) == Some(value)
            || (self.of_names()
                && m.earlier_names
                    .iter()
                    .any(|n| self.name_value(&n.login, &n.display_name) == Some(value)))
    }
}

impl Trait {
    /// A name trait's `value` in words, from a member showing it (for evidence sentences):
    /// the part of the name that shows it. Empty for other traits (shown from `Seen`).
    pub fn describe(self, m: &Member<'_>, value: u64) -> String {
        let login = std::iter::once(m.login)
            .chain(m.earlier_names.iter().map(|n| n.login.as_str()))
            .find(|login| match self {
                Trait::LoginTemplate => hash(&login_template(login)) == value,
                Trait::LoginStem => digit_prefix(login).map(hash) == Some(value),
                _ => true,
            })
            .unwrap_or(m.login);
        match self {
            Trait::LoginTemplate => login_template(login),
            Trait::LoginStem => digit_prefix(login).unwrap_or_default().to_string(),
            Trait::Arrival
            | Trait::Presence
            | Trait::DefaultAvatar
            | Trait::EmptyBio
            | Trait::DisplayIsLogin
            | Trait::PresentWhileOffline
            | Trait::MultiChannel => String::new(),
        }
    }
}

fn hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    // A fixed hasher: the same value gives the same key in every process.
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(value)
}

/// `brook_fan48213` → `a_a99999`; a random-looking login → `?`.
pub fn login_template(login: &str) -> String {
    if looks_random(login) {
        return "?".to_string();
    }
    let mut template = String::new();
    let mut previous_letter = false;
    for c in login.chars() {
        if c.is_ascii_digit() {
            template.push('9');
            previous_letter = false;
        } else if c.is_alphabetic() {
            if !previous_letter {
                template.push('a');
            }
            previous_letter = true;
        } else {
            template.push(c);
            previous_letter = false;
        }
    }
    template
}

/// Thresholds of shared evidence (configuration; defaults in docs/cohorts.md).
#[derive(Debug, Clone)]
pub struct EvidenceConfig {
    /// A trait is shared when at least this share of the group shows the value…
    pub shared_share: f64,
    /// …and that share exceeds the share among the session's other accounts by this much…
    pub min_lift: f64,
    /// …and the group's odds of showing it are at least this many times everyone else's: 80 %
    /// of a class with an empty bio, where half of everyone has one, is not a script.
    pub min_odds_ratio: f64,
    /// While refining the core, a trait shown by this share is a candidate.
    pub candidate_share: f64,
    /// A core must hold at least this share of its window's excess over the background.
    pub core_of_excess: f64,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            shared_share: 0.75,
            min_lift: 0.25,
            min_odds_ratio: 8.0,
            candidate_share: 0.5,
            core_of_excess: 0.75,
        }
    }
}

/// How often each value of each trait appears among the session's accounts outside windows.
#[derive(Default)]
pub struct Baseline {
    counts: HashMap<(Trait, u64), u32>,
    accounts: usize,
}

impl Baseline {
    pub fn new<'a>(outside: impl Iterator<Item = &'a Member<'a>>) -> Self {
        let mut baseline = Self::default();
        for m in outside {
            baseline.add(m);
        }
        baseline
    }

    /// Counts one more account (a session's rows can be counted as they stream by).
    pub fn add(&mut self, m: &Member<'_>) {
        self.accounts += 1;
        for t in TRAITS {
            t.for_each_value(m, |v| *self.counts.entry((t, v)).or_insert(0) += 1);
        }
    }

    pub fn count(&self, t: Trait, value: u64) -> usize {
        self.counts.get(&(t, value)).copied().unwrap_or(0) as usize
    }

    pub fn share(&self, t: Trait, value: u64) -> f64 {
        if self.accounts == 0 {
            return 0.0;
        }
        self.count(t, value) as f64 / self.accounts as f64
    }
}

/// The odds of `count` in `of`, smoothed by half an account either way so that "all" and
/// "none" stay finite (a group of 8 all showing a trait is not infinitely sure evidence).
fn odds(count: usize, of: usize) -> f64 {
    let p = (count as f64 + 0.5) / (of as f64 + 1.0);
    p / (1.0 - p)
}

/// One shared trait of a group, with its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub trait_: Trait,
    pub value: u64,
    /// Share of the core showing the value.
    pub share: f64,
    /// Share of the session's other accounts showing it.
    pub baseline: f64,
    /// The value of a name trait in words, from a member showing it (`a_a99999`,
    /// `brook_fan`); empty for the others.
    pub example: String,
    /// The movement of that member (first and last seen, captures): what `Arrival` and
    /// `Presence` values are, written in the reader's language when shown.
    pub seen: Seen,
}

/// When a member was first and last seen, and in how many captures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub captures: u32,
}

/// The core of a group and what it shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Core {
    /// Indexes into the group's members.
    pub members: Vec<usize>,
    pub shared: Vec<Shared>,
}

impl Core {
    pub fn families(&self) -> Vec<Family> {
        families(&self.shared)
    }
}

/// The families the shared traits belong to, each once, in order.
pub fn families(shared: &[Shared]) -> Vec<Family> {
    let mut families: Vec<Family> = shared.iter().map(|s| s.trait_.family()).collect();
    families.sort();
    families.dedup();
    families
}

/// The traits shared by `subset` of `group` at `min_share`.
pub fn shared_traits(
    group: &[&Member<'_>],
    subset: &[usize],
    baseline: &Baseline,
    min_share: f64,
    config: &EvidenceConfig,
) -> Vec<Shared> {
    let mut shared = Vec::new();
    if subset.is_empty() {
        return shared;
    }
    for t in TRAITS {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for &i in subset {
            t.for_each_value(group[i], |v| *counts.entry(v).or_insert(0) += 1);
        }
        // The most common value; ties go to the smaller key so that runs are reproducible.
        let Some((value, count)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        else {
            continue;
        };
        let Some(shown_by) = subset.iter().map(|&i| group[i]).find(|m| t.shows(m, value)) else {
            continue;
        };
        let example = t.describe(shown_by, value);
        let seen = Seen {
            first: shown_by.first_seen_at,
            last: shown_by.last_seen_at,
            captures: shown_by.captures_seen,
        };
        let share = count as f64 / subset.len() as f64;
        let base = baseline.share(t, value);
        let odds_ratio =
            odds(count, subset.len()) / odds(baseline.count(t, value), baseline.accounts);
        if share >= min_share
            && share - base >= config.min_lift
            && odds_ratio >= config.min_odds_ratio
        {
            shared.push(Shared {
                trait_: t,
                value,
                share,
                baseline: base,
                example,
                seen,
            });
        }
    }
    shared
}

/// How many of `shared` a member must match to belong to the core: all but a quarter (a farm
/// where one account in five has an uploaded avatar is still one farm).
pub fn required_matches(shared: usize) -> usize {
    shared - shared / 4
}

pub fn matches(m: &Member<'_>, shared: &[Shared]) -> usize {
    shared.iter().filter(|s| s.trait_.shows(m, s.value)).count()
}

/// The core of `group`: its members matching nearly all of the traits they share. `excess`
/// is how many more accounts the group holds than the background predicts (the window's
/// members minus its expected count): the accounts that made the burst.
pub fn core(
    group: &[&Member<'_>],
    baseline: &Baseline,
    config: &EvidenceConfig,
    excess: f64,
) -> Core {
    let everyone: Vec<usize> = (0..group.len()).collect();
    let at = |members: &[usize], share: f64| shared_traits(group, members, baseline, share, config);
    let matching = |shared: &[Shared]| -> Vec<usize> {
        let need = required_matches(shared.len());
        everyone
            .iter()
            .copied()
            .filter(|&i| shared.is_empty() || matches(group[i], shared) >= need)
            .collect()
    };
    let whole = at(&everyone, config.shared_share);
    // A farm that is a third of its day's sign-ups shows little at the shared bar over the
    // whole day: the lower bar then seeds the refinement.
    let mut shared = whole.clone();
    if shared.len() < 2 {
        let seed = at(&everyone, config.candidate_share);
        if seed.len() > shared.len() {
            shared = seed;
        }
    }
    // The core is the members matching the evidence; the evidence is measured again on the
    // core, until both settle (two or three rounds in every case seen).
    let mut members = everyone.clone();
    for _ in 0..5 {
        if shared.is_empty() {
            break;
        }
        let next = matching(&shared);
        if next.is_empty() {
            break;
        }
        let next_shared = at(&next, config.shared_share);
        let settled = next == members && next_shared == shared;
        members = next;
        shared = next_shared;
        if settled {
            break;
        }
    }
    let members = matching(&shared);
    // A core that accounts for only part of the burst is a crowd split by a trait half of it
    // happens to have (a class where half kept the default avatar), not a farm: the evidence
    // is then what the whole group shares.
    if (members.len() as f64) < config.core_of_excess * excess {
        return Core {
            members: everyone,
            shared: whole,
        };
    }
    Core { members, shared }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("a time")
    }

    /// A member first seen in capture `arrival` (0-based, one an hour) and seen in
    /// `captures` consecutive captures.
    fn member<'a>(
        login: &'a str,
        display: &'a str,
        default_avatar: bool,
        empty_bio: bool,
        arrival: i64,
        captures: u32,
    ) -> Member<'a> {
        Member {
            login,
            display_name: display,
            earlier_names: &[],
            created_at: Some(time(-86_400)),
            default_avatar: Some(default_avatar),
            empty_bio: Some(empty_bio),
            first_seen_at: time(arrival * 3_600),
            last_seen_at: time((arrival + i64::from(captures) - 1) * 3_600),
            captures_seen: captures,
            captures_seen_offline: 0,
            channels_seen: 1,
        }
    }

    #[test]
    fn login_templates() {
        assert_eq!(login_template("brook_fan48213"), "a_a99999");
        assert_eq!(login_template("silent_falcon_4821"), "a_a_9999");
        assert_eq!(login_template("maria1994"), "a9999");
        assert_eq!(login_template("tealkettle"), "a");
        assert_eq!(login_template("k3v9qzt0wmx2"), "?");
    }

    /// Ten human-looking logins of varied shapes.
    const PEOPLE: [&str; 10] = [
        "tealkettle",
        "maria1994",
        "harbor_lights",
        "the_quietfox",
        "sam_river",
        "leo1988",
        "novaheron",
        "bright_piano7",
        "ines_meadow",
        "thecalmknight",
    ];

    /// Ten people with varied profiles and presence: the session outside the window.
    fn people() -> Vec<Member<'static>> {
        PEOPLE
            .iter()
            .enumerate()
            .map(|(i, login)| {
                member(
                    login,
                    "Someone",
                    i % 8 == 0,
                    i % 2 == 0,
                    (i % 3) as i64,
                    1 + (i % 4) as u32,
                )
            })
            .collect()
    }

    #[test]
    fn a_farm_inside_its_day_is_found_as_a_core_with_its_shared_traits() {
        let outside = people();
        let baseline = Baseline::new(outside.iter());
        // Eight farm accounts: default profile, display = login, stem + digits, all arriving
        // in capture 1 and staying for 4; and four real people created the same day.
        let farm_logins = [
            "brook_fan48213",
            "brook_fan50122",
            "brook_fan61420",
            "brook_fan70034",
            "brook_fan81999",
            "brook_fan12345",
            "brook_fan23456",
            "brook_fan34567",
        ];
        let mut window: Vec<Member<'_>> = farm_logins
            .iter()
            .map(|l| member(l, l, true, true, 1, 4))
            .collect();
        window[0].default_avatar = Some(false); // one uploaded an avatar
        window.extend(people().into_iter().take(4));
        let group: Vec<&Member<'_>> = window.iter().collect();
        let core = core(&group, &baseline, &EvidenceConfig::default(), 8.0);
        assert_eq!(core.members, (0..8).collect::<Vec<_>>());
        let traits: Vec<Trait> = core.shared.iter().map(|s| s.trait_).collect();
        assert_eq!(
            traits,
            vec![
                Trait::DefaultAvatar,
                Trait::EmptyBio,
                Trait::DisplayIsLogin,
                Trait::LoginTemplate,
                Trait::LoginStem,
                Trait::Arrival,
                Trait::Presence,
            ]
        );
        let avatar = &core.shared[0];
        assert_eq!(avatar.share, 7.0 / 8.0);
        assert_eq!(
            avatar.baseline,
            2.0 / 10.0,
            "people 0 and 8 have default avatars"
        );
        assert_eq!(
            core.families(),
            vec![Family::Profile, Family::Names, Family::Movement]
        );
    }

    #[test]
    fn a_crowd_that_looks_and_moves_like_everyone_shares_nothing() {
        let outside = people();
        let baseline = Baseline::new(outside.iter());
        let crowd = people();
        let group: Vec<&Member<'_>> = crowd.iter().collect();
        let core = core(&group, &baseline, &EvidenceConfig::default(), 10.0);
        assert!(core.shared.is_empty(), "{:?}", core.shared);
        assert_eq!(core.members.len(), crowd.len());
    }

    #[test]
    fn a_class_arriving_together_is_not_split_by_a_trait_half_of_it_has() {
        let outside = people();
        let baseline = Baseline::new(outside.iter());
        // Twelve classmates, all arriving in capture 2; half kept the default avatar and
        // those also happen to stay as long. Picking them out would make a "farm" of six.
        let class: Vec<Member<'_>> = PEOPLE
            .iter()
            .chain(&["oscar_fern", "rosa2001"])
            .enumerate()
            .map(|(i, l)| {
                member(
                    l,
                    "Someone",
                    i % 2 == 0,
                    i % 3 == 0,
                    2,
                    if i % 2 == 0 { 3 } else { 1 + (i % 3) as u32 },
                )
            })
            .collect();
        let group: Vec<&Member<'_>> = class.iter().collect();
        let core = core(&group, &baseline, &EvidenceConfig::default(), 12.0);
        assert_eq!(core.members.len(), 12, "the whole class");
        let traits: Vec<Trait> = core.shared.iter().map(|s| s.trait_).collect();
        assert_eq!(
            traits,
            vec![Trait::Arrival],
            "arriving together, nothing else"
        );
    }

    #[test]
    fn a_trait_half_of_everyone_shows_needs_more_than_a_large_majority() {
        // Half of the session has an empty bio; eight of ten classmates do (80 %, 30 points
        // above): their odds are 3.4 times everyone's, not the 8 a script gives. Their logins are
        // as varied as everyone's.
        let outside = people();
        let baseline = Baseline::new(outside.iter());
        let logins = [
            "adamwolf",
            "bella1990",
            "carlos_reed",
            "dina_stone",
            "emil_frost",
            "faye1987",
            "gusmarsh",
            "holly_vale7",
            "ivo_quill",
            "junerain",
        ];
        let class: Vec<Member<'_>> = logins
            .iter()
            .enumerate()
            .map(|(i, l)| member(l, "Classmate", false, i < 8, 2, 1 + (i % 3) as u32))
            .collect();
        let group: Vec<&Member<'_>> = class.iter().collect();
        let core = core(&group, &baseline, &EvidenceConfig::default(), 10.0);
        let traits: Vec<Trait> = core.shared.iter().map(|s| s.trait_).collect();
        assert_eq!(traits, vec![Trait::Arrival]);
    }

    #[test]
    fn a_renamed_farm_still_shares_the_names_it_was_made_with() {
        let outside = people();
        let baseline = Baseline::new(outside.iter());
        // Eight farm accounts made as `brook_fan` + digits, six of them sold on and renamed to
        // human-looking names: the current logins share nothing, the ledger does.
        let made_as: Vec<Vec<EarlierName>> = (0..8)
            .map(|k| {
                vec![EarlierName {
                    login: format!("brook_fan{}", 48_213 + 1_111 * k),
                    display_name: format!("brook_fan{}", 48_213 + 1_111 * k),
                }]
            })
            .collect();
        let now = [
            "quiet_harbor",
            "mossy_lantern",
            "velvetfinch",
            "dawnpilot",
            "amber_trail",
            "lowtidejim",
        ];
        let farm: Vec<Member<'_>> = (0..8)
            .map(|k| {
                let mut m = if k < 6 {
                    member(now[k], "Renamed", false, false, 1, 4)
                } else {
                    let login = made_as[k][0].login.as_str();
                    member(login, "Kept", false, false, 1, 4)
                };
                if k < 6 {
                    m.earlier_names = &made_as[k];
                }
                m
            })
            .collect();
        let group: Vec<&Member<'_>> = farm.iter().collect();
        let everyone: Vec<usize> = (0..8).collect();
        let shared = shared_traits(
            &group,
            &everyone,
            &baseline,
            0.75,
            &EvidenceConfig::default(),
        );
        let stem = shared
            .iter()
            .find(|s| s.trait_ == Trait::LoginStem)
            .expect("the stem is shared through the ledger");
        assert_eq!(stem.share, 1.0);
        assert_eq!(stem.example, "brook_fan");
        assert_eq!(matches(group[0], &shared), shared.len());

        // Without the ledger, two of eight show the stem: not shared.
        let forgetful: Vec<Member<'_>> = farm
            .iter()
            .map(|m| Member {
                earlier_names: &[],
                ..m.clone()
            })
            .collect();
        let group: Vec<&Member<'_>> = forgetful.iter().collect();
        let shared = shared_traits(
            &group,
            &everyone,
            &baseline,
            0.75,
            &EvidenceConfig::default(),
        );
        assert!(shared.iter().all(|s| s.trait_ != Trait::LoginStem));
    }
}
