//! The client's IP address, read in one place. Behind a trusted proxy
//! (`TRUST_FORWARDED_FOR=true`) it is the last `X-Forwarded-For` entry, the one our proxy
//! appended (earlier ones are the client's word); otherwise the socket's peer, and the header
//! is ignored — a forged header must not reach the rate limiter or the audit log.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

pub fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(forwarded: &str) -> (HeaderMap, Extensions) {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded.parse().expect("value"));
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5000))));
        (headers, extensions)
    }

    #[test]
    fn a_forwarded_header_counts_only_behind_a_trusted_proxy() {
        let (headers, extensions) = request("203.0.113.9, 198.51.100.2");
        assert_eq!(
            client_ip(&headers, &extensions, false),
            Some(IpAddr::from([10, 0, 0, 7])),
            "untrusted: the socket's address"
        );
        assert_eq!(
            client_ip(&headers, &extensions, true),
            Some(IpAddr::from([198, 51, 100, 2])),
            "trusted: the entry our proxy appended"
        );
        let (garbage, extensions) = request("not-an-ip");
        assert_eq!(
            client_ip(&garbage, &extensions, true),
            Some(IpAddr::from([10, 0, 0, 7]))
        );
    }
}
