use sqlx::{MySqlPool, Row};
use tca_common::twitch_api::{SCOPES, TwitchApiError};

use crate::twitch_api_support::{INTERNAL_TOKEN, REDIRECT, Stack, world};

/// A user's tokens as twitch-api reads them back from the table (unsealed).
async fn stored_tokens(pool: &MySqlPool, user_id: &str) -> tca_twitch_api::tokens::StoredTokens {
    let store = tca_twitch_api::tokens::TokenStore::new(
        pool.clone(),
        tca_common::sealing::Sealer::from_base64_key(crate::twitch_api_support::SEAL_KEY)
            .expect("key"),
    );
    store.load(user_id).await.expect("load").expect("row")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn code_exchange_stores_sealed_tokens_and_returns_the_profile(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    let user = stack.authorize("mossy_mod").await;
    assert_eq!(user.user_id, "538211094");
    assert_eq!(user.login, "mossy_mod");
    assert_eq!(user.display_name, "Mossy_Mod");
    assert!(
        user.profile_image_url
            .starts_with("https://static-cdn.jtvnw.net/")
    );
    assert_eq!(user.scopes, SCOPES);

    let live = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    let raw: Vec<String> = live["access_tokens"]
        .as_array()
        .expect("access")
        .iter()
        .chain(live["refresh_tokens"].as_array().expect("refresh"))
        .map(|t| t.as_str().expect("token").to_string())
        .collect();
    assert_eq!(raw.len(), 2, "one access and one refresh token were issued");
    // Every column of every row, as bytes: no raw token anywhere, in any encoding we'd use.
    let rows = sqlx::query("SELECT * FROM twitch_tokens")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let mut stored: Vec<u8> = Vec::new();
    for i in 0..row.len() {
        if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
            stored.extend(bytes);
        } else if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
            stored.extend(text.into_bytes());
        }
        stored.push(0);
    }
    for token in &raw {
        assert!(
            !stored.windows(token.len()).any(|w| w == token.as_bytes()),
            "raw token stored"
        );
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!String::from_utf8_lossy(&stored).contains(&hex));
    }
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM twitch_tokens WHERE INSTR(access_token_sealed, ?) > 0 \
         OR INSTR(refresh_token_sealed, ?) > 0",
    )
    .bind(&raw[0])
    .bind(&raw[1])
    .fetch_one(&pool)
    .await
    .expect("search");
    assert_eq!(found, 0);
}

/// The database fails after Twitch rotated the grant (a MariaDB restart in the chaos run): the
/// new tokens are kept and stored at the next refresh, instead of the dead refresh token
/// logging the user out.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_refresh_whose_answer_could_not_be_stored_is_not_lost(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    // Storing rotated tokens fails while `fail_token_store` has a row.
    for statement in [
        "CREATE TABLE fail_token_store (id INT)",
        "INSERT INTO fail_token_store VALUES (1)",
        "CREATE TRIGGER fail_token_store BEFORE UPDATE ON twitch_tokens FOR EACH ROW \
         IF (SELECT COUNT(*) FROM fail_token_store) > 0 THEN \
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected: the database went away'; END IF",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    stack
        .client
        .channels("538211094")
        .await
        .expect_err("the refresh's answer could not be stored");
    let rotated = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    assert_eq!(
        rotated["refresh_tokens"].as_array().map(Vec::len),
        Some(1),
        "Twitch rotated the grant: the stored refresh token is dead"
    );

    // The database is back: the next call stores the kept tokens and works.
    sqlx::query("DELETE FROM fail_token_store")
        .execute(&pool)
        .await
        .expect("back");
    let channels = stack
        .client
        .channels("538211094")
        .await
        .expect("channels with the kept tokens");
    assert_eq!(channels.len(), 3);
    let invalid: Option<String> = sqlx::query_scalar(
        "SELECT invalid_reason FROM twitch_tokens WHERE twitch_user_id = '538211094'",
    )
    .fetch_one(&pool)
    .await
    .expect("row");
    assert_eq!(invalid, None, "nobody was logged out");
    let stored = stored_tokens(&pool, "538211094").await;
    assert_eq!(
        stored.refresh.as_deref(),
        rotated["refresh_tokens"][0].as_str(),
        "the grant Twitch holds is the one stored"
    );
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn expired_token_is_refreshed_transparently_and_the_rotated_refresh_token_stored(
    pool: MySqlPool,
) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    let before = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    let old_refresh = before["refresh_tokens"][0]
        .as_str()
        .expect("refresh")
        .to_string();
    let sealed_before: Vec<u8> =
        sqlx::query_scalar("SELECT refresh_token_sealed FROM twitch_tokens")
            .fetch_one(&pool)
            .await
            .expect("row");

    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    let channels = stack
        .client
        .channels("538211094")
        .await
        .expect("channels after expiry");
    assert_eq!(channels.len(), 3);

    let after = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    let refresh: Vec<&str> = after["refresh_tokens"]
        .as_array()
        .expect("r")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(refresh.len(), 1, "the old refresh token was rotated out");
    assert_ne!(refresh[0], old_refresh);
    let sealed_after: Vec<u8> =
        sqlx::query_scalar("SELECT refresh_token_sealed FROM twitch_tokens")
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_ne!(
        sealed_before, sealed_after,
        "the rotated refresh token was stored"
    );
    let stored = stored_tokens(&pool, "538211094").await;
    assert_eq!(
        stored.refresh.as_deref(),
        Some(refresh[0]),
        "it is the one Twitch holds now"
    );

    // Expire again: the stored (rotated) refresh token works too.
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    stack
        .client
        .users_by_id(&["771043215".into()], Some("538211094"), None)
        .await
        .expect("second refresh");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_revoked_authorization_yields_reauth_required(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    // The user disconnects the app on Twitch: refresh tokens die, access tokens too.
    stack
        .fake_post(
            "/_fake/tokens/revoke-grants",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    let error = stack
        .client
        .channels("538211094")
        .await
        .expect_err("no access any more");
    assert!(
        matches!(error, TwitchApiError::ReauthRequired(_)),
        "{error:?}"
    );
    let invalid: Option<String> = sqlx::query_scalar("SELECT invalid_reason FROM twitch_tokens")
        .fetch_one(&pool)
        .await
        .expect("row");
    assert!(invalid.is_some(), "the tokens are marked invalid");
    // And stay refused without another call to Twitch.
    let error = stack
        .client
        .users_by_id(&["771043215".into()], Some("538211094"), None)
        .await
        .expect_err("still gone");
    assert!(matches!(error, TwitchApiError::ReauthRequired(_)));
    let validation = stack.client.validate("538211094").await.expect("validate");
    assert!(!validation.valid);
    assert!(validation.reason.is_some());
    // A user never seen has no authorization either.
    let error = stack
        .client
        .channels("999999")
        .await
        .expect_err("unknown user");
    assert!(matches!(error, TwitchApiError::ReauthRequired(_)));
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn validate_marks_the_token_validated_and_revoke_forgets_it(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    sqlx::query("UPDATE twitch_tokens SET validated_at = '2020-01-01 00:00:00'")
        .execute(&pool)
        .await
        .expect("age it");
    assert_eq!(
        stack
            .client
            .stale_tokens(std::time::Duration::from_secs(3600))
            .await
            .expect("stale"),
        ["538211094"]
    );
    let validation = stack.client.validate("538211094").await.expect("validate");
    assert!(validation.valid);
    assert_eq!(validation.login.as_deref(), Some("mossy_mod"));
    assert!(
        stack
            .client
            .stale_tokens(std::time::Duration::from_secs(3600))
            .await
            .expect("stale")
            .is_empty()
    );

    // An expired access token is refreshed by validation, not reported invalid.
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    assert!(
        stack
            .client
            .validate("538211094")
            .await
            .expect("validate")
            .valid
    );

    let access = stack.fake_get("/_fake/tokens/of/mossy_mod").await["access_tokens"][0]
        .as_str()
        .expect("token")
        .to_string();
    stack.client.revoke("538211094").await.expect("revoke");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM twitch_tokens")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "forgotten here");
    let twitch_says = stack
        .http
        .get(stack.fake.url("/oauth2/validate"))
        .header("Authorization", format!("OAuth {access}"))
        .send()
        .await
        .expect("validate");
    assert_eq!(twitch_says.status(), 401, "revoked at Twitch");
    stack
        .client
        .revoke("538211094")
        .await
        .expect("revoking twice is fine");
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn authorize_url_points_at_twitch_with_state_scopes_and_redirect(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    let url = stack
        .client
        .authorize_url("st4te", REDIRECT, false, false)
        .await
        .expect("url");
    let parsed = url::Url::parse(&url).expect("url");
    assert_eq!(parsed.path(), "/oauth2/authorize");
    let query: std::collections::HashMap<String, String> =
        parsed.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "tca-test-client");
    assert_eq!(query["state"], "st4te");
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], SCOPES.join(" "));
    assert_eq!(
        query["force_verify"], "false",
        "a returning moderator is not asked to authorize again"
    );
    let other = stack
        .client
        .authorize_url("st4te", REDIRECT, true, false)
        .await
        .expect("url");
    assert!(
        other.contains("force_verify=true"),
        "another account: Twitch asks again"
    );
    // Enabling actions asks for everything again, plus the actions scope.
    let actions = stack
        .client
        .authorize_url("st4te", REDIRECT, false, true)
        .await
        .expect("url");
    let scope: String = url::Url::parse(&actions)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    assert_eq!(
        scope,
        format!(
            "{} {}",
            SCOPES.join(" "),
            tca_common::twitch_api::ACTIONS_SCOPE
        )
    );
    // The fake's consent page accepts it.
    assert_eq!(
        stack.http.get(&url).send().await.expect("page").status(),
        200
    );

    let error = stack
        .client
        .exchange("not-a-code", REDIRECT)
        .await
        .expect_err("bad code");
    assert!(matches!(error, TwitchApiError::BadRequest(_)), "{error:?}");
    let error = stack
        .client
        .authorize_url("", REDIRECT, false, false)
        .await
        .expect_err("empty state");
    assert!(matches!(error, TwitchApiError::BadRequest(_)));
    let _ = INTERNAL_TOKEN;
}

/// Whether the stored authorization of the only user is still good.
async fn still_authorized(pool: &MySqlPool) -> bool {
    let invalid: Option<String> = sqlx::query_scalar("SELECT invalid_reason FROM twitch_tokens")
        .fetch_one(pool)
        .await
        .expect("row");
    invalid.is_none()
}

async fn readyz(stack: &Stack) -> (u16, String) {
    let response = stack
        .http
        .get(format!("http://{}/readyz", stack.api))
        .send()
        .await
        .expect("readyz");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

/// id.twitch.tv answers 503 (then 429, then drops connections) while a user's token needs a
/// refresh: the call is "unavailable", the authorization is kept, twitch-api stays ready (an
/// outage is nobody's configuration), and the next call after the outage refreshes and works.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn an_outage_of_id_twitch_tv_during_a_refresh_keeps_the_authorization(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    for fault in [
        serde_json::json!({"oauth_status": 503}),
        serde_json::json!({"oauth_status": 500}),
        serde_json::json!({"oauth_status": 429}),
        serde_json::json!({"oauth_drop": true}),
    ] {
        stack.fake_post("/_fake/faults", fault.clone()).await;
        let error = stack
            .client
            .channels("538211094")
            .await
            .expect_err("Twitch is down");
        assert!(
            matches!(error, TwitchApiError::Unavailable(_)),
            "{fault}: {error:?}"
        );
        assert!(
            still_authorized(&pool).await,
            "{fault}: nobody is logged out"
        );
        assert_eq!(
            readyz(&stack).await.0,
            200,
            "{fault}: an outage is not ours"
        );
    }
    stack
        .fake_post("/_fake/faults", serde_json::json!({}))
        .await;
    let channels = stack
        .client
        .channels("538211094")
        .await
        .expect("after the outage");
    assert_eq!(channels.len(), 3);
    assert!(still_authorized(&pool).await);
}

/// The operator rotates the client secret in Twitch's console before restarting twitch-api:
/// meanwhile refreshes get 403 `invalid client secret`. Nobody is logged out; twitch-api is
/// not ready and says which variable to fix; once the secrets agree again, the same stored
/// authorization works without the user consenting again.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_secret_rotation_window_logs_nobody_out(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    assert_eq!(readyz(&stack).await.0, 200);
    stack
        .fake_post(
            "/_fake/app/secret",
            serde_json::json!({"client_secret": "rotated-secret"}),
        )
        .await;
    stack
        .fake_post(
            "/_fake/tokens/expire",
            serde_json::json!({"login": "mossy_mod"}),
        )
        .await;
    let error = stack
        .client
        .channels("538211094")
        .await
        .expect_err("the refresh is refused for the app's secret");
    assert!(matches!(error, TwitchApiError::Unavailable(_)), "{error:?}");
    assert!(
        still_authorized(&pool).await,
        "the user's authorization is kept"
    );
    let (status, body) = readyz(&stack).await;
    assert_eq!(status, 503);
    assert!(
        body.contains("TWITCH_CLIENT_SECRET") && body.contains("invalid client secret"),
        "{body}"
    );
    let metrics = stack
        .http
        .get(format!("http://{}/metrics", stack.api))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("twitch_credentials_rejected 1"),
        "{metrics}"
    );

    // The secrets agree again (twitch-api restarted with the new one; here, the old one back).
    stack
        .fake_post("/_fake/app/secret", serde_json::json!({}))
        .await;
    let channels = stack
        .client
        .channels("538211094")
        .await
        .expect("no re-consent needed");
    assert_eq!(channels.len(), 3);
    assert_eq!(readyz(&stack).await.0, 200);
    assert!(still_authorized(&pool).await);
}

/// A wrong client secret is found at start-up, when twitch-api validates the app token
/// (Twitch's rule): readiness says which variable to fix before any user is affected.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_wrong_client_secret_is_found_at_start_up(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |twitch| {
        twitch.client_secret = tca_common::config::Secret::new("a-typo".to_string());
    })
    .await;
    let started = std::time::Instant::now();
    let (status, body) = loop {
        let (status, body) = readyz(&stack).await;
        if status != 200 || started.elapsed() > std::time::Duration::from_secs(10) {
            break (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("TWITCH_CLIENT_SECRET"), "{body}");
}

/// Logging in again (another browser, the same user) revokes the grant the new one replaces:
/// Twitch holds one live grant for the user, not one per login.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn logging_in_again_revokes_the_replaced_grant(pool: MySqlPool) {
    let stack = Stack::start(pool, world(""), |_| {}).await;
    stack.authorize("mossy_mod").await;
    let first = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    stack.authorize("mossy_mod").await;
    let now = stack.fake_get("/_fake/tokens/of/mossy_mod").await;
    let live = |tokens: &serde_json::Value, kind: &str| -> Vec<String> {
        tokens[kind]
            .as_array()
            .expect(kind)
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(live(&now, "access_tokens").len(), 1, "{now}");
    assert_eq!(live(&now, "refresh_tokens").len(), 1, "{now}");
    assert!(
        live(&first, "refresh_tokens")
            .iter()
            .all(|old| !live(&now, "refresh_tokens").contains(old)),
        "the first login's grant is gone: {first} / {now}"
    );
}
