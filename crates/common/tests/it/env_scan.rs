//! Which environment variables a crate's sources read through `EnvReader` (shared by the
//! `.env.example` and the deployment checks).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `EnvReader` methods whose first argument is a variable name.
const READERS: &[&str] = &[
    "optional_string",
    "string_or",
    "required_string",
    "required_secret",
    "optional_secret",
    "parse_or",
    "u32_in",
    "one_of",
    "bool_or",
    "socket_addr_or",
    "duration_or",
    "required_url",
    "optional_url",
    "required_database_url",
    "required_sealer",
];

pub fn rust_sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Names passed as string literals to `env.<reader>(…)` (rustfmt may break the call across
/// lines, even between `env` and `.reader`). Unit-test modules are left out.
pub fn variables_read(source: &str) -> BTreeSet<String> {
    let source = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or(source);
    let mut names = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("env") {
        let standalone = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        rest = &rest[at + 3..];
        if !standalone {
            continue;
        }
        let Some(call) = rest.trim_start().strip_prefix('.') else {
            continue;
        };
        let method: String = call
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !READERS.contains(&method.as_str()) {
            continue;
        }
        let after = call[method.len()..].trim_start();
        let Some(args) = after.strip_prefix('(') else {
            continue;
        };
        let Some(literal) = args.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = literal.find('"') {
            names.insert(literal[..end].to_string());
        }
    }
    // A service's own helpers take the reader and a name: `url_or(&mut env, "NAME", …)`.
    for (at, _) in source.match_indices("(&mut env, \"") {
        let literal = &source[at + "(&mut env, \"".len()..];
        if let Some(end) = literal.find('"') {
            names.insert(literal[..end].to_string());
        }
    }
    // A service's listening address is read through `Service::listen_addr` from its constant.
    for (at, _) in source.match_indices("const ADDR_VAR: &'static str = \"") {
        let literal = &source[at + "const ADDR_VAR: &'static str = \"".len()..];
        if let Some(end) = literal.find('"') {
            names.insert(literal[..end].to_string());
        }
    }
    names
}

/// Every variable the sources under `dir` read.
pub fn read_under(dir: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_sources(dir, &mut files);
    files
        .iter()
        .flat_map(|f| variables_read(&std::fs::read_to_string(f).unwrap_or_default()))
        .collect()
}

/// Every public `EnvReader` method that takes a variable's name is one this scan knows: a
/// reader added without it would let a service read a variable that no check sees.
#[test]
fn the_scan_knows_every_reader_of_env_reader() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config.rs"))
            .expect("config.rs");
    let readers: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub fn "))
        .filter(|rest| rest.contains("&mut self, name: &str"))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .collect();
    assert!(readers.len() >= READERS.len(), "{readers:?}");
    for reader in readers {
        assert!(
            READERS.contains(&reader),
            "env_scan::READERS lacks {reader}"
        );
    }
}
