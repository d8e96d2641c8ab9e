//! B6: the gateway's pages and the analysis JSON it proxies, under 64 keep-alive connections
//! from `wrk` (Debian's HTTP load generator, installed by scripts/bench), as the owner of a
//! seeded session of 200k accounts, against the same load on `/healthz` (the HTTP stack's
//! ceiling on this machine). Memory: the peak RSS of each process meanwhile.

use std::process::Command;

use anyhow::{Context, bail};
use sqlx::MySqlPool;

use crate::deployment::{Deployment, PeakRssOf};
use crate::{Figure, measure};

const CONNECTIONS: u32 = 64;
const SECONDS: u32 = 10;
/// The browser's web session cookie (its SHA-256 is what the gateway stores).
const WEB_TOKEN: &str = "bench-web-session-token-0123456789abcdef";

pub async fn run(
    deployment: &Deployment,
    pool: &MySqlPool,
    session_id: u64,
) -> anyhow::Result<Vec<Figure>> {
    which_wrk()?;
    let (user_id, public_id): (u64, String) =
        sqlx::query_as("SELECT user_id, public_id FROM analysis_sessions WHERE id = ?")
            .bind(session_id)
            .fetch_one(pool)
            .await?;
    // The session's owner in a browser: its cookie (B6 reads pages, it posts no form).
    crate::deployment::web_session(pool, user_id, WEB_TOKEN).await?;

    let cookie = format!("tca_session={WEB_TOKEN}");
    let http = reqwest::Client::new();
    // Baseline: the same load on the gateway's /healthz (no database, no template) — the
    // ceiling of the HTTP stack and this machine with wrk on it.
    let ceiling = wrk(&deployment.gateway.url("/healthz"), &cookie).await?;
    let mut figures = vec![Figure {
        id: "B6 base",
        what: format!("gateway /healthz, {CONNECTIONS} keep-alive connections, {SECONDS} s"),
        value: format!(
            "{:.0} req/s, p50 {}, p99 {}",
            ceiling.per_second, ceiling.p50, ceiling.p99
        ),
        target: "baseline",
        baseline: None,
    }];
    for (label, path) in [
        ("session page (HTML)", format!("/sessions/{public_id}")),
        (
            "analysis page viewed again (HTML of one analysis answer — summary, cohorts, top days, flagged, renames, raids — kept, and confirmed at each view by analysis's 304)",
            format!("/sessions/{public_id}/analysis"),
        ),
        (
            "analysis JSON (summary, proxied to analysis)",
            format!("/sessions/{public_id}/data/summary"),
        ),
    ] {
        let url = deployment.gateway.url(&path);
        // Warm: the first view loads and scores the session; B5 measures that.
        let first = http.get(&url).header("Cookie", &cookie).send().await?;
        if !first.status().is_success() {
            bail!("{path}: {}", first.status());
        }
        let sampler = PeakRssOf::start(deployment.processes());
        let services = deployment
            .processes()
            .filter(|p| p.name == "gateway" || p.name == "analysis")
            .map(|p| (p.name.clone(), p.pid()));
        let cost = measure::Cost::start(pool, services).await?;
        let result = wrk(&url, &cookie).await?;
        let cost = cost
            .stop(pool, result.per_second * f64::from(SECONDS))
            .await?;
        let peaks = sampler.stop().await;
        figures.push(Figure {
            id: "B6",
            what: format!("gateway {label}, {CONNECTIONS} keep-alive connections, {SECONDS} s"),
            value: format!(
                "{:.0} req/s, p50 {}, p99 {}",
                result.per_second, result.p50, result.p99
            ),
            target: "≥ 3,000 req/s, p99 ≤ 20 ms",
            baseline: Some(format!(
                "{:.2} × the /healthz ceiling",
                result.per_second / ceiling.per_second.max(f64::MIN_POSITIVE)
            )),
        });
        figures.push(Figure {
            id: "B6 cost",
            what: format!("what one answer of B6 {label} cost, over the run"),
            value: format!("per answer: {cost}"),
            target: "reported",
            baseline: None,
        });
        figures.push(Figure {
            id: "M",
            what: format!("peak RSS per process during B6 {label}"),
            value: peaks,
            target: "—",
            baseline: None,
        });
    }
    Ok(figures)
}

fn which_wrk() -> anyhow::Result<()> {
    let found = Command::new("wrk").arg("--version").output();
    match found {
        Ok(_) => Ok(()),
        Err(_) => bail!("wrk is not installed: scripts/bench installs it (apt-get install wrk)"),
    }
}

struct WrkResult {
    per_second: f64,
    p50: String,
    p99: String,
}

async fn wrk(url: &str, cookie: &str) -> anyhow::Result<WrkResult> {
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{SECONDS}s"),
            "--timeout",
            "5s",
            "--latency",
            "-H",
            &format!("Cookie: {cookie}"),
            url,
        ])
        .output()
        .await
        .context("run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_wrk(&text)
}

/// Reads `Requests/sec`, the 50 % and 99 % lines of `--latency`, and refuses a run with
/// errors or non-2xx answers (a fast error page is not a result).
fn parse_wrk(text: &str) -> anyhow::Result<WrkResult> {
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
    {
        bail!("wrk saw failures: {}\n{text}", line.trim());
    }
    let field = |prefix: &str| -> anyhow::Result<String> {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_string())
            .with_context(|| format!("no '{prefix}' in wrk's output:\n{text}"))
    };
    Ok(WrkResult {
        per_second: field("Requests/sec:")?
            .parse()
            .context("Requests/sec is not a number")?,
        p50: field("50%")?,
        p99: field("99%")?,
    })
}
