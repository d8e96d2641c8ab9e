//! The deployment files agree with the code: docker-compose.yml is valid with and without each
//! profile (Debian's `docker-compose config`, no engine needed), and every variable it uses or
//! sets for our services is documented in `.env.example`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn documented() -> BTreeSet<String> {
    std::fs::read_to_string(root().join(".env.example"))
        .expect(".env.example")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// `${NAME}`, `${NAME:-default}`, `${NAME:?message}` references.
fn referenced(compose: &str) -> BTreeSet<String> {
    compose
        .match_indices("${")
        .map(|(i, _)| {
            compose[i + 2..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Keys of `environment:` in the blocks of our own services.
fn set_for_our_services(compose: &str) -> BTreeSet<String> {
    let ours = ["gateway", "twitch-api", "worker", "analysis", "twitch-fake"];
    let mut keys = BTreeSet::new();
    let (mut in_ours, mut in_env) = (false, false);
    for line in compose.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 2 {
            in_ours = ours.iter().any(|s| text == format!("{s}:"));
            in_env = false;
        } else if indent == 4 {
            in_env = in_ours && text == "environment:";
        } else if indent == 6
            && in_env
            && let Some((key, _)) = text.split_once(':')
        {
            keys.insert(key.to_string());
        }
    }
    keys
}

#[test]
fn compose_uses_and_sets_only_documented_variables() {
    let compose = std::fs::read_to_string(root().join("docker-compose.yml")).expect("compose");
    let documented = documented();
    let used = referenced(&compose);
    assert!(
        used.contains("MARIADB_PASSWORD") && used.contains("DOMAIN"),
        "{used:?}"
    );
    let undocumented: Vec<&String> = used.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "compose uses undocumented variables: {undocumented:?}"
    );
    let set = set_for_our_services(&compose);
    assert!(
        set.contains("GATEWAY_ADDR") && set.contains("DATABASE_URL"),
        "{set:?}"
    );
    let undocumented: Vec<&String> = set.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "compose sets undocumented variables: {undocumented:?}"
    );
    assert_eq!(
        compose.matches("env_file: .env").count(),
        1,
        "every service of ours inherits the one x-service block that reads .env"
    );
    assert!(
        !compose.contains("container_name"),
        "container_name would forbid --scale"
    );
}

/// Each service's profile in `docker-compose config` output (none: always started).
fn profiles_of(normalized: &str) -> std::collections::BTreeMap<String, Option<String>> {
    let mut out = std::collections::BTreeMap::new();
    let (mut in_services, mut current, mut in_profiles) = (false, None::<String>, false);
    for line in normalized.lines() {
        if !line.starts_with(' ') {
            in_services = line == "services:";
            continue;
        }
        if !in_services {
            continue;
        }
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            out.insert(name.to_string(), None);
            current = Some(name.to_string());
            in_profiles = false;
        } else if line == "    profiles:" {
            in_profiles = true;
        } else if in_profiles {
            if let (Some(profile), Some(service)) = (line.trim().strip_prefix("- "), &current) {
                out.insert(service.clone(), Some(profile.to_string()));
            }
            in_profiles = false;
        }
    }
    out
}

#[test]
fn compose_file_is_valid_with_and_without_each_profile() {
    let Ok(version) = Command::new("docker-compose").arg("version").output() else {
        panic!(
            "docker-compose is not installed: scripts/test installs it (Debian package docker-compose)"
        );
    };
    assert!(version.status.success());
    // A project directory holding the compose file and a filled .env.
    let dir = std::env::temp_dir().join(format!("tca-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(
        root().join("docker-compose.yml"),
        dir.join("docker-compose.yml"),
    )
    .expect("copy");
    let mut env = std::fs::read_to_string(root().join(".env.example")).expect(".env.example");
    for (key, value) in [
        ("DOMAIN", "chatters.example.org"),
        ("MARIADB_PASSWORD", "compose-check-password"),
        ("MARIADB_ROOT_PASSWORD", "compose-check-root"),
        ("GRAFANA_ADMIN_PASSWORD", "compose-check-grafana"),
    ] {
        env = env.replace(&format!("\n{key}=\n"), &format!("\n{key}={value}\n"));
    }
    std::fs::write(dir.join(".env"), env).expect(".env");
    let compose = |args: &[&str]| {
        Command::new("docker-compose")
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(args)
            .output()
            .expect("docker-compose")
    };
    for profiles in [&[][..], &["demo"], &["monitoring"], &["demo", "monitoring"]] {
        let mut args: Vec<&str> = profiles.iter().flat_map(|p| ["--profile", p]).collect();
        args.push("config");
        let output = compose(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "profiles {profiles:?}: {stderr}");
        // Compose v1 prints every service with its profiles; it filters when starting.
        let profiles_of = profiles_of(&String::from_utf8_lossy(&output.stdout));
        for (service, profile) in [
            ("traefik", None),
            ("mariadb", None),
            ("gateway", None),
            ("twitch-api", None),
            ("worker", None),
            ("analysis", None),
            ("twitch-fake", Some("demo")),
            ("prometheus", Some("monitoring")),
            ("grafana", Some("monitoring")),
        ] {
            assert_eq!(
                profiles_of.get(service),
                Some(&profile.map(str::to_string)),
                "{service} in {profiles_of:?}"
            );
        }
    }
    // Without its required secrets, compose refuses to start and names them.
    std::fs::write(dir.join(".env"), "").expect("empty .env");
    let output = compose(&["config", "-q"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("MARIADB_PASSWORD"));
    let _ = std::fs::remove_dir_all(&dir);
}
