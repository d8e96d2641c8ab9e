//! Detection measured end to end, as a moderator would get it: log in through the gateway and
//! the fake's consent page, capture every channel a few times with "Capture now", wait for
//! enrichment, download the accounts export, and compare every account's flag with the
//! world's truth (`twitch-fake truth`). Used by the tests (in-process `Stack`) and by
//! `tca-bench eval` (every service its own process). docs/detection.md explains the figures.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::{Client, StatusCode, redirect::Policy};
use serde::Serialize;
use serde_json::Value;
use sqlx::MySqlPool;

/// What one world measured gave.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    pub scenario: String,
    pub seed: u64,
    /// Accounts of the session that are bots (truth kind `bot`).
    pub bots: usize,
    /// Everyone else seen: humans and legit cohorts (broadcasters and moderators included).
    pub humans: usize,
    /// Flagged bots / bots (1 when there is no bot).
    pub recall: f64,
    /// Flagged non-bots / non-bots: the false-positive rate.
    pub fpr: f64,
    /// Flagged bots / flagged (1 when nothing is flagged).
    pub precision: f64,
    /// The first creation day the dashboard shows ("top days") is mostly bots.
    pub top_is_bot: bool,
    /// The first cohort the dashboard shows is a bot cohort, and mostly bots.
    pub first_cohort_is_bot: bool,
    /// Accounts of legit cohorts that were flagged.
    pub legit_flagged: usize,
    pub cohorts: Vec<CohortMeasure>,
    /// The accounts export the figures come from (CSV), to look into a run afterwards.
    #[serde(skip)]
    pub export: ExportText,
}

/// A whole CSV file, shown by its size in debug output (a failed assertion prints the
/// figures, not thousands of rows).
#[derive(Clone, Default)]
pub struct ExportText(pub String);

impl std::fmt::Debug for ExportText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes of CSV>", self.0.len())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CohortMeasure {
    pub name: String,
    pub kind: String,
    pub seen: usize,
    pub flagged: usize,
}

/// A cookie-keeping client that uses the gateway as a browser would (no JavaScript).
pub struct Browser {
    http: Client,
    gateway: String,
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl Browser {
    pub fn new(gateway: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()?,
            gateway: gateway.trim_end_matches('/').to_string(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    /// Log in with Twitch: the gateway sends the browser to the fake's consent page, where
    /// `login` clicks Authorize, and the callback starts the web session.
    pub async fn login(&self, login: &str) -> anyhow::Result<()> {
        let start = self.http.get(self.url("/auth/login")).send().await?;
        let authorize = url::Url::parse(&location(&start)).context("the authorize URL")?;
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("login".into(), login.into()));
        form.push(("decision".into(), "authorize".into()));
        let mut consent = authorize.clone();
        consent.set_query(None);
        let back = self.http.post(consent).form(&form).send().await?;
        let callback = self.http.get(location(&back)).send().await?;
        if callback.status() != StatusCode::SEE_OTHER || location(&callback) != "/channels" {
            bail!("logging in as {login} failed: {}", callback.status());
        }
        Ok(())
    }

    /// The web session's CSRF token, read from a page's forms.
    async fn csrf(&self) -> anyhow::Result<String> {
        let html = self
            .http
            .get(self.url("/sessions"))
            .send()
            .await?
            .text()
            .await?;
        let marker = r#"name="csrf" value=""#;
        let start = html.find(marker).context("a form with a CSRF token")? + marker.len();
        let end = html[start..].find('"').context("the token's end")?;
        Ok(html[start..start + end].to_string())
    }

    /// "Capture now" on a channel; returns (session public id, capture id).
    pub async fn capture_now(&self, broadcaster_id: &str) -> anyhow::Result<(String, u64)> {
        let csrf = self.csrf().await?;
        let response = self
            .http
            .post(self.url(&format!("/channels/{broadcaster_id}/capture")))
            .form(&[("csrf", csrf)])
            .send()
            .await?;
        let target = location(&response);
        let (path, capture) = target.split_once("#capture-").with_context(|| {
            format!(
                "capture of {broadcaster_id}: {} {target}",
                response.status()
            )
        })?;
        let public_id = path.trim_start_matches("/sessions/").to_string();
        Ok((public_id, capture.parse()?))
    }

    /// Waits for a capture to end; an error if it failed.
    pub async fn wait_capture(
        &self,
        public_id: &str,
        capture_id: u64,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let status: Value = self
                .http
                .get(self.url(&format!("/sessions/{public_id}/captures/{capture_id}")))
                .send()
                .await?
                .json()
                .await?;
            match status["status"].as_str() {
                Some("done") => return Ok(()),
                Some("failed") => bail!("capture {capture_id} failed: {}", status["error"]),
                _ if started.elapsed() > timeout => bail!("capture {capture_id} still running"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let response = self.http.get(self.url(path)).send().await?;
        if !response.status().is_success() {
            bail!("{path}: {}", response.status());
        }
        Ok(response.text().await?)
    }
}

/// Waits until every account is enriched and no enrichment job is pending.
async fn wait_enriched(pool: &MySqlPool, timeout: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (unenriched, pending): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM twitch_accounts WHERE enriched_at IS NULL), \
                    (SELECT COUNT(*) FROM jobs WHERE kind = 'enrich_accounts' AND status IN ('queued', 'running'))",
        )
        .fetch_one(pool)
        .await?;
        if unenriched == 0 && pending == 0 {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("{unenriched} accounts still unenriched after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the truth says of one account: kind, cohort, creation day.
type Known = (String, Option<String>, String);

/// The truth's accounts by Twitch id.
fn truth_accounts(truth: &Value) -> anyhow::Result<HashMap<String, Known>> {
    truth["accounts"]
        .as_array()
        .context("truth accounts")?
        .iter()
        .map(|a| {
            Ok((
                a["id"].as_str().context("id")?.to_string(),
                (
                    a["kind"].as_str().unwrap_or("human").to_string(),
                    a["cohort"].as_str().map(str::to_string),
                    a["created_at"]
                        .as_str()
                        .unwrap_or("")
                        .chars()
                        .take(10)
                        .collect(),
                ),
            ))
        })
        .collect()
}

fn ratio(part: usize, whole: usize, empty: f64) -> f64 {
    if whole == 0 {
        empty
    } else {
        part as f64 / whole as f64
    }
}

/// Measures one world: `gateway` is the gateway's base URL, `pool` its database, `truth`
/// what `twitch-fake truth` says of the world the fake serves, `moderator` the login who
/// moderates every channel, `rounds` the captures of each channel.
pub async fn measure(
    gateway: &str,
    pool: &MySqlPool,
    truth: &Value,
    moderator: &str,
    rounds: u32,
) -> anyhow::Result<Measure> {
    let browser = Browser::new(gateway)?;
    browser.login(moderator).await?;
    let channels: Vec<String> = truth["channels"]
        .as_array()
        .context("truth channels")?
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    let mut session = String::new();
    for _ in 0..rounds {
        for channel in &channels {
            let (public_id, capture) = browser.capture_now(channel).await?;
            browser
                .wait_capture(&public_id, capture, Duration::from_secs(300))
                .await?;
            session = public_id;
        }
    }
    wait_enriched(pool, Duration::from_secs(600)).await?;

    let summary: Value = serde_json::from_str(
        &browser
            .get_text(&format!("/sessions/{session}/data/summary"))
            .await?,
    )?;
    let threshold = summary["flag_threshold"]
        .as_u64()
        .context("flag threshold")? as u32;
    let export = browser
        .get_text(&format!("/sessions/{session}/export/accounts.csv"))
        .await?;
    let known = truth_accounts(truth)?;
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let (mut bots, mut humans, mut bots_flagged, mut humans_flagged, mut legit_flagged) =
        (0, 0, 0, 0, 0);
    let mut cohorts: BTreeMap<String, CohortMeasure> = BTreeMap::new();
    let mut days: HashMap<String, (usize, usize)> = HashMap::new();
    // Accounts and bots of each cohort the analysis found (the export's `cohort_id`).
    let mut found: HashMap<String, (usize, usize)> = HashMap::new();
    for row in reader.records() {
        let row = row?;
        let (id, score) = (&row[0], row[13].parse::<u32>().unwrap_or(0));
        let flagged = score >= threshold;
        let Some((kind, cohort, day)) = known.get(id) else {
            bail!("account {id} of the export is not in the world's truth");
        };
        let is_bot = kind == "bot";
        if is_bot {
            bots += 1;
            bots_flagged += usize::from(flagged);
        } else {
            humans += 1;
            humans_flagged += usize::from(flagged);
            legit_flagged += usize::from(flagged && kind == "legit");
        }
        let entry = days.entry(day.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(is_bot);
        if let Some(id) = row.get(15).filter(|id| !id.is_empty()) {
            let entry = found.entry(id.to_string()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(is_bot);
        }
        if let Some(name) = cohort {
            let c = cohorts
                .entry(name.clone())
                .or_insert_with(|| CohortMeasure {
                    name: name.clone(),
                    kind: kind.clone(),
                    seen: 0,
                    flagged: 0,
                });
            c.seen += 1;
            c.flagged += usize::from(flagged);
        }
    }
    let top: Value = serde_json::from_str(
        &browser
            .get_text(&format!("/sessions/{session}/data/top-days"))
            .await?,
    )?;
    let top_is_bot = top["days"][0]["day"]
        .as_str()
        .and_then(|day| days.get(day))
        .is_some_and(|(all, bots)| 2 * bots > *all);
    let listed: Value = serde_json::from_str(
        &browser
            .get_text(&format!("/sessions/{session}/data/cohorts"))
            .await?,
    )?;
    let first = &listed["cohorts"][0];
    let first_cohort_is_bot = first["kind"] == "bot"
        && first["cohort_id"]
            .as_u64()
            .and_then(|id| found.get(&id.to_string()))
            .is_some_and(|(all, bots)| 2 * bots > *all);
    Ok(Measure {
        scenario: String::new(),
        seed: truth["seed"].as_u64().unwrap_or(0),
        bots,
        humans,
        recall: ratio(bots_flagged, bots, 1.0),
        fpr: ratio(humans_flagged, humans, 0.0),
        precision: ratio(bots_flagged, bots_flagged + humans_flagged, 1.0),
        top_is_bot,
        first_cohort_is_bot,
        legit_flagged,
        cohorts: cohorts.into_values().collect(),
        export: ExportText(export),
    })
}
