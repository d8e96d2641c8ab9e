//! Every answer has the shape (keys, types, nesting) of its fixture in
//! shared/twitch-fixtures; error bodies are equal to theirs.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{CLIENT_ID, CLIENT_SECRET, REDIRECT, SCOPES, Twitch, fixture_world, json};

pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json")
}

/// The shape of a JSON value: what a client's types depend on.
#[derive(Debug, PartialEq)]
enum Shape {
    Null,
    Bool,
    Number,
    String,
    /// The shape of the elements (all elements must agree), or None for an empty array.
    Array(Option<Box<Shape>>),
    Object(BTreeMap<String, Shape>),
}

fn shape(value: &Value) -> Shape {
    match value {
        Value::Null => Shape::Null,
        Value::Bool(_) => Shape::Bool,
        Value::Number(_) => Shape::Number,
        Value::String(_) => Shape::String,
        Value::Array(items) => {
            let shapes: Vec<Shape> = items.iter().map(shape).collect();
            if let Some(first) = shapes.first() {
                assert!(
                    shapes.iter().all(|s| s == first),
                    "array elements differ in shape: {value}"
                );
            }
            Shape::Array(shapes.into_iter().next().map(Box::new))
        }
        Value::Object(map) => {
            Shape::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

/// Same shape, where an empty array on either side matches any array.
pub(crate) fn assert_same_shape(name: &str, expected: &Value, actual: &Value) {
    fn same(a: &Shape, b: &Shape) -> bool {
        match (a, b) {
            (Shape::Array(None), Shape::Array(_)) | (Shape::Array(_), Shape::Array(None)) => true,
            (Shape::Array(Some(x)), Shape::Array(Some(y))) => same(x, y),
            (Shape::Object(x), Shape::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }
    let (e, a) = (shape(expected), shape(actual));
    assert!(
        same(&e, &a),
        "{name}: shape differs\nfixture: {e:?}\nfake:    {a:?}\nbody: {actual}"
    );
}

#[tokio::test]
async fn oauth_answers_have_the_fixture_shapes() {
    let twitch = Twitch::start(fixture_world("")).await;
    let code: Value = twitch
        .http
        .post(twitch.url("/_fake/codes"))
        .json(
            &serde_json::json!({"login": "mossy_mod", "scopes": SCOPES, "redirect_uri": REDIRECT}),
        )
        .send()
        .await
        .expect("code")
        .json()
        .await
        .expect("json");
    let exchange = |grant: Vec<(&'static str, String)>| {
        let mut form = vec![
            ("client_id", CLIENT_ID.to_string()),
            ("client_secret", CLIENT_SECRET.to_string()),
        ];
        form.extend(grant);
        twitch
            .http
            .post(twitch.url("/oauth2/token"))
            .form(&form)
            .send()
    };
    let tokens = json(
        exchange(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code["code"].as_str().expect("code").into()),
            ("redirect_uri", REDIRECT.into()),
        ])
        .await
        .expect("exchange"),
    )
    .await;
    assert_same_shape("token.json", &fixture("token.json"), &tokens);
    assert_eq!(tokens["scope"], serde_json::json!(SCOPES));
    assert_eq!(tokens["token_type"], "bearer");

    let refreshed = exchange(vec![
        ("grant_type", "refresh_token".into()),
        (
            "refresh_token",
            tokens["refresh_token"].as_str().expect("refresh").into(),
        ),
    ])
    .await
    .expect("refresh");
    assert_eq!(refreshed.status(), 200);
    assert_same_shape(
        "token_refresh.json",
        &fixture("token_refresh.json"),
        &json(refreshed).await,
    );

    let reused = exchange(vec![
        ("grant_type", "refresh_token".into()),
        (
            "refresh_token",
            tokens["refresh_token"].as_str().expect("refresh").into(),
        ),
    ])
    .await
    .expect("refresh again");
    assert_eq!(reused.status(), 400);
    assert_eq!(
        json(reused).await,
        fixture("oauth_error_invalid_refresh.json")
    );

    let app = json(
        exchange(vec![("grant_type", "client_credentials".into())])
            .await
            .expect("app token"),
    )
    .await;
    assert_same_shape("token_app.json", &fixture("token_app.json"), &app);

    let validate = |token: String, prefix: &'static str| {
        twitch
            .http
            .get(twitch.url("/oauth2/validate"))
            .header("Authorization", format!("{prefix} {token}"))
            .send()
    };
    // A fresh user token (the first one's grant was rotated, but it stays valid until expiry).
    let user = twitch.user_token("mossy_mod").await;
    let body = json(validate(user, "OAuth").await.expect("validate")).await;
    assert_same_shape("validate.json", &fixture("validate.json"), &body);
    assert_eq!(body["login"], "mossy_mod");
    assert_eq!(body["user_id"], "538211094");
    let app_validated = validate(app["access_token"].as_str().expect("app").into(), "Bearer")
        .await
        .expect("validate app");
    assert_same_shape(
        "validate_app.json",
        &fixture("validate_app.json"),
        &json(app_validated).await,
    );
    let dead = validate("nope".into(), "OAuth")
        .await
        .expect("validate dead");
    assert_eq!(dead.status(), 401);
    assert_eq!(json(dead).await, fixture("validate_401.json"));
}

#[tokio::test]
async fn helix_answers_have_the_fixture_shapes() {
    let twitch = Twitch::start(fixture_world("")).await;
    let token = twitch.user_token("mossy_mod").await;

    let users = json(
        twitch
            .helix(&token, "/users?id=538211094&id=771043215")
            .send()
            .await
            .expect("users"),
    )
    .await;
    assert_same_shape("users.json", &fixture("users.json"), &users);
    let mossy = &users["data"][0];
    assert_eq!(mossy["login"], "mossy_mod");
    assert_eq!(mossy["created_at"], "2019-04-02T17:45:10Z");
    assert!(
        users.get("pagination").is_none(),
        "Get Users has no pagination key"
    );

    let page1 = json(
        twitch
            .helix(
                &token,
                "/chat/chatters?broadcaster_id=771043215&moderator_id=538211094&first=5",
            )
            .send()
            .await
            .expect("chatters"),
    )
    .await;
    assert_same_shape(
        "chatters_page1.json",
        &fixture("chatters_page1.json"),
        &page1,
    );
    let total = page1["total"].as_u64().expect("total");
    let cursor = page1["pagination"]["cursor"].as_str().expect("cursor");
    let last = json(
        twitch
            .helix(
                &token,
                &format!("/chat/chatters?broadcaster_id=771043215&moderator_id=538211094&first=1000&after={cursor}"),
            )
            .send()
            .await
            .expect("last page"),
    )
    .await;
    assert_same_shape(
        "chatters_page2.json",
        &fixture("chatters_page2.json"),
        &last,
    );
    assert_eq!(
        last["data"].as_array().expect("data").len() as u64,
        total - 5
    );

    let quiet = twitch.user_token("quiet_streamer").await;
    let empty = json(
        twitch
            .helix(
                &quiet,
                "/chat/chatters?broadcaster_id=222222222&moderator_id=222222222",
            )
            .send()
            .await
            .expect("empty chat"),
    )
    .await;
    assert_eq!(empty, fixture("chatters_empty.json"));

    let moderated = json(
        twitch
            .helix(&token, "/moderation/channels?user_id=538211094")
            .send()
            .await
            .expect("moderated"),
    )
    .await;
    assert_same_shape(
        "moderated_channels.json",
        &fixture("moderated_channels.json"),
        &moderated,
    );
    let logins: Vec<&str> = moderated["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["broadcaster_login"].as_str().expect("login"))
        .collect();
    assert_eq!(
        logins,
        ["deepseabuilds", "pixelbrookgames", "saltmarsh_radio"]
    );

    let app = twitch.app_token().await;
    let streams = json(
        twitch
            .helix(&app, "/streams?user_id=771043215&user_id=348812077")
            .send()
            .await
            .expect("streams"),
    )
    .await;
    assert_same_shape("streams.json", &fixture("streams.json"), &streams);
    assert_eq!(
        streams["data"].as_array().expect("data").len(),
        1,
        "offline channels are absent"
    );
    assert_eq!(streams["data"][0]["viewer_count"], 214);
    let offline = json(
        twitch
            .helix(&app, "/streams?user_login=saltmarsh_radio")
            .send()
            .await
            .expect("offline"),
    )
    .await;
    assert_eq!(offline, fixture("streams_offline.json"));
}

#[tokio::test]
async fn helix_errors_equal_the_fixture_bodies() {
    let mut scenario = fixture_world("");
    scenario.rate_limit.points_per_minute = 3;
    let twitch = Twitch::start(scenario).await;
    let token = twitch.user_token("mossy_mod").await;
    let chatters = "/chat/chatters?broadcaster_id=771043215&moderator_id=538211094";

    let bad_first = twitch
        .helix(&token, &format!("{chatters}&first=5000"))
        .send()
        .await
        .expect("req");
    assert_eq!(bad_first.status(), 400);
    assert_eq!(json(bad_first).await, fixture("error_400_bad_first.json"));

    let stranger = twitch.user_token("stranger").await;
    let forbidden = twitch
        .helix(
            &stranger,
            "/chat/chatters?broadcaster_id=771043215&moderator_id=111111111",
        )
        .send()
        .await
        .expect("req");
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        json(forbidden).await,
        fixture("error_403_not_moderator.json")
    );

    let narrow = twitch
        .user_tokens("mossy_mod", &["user:read:moderated_channels"])
        .await;
    let narrow = narrow["access_token"].as_str().expect("token");
    let missing_scope = twitch.helix(narrow, chatters).send().await.expect("req");
    assert_eq!(missing_scope.status(), 401);
    assert_eq!(
        json(missing_scope).await,
        fixture("error_401_missing_scope.json")
    );

    twitch
        .control("/tokens/expire", serde_json::json!({"token": token}))
        .await;
    let expired = twitch.helix(&token, chatters).send().await.expect("req");
    assert_eq!(expired.status(), 401);
    assert_eq!(json(expired).await, fixture("error_401_invalid_token.json"));

    // mossy_mod's bucket (3 points) was spent above: 400, 401-by-scope… count only what got
    // past authentication. Drain it, then the next call is a 429.
    let fresh = twitch.user_token("mossy_mod").await;
    let mut last = None;
    for _ in 0..4 {
        last = Some(twitch.helix(&fresh, "/users").send().await.expect("req"));
    }
    let limited = last.expect("response");
    assert_eq!(limited.status(), 429);
    assert_eq!(json(limited).await, fixture("error_429.json"));
}
