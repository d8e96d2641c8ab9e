//! Every variable a service reads through `EnvReader` is documented in `.env.example`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::env_scan::{rust_sources, variables_read};

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
