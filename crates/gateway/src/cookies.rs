//! The gateway's two cookies: the web session (`tca_session`) and the short-lived cookie that
//! binds an OAuth login to the browser that started it (`tca_login`). Both are HttpOnly,
//! SameSite=Lax, and Secure when the public URL is https.

use axum::http::{HeaderMap, header};

pub const WEB_SESSION_COOKIE: &str = "tca_session";
pub const LOGIN_COOKIE: &str = "tca_login";

/// A `Set-Cookie` value.
pub fn set(secure: bool, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The value of cookie `name` sent with a request.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_any_cookie_header_and_set_with_their_flags() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; tca_session=xyz".parse().expect("value"),
        );
        headers.append(header::COOKIE, "tca_login=abc".parse().expect("value"));
        assert_eq!(read(&headers, WEB_SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(read(&headers, LOGIN_COOKIE).as_deref(), Some("abc"));
        assert_eq!(read(&headers, "nope"), None);
        let value = set(true, WEB_SESSION_COOKIE, "v", 60);
        assert!(value.contains("HttpOnly") && value.contains("SameSite=Lax"));
        assert!(value.ends_with("; Secure"));
        assert!(!set(false, WEB_SESSION_COOKIE, "v", 60).contains("Secure"));
        assert!(clear(LOGIN_COOKIE).contains("Max-Age=0"));
    }
}
