//! Enforcement of the [`MediaGuard`] policy inside reqwest: a DNS resolver
//! that drops non-public answers, a redirect policy that re-checks every hop,
//! and mapping of reqwest errors back to [`GraphError`].
//!
//! The resolver matters because `check_url` only sees names: `media.evil.com`
//! may resolve to 127.0.0.1 (or start doing so after the check — DNS
//! rebinding). Filtering at resolution time, in the connector, closes both.
//! Literal IPs never reach a resolver, which is why `check_url` judges them.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::{Attempt, Policy};
use url::Url;

use crate::error::GraphError;
use crate::guard::{redact, GuardError, MediaGuard};

/// Redirect hops followed before giving up.
pub(crate) const MAX_REDIRECTS: usize = 3;

/// Resolves with the system resolver, then keeps only addresses the guard
/// allows. Fails with [`BlockedAddress`] when nothing usable is left.
pub(crate) struct GuardedResolver {
    pub(crate) guard: Arc<MediaGuard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.guard);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest substitutes the URL's port afterwards.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| guard.address_allowed(addr.ip()))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(first)) => Err(Box::new(BlockedAddress {
                    host,
                    ip: first.ip(),
                    only_one: resolved.len() == 1,
                }) as Box<dyn StdError + Send + Sync>),
                (true, None) => Err(format!("no addresses for {host}").into()),
            }
        })
    }
}

/// Carried through reqwest's error chain so `map_reqwest_error` can turn a
/// filtered DNS answer into a [`GuardError`] instead of a generic transport error.
#[derive(Debug)]
pub(crate) struct BlockedAddress {
    host: String,
    ip: IpAddr,
    only_one: bool,
}

impl std::fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves only to non-public addresses", self.host)
    }
}

impl StdError for BlockedAddress {}

impl BlockedAddress {
    fn into_guard_error(self) -> GuardError {
        if self.only_one {
            GuardError::PrivateAddress {
                host: self.host,
                ip: self.ip,
            }
        } else {
            GuardError::NoPublicAddress { host: self.host }
        }
    }
}

/// Carried through reqwest's error chain to become [`GraphError::Redirect`].
#[derive(Debug)]
pub(crate) struct RedirectRefused {
    /// Already redacted.
    location: String,
    reason: String,
}

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {} refused: {}", self.location, self.reason)
    }
}

impl StdError for RedirectRefused {}

/// Decide one redirect hop. `hops_so_far` counts URLs already requested
/// (reqwest's `previous()`: the original URL plus earlier redirect targets).
pub(crate) fn check_redirect(
    guard: &MediaGuard,
    next: &Url,
    hops_so_far: usize,
) -> Result<(), RedirectRefused> {
    let refuse = |reason: String| RedirectRefused {
        location: redact(next),
        reason,
    };
    if hops_so_far > MAX_REDIRECTS {
        return Err(refuse(format!("more than {MAX_REDIRECTS} redirects")));
    }
    guard.check_parsed(next).map_err(|e| refuse(e.to_string()))
}

pub(crate) fn redirect_policy(guard: Arc<MediaGuard>) -> Policy {
    Policy::custom(move |attempt: Attempt| {
        match check_redirect(&guard, attempt.url(), attempt.previous().len()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// Translate a reqwest failure, recognising our own errors in its source chain.
/// The URL is stripped from reqwest's message: it may carry signatures.
pub(crate) fn map_reqwest_error(err: reqwest::Error) -> GraphError {
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RedirectRefused>() {
            return GraphError::Redirect {
                location: refused.location.clone(),
            };
        }
        if let Some(blocked) = cause.downcast_ref::<BlockedAddress>() {
            return GraphError::Guard(
                BlockedAddress {
                    host: blocked.host.clone(),
                    ip: blocked.ip,
                    only_one: blocked.only_one,
                }
                .into_guard_error(),
            );
        }
        source = cause.source();
    }
    if err.is_decode() {
        return GraphError::Decode(describe(err));
    }
    GraphError::Transport(describe(err))
}

/// reqwest's top-level message ("error sending request") is vague; append the
/// cause chain, which holds the useful part (connection refused, timeout, …).
fn describe(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if timeout && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> MediaGuard {
        MediaGuard {
            allowed_hosts: vec![
                "lookaside.fbsbx.com".into(),
                "*.fbcdn.net".into(),
                "10.0.0.1".into(),
            ],
            ..MediaGuard::meta_defaults()
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn redirect_to_allowed_host_is_followed_up_to_the_limit() {
        let g = guard();
        let next = url("https://scontent.xx.fbcdn.net/v/abc?sig=1");
        for hops in 1..=MAX_REDIRECTS {
            assert!(check_redirect(&g, &next, hops).is_ok(), "{hops}");
        }
        let refused = check_redirect(&g, &next, MAX_REDIRECTS + 1).unwrap_err();
        assert_eq!(refused.location, "https://scontent.xx.fbcdn.net/v/abc");
    }

    #[test]
    fn redirect_downgrade_private_and_foreign_hosts_are_refused() {
        let g = guard();
        for bad in [
            "http://lookaside.fbsbx.com/x",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://127.0.0.1/",
            "https://evil.example/",
            "https://lookaside.fbsbx.com@evil.example/",
        ] {
            let refused = check_redirect(&g, &url(bad), 1).unwrap_err();
            assert!(!refused.location.contains('?'), "{bad}");
        }
    }
}
