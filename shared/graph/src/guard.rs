//! SSRF policy for media URLs.
//!
//! Media URLs come from Meta responses and (since the 2025-11 rollout) from
//! webhook payloads, and we attach our bearer token to them. A URL pointing at
//! an internal service (the Lambda runtime API on 127.0.0.1, the instance
//! metadata endpoint on 169.254.169.254, a VPC address) must never be fetched.
//! This module is the pure policy: scheme, host allowlist and literal-IP
//! checks. `net.rs` applies the same policy to DNS answers and redirects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Where media may be downloaded from, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaGuard {
    /// Exact hosts (`lookaside.fbsbx.com`, `127.0.0.1`, `[::1]`) or wildcards
    /// (`*.fbcdn.net`, matching any subdomain but not the apex). Case-insensitive.
    pub allowed_hosts: Vec<String>,
    /// Permit `http://` URLs (tests against the local fake only).
    pub allow_plain_http: bool,
    /// Permit private / loopback / link-local / CGNAT / unique-local /
    /// unspecified addresses, both as literals and in DNS answers.
    pub allow_private_addresses: bool,
    /// Hard cap on a download's size in bytes.
    pub max_bytes: u64,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("not a valid absolute URL: {0}")]
    InvalidUrl(String),
    #[error("scheme `{scheme}` is not allowed")]
    SchemeNotAllowed { scheme: String },
    /// `user:pass@` in a URL is refused outright: it is the classic way to
    /// make `https://lookaside.fbsbx.com@evil.com/` look like an allowed host.
    #[error("URLs with embedded credentials are not allowed")]
    CredentialsInUrl,
    #[error("URL has no host")]
    MissingHost,
    #[error("host `{host}` is not in the media allowlist")]
    HostNotAllowed { host: String },
    #[error("host `{host}` is a non-public address ({ip})")]
    PrivateAddress { host: String, ip: IpAddr },
    /// Every address the name resolved to was non-public.
    #[error("host `{host}` resolves only to non-public addresses")]
    NoPublicAddress { host: String },
}

/// Meta's documented media host plus its CDN; 100 MiB is the inbound media
/// ceiling (reference §3.3) with a little headroom over decimal 100 MB.
const META_MAX_BYTES: u64 = 100 * 1024 * 1024;

impl MediaGuard {
    /// Production defaults: https only, public addresses only, Meta hosts.
    pub fn meta_defaults() -> Self {
        MediaGuard {
            allowed_hosts: vec!["lookaside.fbsbx.com".to_owned(), "*.fbcdn.net".to_owned()],
            allow_plain_http: false,
            allow_private_addresses: false,
            max_bytes: META_MAX_BYTES,
        }
    }

    /// Parse `url` and check it against the policy. The returned `Url` is the
    /// one to request, so what was checked is exactly what is fetched.
    pub fn check_url(&self, url: &str) -> Result<Url, GuardError> {
        let parsed = Url::parse(url).map_err(|e| GuardError::InvalidUrl(e.to_string()))?;
        self.check_parsed(&parsed)?;
        Ok(parsed)
    }

    /// Same as [`check_url`](Self::check_url) for an already parsed URL
    /// (redirect targets arrive parsed).
    pub(crate) fn check_parsed(&self, url: &Url) -> Result<(), GuardError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_plain_http => {}
            other => {
                return Err(GuardError::SchemeNotAllowed {
                    scheme: other.to_owned(),
                })
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(GuardError::CredentialsInUrl);
        }
        let host = url.host().ok_or(GuardError::MissingHost)?;
        // The `url` crate has already normalised decimal/hex/octal IPv4 forms
        // (`2130706433`, `0x7f.1`) into `Host::Ipv4`, so literals cannot hide.
        let literal = match host {
            Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal {
            if !self.allow_private_addresses && !is_public(ip) {
                return Err(GuardError::PrivateAddress {
                    host: host.to_string(),
                    ip,
                });
            }
        }
        if !self.host_allowed(&host, literal) {
            return Err(GuardError::HostNotAllowed {
                host: host.to_string(),
            });
        }
        Ok(())
    }

    /// Whether a resolved address may be connected to.
    pub(crate) fn address_allowed(&self, ip: IpAddr) -> bool {
        self.allow_private_addresses || is_public(ip)
    }

    fn host_allowed(&self, host: &Host<&str>, literal: Option<IpAddr>) -> bool {
        self.allowed_hosts.iter().any(|entry| {
            let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
            match (literal, host) {
                (Some(ip), _) => entry
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|allowed| allowed == ip),
                (None, Host::Domain(domain)) => {
                    // `url` lowercases and punycodes domains; a trailing dot
                    // names the same host, so it must not dodge the allowlist.
                    domain_matches(&entry, domain.trim_end_matches('.'))
                }
                (None, _) => false,
            }
        })
    }
}

fn domain_matches(entry: &str, domain: &str) -> bool {
    match entry.strip_prefix("*.") {
        // `*.fbcdn.net` matches `a.fbcdn.net` and `a.b.fbcdn.net`, but neither
        // `fbcdn.net` nor `evilfbcdn.net`.
        Some(suffix) if !suffix.is_empty() => domain
            .strip_suffix(suffix)
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty()),
        Some(_) => false,
        None => entry == domain,
    }
}

/// Globally routable unicast only. Besides the ranges the brief names
/// (private, loopback, link-local, CGNAT, unique-local, unspecified) this also
/// refuses multicast, broadcast, reserved, documentation and benchmarking
/// ranges — Meta never serves media from them and they are SSRF-only targets.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0 // "this network", includes 0.0.0.0
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_loopback() // 127/8
        || ip.is_link_local() // 169.254/16 — cloud metadata lives here
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10 CGNAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 IETF protocol assignments
        || ip.is_documentation() // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 198 && (b & 0xfe) == 18) // 198.18/15 benchmarking
        || ip.is_multicast() // 224/4
        || a >= 240; // 240/4 reserved + 255.255.255.255 broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // Addresses that embed an IPv4 address are judged by that address, so
    // `::ffff:127.0.0.1` cannot smuggle loopback past the check.
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast() // ff00::/8
        || ip.is_unique_local() // fc00::/7 (AWS IMDS is fd00:ec2::254)
        || ip.is_unicast_link_local() // fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // fec0::/10 deprecated site-local
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // 2001:db8::/32 documentation
        || (seg[0] == 0x2001 && seg[1] == 0) // 2001::/32 Teredo: tunnels to arbitrary v4
        || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 1) // 64:ff9b:1::/48 local NAT64
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]); // 100::/64 discard
    !blocked
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = || {
        let o = ip.octets();
        Ipv4Addr::new(o[12], o[13], o[14], o[15])
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4); // ::ffff:0:0/96
    }
    if seg[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return Some(tail()); // deprecated IPv4-compatible ::/96
    }
    if seg[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return Some(tail()); // 64:ff9b::/96 well-known NAT64
    }
    if seg[0] == 0x2002 {
        // 2002::/16 6to4 carries the IPv4 address in bits 16..48.
        let o = ip.octets();
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// `scheme://host[:port]/path` — for error messages. Drops userinfo, query and
/// fragment, which may carry signatures or credentials.
pub(crate) fn redact(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{}:{}{}", url.scheme(), host, port, url.path()),
        None => format!("{}://{}{}", url.scheme(), host, url.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(hosts: &[&str]) -> MediaGuard {
        MediaGuard {
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..MediaGuard::meta_defaults()
        }
    }

    #[test]
    fn meta_defaults_accept_meta_urls() {
        let g = MediaGuard::meta_defaults();
        let url = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=x";
        assert_eq!(g.check_url(url).unwrap().as_str(), url);
        assert!(g
            .check_url("https://scontent.xx.fbcdn.net/v/t1/abc.jpg")
            .is_ok());
        assert!(g.check_url("https://LOOKASIDE.FBSBX.COM./x").is_ok());
        assert_eq!(g.max_bytes, 104_857_600);
        assert!(!g.allow_plain_http && !g.allow_private_addresses);
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let g = guard(&["*.fbcdn.net"]);
        assert!(g.check_url("https://a.fbcdn.net/").is_ok());
        assert!(g.check_url("https://a.b.fbcdn.net/").is_ok());
        for bad in [
            "https://fbcdn.net/",
            "https://evilfbcdn.net/",
            "https://fbcdn.net.evil.com/",
            "https://a.fbcdn.net.evil.com/",
        ] {
            assert!(
                matches!(g.check_url(bad), Err(GuardError::HostNotAllowed { .. })),
                "{bad}"
            );
        }
        // A bare `*` or `*.` is not a "match everything" escape hatch.
        assert!(guard(&["*"]).check_url("https://a.com/").is_err());
        assert!(guard(&["*."]).check_url("https://a.com/").is_err());
    }

    #[test]
    fn exact_host_does_not_match_lookalikes() {
        let g = guard(&["lookaside.fbsbx.com"]);
        for bad in [
            "https://lookaside.fbsbx.com.evil.com/",
            "https://evil-lookaside.fbsbx.com/",
            "https://x.lookaside.fbsbx.com/",
            "https://lookaside.fbsbx.co/",
        ] {
            assert!(
                matches!(g.check_url(bad), Err(GuardError::HostNotAllowed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn userinfo_tricks_are_refused() {
        let g = guard(&["lookaside.fbsbx.com"]);
        for bad in [
            "https://lookaside.fbsbx.com@evil.com/",
            "https://lookaside.fbsbx.com:443@evil.com/",
            "https://user:pw@lookaside.fbsbx.com/",
            "https://evil.com@lookaside.fbsbx.com/",
        ] {
            assert_eq!(g.check_url(bad), Err(GuardError::CredentialsInUrl), "{bad}");
        }
        // Backslash is a path separator for special schemes, so this is host
        // `lookaside.fbsbx.com` with path `/@evil.com/` — safe either way.
        let url = g
            .check_url("https://lookaside.fbsbx.com\\@evil.com/")
            .unwrap();
        assert_eq!(url.host_str(), Some("lookaside.fbsbx.com"));
    }

    #[test]
    fn scheme_rules() {
        let g = guard(&["lookaside.fbsbx.com"]);
        assert!(matches!(
            g.check_url("http://lookaside.fbsbx.com/"),
            Err(GuardError::SchemeNotAllowed { scheme }) if scheme == "http"
        ));
        for bad in [
            "ftp://lookaside.fbsbx.com/",
            "file:///etc/passwd",
            "gopher://lookaside.fbsbx.com/",
        ] {
            assert!(
                matches!(g.check_url(bad), Err(GuardError::SchemeNotAllowed { .. })),
                "{bad}"
            );
        }
        let plain = MediaGuard {
            allow_plain_http: true,
            ..g
        };
        assert!(plain.check_url("http://lookaside.fbsbx.com/").is_ok());
        assert!(matches!(
            plain.check_url("not a url"),
            Err(GuardError::InvalidUrl(_))
        ));
        assert!(matches!(
            plain.check_url("/relative"),
            Err(GuardError::InvalidUrl(_))
        ));
    }

    #[test]
    fn private_literals_are_refused_even_if_allowlisted() {
        let literals = [
            ("https://127.0.0.1/", "127.0.0.1"),
            ("https://10.0.0.1/", "10.0.0.1"),
            ("https://172.16.5.4/", "172.16.5.4"),
            ("https://192.168.1.1/", "192.168.1.1"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("https://100.64.0.1/", "100.64.0.1"),
            ("https://0.0.0.0/", "0.0.0.0"),
            // Decimal, hex and shortened forms all normalise to 127.0.0.1.
            ("https://2130706433/", "127.0.0.1"),
            ("https://0x7f000001/", "127.0.0.1"),
            ("https://0x7f.1/", "127.0.0.1"),
            ("https://127.1/", "127.0.0.1"),
            ("https://017700000001/", "127.0.0.1"),
            // Decimal form of 169.254.169.254.
            ("https://2852039166/", "169.254.169.254"),
        ];
        for (url, ip) in literals {
            let g = guard(&[ip]);
            match g.check_url(url) {
                Err(GuardError::PrivateAddress { ip: got, .. }) => {
                    assert_eq!(got, ip.parse::<IpAddr>().unwrap(), "{url}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn ipv6_literals() {
        let g = guard(&[
            "[::1]",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "2606:4700::1111",
        ]);
        for bad in [
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[2002:7f00:1::]/",
        ] {
            assert!(
                matches!(g.check_url(bad), Err(GuardError::PrivateAddress { .. })),
                "{bad}: {:?}",
                g.check_url(bad)
            );
        }
        // A public v6 literal passes only when allowlisted (either spelling).
        assert!(g.check_url("https://[2606:4700::1111]/").is_ok());
        assert!(matches!(
            g.check_url("https://[2606:4700::1112]/"),
            Err(GuardError::HostNotAllowed { .. })
        ));
    }

    #[test]
    fn public_literal_needs_allowlist_and_private_flag_relaxes() {
        let g = guard(&["lookaside.fbsbx.com"]);
        assert!(matches!(
            g.check_url("https://157.240.1.1/"),
            Err(GuardError::HostNotAllowed { .. })
        ));
        let local = MediaGuard {
            allowed_hosts: vec!["127.0.0.1".into()],
            allow_plain_http: true,
            allow_private_addresses: true,
            max_bytes: 1,
        };
        assert!(local.check_url("http://127.0.0.1:8080/x").is_ok());
        // Still an allowlist: other loopback spellings of a different address fail.
        assert!(local.check_url("http://127.0.0.2/").is_err());
    }

    #[test]
    fn address_classification() {
        for ip in [
            "8.8.8.8",
            "157.240.1.1",
            "2a03:2880:f003:c07:face:b00c::2",
            "2606:4700::1111",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.0.1",
            "100.127.255.255",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public("100.128.0.1".parse().unwrap()));
        assert!(is_public("::ffff:8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn redact_drops_query_and_userinfo() {
        let url = Url::parse("https://u:p@h.example:8443/a/b?hash=secret#frag").unwrap();
        assert_eq!(redact(&url), "https://h.example:8443/a/b");
    }
}
