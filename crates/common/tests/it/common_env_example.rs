//! Every variable a service reads through `EnvReader` is documented in `.env.example`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `EnvReader` methods whose first argument is a variable name.
const READERS: &[&str] = &[
    "optional_string",
    "string_or",
    "required_string",
    "required_secret",
    "parse_or",
    "u32_in",
    "one_of",
    "bool_or",
    "socket_addr_or",
    "duration_or",
    "required_url",
    "required_database_url",
];

fn rust_sources(dir: &Path, found: &mut Vec<PathBuf>) {
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
fn variables_read(source: &str) -> BTreeSet<String> {
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
    // A service's listening address is read through `Service::listen_addr` from its constant.
    for (at, _) in source.match_indices("const ADDR_VAR: &'static str = \"") {
        let literal = &source[at + "const ADDR_VAR: &'static str = \"".len()..];
        if let Some(end) = literal.find('"') {
            names.insert(literal[..end].to_string());
        }
    }
    names
}

fn documented(example: &str) -> BTreeSet<String> {
    example
        .lines()
        .map(|line| line.trim_start_matches('#').trim())
        .filter_map(|line| {
            line.split_once('=')
                .map(|(name, _)| name.trim().to_string())
        })
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

#[test]
fn env_example_documents_every_variable_the_code_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut sources = Vec::new();
    for krate in std::fs::read_dir(root.join("crates"))
        .expect("crates")
        .flatten()
    {
        let src = krate.path().join("src");
        if src.is_dir() {
            rust_sources(&src, &mut sources);
        }
    }
    let mut read = BTreeSet::new();
    for path in &sources {
        read.extend(variables_read(
            &std::fs::read_to_string(path).expect("source"),
        ));
    }
    // The scanner must find the variables we know are read, or it proves nothing.
    for known in [
        "DATABASE_URL",
        "LOG_FORMAT",
        "WORKER_CONCURRENCY",
        "GATEWAY_ADDR",
    ] {
        assert!(read.contains(known), "scanner missed {known}: {read:?}");
    }
    let example = std::fs::read_to_string(root.join(".env.example")).expect(".env.example");
    let documented = documented(&example);
    let undocumented: Vec<_> = read.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        ".env.example lacks: {undocumented:?}"
    );
}

#[test]
fn scanner_reads_names_across_line_breaks() {
    let source = "let a = env.u32_in(\n    \"WORKER_CONCURRENCY\", 1, 1, 2);\n\
                  let f = match env\n    .one_of(\"LOG_FORMAT\", \"pretty\", &[]);\n\
                  env.something(\"NOT_A_READ\"); myenv.u32_in(\"NOT_EITHER\");\n\
                  #[cfg(test)]\nmod tests { env.u32_in(\"TEST_ONLY\") }";
    assert_eq!(
        variables_read(source),
        BTreeSet::from(["LOG_FORMAT".to_string(), "WORKER_CONCURRENCY".to_string()])
    );
}
