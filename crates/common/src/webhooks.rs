//! Where outbound alert webhooks may point (docs/live.md, docs/security.md).
//!
//! A webhook URL is typed by a user and fetched by our worker: without care it is a
//! server-side request forgery, a way to make the worker POST into the operator's network
//! (MariaDB's host, a cloud metadata service at 169.254.169.254, the internal services). So:
//! only `https`, no credentials in the URL, and every address the host name resolves to must
//! be public — checked when the URL is saved and again at each delivery, and the delivery
//! connects to exactly the addresses checked (no second lookup a DNS rebinding could turn)
//! and follows no redirect. An operator may allow plain `http` and private addresses
//! (`ALERT_ALLOW_PRIVATE_TARGETS`, for a lab or a chat bridge inside the network).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use url::Url;

/// What the gateway (sealing URLs as they are saved, checking them) and the worker (opening
/// them to deliver) share: `ALERT_ENCRYPTION_KEY` and `ALERT_ALLOW_PRIVATE_TARGETS`.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub sealer: crate::sealing::Sealer,
    /// The operator allows plain http and private, loopback or reserved addresses.
    pub allow_private: bool,
}

impl AlertConfig {
    pub fn read(env: &mut crate::config::EnvReader) -> Option<Self> {
        let allow_private = env.bool_or("ALERT_ALLOW_PRIVATE_TARGETS", false);
        Some(Self {
            sealer: env.required_sealer("ALERT_ENCRYPTION_KEY")?,
            allow_private,
        })
    }
}

/// Longest URL accepted (Discord's are about 120 characters).
pub const MAX_URL_LEN: usize = 2000;

/// Why a webhook URL is refused; each is a message key (`alert-target-…`) with `url` shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not a URL")]
    NotAUrl,
    #[error("only https URLs are allowed")]
    NotHttps,
    #[error("a URL may not carry a user name or password")]
    Credentials,
    #[error("the host name does not resolve")]
    Unresolved,
    #[error("the address {0} is private, loopback or reserved")]
    Private(IpAddr),
}

impl TargetError {
    /// The message key that says it to a person.
    pub fn key(&self) -> &'static str {
        match self {
            Self::NotAUrl => "alert-target-not-url",
            Self::NotHttps => "alert-target-not-https",
            Self::Credentials => "alert-target-credentials",
            Self::Unresolved => "alert-target-unresolved",
            Self::Private(_) => "alert-target-private",
        }
    }
}

/// The URL if its form is acceptable (scheme, credentials, a literal address): what can be
/// said without a DNS lookup.
pub fn parse(raw: &str, allow_private: bool) -> Result<Url, TargetError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(TargetError::NotAUrl);
    }
    let url = Url::parse(raw).map_err(|_| TargetError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    match url.host() {
        None => Err(TargetError::NotAUrl),
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), allow_private).map(|()| url),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), allow_private).map(|()| url),
        Some(url::Host::Domain(_)) => Ok(url),
    }
}

/// The addresses to connect to: every address the host resolves to, each allowed. One
/// refused address refuses the URL (a name that resolves to a public and a private address
/// is a rebinding trick or a mistake).
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, TargetError> {
    let host = url.host_str().ok_or(TargetError::NotAUrl)?;
    let port = url.port_or_known_default().ok_or(TargetError::NotAUrl)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| TargetError::Unresolved)?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolved);
    }
    for addr in &addrs {
        check_ip(addr.ip(), allow_private)?;
    }
    Ok(addrs)
}

/// An HTTP client that reaches `url`'s host only at `addrs` (those [`resolve`] checked),
/// follows no redirect and uses no proxy from the environment.
pub fn pinned_client(
    url: &Url,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!(
            "twitch-chatters-analyser/",
            env!("CARGO_PKG_VERSION")
        ));
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, addrs);
    }
    builder.build()
}

fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), TargetError> {
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(TargetError::Private(ip))
    }
}

/// Whether `ip` is an ordinary address on the public internet: not loopback, private,
/// link-local (cloud metadata), shared (CGNAT), multicast, documentation or otherwise
/// reserved. IPv6 forms that carry an IPv4 address are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ));
            }
            if s[0] == 0x2002 {
                return is_public_v4(Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                ));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard 100::/64
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local: cloud metadata services live here
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

/// The URL as a page may show it: the scheme and host, then the last four characters of the
/// rest — enough to tell two webhooks apart, not enough to post to one.
pub fn mask(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest: String = {
        let tail = format!(
            "{}{}",
            url.path(),
            url.query().map(|q| format!("?{q}")).unwrap_or_default()
        );
        let chars: Vec<char> = tail.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("{}://{host}{port}/…{rest}", url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_without_credentials() {
        assert!(parse("https://discord.com/api/webhooks/1/abc", false).is_ok());
        assert_eq!(
            parse("http://example.com/hook", false),
            Err(TargetError::NotHttps)
        );
        assert_eq!(
            parse("ftp://example.com/hook", true),
            Err(TargetError::NotHttps)
        );
        assert_eq!(
            parse("https://user:pw@example.com/hook", false),
            Err(TargetError::Credentials)
        );
        assert_eq!(parse("not a url", false), Err(TargetError::NotAUrl));
        assert_eq!(parse("", false), Err(TargetError::NotAUrl));
        assert!(parse("http://127.0.0.1:9/hook", true).is_ok());
    }

    #[test]
    fn literal_private_addresses_are_refused() {
        for raw in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://172.20.0.5/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.100.100.200/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[64:ff9b::a00:1]/x",
            "https://[2002:c0a8:101::1]/x",
        ] {
            assert!(
                matches!(parse(raw, false), Err(TargetError::Private(_))),
                "{raw} must be refused"
            );
        }
        assert!(parse("https://8.8.8.8/x", false).is_ok());
        assert!(parse("https://[2606:4700::1111]/x", false).is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_unless_allowed() {
        let url = parse("https://localhost:8443/hook", false).expect("form is fine");
        assert!(matches!(
            resolve(&url, false).await,
            Err(TargetError::Private(_))
        ));
        let addrs = resolve(&url, true).await.expect("allowed by the operator");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn masks_keep_the_host_and_four_characters() {
        let url =
            Url::parse("https://discord.com/api/webhooks/123/SeCrEtToKeNxY9z").expect("a URL");
        assert_eq!(mask(&url), "https://discord.com/…xY9z");
        let url = Url::parse("http://127.0.0.1:9000/hooks/a").expect("a URL");
        assert_eq!(mask(&url), "http://127.0.0.1:9000/…ks/a");
    }
}
