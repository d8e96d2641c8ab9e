use std::time::Duration;

use reqwest::StatusCode;
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_web::{Web, location};
use crate::stack_worlds::{MOD_ID, world};

pub(crate) const WATCHED_ID: &str = "900000001";

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

pub(crate) async fn capture_now(web: &Web, csrf: &str) -> String {
    let response = web
        .post(
            &format!("/channels/{WATCHED_ID}/capture"),
            &[("csrf", csrf)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn login_sets_a_hardened_cookie_whose_token_is_stored_only_hashed(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    let response = web.login("mossy_mod").await;
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("tca_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on localhost: {cookie}"
    );
    let token = cookie["tca_session=".len()..cookie.find(';').expect(";")].to_string();
    assert!(token.len() >= 43, "256 bits: {token}");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM web_sessions")
        .fetch_one(&pool)
        .await
        .expect("row");
    assert_eq!(stored, tca_gateway::auth::sha256(&token).to_vec());
    let raw: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE INSTR(token_hash, ?) > 0")
            .bind(&token)
            .fetch_one(&pool)
            .await
            .expect("search");
    assert_eq!(raw, 0);
    let page = web.get("/channels").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("watched") && html.contains("Capture now"),
        "channels listed"
    );
}

/// `TRUST_FORWARDED_FOR` is off (no proxy in front): a client's own `X-Forwarded-For` must not
/// become the address in the audit log or on the web session.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_forged_forwarded_for_header_is_ignored_without_a_trusted_proxy(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    let callback = web.consent("mossy_mod").await;
    let response = web
        .http
        .get(&callback)
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let audited: Option<String> =
        sqlx::query_scalar("SELECT ip FROM audit_logs WHERE event = 'login'")
            .fetch_one(&pool)
            .await
            .expect("login entry");
    assert_eq!(
        audited.as_deref(),
        Some("127.0.0.1"),
        "the socket's address"
    );
    let on_session: Option<String> = sqlx::query_scalar("SELECT ip FROM web_sessions")
        .fetch_one(&pool)
        .await
        .expect("web session");
    assert_eq!(on_session.as_deref(), Some("127.0.0.1"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn behind_https_the_cookie_is_secure_and_hsts_is_sent(pool: MySqlPool) {
    let options = Options {
        public_url: Some("https://chatters.example.org".into()),
        ..Options::default()
    };
    let stack = Stack::start(pool, world("humans = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    let callback = web.consent("mossy_mod").await;
    // The browser would come back to https://chatters.example.org; we knock on the real port.
    let path = &callback[callback.find("/auth/callback").expect("path")..];
    let response = web.get(path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("tca_session="))
        .expect("cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_some()
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn every_post_needs_the_csrf_token_and_logout_cannot_be_a_get(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;

    for (path, fields) in [
        (format!("/channels/{WATCHED_ID}/capture"), vec![]),
        (
            format!("/channels/{WATCHED_ID}/capture"),
            vec![("csrf", "forged")],
        ),
        ("/auth/logout".to_string(), vec![]),
        ("/sessions".to_string(), vec![("name", "x")]),
    ] {
        let response = web.post(&path, &fields).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{path} {fields:?}"
        );
        assert!(response.text().await.expect("page").contains("CSRF"));
    }
    let captures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM captures")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(captures, 0, "nothing happened");

    // A cross-site form is refused even with a token.
    let response = web
        .http
        .post(web.url(&format!("/channels/{WATCHED_ID}/capture")))
        .header("Origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = web.get("/auth/logout").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(web.get("/channels").await.status(), 200, "still logged in");

    assert!(capture_now(&web, &csrf).await.starts_with("/sessions/"));
    let response = web.post("/auth/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("logged-out"));
    let after = web.get("/channels").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "logged out");
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(sessions, 0);
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM twitch_tokens")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        tokens, 0,
        "the Twitch authorization was revoked and forgotten"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn another_users_session_and_capture_urls_are_404(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let alice = Web::new(&stack);
    alice.login("mossy_mod").await;
    let csrf = alice.csrf().await;
    let session_url = capture_now(&alice, &csrf).await;
    let session_path = session_url.split('#').next().expect("path").to_string();
    let capture_id: u64 = sqlx::query_scalar("SELECT id FROM captures")
        .fetch_one(&pool)
        .await
        .expect("capture");
    assert_eq!(alice.get(&session_path).await.status(), 200);
    assert_eq!(
        alice
            .get(&format!("{session_path}/captures/{capture_id}"))
            .await
            .status(),
        200
    );

    let bob = Web::new(&stack);
    bob.login("stranger").await;
    let bob_csrf = bob.csrf().await;
    for path in [
        session_path.clone(),
        format!("{session_path}/captures/{capture_id}"),
        format!("{session_path}/events"),
    ] {
        let response = bob.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let page = response.text().await.expect("page");
        assert!(
            !page.contains("mossy_mod") && !page.contains("watched"),
            "nothing leaks"
        );
    }
    for action in ["save", "delete", "rename"] {
        let response = bob
            .post(
                &format!("{session_path}/{action}"),
                &[("csrf", bob_csrf.as_str()), ("name", "mine")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM analysis_sessions")
        .fetch_one(&pool)
        .await
        .expect("status");
    assert_eq!(status, "active", "bob changed nothing");
    // And bob cannot capture a channel he does not moderate, whatever the form says.
    let response = bob
        .post(
            &format!("/channels/{WATCHED_ID}/capture"),
            &[("csrf", bob_csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains("channels you moderate")
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn malformed_ids_get_a_400_page_that_says_what_is_wrong(pool: MySqlPool) {
    let stack = Stack::start(pool, world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let session = capture_now(&web, &csrf).await;
    let session = session.split('#').next().expect("path");
    for (response, expected) in [
        (web.get("/sessions/not-a-uuid").await, "is not a session id"),
        (
            web.get(&format!("{session}/captures/12x")).await,
            "is not a capture number",
        ),
        (
            web.post("/channels/12ab/capture", &[("csrf", csrf.as_str())])
                .await,
            "is not a Twitch channel id",
        ),
        (
            web.post(
                &format!("/channels/{WATCHED_ID}/auto-capture"),
                &[("csrf", csrf.as_str()), ("interval", "0")],
            )
            .await,
            "from 1 to 1440",
        ),
        (
            web.post(
                &format!("{session}/rename"),
                &[("csrf", csrf.as_str()), ("name", "  ")],
            )
            .await,
            "1 to 100 characters",
        ),
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let page = response.text().await.expect("page");
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let unknown = web.get("/no/such/page").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        unknown
            .text()
            .await
            .expect("page")
            .contains("does not exist")
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_login_state_works_once_and_only_in_the_browser_that_started_it(pool: MySqlPool) {
    let stack = Stack::start(pool, world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    let callback = web.consent("mossy_mod").await;
    assert_eq!(
        web.http
            .get(&callback)
            .send()
            .await
            .expect("first")
            .status(),
        StatusCode::SEE_OTHER
    );
    let replay = web.http.get(&callback).send().await.expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.expect("page").contains("already used"));

    // A state started in one browser, finished in another (no login cookie there).
    let victim = Web::new(&stack);
    let attacker_callback = web.consent("stranger").await;
    let foreign = victim
        .http
        .get(&attacker_callback)
        .send()
        .await
        .expect("foreign");
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        victim.get("/channels").await.status(),
        StatusCode::SEE_OTHER,
        "not logged in as the attacker"
    );

    // Cancel on Twitch's page.
    let start = victim.get("/auth/login").await;
    let authorize = url::Url::parse(&location(&start)).expect("url");
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "cancel".into()));
    let back = victim
        .http
        .post(stack.fake.url("/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .expect("cancel");
    let cancelled = victim
        .http
        .get(location(&back))
        .send()
        .await
        .expect("callback");
    assert_eq!(cancelled.status(), StatusCode::BAD_REQUEST);
    let page = cancelled.text().await.expect("page");
    assert!(
        page.contains("You cancelled") && page.contains("Log in with Twitch again"),
        "{page}"
    );

    // A crafted link with an error of the attacker's wording: the state is not ours, so
    // nothing of the query is shown.
    let forged = victim
        .get("/auth/callback?state=made-up&error=server_error&error_description=Call+0800+FAKE+SUPPORT+now")
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let page = forged.text().await.expect("page");
    assert!(!page.contains("0800"), "{page}");
    assert!(page.contains("This login link cannot be used"), "{page}");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn pages_and_exports_are_not_cached_and_overlong_static_names_are_404(pool: MySqlPool) {
    let stack = Stack::start(pool, world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let page = web.get("/sessions").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csrf = web.csrf().await;
    let capture = web
        .post("/channels/900000001/capture", &[("csrf", &csrf)])
        .await;
    let target = location(&capture);
    let (session, _) = target.split_once("#capture-").expect("a capture");
    let export = web.get(&format!("{session}/export/accounts.csv")).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["cache-control"], "no-store");
    let script = web.get("/static/js/app.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_ne!(
        script.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(b"no-store".as_slice()),
        "static files may be cached"
    );
    let long = "a".repeat(300);
    assert_eq!(
        web.get(&format!("/static/{long}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        web.get(&format!("/static/js/{long}.js")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_revoked_twitch_authorization_sends_the_user_back_to_login_with_an_explanation(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool, world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    stack
        .fake_post(
            "/_fake/tokens/revoke-grants",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await
        .expect("revoke");
    let response = web.get("/channels").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/?notice=reauth");
    assert!(
        set_cookies(&response)
            .iter()
            .any(|c| c.starts_with("tca_session=;") && c.contains("Max-Age=0"))
    );
    let landing = web.get("/?notice=reauth").await.text().await.expect("page");
    assert!(landing.contains("authorization was withdrawn"), "{landing}");
    assert!(landing.contains("Log in with Twitch"));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn pages_carry_security_headers_and_auth_is_rate_limited_per_ip(pool: MySqlPool) {
    let options = Options {
        gateway: Box::new(|config| config.auth_rate_limit = 5),
        ..Options::default()
    };
    let stack = Stack::start(pool, world("humans = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    let landing = web.get("/").await;
    let csp = landing
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(
        landing
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert!(landing.headers().get("referrer-policy").is_some());
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for _ in 0..7 {
            s.push(web.get("/auth/login").await.status().as_u16());
        }
        s
    };
    assert_eq!(&statuses[..5], &[303; 5]);
    assert_eq!(statuses[6], 429, "{statuses:?}");
    assert_eq!(
        web.get("/").await.status(),
        200,
        "other pages are not limited"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn sessions_save_resume_and_the_saved_limit_is_explained_not_enforced_by_deleting(
    pool: MySqlPool,
) {
    let options = Options {
        gateway: Box::new(|config| config.saved_sessions_limit = 1),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 20"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let first = capture_now(&web, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    assert_eq!(
        web.post(&format!("{first}/save"), &[("csrf", csrf.as_str())])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let second = capture_now(&web, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    assert_ne!(first, second, "capturing after saving starts a new session");
    let refused = web
        .post(&format!("{second}/save"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .expect("page")
            .contains("the most allowed")
    );
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM analysis_sessions GROUP BY status ORDER BY status",
    )
    .fetch_all(&pool)
    .await
    .expect("counts");
    assert_eq!(
        counts,
        vec![("active".to_string(), 1), ("saved".to_string(), 1)],
        "nothing was deleted"
    );
    // Resuming the saved one while another is active is explained too.
    let refused = web
        .post(&format!("{first}/resume"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    // Delete the active one, then resume the saved one.
    assert_eq!(
        web.post(&format!("{second}/delete"), &[("csrf", csrf.as_str())])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        web.post(&format!("{first}/resume"), &[("csrf", csrf.as_str())])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = web.get(&first).await.text().await.expect("page");
    assert!(page.contains("status-active"), "resumed");
    let sessions = web.get("/sessions").await.text().await.expect("page");
    assert!(sessions.contains("Active") && sessions.contains("Saved"));
    let activity = web.get("/activity").await.text().await.expect("page");
    assert!(
        activity.contains("Saved session")
            && activity.contains("Deleted session")
            && activity.contains("Resumed session")
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_session_page_streams_progress_events(pool: MySqlPool) {
    let stack = Stack::start(pool, world("humans = 50"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let session = capture_now(&web, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    let mut events = web.get(&format!("{session}/events")).await;
    assert_eq!(
        events
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains("\"status\":\"done\"") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("an event in time")
            .expect("stream");
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("open")));
    }
    assert!(seen.contains("event: progress"));
    assert!(seen.contains("\"chatters\":\"52\""), "{seen}");
}

/// mossy_mod logged in, with a finished capture of `watched`; and their session's path.
async fn owner_with_a_finished_capture(stack: &Stack, pool: &MySqlPool) -> (Web, String) {
    let alice = Web::new(stack);
    alice.login("mossy_mod").await;
    let csrf = alice.csrf().await;
    let session = capture_now(&alice, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    let capture: u64 = sqlx::query_scalar("SELECT id FROM captures")
        .fetch_one(pool)
        .await
        .expect("capture");
    stack
        .wait_capture(capture, Duration::from_secs(30))
        .await
        .expect("done");
    (alice, session)
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn exports_download_for_the_owner_and_are_404_for_anyone_else(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 40"), Options::default())
        .await
        .expect("stack");
    let (alice, session) = owner_with_a_finished_capture(&stack, &pool).await;

    let csv = alice.get(&format!("{session}/export/accounts.csv")).await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .contains("attachment")
    );
    let body = csv.text().await.expect("csv");
    let mut lines = body.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("twitch_user_id,login,display_name,created_at")
    );
    assert_eq!(
        lines.count(),
        42,
        "one row per account: 40 humans, the broadcaster, the moderator"
    );
    let json: serde_json::Value = alice
        .get(&format!("{session}/export/timeline.json"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json.as_array().expect("array").len(), 1);
    assert_eq!(
        alice
            .get(&format!("{session}/export/secrets.csv"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let bob = Web::new(&stack);
    bob.login("stranger").await;
    for file in [
        "accounts.csv",
        "accounts.json",
        "cohorts.csv",
        "creation.csv",
        "timeline.json",
    ] {
        let response = bob.get(&format!("{session}/export/{file}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{file}");
        assert!(
            !response
                .text()
                .await
                .expect("page")
                .contains("twitch_user_id")
        );
    }
    let exports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'export'")
        .fetch_one(&pool)
        .await
        .expect("audit");
    assert_eq!(exports, 2, "only the owner's downloads happened");
}

/// A dashboard viewed again is not rendered again while nothing it shows has changed, and
/// shows a change at the next view: a batch (the gateway's own input) or a raid (analysis's).
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_dashboard_is_rendered_again_only_when_what_it_shows_changed(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 40"), Options::default())
        .await
        .expect("stack");
    let (alice, session) = owner_with_a_finished_capture(&stack, &pool).await;
    // The capture's enrichment changes the data: let it end first.
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(30))
        .await
        .expect("enriched");
    let dashboard = format!("{session}/analysis");
    let view = async || {
        let response = alice.get(&dashboard).await;
        assert_eq!(response.status(), 200);
        response.text().await.expect("page")
    };
    let views = async |page: &str| -> f64 {
        let name = format!("dashboard_views_total{{page=\"{page}\"}} ");
        let metrics = alice.get("/metrics").await.text().await.expect("metrics");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name.as_str()))
            .map_or(0.0, |v| v.parse().expect("a number"))
    };

    let first = view().await;
    assert_eq!(view().await, first, "the same page");
    assert_eq!((views("rendered").await, views("kept").await), (1.0, 1.0));
    // Another filter is another page.
    let response = alice.get(&format!("{dashboard}?period=all")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(views("rendered").await, 2.0);

    // A batch was written elsewhere (another replica; the worker's progress): it is listed
    // within a second, rendered from the answer held, which analysis confirmed.
    let (session_id, user_id): (u64, u64) =
        sqlx::query_as("SELECT id, user_id FROM analysis_sessions")
            .fetch_one(&pool)
            .await
            .expect("session");
    let batch = "0b0b0b0b-0000-4000-8000-000000000001";
    sqlx::query(
        "INSERT INTO moderation_batches (public_id, user_id, session_id, broadcaster_id, broadcaster_login, \
         action, reason, selection, status, targets, created_at) \
         VALUES (?, ?, ?, '900000001', 'watched', 'ban', '', 'flagged', 'done', 3, NOW(6))",
    )
    .bind(batch)
    .bind(user_id)
    .bind(session_id)
    .execute(&pool)
    .await
    .expect("batch");
    tokio::time::sleep(tca_gateway::brief_cache::BriefCache::<u64, ()>::TTL).await;
    assert!(view().await.contains(batch));
    assert_eq!(views("rendered").await, 3.0);
    assert!(view().await.contains(batch));
    assert_eq!(views("kept").await, 2.0);

    // A raid landed: analysis's answer changed, the page shows it.
    sqlx::query(
        "INSERT INTO raids (message_id, broadcaster_id, from_broadcaster_id, from_login, from_name, viewers, raided_at) \
         SELECT 'raid-1', broadcaster_id, '77', 'raider', 'Raider_Display', 12, NOW(6) FROM session_channels",
    )
    .execute(&pool)
    .await
    .expect("raid");
    assert!(view().await.contains("data-from=\"raider\""));
    assert_eq!(views("rendered").await, 4.0);
    assert!(view().await.contains("Raider_Display"));
    assert_eq!(views("kept").await, 3.0);
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn analysis_pages_and_their_data_are_the_owners_validated_and_read_only(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 40"), Options::default())
        .await
        .expect("stack");
    let (alice, session) = owner_with_a_finished_capture(&stack, &pool).await;
    let some_account: String = sqlx::query_scalar(
        "SELECT a.twitch_user_id FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("account");

    let dashboard = alice.get(&format!("{session}/analysis")).await;
    assert_eq!(dashboard.status(), 200);
    let page = dashboard.text().await.expect("page");
    assert!(
        page.contains("id=\"kpi-accounts\">42<"),
        "40 humans, broadcaster, moderator"
    );
    assert!(page.contains("/static/vendor/echarts/echarts.min.js"));
    let filtered = alice
        .get(&format!(
            "{session}/analysis?broadcaster_id=900000001&period=all&from=&to=&page=1"
        ))
        .await;
    assert_eq!(
        filtered.status(),
        200,
        "empty form fields and period=all mean no filter"
    );
    let account = alice
        .get(&format!("{session}/accounts/{some_account}"))
        .await;
    assert_eq!(account.status(), 200);
    let data: serde_json::Value = alice
        .get(&format!("{session}/data/summary?broadcaster_id=900000001"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(data["accounts"], 42);
    let cohorts: serde_json::Value = alice
        .get(&format!("{session}/data/cohorts"))
        .await
        .json()
        .await
        .expect("json");
    assert!(cohorts["cohorts"].is_array(), "{cohorts}");

    // Validated at the edge, with the reason.
    for (path, says) in [
        ("analysis?page=0", "page must be"),
        ("analysis?period=1y", "period must be"),
        ("days/2024-02-30", "is not a day"),
        ("accounts/12ab", "is not a Twitch user id"),
        ("data/histogram?bucket=year", "day, week or month"),
        ("data/cohorts/12ab/accounts", "is not a cohort id"),
    ] {
        let response = alice.get(&format!("{session}/{path}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response.text().await.expect("body").contains(says),
            "{path}"
        );
    }
    // Only read-only views go through `data/`: an export there would skip the audit log.
    for path in [
        "data/export/accounts.csv",
        "data/summary/extra",
        "data/../summary",
    ] {
        let response = alice.get(&format!("{session}/{path}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        alice.get(&format!("{session}/accounts/1")).await.status(),
        StatusCode::NOT_FOUND,
        "not seen in this session"
    );

    let bob = Web::new(&stack);
    bob.login("stranger").await;
    for path in [
        "analysis".to_string(),
        "days/2024-03-14".to_string(),
        format!("accounts/{some_account}"),
        "data/summary".to_string(),
        "data/accounts".to_string(),
        "data/cohorts".to_string(),
    ] {
        let response = bob.get(&format!("{session}/{path}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !response.text().await.expect("page").contains(&some_account),
            "{path}"
        );
    }
}

/// Fairness at the door: a second "Capture now" of a channel whose capture is unfinished
/// shows that capture instead of queuing another; beyond the per-user cap a capture is
/// refused with a message that says why and what to do.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn captures_are_one_per_channel_and_capped_per_user(pool: MySqlPool) {
    let options = Options {
        // No worker: captures stay queued, as behind a busy queue.
        workers: 0,
        gateway: Box::new(|config| config.captures_per_user = 2),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let first = web
        .post("/channels/900000001/capture", &[("csrf", &csrf)])
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let again = web
        .post("/channels/900000001/capture", &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&again),
        location(&first),
        "the capture under way, not a new one"
    );
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM captures")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(queued, 1);

    // A second channel reaches the cap of two; a third is refused.
    let second = web
        .post("/channels/771043215/capture", &[("csrf", &csrf)])
        .await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let own = web
        .post(&format!("/channels/{MOD_ID}/capture"), &[("csrf", &csrf)])
        .await;
    assert_eq!(own.status(), StatusCode::CONFLICT);
    let page = own.text().await.expect("page");
    assert!(
        page.contains("You already have 2 captures queued or running"),
        "{page}"
    );
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM captures")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(queued, 2);
}

/// Live-update streams are capped per browser session and per user: the one too many is a 429
/// that says which cap, and closing a stream frees its place.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn live_update_streams_are_capped_per_session_and_per_user(pool: MySqlPool) {
    let options = Options {
        gateway: Box::new(|config| {
            config.streams_per_session = 2;
            config.streams_per_user = 3;
        }),
        ..Options::default()
    };
    let stack = Stack::start(pool, world("humans = 5"), options)
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let session = capture_now(&web, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    let events = format!("{session}/events");
    let first = web.get(&events).await;
    let second = web.get(&events).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = web.get(&events).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        third
            .text()
            .await
            .expect("page")
            .contains("This browser already follows 2 live pages"),
    );
    // Another browser of the same user: one more place, up to the user's three.
    let other = Web::new(&stack);
    other.login("mossy_mod").await;
    let fourth = other.get(&events).await;
    assert_eq!(fourth.status(), StatusCode::OK);
    let fifth = other.get(&events).await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        fifth
            .text()
            .await
            .expect("page")
            .contains("You already follow 3 live pages")
    );
    // A closed stream frees its place (the server sees the client go within a moment).
    drop(first);
    let started = tokio::time::Instant::now();
    loop {
        let again = web.get(&events).await;
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(
            // At the latest, the next keep-alive (15 s) finds the client gone.
            started.elapsed() < Duration::from_secs(30),
            "the place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Three tabs follow one session: one shared feed reads its progress once a second for all
/// of them (not once a second each), and every tab gets the updates.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn streams_of_one_session_share_one_feed(pool: MySqlPool) {
    let stack = Stack::start(pool, world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let web = Web::new(&stack);
    web.login("mossy_mod").await;
    let csrf = web.csrf().await;
    let session = capture_now(&web, &csrf)
        .await
        .split('#')
        .next()
        .expect("path")
        .to_string();
    let events = format!("{session}/events");
    let metric = |text: &str, name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let mut tabs = Vec::new();
    for _ in 0..3 {
        tabs.push(web.get(&events).await);
    }
    // Each tab gets the session's progress.
    for tab in &mut tabs {
        let chunk = tokio::time::timeout(Duration::from_secs(10), tab.chunk())
            .await
            .expect("an event in time")
            .expect("stream")
            .expect("open");
        assert!(String::from_utf8_lossy(&chunk).contains("event: progress"));
    }
    let before = web.get("/metrics").await.text().await.expect("metrics");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = web.get("/metrics").await.text().await.expect("metrics");
    assert_eq!(metric(&after, "live_feeds"), 1.0, "{after}");
    let polls = metric(&after, "live_feed_polls_total") - metric(&before, "live_feed_polls_total");
    assert!(
        polls <= 5.0,
        "{polls} reads in 3 s for three tabs: one feed, not one poll per tab"
    );
    // An event per change, not a stream of repeats: the session is settled now.
    let mut repeats = 0;
    let listen = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(listen, tabs[0].chunk()).await {
        repeats += String::from_utf8_lossy(&chunk)
            .matches("event: progress")
            .count();
    }
    assert!(repeats <= 2, "{repeats} events while nothing changed");
    drop(tabs);
}

/// Twitch (the fake) delivers EventSub to the gateway's public callback: the challenge goes
/// through to twitch-api and back (the subscription is enabled), a notification is queued once,
/// a forged one is refused with 403.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn eventsub_reaches_twitch_api_through_the_gateways_public_callback(pool: MySqlPool) {
    let secret = "stack-eventsub-secret-0123456789";
    let options = Options {
        eventsub_secret: Some(secret.to_string()),
        ..Options::default()
    };
    let stack = Stack::start(pool.clone(), world("humans = 5"), options)
        .await
        .expect("stack");
    let http = reqwest::Client::new();
    let app: serde_json::Value = http
        .post(stack.fake.url("/oauth2/token"))
        .form(&[
            ("client_id", "stack-client"),
            ("client_secret", "stack-secret"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let callback = format!("{}/eventsub/callback", stack.public_url);
    let created: serde_json::Value = http
        .post(stack.fake.url("/helix/eventsub/subscriptions"))
        .header("Client-Id", "stack-client")
        .bearer_auth(app["access_token"].as_str().expect("token"))
        .json(&serde_json::json!({
            "type": "stream.offline", "version": "1",
            "condition": {"broadcaster_user_id": WATCHED_ID},
            "transport": {"method": "webhook", "callback": callback, "secret": secret}
        }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    assert_eq!(
        created["data"][0]["status"],
        "webhook_callback_verification_pending"
    );
    let started = std::time::Instant::now();
    loop {
        let all: serde_json::Value = http
            .get(stack.fake.url("/_fake/eventsub"))
            .send()
            .await
            .expect("subscriptions")
            .json()
            .await
            .expect("json");
        if all["subscriptions"][0]["status"] == "enabled" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not verified: {all}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack
        .fake_post(
            "/_fake/channels/watched/live",
            serde_json::json!({"live": false}),
        )
        .await
        .expect("offline");
    let started = std::time::Instant::now();
    loop {
        let queued: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'eventsub_event' AND payload LIKE '%stream.offline%'",
        )
        .fetch_one(&pool)
        .await
        .expect("jobs");
        if queued == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let forged = http
        .post(&callback)
        .header("twitch-eventsub-message-id", "forged-1")
        .header("twitch-eventsub-message-type", "notification")
        .header(
            "twitch-eventsub-message-timestamp",
            chrono::Utc::now().to_rfc3339(),
        )
        .header("twitch-eventsub-message-signature", "sha256=00")
        .body("{}")
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// The gateway remembers a web session for a second (`auth::SessionCache`): a logout here
/// ends it at once, even for a copy of the cookie; a session ended elsewhere (another replica,
/// the worker on a revocation) stops working within that second.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_remembered_web_session_ends_at_logout_and_within_a_second_elsewhere(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 3"), Options::default())
        .await
        .expect("stack");
    let cookie_of = |response: &reqwest::Response| -> String {
        response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("tca_session="))
            .and_then(|v| v.split(';').next())
            .expect("the session cookie")
            .to_string()
    };
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let with_cookie = |cookie: String| {
        let plain = plain.clone();
        let url = format!("http://{}/channels", stack.gateway);
        async move {
            plain
                .get(url)
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
                .expect("get")
                .status()
        }
    };

    // Logout here: the copied cookie is refused at once.
    let web = Web::new(&stack);
    let cookie = cookie_of(&web.login("mossy_mod").await);
    assert_eq!(with_cookie(cookie.clone()).await, StatusCode::OK);
    let csrf = web.csrf().await;
    web.post("/auth/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(with_cookie(cookie).await, StatusCode::SEE_OTHER);

    // Ended elsewhere (the row deleted, as the worker does on a revocation): within a second.
    let web = Web::new(&stack);
    let cookie = cookie_of(&web.login("mossy_mod").await);
    assert_eq!(with_cookie(cookie.clone()).await, StatusCode::OK);
    sqlx::query("DELETE FROM web_sessions")
        .execute(&pool)
        .await
        .expect("end it");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(with_cookie(cookie).await, StatusCode::SEE_OTHER);
}
