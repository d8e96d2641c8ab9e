//! French and English over HTTP (docs/i18n.md): the language each request is served in, the
//! switch, and every page of a French moderator checked for English words left in it.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_web::{Web, location};
use crate::stack_worlds::{wave_audience, world};

/// `<html lang="…">` of a page.
fn html_lang(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("an html element") + 12;
    &html[start..start + html[start..].find('"').expect("end")]
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn pages_are_served_in_the_browsers_language_or_the_one_chosen(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    for (accept, lang, words) in [
        (
            Some("fr-FR,fr;q=0.9,en;q=0.8"),
            "fr",
            "Se connecter avec Twitch",
        ),
        (Some("fr"), "fr", "Qui est vraiment dans votre chat ?"),
        (None, "en", "Log in with Twitch"),
        (Some("de-DE,de;q=0.9"), "en", "Log in with Twitch"),
        (
            Some("en-GB,en;q=0.9,fr;q=0.5"),
            "en",
            "Who is really in your chat?",
        ),
    ] {
        let web = Web::speaking(&stack, accept);
        let response = web.get("/").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-language"], lang, "{accept:?}");
        let html = response.text().await.expect("page");
        assert_eq!(html_lang(&html), lang, "{accept:?}");
        assert!(html.contains(words), "{accept:?}: {words}");
    }

    // The switch, before login: a cookie, then back to the page it was on.
    let web = Web::speaking(&stack, Some("en"));
    let switched = web
        .http
        .post(web.url("/language"))
        .header("referer", web.url("/?notice=login-required"))
        .form(&[("lang", "fr")])
        .send()
        .await
        .expect("switch");
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switched), "/?notice=login-required");
    let html = web
        .get("/?notice=login-required")
        .await
        .text()
        .await
        .expect("page");
    assert_eq!(html_lang(&html), "fr", "the choice beats Accept-Language");
    assert!(html.contains("Connectez-vous avec Twitch pour continuer."));
    // A language we do not speak is a 400 that says so, in the reader's language.
    let refused = web
        .http
        .post(web.url("/language"))
        .form(&[("lang", "tlh")])
        .send()
        .await
        .expect("switch");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.expect("page");
    assert!(page.contains("« tlh » n&#39;est pas une langue"), "{page}");
    // Another site's form cannot switch it.
    let foreign = web
        .http
        .post(web.url("/language"))
        .header("origin", "https://evil.example")
        .form(&[("lang", "en")])
        .send()
        .await
        .expect("switch");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    // Logged in, the switch needs the CSRF token and keeps the choice with the user.
    let web = Web::speaking(&stack, Some("en"));
    web.login("mossy_mod").await;
    let no_token = web.post("/language", &[("lang", "fr")]).await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let csrf = web.csrf().await;
    let switched = web
        .post("/language", &[("lang", "fr"), ("csrf", &csrf)])
        .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let kept: Option<String> = sqlx::query_scalar("SELECT locale FROM users WHERE login = ?")
        .bind("mossy_mod")
        .fetch_one(&pool)
        .await
        .expect("user");
    assert_eq!(kept.as_deref(), Some("fr"));
    // A new browser, English by its headers: French again after logging in.
    let elsewhere = Web::speaking(&stack, Some("en"));
    elsewhere.login("mossy_mod").await;
    let html = elsewhere.get("/channels").await.text().await.expect("page");
    assert_eq!(html_lang(&html), "fr");
    assert!(html.contains("Vos chaînes"));
}

/// Words of English UI text that are not French words too: one of them in a French page is a
/// literal someone forgot to put in `locales/` (proper nouns and the world's data excepted).
const ENGLISH: &[&str] = &[
    "the", "and", "of", "in", "with", "your", "you", "this", "not", "yet", "no", "or", "to", "is",
    "are", "was", "accounts", "account", "save", "delete", "flagged", "channels", "channel", "log",
    "analysis", "created", "show", "download", "expected", "renames", "rename", "viewers",
    "chatters", "started", "saved", "expired", "activity", "when", "what", "back", "previous",
    "next", "members", "strength", "wave", "burst", "crowd", "cohorts", "cohort", "apply", "clear",
    "nothing", "unknown", "none", "offline", "live", "hour", "day", "days", "week", "month",
    "share", "excess", "why", "seen", "first", "last", "name", "names", "error", "home", "try",
    "again", "open", "new", "asked", "finished", "done", "failed", "queued", "running", "every",
    "only", "while", "chart", "needs",
];

/// The text a person reads on a page: the text between tags (outside scripts and styles) and
/// the attributes shown as text (`title`, `aria-label`, `placeholder`, `data-confirm`).
fn readable(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag_end = rest[open..].find('>').map_or(rest.len(), |e| open + e + 1);
        let tag = &rest[open..tag_end];
        for attribute in [
            "title=\"",
            "aria-label=\"",
            "placeholder=\"",
            "data-confirm=\"",
        ] {
            if let Some(at) = tag.find(attribute) {
                let value = &tag[at + attribute.len()..];
                text.push_str(&value[..value.find('"').unwrap_or(0)]);
                text.push(' ');
            }
        }
        rest = &rest[tag_end..];
        for element in ["<script", "<style"] {
            if tag.starts_with(element) && !tag.ends_with("/>") {
                let close = format!("</{}", &element[1..]);
                rest = rest.find(&close).map_or("", |c| &rest[c..]);
            }
        }
    }
    text.push_str(rest);
    text
}

/// The English words of `text` (whole words, any case).
fn english_words(text: &str) -> Vec<String> {
    let english: HashSet<&str> = ENGLISH.iter().copied().collect();
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_lowercase)
        .filter(|w| english.contains(w.as_str()))
        .collect()
}

#[test]
fn the_english_detector_reads_what_a_person_reads() {
    let html = r#"<html><head><title>Vos chaînes</title><script>const x = "the accounts";</script></head>
        <body><p title="Save it">Capture <b>terminée</b></p><input placeholder="e.g. Friday"></body></html>"#;
    let text = readable(html);
    assert!(!text.contains("const x"), "{text}");
    assert_eq!(english_words(&text), ["save"]);
    assert!(english_words("Compte brook_fan48213 · the_quietfox").is_empty());
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn every_page_of_a_french_moderator_is_in_french(pool: MySqlPool) {
    let stack = Stack::start(
        pool.clone(),
        world(&wave_audience(200, 0.0, 5, 40)),
        Options::default(),
    )
    .await
    .expect("stack");
    let web = Web::speaking(&stack, Some("fr-FR,fr;q=0.9"));
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let capture = web
        .post("/channels/900000001/capture", &[("csrf", &csrf)])
        .await;
    let target = location(&capture);
    let (session_path, capture_id) = target.split_once("#capture-").expect("a capture");
    let capture_id: u64 = capture_id.parse().expect("id");
    stack
        .wait_capture(capture_id, Duration::from_secs(60))
        .await
        .expect("captured");
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");
    let cohorts: serde_json::Value = web
        .get(&format!("{session_path}/data/cohorts"))
        .await
        .json()
        .await
        .expect("cohorts");
    let cohort = cohorts["cohorts"][0]["cohort_id"]
        .as_u64()
        .expect("a cohort");
    assert!(
        cohorts["cohorts"][0]["evidence"]
            .as_str()
            .expect("evidence")
            .contains("créés le 14 mars 2024"),
        "{cohorts}"
    );
    let flagged: serde_json::Value = web
        .get(&format!(
            "{session_path}/data/accounts?flagged=true&per_page=1"
        ))
        .await
        .json()
        .await
        .expect("accounts");
    let account = flagged["accounts"][0]["twitch_user_id"]
        .as_str()
        .expect("a flagged account")
        .to_string();
    // The moderator's pages, with something on them: a label and a note, a bot list, a
    // batch's preview.
    let account_path = format!("{session_path}/accounts/{account}");
    let marked = web
        .post(
            &format!("{account_path}/mark"),
            &[
                ("csrf", csrf.as_str()),
                ("label", "watch"),
                ("note", "à surveiller"),
            ],
        )
        .await;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    let imported = web
        .post(
            "/lists",
            &[
                ("csrf", csrf.as_str()),
                ("name", "liste commune"),
                ("entries", "brook_fan1\n12345\n"),
            ],
        )
        .await;
    assert_eq!(imported.status(), StatusCode::SEE_OTHER);
    let pick = format!("pick-{account}");
    let previewed = web
        .post(
            &format!("{session_path}/actions/preview"),
            &[
                ("csrf", csrf.as_str()),
                ("kind", "picked"),
                (pick.as_str(), "on"),
                ("broadcaster_id", "900000001"),
                ("action", "timeout"),
                ("duration_secs", "600"),
            ],
        )
        .await;
    assert_eq!(previewed.status(), StatusCode::SEE_OTHER);
    let batch_path = location(&previewed);
    let hooked = web
        .post(
            "/channels/900000001/alerts",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "json"),
                ("url", &stack.fake.url("/hooks/salon")),
                ("min_cohort", "20"),
                ("young_share_pct", "50"),
            ],
        )
        .await;
    assert_eq!(hooked.status(), StatusCode::SEE_OTHER);
    let pages = [
        (location(&hooked), StatusCode::OK),
        ("/marks".to_string(), StatusCode::OK),
        (
            "/marks?q=surveiller&label=watch".to_string(),
            StatusCode::OK,
        ),
        (location(&imported), StatusCode::OK),
        (batch_path, StatusCode::OK),
        ("/channels".to_string(), StatusCode::OK),
        ("/sessions".to_string(), StatusCode::OK),
        (session_path.to_string(), StatusCode::OK),
        (format!("{session_path}/analysis"), StatusCode::OK),
        (format!("{session_path}/days/2024-03-14"), StatusCode::OK),
        (format!("{session_path}/cohorts/{cohort}"), StatusCode::OK),
        (format!("{session_path}/accounts/{account}"), StatusCode::OK),
        ("/activity".to_string(), StatusCode::OK),
        ("/no-such-page".to_string(), StatusCode::NOT_FOUND),
        (
            format!("{session_path}/days/2024-02-30"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    let mut left = Vec::new();
    for (path, status) in &pages {
        let response = web.get(path).await;
        assert_eq!(response.status(), *status, "{path}");
        let html = response.text().await.expect("page");
        assert_eq!(html_lang(&html), "fr", "{path}");
        // Not UI text to translate: the product's name, the switch offering English (in
        // English, as it should), and the world's own data (its stream title and game).
        let text = readable(&html)
            .replace("Chatters Analyser", "")
            .replace("Read this page in English", "")
            .replace("Watched channel", "")
            .replace("Chess", "");
        let words = english_words(&text);
        if !words.is_empty() {
            left.push(format!("{path}: {words:?}"));
        }
    }
    assert!(
        left.is_empty(),
        "English left in French pages:\n{}",
        left.join("\n")
    );

    // The dashboard's JSON errors and the exports' sentences, in French too.
    let missing: serde_json::Value = web
        .get(&format!("{session_path}/data/accounts/999999999"))
        .await
        .json()
        .await
        .expect("error");
    assert_eq!(missing["error"], "Introuvable, ou ce n'est pas à vous.");
    let csv = web
        .get(&format!("{session_path}/export/accounts.csv"))
        .await
        .text()
        .await
        .expect("export");
    let header = csv.lines().next().expect("header");
    assert!(
        header.starts_with("twitch_user_id,login,") && header.ends_with(",reasons_text"),
        "column names stay stable: {header}"
    );
    assert!(
        csv.contains("cohort;") || csv.contains(",cohort,"),
        "codes stay stable"
    );
    assert!(
        csv.contains("Membre de la cohorte n°"),
        "the text is French"
    );
}
