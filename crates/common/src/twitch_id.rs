//! What a Twitch user id is, checked in one place. Twitch documents ids as opaque strings; in
//! practice they are decimal digits, and our columns hold at most 32 ascii characters
//! (`VARCHAR(32) ascii`). Every service parses ids it receives from a person or another
//! service through `TwitchId::parse`, so the rule and its limit cannot drift apart.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The longest id accepted: the width of every `twitch_user_id`/`broadcaster_id` column.
pub const MAX_LEN: usize = 32;

/// A Twitch user id (a user, a broadcaster, a moderator): 1 to 32 ascii digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TwitchId(String);

/// Why a string is not a Twitch id; its `Display` is a sentence a caller can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{shown}' is not a Twitch id (1 to {MAX_LEN} digits)")]
pub struct InvalidTwitchId {
    shown: String,
}

impl TwitchId {
    pub fn parse(raw: &str) -> Result<Self, InvalidTwitchId> {
        if Self::is_valid(raw) {
            Ok(Self(raw.to_string()))
        } else {
            // A hostile value is echoed back in messages: keep it short.
            Err(InvalidTwitchId {
                shown: raw.chars().take(40).collect(),
            })
        }
    }

    pub fn is_valid(raw: &str) -> bool {
        (1..=MAX_LEN).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TwitchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TwitchId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TwitchId {
    type Err = InvalidTwitchId;
    fn from_str(raw: &str) -> Result<Self, InvalidTwitchId> {
        Self::parse(raw)
    }
}

impl<'de> Deserialize<'de> for TwitchId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_up_to_the_column_width_are_ids() {
        assert_eq!(TwitchId::parse("123").expect("an id").as_str(), "123");
        assert!(TwitchId::parse(&"9".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn empty_long_and_non_digit_values_are_refused_with_a_sentence() {
        for bad in ["", "12a", "1;drop", " 1", "-1", "١٢"] {
            assert!(TwitchId::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = "9".repeat(MAX_LEN + 1);
        let err = TwitchId::parse(&long).expect_err("too long");
        assert!(err.to_string().contains("1 to 32 digits"), "{err}");
    }

    #[test]
    fn deserializing_checks_the_rule() {
        assert!(serde_json::from_str::<TwitchId>("\"42\"").is_ok());
        assert!(serde_json::from_str::<TwitchId>("\"4x2\"").is_err());
    }
}
