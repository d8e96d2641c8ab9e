//! Realistic logins, display names and bios for generated accounts.

use crate::rng::Rng;

const ADJECTIVES: &[&str] = &[
    "teal", "quiet", "sleepy", "brave", "crimson", "lucky", "mossy", "salty", "cosmic", "frosty",
    "golden", "hidden", "lazy", "misty", "neon", "odd", "pixel", "rusty", "silent", "spicy",
    "sunny", "swift", "tiny", "velvet", "wild", "witty", "amber", "bold", "calm", "dusty", "fuzzy",
    "gentle", "happy", "icy", "jolly", "keen", "lunar", "mellow", "nimble", "polar", "rapid",
    "shy", "stormy", "tidy", "urban", "vivid", "wavy", "zesty", "grumpy", "noble",
];
const NOUNS: &[&str] = &[
    "kettle",
    "lurker",
    "falcon",
    "otter",
    "harbor",
    "lights",
    "beanstalk",
    "owl",
    "maple",
    "panda",
    "tiger",
    "pebble",
    "comet",
    "badger",
    "raven",
    "walrus",
    "turnip",
    "biscuit",
    "cactus",
    "dragon",
    "ember",
    "fox",
    "goose",
    "hedgehog",
    "island",
    "jelly",
    "koala",
    "lantern",
    "moose",
    "noodle",
    "orchid",
    "pirate",
    "quokka",
    "robot",
    "sprout",
    "toast",
    "unicorn",
    "viking",
    "wizard",
    "yak",
    "zebra",
    "anchor",
    "bard",
    "cloud",
    "dune",
    "forest",
    "glacier",
    "heron",
    "ivy",
    "knight",
    "meadow",
    "nova",
    "ocean",
    "piano",
    "river",
    "shadow",
];
const NAMES: &[&str] = &[
    "maria", "alex", "sam", "jordan", "lea", "noah", "emma", "lucas", "mia", "leo", "chloe",
    "hugo", "ines", "tom", "sara", "max", "nina", "oscar", "zoe", "ivan", "yuki", "ana", "ben",
    "clara", "dan", "elif", "finn", "gia", "hana", "igor", "jade", "kai", "lina", "milo", "nora",
    "omar", "paula", "quinn", "rosa", "theo", "uma", "vera", "will", "xena", "yara",
];
const BIOS: &[&str] = &[
    "Just here for the vibes.",
    "Variety viewer. Be nice in chat.",
    "Speedrun enthusiast and part-time lurker.",
    "Cozy games, good tea, better chat.",
    "I mostly watch strategy games at night.",
    "Artist, gamer, professional procrastinator.",
    "Learning to stream one game at a time.",
    "Backseat gamer (sorry).",
    "Music, memes and modding.",
    "Here since the early days.",
    "FPS on weekends, farming sims on weekdays.",
    "Nurse by day, raider by night.",
];

const MAX_LOGIN: usize = 25;

/// A human-looking login in one of several common shapes.
pub fn human_login(rng: &mut Rng) -> String {
    let login = match rng.below(6) {
        0 => format!("{}{}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        1 => format!("{}{}", rng.pick(NAMES), 1970 + rng.below(40)),
        2 => format!("{}_{}", rng.pick(NOUNS), rng.pick(NOUNS)),
        3 => format!(
            "{}_{}{}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.below(100)
        ),
        4 => format!("{}_{}", rng.pick(NAMES), rng.pick(NOUNS)),
        _ => format!("the{}{}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
    };
    truncate(login)
}

/// Display names of humans capitalise word starts ("TealKettle", "Maria1994").
pub fn human_display_name(login: &str, rng: &mut Rng) -> String {
    if rng.chance(0.3) {
        return login.to_string();
    }
    let mut out = String::with_capacity(login.len());
    let mut start = true;
    for c in login.chars() {
        if start && c.is_ascii_alphabetic() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
        start = c == '_' || c.is_ascii_digit();
    }
    // Capitalise a second word glued to the first when we know where it starts.
    for noun in NOUNS {
        if let Some(at) = login.find(noun)
            && at > 0
            && !login[..at].ends_with('_')
        {
            let mut bytes = out.into_bytes();
            bytes[at] = bytes[at].to_ascii_uppercase();
            return String::from_utf8(bytes).unwrap_or_else(|_| login.to_string());
        }
    }
    out
}

/// A prefix shared by a whole cohort (`kettlexq`), when the scenario names none.
pub fn cohort_prefix(rng: &mut Rng) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    format!(
        "{}{}{}",
        rng.pick(NOUNS),
        letters[rng.below(26) as usize] as char,
        letters[rng.below(26) as usize] as char
    )
}

pub fn prefix_digits_login(prefix: &str, rng: &mut Rng) -> String {
    truncate(format!("{prefix}{}", 1000 + rng.below(99_000)))
}

pub fn random_login(rng: &mut Rng) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let alphanumeric = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = 10 + rng.below(5) as usize;
    let mut login = String::with_capacity(len);
    login.push(letters[rng.below(26) as usize] as char);
    for _ in 1..len {
        login.push(alphanumeric[rng.below(36) as usize] as char);
    }
    login
}

/// `silent_falcon`: two words, human-looking.
pub fn word_word_login(rng: &mut Rng) -> String {
    truncate(format!("{}_{}", rng.pick(ADJECTIVES), rng.pick(NOUNS)))
}

pub fn word_word_digits_login(rng: &mut Rng) -> String {
    truncate(format!(
        "{}_{}_{}",
        rng.pick(ADJECTIVES),
        rng.pick(NOUNS),
        1000 + rng.below(9000)
    ))
}

pub fn bio(rng: &mut Rng) -> &'static str {
    BIOS[rng.below(BIOS.len() as u64) as usize]
}

/// Makes `login` unique against `taken` by appending digits.
pub fn unique(
    login: String,
    taken: &mut std::collections::HashSet<String>,
    rng: &mut Rng,
) -> String {
    let mut candidate = login;
    while taken.contains(&candidate) {
        let base: String = candidate.chars().take(MAX_LOGIN - 3).collect();
        candidate = format!("{base}{}", rng.below(1000));
    }
    taken.insert(candidate.clone());
    candidate
}

fn truncate(mut login: String) -> String {
    login.truncate(MAX_LOGIN);
    login
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::is_valid_login;

    #[test]
    fn generated_logins_are_valid_twitch_logins() {
        let mut rng = Rng::new(11);
        let prefix = cohort_prefix(&mut rng);
        for _ in 0..2000 {
            for login in [
                human_login(&mut rng),
                prefix_digits_login(&prefix, &mut rng),
                random_login(&mut rng),
                word_word_digits_login(&mut rng),
            ] {
                assert!(is_valid_login(&login), "{login}");
                assert_eq!(login, login.to_lowercase());
            }
        }
    }

    #[test]
    fn display_names_differ_from_logins_only_in_case() {
        let mut rng = Rng::new(5);
        for _ in 0..500 {
            let login = human_login(&mut rng);
            let display = human_display_name(&login, &mut rng);
            assert_eq!(display.to_lowercase(), login);
        }
    }
}
