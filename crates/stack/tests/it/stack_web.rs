//! A cookie-keeping HTTP client that uses the gateway as a browser would (no JavaScript).

use reqwest::{Client, Response, StatusCode};
use tca_stack::Stack;

pub struct Web {
    pub http: Client,
    pub base: String,
    fake: String,
}

pub use tca_stack::eval::location;

impl Web {
    pub fn new(stack: &Stack) -> Self {
        Self::speaking(stack, None)
    }

    /// A browser sending `Accept-Language: accept_language` with every request.
    pub fn speaking(stack: &Stack, accept_language: Option<&str>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(languages) = accept_language {
            headers.insert(
                reqwest::header::ACCEPT_LANGUAGE,
                languages.parse().expect("a header value"),
            );
        }
        Self {
            http: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .expect("client"),
            base: format!("http://{}", stack.gateway),
            fake: stack.fake.url(""),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// The CSRF token of the logged-in session, read from a page's forms.
    pub async fn csrf(&self) -> String {
        let html = self.get("/sessions").await.text().await.expect("page");
        let marker = r#"name="csrf" value=""#;
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        html[start..start + html[start..].find('"').expect("end")].to_string()
    }

    /// Goes to Twitch's consent page and clicks Authorize as `login`; returns the callback URL
    /// Twitch sends the browser back to (not yet visited).
    pub async fn consent(&self, login: &str) -> String {
        self.consent_from("/auth/login", login).await
    }

    /// `consent`, starting from `path` (a login, or enabling actions).
    pub async fn consent_from(&self, path: &str, login: &str) -> String {
        let start = self.get(path).await;
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let authorize = url::Url::parse(&location(&start)).expect("authorize URL");
        assert!(authorize.as_str().starts_with(&self.fake), "{authorize}");
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("login".into(), login.into()));
        form.push(("decision".into(), "authorize".into()));
        let back = self
            .http
            .post(format!(
                "{}/oauth2/authorize",
                self.fake.trim_end_matches('/')
            ))
            .form(&form)
            .send()
            .await
            .expect("consent");
        location(&back)
    }

    /// Enables moderator actions: Twitch's consent for the ban scope as `login`, and back;
    /// returns where the callback sends the browser.
    pub async fn enable_actions(&self, login: &str, return_to: &str) -> String {
        let start = format!(
            "/actions/enable?return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        );
        let callback = self.consent_from(&start, login).await;
        assert!(
            callback.contains("moderator%3Amanage%3Abanned_users")
                || callback.contains("moderator:manage:banned_users"),
            "the consent granted the ban scope: {callback}"
        );
        let response = self.http.get(&callback).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// The whole login; returns the callback's response (a redirect to /channels).
    pub async fn login(&self, login: &str) -> Response {
        let callback = self.consent(login).await;
        let response = self.http.get(&callback).send().await.expect("callback");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "login as {login} failed"
        );
        assert_eq!(location(&response), "/channels");
        response
    }
}

/// A web session of `user_id` (a browser logged in), straight in the database: `token` names
/// it, it was last seen at `seen` and lasts until `until`.
pub async fn insert_web_session(
    pool: &sqlx::MySqlPool,
    user_id: u64,
    token: &str,
    seen: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_secret, created_at, last_seen_at, expires_at, absolute_expires_at) \
         VALUES (UNHEX(SHA2(?, 256)), ?, UNHEX(SHA2('c', 256)), ?, ?, ?, ?)",
    )
    .bind(token)
    .bind(user_id)
    .bind(seen)
    .bind(seen)
    .bind(until)
    .bind(until)
    .execute(pool)
    .await
    .expect("web session");
}
