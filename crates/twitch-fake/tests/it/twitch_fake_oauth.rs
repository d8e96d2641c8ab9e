use serde_json::Value;

use crate::support::{CLIENT_ID, CLIENT_SECRET, REDIRECT, SCOPES, Twitch, fixture_world, json};

fn authorize_query(redirect: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", redirect.into()),
        ("response_type", "code".into()),
        ("scope", SCOPES.join(" ")),
        ("state", "st4te-123".into()),
    ]
}

fn location(response: &reqwest::Response) -> url::Url {
    let raw = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect");
    url::Url::parse(raw).expect("absolute URL")
}

fn query_of(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn consent_page_authorizes_with_code_and_state_or_cancels() {
    let twitch = Twitch::start(fixture_world("")).await;
    let page = twitch
        .http
        .get(twitch.url("/oauth2/authorize"))
        .query(&authorize_query(REDIRECT))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    for expected in [
        "mossy_mod",
        "stranger",
        "Authorize",
        "Cancel",
        "moderator:read:chatters",
    ] {
        assert!(html.contains(expected), "consent page lacks {expected}");
    }

    let mut form = authorize_query(REDIRECT);
    form.push(("login", "mossy_mod".into()));
    form.push(("decision", "authorize".into()));
    let authorized = twitch
        .http
        .post(twitch.url("/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(authorized.status(), 303);
    let back = location(&authorized);
    assert_eq!(&back.as_str()[..REDIRECT.len()], REDIRECT);
    assert_eq!(query_of(&back, "state").as_deref(), Some("st4te-123"));
    assert_eq!(
        query_of(&back, "scope").as_deref(),
        Some(SCOPES.join(" ").as_str())
    );
    let code = query_of(&back, "code").expect("code");

    let exchange = || {
        twitch
            .http
            .post(twitch.url("/oauth2/token"))
            .form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ])
            .send()
    };
    let tokens = json(exchange().await.expect("exchange")).await;
    let access = tokens["access_token"].as_str().expect("access");
    let validated = json(
        twitch
            .http
            .get(twitch.url("/oauth2/validate"))
            .header("Authorization", format!("OAuth {access}"))
            .send()
            .await
            .expect("validate"),
    )
    .await;
    assert_eq!(validated["login"], "mossy_mod");
    // Codes work once.
    let again = exchange().await.expect("exchange again");
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["message"], "Invalid authorization code");

    let mut cancel = authorize_query(REDIRECT);
    cancel.push(("decision", "cancel".into()));
    let cancelled = twitch
        .http
        .post(twitch.url("/oauth2/authorize"))
        .form(&cancel)
        .send()
        .await
        .expect("post");
    let back = location(&cancelled);
    assert_eq!(query_of(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query_of(&back, "error_description").as_deref(),
        Some("The user denied you access")
    );
    assert_eq!(query_of(&back, "state").as_deref(), Some("st4te-123"));
    assert!(query_of(&back, "code").is_none());
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let twitch = Twitch::start(fixture_world("")).await;
    let page = twitch
        .http
        .get(twitch.url("/oauth2/authorize"))
        .query(&authorize_query("https://evil.example/callback"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 400);
    assert!(page.headers().get("location").is_none());
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("redirect_uri does not match")
    );
}

#[tokio::test]
async fn token_endpoint_checks_client_secret_grant_and_redirect() {
    let twitch = Twitch::start(fixture_world("")).await;
    let post = |form: Vec<(&'static str, String)>| {
        twitch
            .http
            .post(twitch.url("/oauth2/token"))
            .form(&form)
            .send()
    };
    let wrong_secret = post(vec![
        ("client_id", CLIENT_ID.into()),
        ("client_secret", "nope".into()),
        ("grant_type", "client_credentials".into()),
    ])
    .await
    .expect("r");
    assert_eq!(wrong_secret.status(), 403);
    assert_eq!(json(wrong_secret).await["message"], "invalid client secret");

    let code: Value = json(
        twitch
            .http
            .post(twitch.url("/_fake/codes"))
            .json(&serde_json::json!({"login": "mossy_mod", "scopes": SCOPES, "redirect_uri": REDIRECT}))
            .send()
            .await
            .expect("code"),
    )
    .await;
    let mismatch = post(vec![
        ("client_id", CLIENT_ID.into()),
        ("client_secret", CLIENT_SECRET.into()),
        ("grant_type", "authorization_code".into()),
        ("code", code["code"].as_str().expect("code").into()),
        ("redirect_uri", "http://localhost:1/other".into()),
    ])
    .await
    .expect("r");
    assert_eq!(mismatch.status(), 400);
    assert_eq!(
        json(mismatch).await["message"],
        "Parameter redirect_uri does not match registered URI"
    );

    // Parameters in the query string work too (as twitch-cli's login code sends them).
    let via_query = twitch
        .http
        .post(twitch.url(&format!(
            "/oauth2/token?client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&grant_type=client_credentials"
        )))
        .send()
        .await
        .expect("r");
    assert_eq!(via_query.status(), 200);
}

#[tokio::test]
async fn expired_token_gets_401_and_its_refresh_token_works_once() {
    let twitch = Twitch::start(fixture_world("")).await;
    let tokens = twitch.user_tokens("mossy_mod", SCOPES).await;
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    twitch
        .control("/tokens/expire", serde_json::json!({"login": "mossy_mod"}))
        .await;
    let r = twitch.helix(&access, "/users").send().await.expect("r");
    assert_eq!(r.status(), 401);
    let validate = twitch
        .http
        .get(twitch.url("/oauth2/validate"))
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .expect("validate");
    assert_eq!(validate.status(), 401);

    let use_refresh = || {
        twitch
            .http
            .post(twitch.url("/oauth2/token"))
            .form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ])
            .send()
    };
    let renewed = json(use_refresh().await.expect("refresh")).await;
    let new_access = renewed["access_token"].as_str().expect("access");
    assert_ne!(
        renewed["refresh_token"].as_str(),
        Some(refresh.as_str()),
        "rotated"
    );
    assert_eq!(
        twitch
            .helix(new_access, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        200
    );
    let second = use_refresh().await.expect("refresh again");
    assert_eq!(second.status(), 400);
    assert_eq!(json(second).await["message"], "Invalid refresh token");
}

#[tokio::test]
async fn revoke_ends_the_token_and_its_grant() {
    let twitch = Twitch::start(fixture_world("")).await;
    let tokens = twitch.user_tokens("mossy_mod", SCOPES).await;
    let access = tokens["access_token"].as_str().expect("access");
    let revoke = |client: &'static str, token: String| {
        twitch
            .http
            .post(twitch.url("/oauth2/revoke"))
            .form(&[("client_id", client.to_string()), ("token", token)])
            .send()
    };
    assert_eq!(
        revoke("unknown-client", access.into())
            .await
            .expect("r")
            .status(),
        404
    );
    assert_eq!(
        revoke(CLIENT_ID, access.into()).await.expect("r").status(),
        200
    );
    assert_eq!(
        twitch
            .helix(access, "/users")
            .send()
            .await
            .expect("r")
            .status(),
        401
    );
    assert_eq!(
        revoke(CLIENT_ID, "unknown".into())
            .await
            .expect("r")
            .status(),
        400
    );
    let refreshed = twitch
        .http
        .post(twitch.url("/oauth2/token"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("refresh"),
            ),
        ])
        .send()
        .await
        .expect("r");
    assert_eq!(
        refreshed.status(),
        400,
        "the app was disconnected: its refresh token is dead"
    );
}
