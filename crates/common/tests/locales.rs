//! Nothing left untranslated (docs/i18n.md): every message of `locales/` exists in both
//! languages, every file of one language has its twin in the other, and every message is used
//! somewhere in the code, the templates or the scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_syntax::ast::Entry;
use fluent_syntax::parser;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Message ids (and `-terms`) of each `.ftl` file of a language, by file name.
fn messages(lang: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = workspace().join("locales").join(lang);
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("locales/<lang>") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "ftl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let resource = parser::parse(text.as_str())
            .unwrap_or_else(|(_, errors)| panic!("{} does not parse: {errors:?}", path.display()));
        let ids = resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.id.name.to_string()),
                Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        files.insert(name, ids);
    }
    files
}

#[test]
fn every_message_exists_in_both_languages() {
    let en = messages("en");
    let fr = messages("fr");
    assert!(!en.is_empty(), "no .ftl file found");
    let en_files: BTreeSet<&String> = en.keys().collect();
    let fr_files: BTreeSet<&String> = fr.keys().collect();
    assert_eq!(en_files, fr_files, "each area has one file per language");
    let mut problems = Vec::new();
    for (file, ids) in &en {
        let other = &fr[file];
        for id in ids.difference(other) {
            problems.push(format!("{file}: `{id}` is missing in French"));
        }
        for id in other.difference(ids) {
            problems.push(format!("{file}: `{id}` is missing in English"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Source files that may name a message: Rust, templates, scripts.
fn sources() -> String {
    let mut text = String::new();
    let mut stack = vec![
        workspace().join("crates"),
        workspace().join("web/templates"),
        workspace().join("web/static/js"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "html" || e == "js")
                // This file lists what it checks; it does not use messages.
                && !path.ends_with("tests/locales.rs")
            {
                text.push_str(&std::fs::read_to_string(&path).expect("readable"));
                text.push('\n');
            }
        }
    }
    text
}

/// Messages whose ids are built from a code (`coded("session-status", status)`,
/// `reason-{code}`…): such an id counts as used when its family is written in the code as
/// `"family"` or `"family-`.
const FAMILIES: &[&str] = &[
    "session-status-",
    "capture-status-",
    "capture-trigger-",
    "reason-",
    "trait-",
    "label-",
    "batch-action-",
    "result-",
    "excluded-",
    "batch-status-",
    "alert-kind-",
    "alert-status-",
];

#[test]
fn every_message_is_used() {
    let sources = sources();
    let mut unused = Vec::new();
    for (file, ids) in messages("en") {
        for id in ids {
            // Terms are used by other messages.
            if id.starts_with('-') {
                continue;
            }
            let quoted = [format!("\"{id}\""), format!("'{id}'")];
            let used = quoted.iter().any(|q| sources.contains(q.as_str()))
                || FAMILIES.iter().any(|family| {
                    id.starts_with(family)
                        && (sources.contains(&format!("\"{family}"))
                            || sources.contains(&format!("\"{}\"", family.trim_end_matches('-'))))
                });
            if !used {
                unused.push(format!("{file}: `{id}`"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "messages no code uses (remove them, or use them):\n{}",
        unused.join("\n")
    );
}
