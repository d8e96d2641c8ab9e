//! Configuration from environment variables.
//!
//! Every service reads all of its variables through one [`EnvReader`], which records each
//! problem instead of stopping at the first, so an operator sees the whole list at once:
//! "DATABASE_URL is missing; WORKER_CONCURRENCY is not a whole number: 'x'".

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it (a header, a cipher key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A database URL whose password is redacted when printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Url);

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| e.to_string())?;
        match url.scheme() {
            "mysql" | "mariadb" => Ok(Self(url)),
            other => Err(format!("scheme must be mysql://, not {other}://")),
        }
    }

    /// The full URL, password included, for connecting.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            // Only fails for URLs that cannot have a password, which this one has.
            let _ = shown.set_password(Some("REDACTED"));
        }
        // The URL encoder would escape brackets; write the marker the rest of the logs use.
        f.write_str(&shown.as_str().replacen(":REDACTED@", ":[redacted]@", 1))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// All configuration problems found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.problems.len())?;
        if self.problems.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A service's configuration, read from the environment: every problem collected, reported
/// once (`EnvReader::finish`).
pub trait FromEnv: Sized {
    fn from_env(env: EnvReader) -> Result<Self, ConfigError>;
}

/// The shortest `INTERNAL_API_TOKEN` accepted.
pub const MIN_INTERNAL_TOKEN_LEN: usize = 32;

/// Reads typed variables and collects every problem; see the module docs.
pub struct EnvReader {
    lookup: Lookup,
    problems: Vec<String>,
}

impl EnvReader {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var(name).ok()),
            problems: Vec::new(),
        }
    }

    /// Reads from a map: how tests build configurations.
    pub fn from_map<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            lookup: Box::new(move |name| map.get(name).cloned()),
            problems: Vec::new(),
        }
    }

    /// The raw value; an empty or blank value counts as unset.
    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// Records a problem found by the caller's own check ("JOB_LEASE must be at least 1s").
    pub fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    fn missing(&mut self, name: &str) {
        self.problem(format!("{name} is missing"));
    }

    pub fn optional_string(&mut self, name: &str) -> Option<String> {
        self.raw(name)
    }

    pub fn string_or(&mut self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_string())
    }

    pub fn required_string(&mut self, name: &str) -> Option<String> {
        let value = self.raw(name);
        if value.is_none() {
            self.missing(name);
        }
        value
    }

    pub fn required_secret(&mut self, name: &str) -> Option<Secret> {
        self.required_string(name).map(Secret)
    }

    pub fn optional_secret(&mut self, name: &str) -> Option<Secret> {
        self.raw(name).map(Secret)
    }

    /// A sealing key (32 bytes, base64): the sealer, or a problem naming the variable.
    pub fn required_sealer(&mut self, name: &str) -> Option<crate::sealing::Sealer> {
        let key = self.required_secret(name)?;
        match crate::sealing::Sealer::from_base64_key(key.expose()) {
            Ok(sealer) => Some(sealer),
            Err(e) => {
                self.problem(format!("{name}: {e}"));
                None
            }
        }
    }

    /// `INTERNAL_API_TOKEN`, the secret every internal API checks: one rule for every
    /// service. Shorter than `MIN_INTERNAL_TOKEN_LEN` is refused — it is the only thing
    /// guarding those APIs.
    pub fn internal_token(&mut self) -> Option<Secret> {
        let token = self.required_secret("INTERNAL_API_TOKEN")?;
        if token.expose().len() < MIN_INTERNAL_TOKEN_LEN {
            self.problem(format!(
                "INTERNAL_API_TOKEN must be at least {MIN_INTERNAL_TOKEN_LEN} characters (openssl rand -hex 32)"
            ));
            return None;
        }
        Some(token)
    }

    /// A value parsed with `FromStr`; `expected` completes "NAME is not …".
    pub fn parse_or<T: FromStr>(&mut self, name: &str, default: T, expected: &str) -> T {
        match self.raw(name) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(value) => value,
                Err(_) => {
                    self.problem(format!("{name} is not {expected}: '{raw}'"));
                    default
                }
            },
        }
    }

    /// A whole number within `min..=max`.
    pub fn u32_in(&mut self, name: &str, default: u32, min: u32, max: u32) -> u32 {
        let value = self.parse_or(name, default, "a whole number");
        if !(min..=max).contains(&value) {
            self.problem(format!(
                "{name} must be between {min} and {max}, got {value}"
            ));
            return default;
        }
        value
    }

    /// One of a fixed set of words (compared case-insensitively, returned lowercase).
    pub fn one_of(&mut self, name: &str, default: &str, allowed: &[&str]) -> String {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default.to_string(),
            Some(v) if allowed.contains(&v.as_str()) => v,
            Some(v) => {
                self.problem(format!(
                    "{name} must be one of {}: '{v}'",
                    allowed.join(", ")
                ));
                default.to_string()
            }
        }
    }

    pub fn bool_or(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => false,
            Some(v) => {
                self.problem(format!("{name} is not a boolean (true/false): '{v}'"));
                default
            }
        }
    }

    pub fn socket_addr_or(&mut self, name: &str, default: SocketAddr) -> SocketAddr {
        self.parse_or(name, default, "a socket address like 127.0.0.1:8080")
    }

    /// A duration such as `500ms`, `30s`, `5m`, `2h`, `7d`; a bare number means seconds.
    pub fn duration_or(&mut self, name: &str, default: Duration) -> Duration {
        match self.raw(name) {
            None => default,
            Some(raw) => match parse_duration(&raw) {
                Some(d) => d,
                None => {
                    self.problem(format!(
                        "{name} is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d): '{raw}'"
                    ));
                    default
                }
            },
        }
    }

    pub fn required_url(&mut self, name: &str) -> Option<Url> {
        let raw = self.required_string(name)?;
        self.http_url(name, &raw)
    }

    /// An http(s) URL, or `None` when unset or empty (a malformed one is a problem).
    pub fn optional_url(&mut self, name: &str) -> Option<Url> {
        let raw = self
            .optional_string(name)
            .filter(|raw| !raw.trim().is_empty())?;
        self.http_url(name, &raw)
    }

    fn http_url(&mut self, name: &str, raw: &str) -> Option<Url> {
        match Url::parse(raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            Ok(_) | Err(_) => {
                self.problem(format!("{name} is not an http(s) URL: '{raw}'"));
                None
            }
        }
    }

    pub fn required_database_url(&mut self, name: &str) -> Option<DatabaseUrl> {
        let raw = self.required_string(name)?;
        match DatabaseUrl::parse(&raw) {
            Ok(url) => Some(url),
            Err(reason) => {
                // The raw value may hold a password: name the problem, not the value.
                self.problem(format!("{name} is not a valid database URL ({reason})"));
                None
            }
        }
    }

    /// Ends reading: fails with every problem found, or builds the configuration.
    /// `build` returns `None` only if a required value is absent, which was already
    /// recorded as a problem, so it never gets to run in that case.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ConfigError> {
        if !self.problems.is_empty() {
            return Err(ConfigError {
                problems: self.problems,
            });
        }
        build().ok_or_else(|| ConfigError {
            problems: vec!["a required value is missing".to_string()],
        })
    }
}

pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => return Some(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reports_every_problem_at_once() {
        let mut env = EnvReader::from_map([("WORKER_CONCURRENCY", "x"), ("LEASE", "soon")]);
        let url = env.required_database_url("DATABASE_URL");
        let _ = env.u32_in("WORKER_CONCURRENCY", 4, 1, 256);
        let _ = env.duration_or("LEASE", Duration::from_secs(1));
        let err = env.finish(|| url).expect_err("three problems");
        assert_eq!(
            err.problems,
            vec![
                "DATABASE_URL is missing".to_string(),
                "WORKER_CONCURRENCY is not a whole number: 'x'".to_string(),
                "LEASE is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d): 'soon'".to_string(),
            ]
        );
        assert!(err.to_string().contains("3 problems"));
    }

    #[test]
    fn secrets_and_database_passwords_are_redacted_when_printed() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        let url = DatabaseUrl::parse("mysql://app:hunter2@db:3306/tca").expect("valid");
        assert_eq!(format!("{url:?}"), "mysql://app:[redacted]@db:3306/tca");
        assert!(url.expose().contains("hunter2"));
    }

    #[test]
    fn invalid_database_url_problem_does_not_echo_the_value() {
        let mut env = EnvReader::from_map([("DATABASE_URL", "postgres://u:hunter2@h/db")]);
        let url = env.required_database_url("DATABASE_URL");
        let err = env.finish(|| url).expect_err("wrong scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("5 weeks"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn out_of_range_numbers_are_problems() {
        let mut env = EnvReader::from_map([("N", "0")]);
        assert_eq!(env.u32_in("N", 4, 1, 10), 4);
        let err = env.finish(|| Some(())).expect_err("out of range");
        assert_eq!(err.problems, vec!["N must be between 1 and 10, got 0"]);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let mut env = EnvReader::from_map([("A", "  ")]);
        assert_eq!(env.string_or("A", "dflt"), "dflt");
        assert!(env.required_string("A").is_none());
    }
}
