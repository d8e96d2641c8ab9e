//! What an alert says, in the webhook's language: Discord's Execute Webhook body (a line of
//! text, an embed with the findings and a link to the dashboard, no mentions) or our JSON
//! document (docs/live.md).

use serde_json::{Value, json};
use tca_common::db::alerts::{Findings, WebhookKind};
use tca_common::i18n::{Lang, date_minute};
use url::Url;

/// Discord's embed colour: red for a finding, the product's purple for a test.
const COLOUR_FINDING: u32 = 0xE5_48_4D;
const COLOUR_TEST: u32 = 0x91_46_FF;
/// Discord refuses an embed description over 4,096 characters: the cohort lines stop before.
const MAX_COHORT_LINES: usize = 10;

pub struct Message<'a> {
    pub alert_id: u64,
    pub kind: WebhookKind,
    pub lang: Lang,
    pub findings: &'a Findings,
    pub public_url: &'a Url,
}

impl Message<'_> {
    pub fn body(&self) -> Value {
        match self.kind {
            WebhookKind::Discord => self.discord(),
            WebhookKind::Json => self.json(),
        }
    }

    fn base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }

    /// The dashboard of the capture's session; the channels page for a test.
    fn dashboard(&self) -> String {
        match &self.findings.session_public_id {
            Some(id) => format!("{}/sessions/{id}/analysis", self.base()),
            None => format!("{}/channels", self.base()),
        }
    }

    fn cohort_url(&self, cohort_id: u64) -> Option<String> {
        self.findings
            .session_public_id
            .as_ref()
            .map(|id| format!("{}/sessions/{id}/cohorts/{cohort_id}", self.base()))
    }

    fn headline(&self) -> String {
        let f = self.findings;
        let channel = f.broadcaster_login.as_str();
        let l = self.lang;
        if f.test {
            l.t_args("alert-headline-test", &[("channel", channel.into())])
        } else if !f.cohorts.is_empty() {
            l.t_args(
                "alert-headline-cohorts",
                &[
                    ("channel", channel.into()),
                    ("count", f.cohorts.len().into()),
                ],
            )
        } else {
            l.t_args("alert-headline-young", &[("channel", channel.into())])
        }
    }

    /// One sentence per finding.
    fn lines(&self) -> Vec<String> {
        let f = self.findings;
        let l = self.lang;
        if f.test {
            return vec![l.t("alert-test-body")];
        }
        let mut lines: Vec<String> = f
            .cohorts
            .iter()
            .take(MAX_COHORT_LINES)
            .map(|c| {
                l.t_args(
                    "alert-cohort-line",
                    &[
                        ("id", c.cohort_id.to_string().into()),
                        ("size", c.size.into()),
                        ("present", c.in_capture.into()),
                        ("from", date_minute(l, c.first_created).into()),
                        ("to", date_minute(l, c.last_created).into()),
                        ("strength", c.strength.into()),
                    ],
                )
            })
            .collect();
        if f.cohorts.len() > MAX_COHORT_LINES {
            lines.push(l.t_args(
                "alert-more-cohorts",
                &[("count", (f.cohorts.len() - MAX_COHORT_LINES).into())],
            ));
        }
        if let Some(threshold) = f.young_share_pct {
            lines.push(l.t_args(
                "alert-young-line",
                &[
                    ("young", f.young.into()),
                    ("newcomers", f.newcomers.into()),
                    (
                        "share",
                        tca_common::i18n::Arg::Percent(share(f.young, f.newcomers)),
                    ),
                    ("threshold", threshold.into()),
                ],
            ));
        }
        lines
    }

    fn discord(&self) -> Value {
        let f = self.findings;
        let mut description = self.lines().join("\n");
        description.push_str(&format!(
            "\n\n[{}]({})",
            self.lang.t("alert-open-dashboard"),
            self.dashboard()
        ));
        let mut embed = json!({
            "title": self.headline(),
            "url": self.dashboard(),
            "description": description,
            "color": if f.test { COLOUR_TEST } else { COLOUR_FINDING },
            "footer": {"text": self.lang.t("product-name")},
        });
        if let Some(at) = f.captured_at {
            embed["timestamp"] = json!(at.to_rfc3339());
        }
        json!({
            "username": self.lang.t("product-name"),
            "content": self.headline(),
            "embeds": [embed],
            // An alert never pings anyone, whatever a login looks like.
            "allowed_mentions": {"parse": []},
        })
    }

    fn json(&self) -> Value {
        let f = self.findings;
        json!({
            "type": if f.test { "tca.alert.test" } else { "tca.alert" },
            "version": 1,
            "alert_id": self.alert_id,
            "channel": f.broadcaster_login,
            "session_id": f.session_public_id,
            "capture_id": f.capture_id,
            "captured_at": f.captured_at,
            "dashboard_url": self.dashboard(),
            "summary": self.headline(),
            "details": self.lines(),
            "newcomers": f.newcomers,
            "young": f.young,
            "young_share_threshold_pct": f.young_share_pct,
            "cohorts": f.cohorts.iter().map(|c| json!({
                "cohort_id": c.cohort_id,
                "size": c.size,
                "in_capture": c.in_capture,
                "strength": c.strength,
                "first_created": c.first_created,
                "last_created": c.last_created,
                "url": self.cohort_url(c.cohort_id),
            })).collect::<Vec<_>>(),
        })
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use tca_common::db::alerts::FoundCohort;

    use super::*;

    fn findings() -> Findings {
        Findings {
            test: false,
            broadcaster_login: "watched".into(),
            session_public_id: Some("s-1".into()),
            capture_id: Some(7),
            captured_at: Some(
                Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0)
                    .single()
                    .expect("a date"),
            ),
            cohorts: vec![FoundCohort {
                cohort_id: 42,
                size: 250,
                in_capture: 248,
                strength: 80,
                first_created: Utc
                    .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
                    .single()
                    .expect("a date"),
                last_created: Utc
                    .with_ymd_and_hms(2026, 11, 28, 10, 50, 0)
                    .single()
                    .expect("a date"),
            }],
            newcomers: 300,
            young: 250,
            young_share_pct: Some(50),
        }
    }

    #[test]
    fn discord_gets_an_embed_linking_the_dashboard_and_pings_nobody() {
        let url = Url::parse("https://tca.example.org/").expect("test value");
        let f = findings();
        let body = Message {
            alert_id: 3,
            kind: WebhookKind::Discord,
            lang: Lang::En,
            findings: &f,
            public_url: &url,
        }
        .body();
        let embed = &body["embeds"][0];
        assert_eq!(
            embed["url"],
            "https://tca.example.org/sessions/s-1/analysis"
        );
        let description = embed["description"].as_str().expect("test value");
        assert!(description.contains("250"), "{description}");
        assert!(description.contains("248"), "{description}");
        assert!(description.contains("(https://tca.example.org/sessions/s-1/analysis)"));
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert!(
            body["content"]
                .as_str()
                .expect("test value")
                .contains("watched")
        );
    }

    #[test]
    fn json_carries_the_numbers_and_french_text_when_asked() {
        let url = Url::parse("https://tca.example.org").expect("test value");
        let f = findings();
        let body = Message {
            alert_id: 3,
            kind: WebhookKind::Json,
            lang: Lang::Fr,
            findings: &f,
            public_url: &url,
        }
        .body();
        assert_eq!(body["type"], "tca.alert");
        assert_eq!(body["cohorts"][0]["size"], 250);
        assert_eq!(
            body["cohorts"][0]["url"],
            "https://tca.example.org/sessions/s-1/cohorts/42"
        );
        assert_eq!(body["young_share_threshold_pct"], 50);
        let english = Lang::En.t_args(
            "alert-headline-cohorts",
            &[("channel", "watched".into()), ("count", 1u64.into())],
        );
        assert_ne!(
            body["summary"].as_str().expect("test value"),
            english,
            "written in French"
        );
    }
}
