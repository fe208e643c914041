//! The Graph API client: `GET /{media_id}`, guarded media downloads,
//! `POST /{waba_id}/message_templates`, `POST /{phone_number_id}/messages`,
//! and the shared request helpers the onboarding calls (`onboarding.rs`) use.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::{redirect, Response};
use url::Url;

use crate::error::GraphError;
use crate::guard::{redact, MediaGuard};
use crate::media::{Capped, Download, MediaInfo};
use crate::net::{map_reqwest_error, redirect_policy, GuardedResolver};
use crate::send::SentMessage;
use crate::template::CreatedTemplate;

/// Error bodies are read only this far: enough for Meta's envelope, bounded
/// so a hostile or broken endpoint cannot make us buffer a large page.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// `GET /{media_id}` answers are a few hundred bytes.
const MAX_INFO_BODY: usize = 256 * 1024;

/// How to reach the Graph API and what media downloads may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// `https://graph.facebook.com` in production; a path prefix is allowed.
    pub base_url: String,
    /// Graph API version path segment, e.g. `v23.0`.
    pub version: String,
    pub media_guard: MediaGuard,
    /// Total deadline for Graph API calls (`media_info`, templates, sends,
    /// onboarding). Downloads use it as connect timeout and as the longest
    /// pause between body chunks instead: a total deadline would kill a slow
    /// but healthy 100 MB transfer.
    pub timeout: Duration,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            base_url: "https://graph.facebook.com".to_owned(),
            version: "v23.0".to_owned(),
            media_guard: MediaGuard::meta_defaults(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl GraphConfig {
    /// The defaults, overridden by `GRAPH_BASE_URL` and `GRAPH_VERSION`. `GRAPH_ALLOW_HOST` admits
    /// exactly one extra media host over plain HTTP, private addresses included: only for a fake
    /// Graph API on the same machine (local runs of the functions), never in a deployed stack.
    pub fn from_env(timeout: Duration) -> Self {
        let mut config = GraphConfig {
            timeout,
            ..GraphConfig::default()
        };
        if let Ok(url) = std::env::var("GRAPH_BASE_URL") {
            config.base_url = url;
        }
        if let Ok(version) = std::env::var("GRAPH_VERSION") {
            config.version = version;
        }
        if let Ok(host) = std::env::var("GRAPH_ALLOW_HOST") {
            config.media_guard.allowed_hosts = vec![host];
            config.media_guard.allow_plain_http = true;
            config.media_guard.allow_private_addresses = true;
        }
        config
    }
}

/// Cheap to clone (shared state behind an `Arc`). Holds no token: tokens are
/// passed per call, so nothing secret can leak through `Debug` or logs.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Talks to the configured Graph base URL only. Trusted config, so no
    /// address filtering (the fake lives on loopback) and no redirects.
    api: reqwest::Client,
    /// Fetches media URLs: guarded resolver, guarded redirects, no proxy.
    media: reqwest::Client,
    base: Url,
    version: String,
    guard: Arc<MediaGuard>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.inner.base.as_str())
            .field("version", &self.inner.version)
            .field("media_guard", &self.inner.guard)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        Self::with_dns_overrides(config, &[])
    }

    /// Like [`new`](Self::new), but pins the given host names to fixed
    /// addresses for media downloads. Pinned names bypass DNS *and* the
    /// private-address filter (the guard's scheme/allowlist checks still
    /// apply), so use it only for addresses you control: a VPC egress proxy,
    /// or a test pointing a public-looking name at a loopback fake.
    pub fn with_dns_overrides(
        config: GraphConfig,
        overrides: &[(&str, SocketAddr)],
    ) -> Result<Self, GraphError> {
        let base = Url::parse(&config.base_url)
            .map_err(|e| GraphError::InvalidInput(format!("base_url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(GraphError::InvalidInput(
                "base_url must be an http(s) URL".to_owned(),
            ));
        }
        check_segment("version", &config.version)?;
        if config.timeout.is_zero() {
            return Err(GraphError::InvalidInput("timeout must be > 0".to_owned()));
        }
        let guard = Arc::new(config.media_guard);
        let user_agent = concat!("switchboard-graph/", env!("CARGO_PKG_VERSION"));
        let build_err = |e: reqwest::Error| GraphError::InvalidInput(format!("http client: {e}"));

        let api = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(config.timeout)
            .redirect(redirect::Policy::none())
            .build()
            .map_err(build_err)?;

        let mut media = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(config.timeout)
            .read_timeout(config.timeout)
            .redirect(redirect_policy(Arc::clone(&guard)))
            // A Referer would hand the signed previous URL to the next hop.
            .referer(false)
            // A proxy resolves names itself, bypassing the guarded resolver;
            // also neutralises the `system-proxy` feature if another crate
            // in the build turns it on.
            .no_proxy()
            .dns_resolver(GuardedResolver {
                guard: Arc::clone(&guard),
            });
        for (host, addr) in overrides {
            media = media.resolve(host, *addr);
        }
        let media = media.build().map_err(build_err)?;

        Ok(GraphClient {
            inner: Arc::new(Inner {
                api,
                media,
                base,
                version: config.version,
                guard,
            }),
        })
    }

    /// The guard downloads are checked against.
    pub fn media_guard(&self) -> &MediaGuard {
        &self.inner.guard
    }

    /// `GET {base}/{version}/{media_id}[?phone_number_id=..]` with the bearer
    /// token. `phone_number_id` makes Meta refuse media of other numbers.
    pub async fn media_info(
        &self,
        token: &str,
        media_id: &str,
        phone_number_id: Option<&str>,
    ) -> Result<MediaInfo, GraphError> {
        check_segment("media_id", media_id)?;
        let mut query = Vec::new();
        if let Some(phone) = phone_number_id {
            check_segment("phone_number_id", phone)?;
            query.push(("phone_number_id", phone));
        }
        let body = self.get_json(token, media_id, None, &query).await?;
        serde_json::from_slice::<MediaInfo>(&body).map_err(|e| GraphError::Decode(e.to_string()))
    }

    /// `POST {base}/{version}/{waba_id}/message_templates` with the bearer
    /// token and `template` as the JSON body (reference §6.1), e.g.
    /// `{"name","language","category","components":[..]}`.
    ///
    /// `waba_id` must be all digits (checked before any request is made).
    /// Meta's rejections come back as [`GraphError::Api`]: code 100 for
    /// invalid parameters (also "Content in this language already exists" in
    /// `details` for a duplicate name+language), 2388xxx for template content
    /// problems, 4 / 80007 for rate limits (`is_retryable`); expired tokens
    /// as [`GraphError::TokenExpired`]. Not retried here: a create that timed
    /// out may still have succeeded, so retrying can yield a duplicate error.
    pub async fn create_template(
        &self,
        token: &str,
        waba_id: &str,
        template: &serde_json::Value,
    ) -> Result<CreatedTemplate, GraphError> {
        check_waba_id(waba_id)?;
        let body = self
            .post_json(token, waba_id, "message_templates", &[], template)
            .await?;
        serde_json::from_slice::<CreatedTemplate>(&body)
            .map_err(|e| GraphError::Decode(e.to_string()))
    }

    /// `POST {base}/{version}/{phone_number_id}/messages` with the bearer
    /// token and `body` as the JSON body, built by the caller (reference
    /// §4.1–4.3), e.g. `{"messaging_product":"whatsapp","to":"+1555…",
    /// "type":"text","text":{"body":"…"}}`; `"recipient": "<BSUID>"` instead
    /// of `to` for business-scoped user ids (§2.2).
    ///
    /// `phone_number_id` must be all digits (checked before any request is
    /// made). Success only means *accepted*: see [`SentMessage`]. Meta's
    /// rejections come back as [`GraphError::Api`]; map
    /// [`GraphError::code`] to an action: 131047 outside the 24 h window
    /// (send a template), 130429 throughput and 131056 pair rate limit (back
    /// off), 131026 undeliverable, 131050 user stopped marketing, 100 /
    /// 131008 / 131009 a bad body; expired tokens as
    /// [`GraphError::TokenExpired`]. Not retried here: a send that timed out
    /// may still have been accepted, so a blind retry can deliver twice.
    pub async fn send_message(
        &self,
        token: &str,
        phone_number_id: &str,
        body: &serde_json::Value,
    ) -> Result<SentMessage, GraphError> {
        check_numeric_id("phone_number_id", phone_number_id)?;
        let answer = self
            .post_json(token, phone_number_id, "messages", &[], body)
            .await?;
        SentMessage::from_body(&answer).map_err(GraphError::Decode)
    }

    /// `{base}/{version}/{id}[/{edge}]`. `id` is checked by callers.
    fn node_url(&self, id: &str, edge: Option<&str>) -> Result<Url, GraphError> {
        let mut url = self.inner.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| GraphError::InvalidInput("base_url cannot be a base".to_owned()))?;
            segments.pop_if_empty().push(&self.inner.version).push(id);
            if let Some(edge) = edge {
                segments.push(edge);
            }
        }
        Ok(url)
    }

    /// `POST {base}/{version}/{id}/{edge}[?query]` with a JSON body; returns
    /// the (bounded) success body or the mapped error. `id` is checked by
    /// callers; query values are percent-encoded here.
    pub(crate) async fn post_json(
        &self,
        token: &str,
        id: &str,
        edge: &str,
        query: &[(&str, &str)],
        json: &serde_json::Value,
    ) -> Result<Vec<u8>, GraphError> {
        let body = serde_json::to_vec(json).map_err(|e| GraphError::InvalidInput(e.to_string()))?;
        let mut url = self.node_url(id, Some(edge))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let response = self
            .inner
            .api
            .post(url)
            .header(AUTHORIZATION, bearer(token)?)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(map_reqwest_error)?;
        if !response.status().is_success() {
            return Err(error_from(response).await);
        }
        read_limited(response, MAX_INFO_BODY).await
    }

    /// `GET {base}/{version}/{id}[/{edge}][?query]`; returns the (bounded)
    /// success body or the mapped error. `id` is checked by callers.
    pub(crate) async fn get_json(
        &self,
        token: &str,
        id: &str,
        edge: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, GraphError> {
        let mut url = self.node_url(id, edge)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let response = self
            .inner
            .api
            .get(url)
            .header(AUTHORIZATION, bearer(token)?)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(map_reqwest_error)?;
        if !response.status().is_success() {
            return Err(error_from(response).await);
        }
        read_limited(response, MAX_INFO_BODY).await
    }

    /// GET a media URL with the bearer token. The URL must pass the guard; the
    /// returned body streams and is capped at `max_bytes`.
    ///
    /// A 404 is [`GraphError::NotFound`]: per Meta the URL expired, so call
    /// [`media_info`](Self::media_info) again and download the new URL.
    pub async fn download(&self, token: &str, url: &str) -> Result<Download, GraphError> {
        let url = self.inner.guard.check_url(url)?;
        let limit = self.inner.guard.max_bytes;
        let response = self
            .inner
            .media
            .get(url)
            .header(AUTHORIZATION, bearer(token)?)
            .send()
            .await
            .map_err(map_reqwest_error)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(GraphError::NotFound);
        }
        if status.is_redirection() {
            // The policy follows or errors; a 3xx here had no usable Location.
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| response.url().join(v).ok())
                .map(|u| redact(&u))
                .unwrap_or_default();
            return Err(GraphError::Redirect { location });
        }
        if !status.is_success() {
            return Err(error_from(response).await);
        }
        let content_length = response.content_length();
        if content_length.is_some_and(|n| n > limit) {
            // Dropping the response closes the connection before the body.
            return Err(GraphError::TooLarge { limit });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes_stream().map_err(map_reqwest_error).boxed();
        Ok(Download {
            content_type,
            content_length,
            body: Capped::new(body, limit).boxed(),
        })
    }
}

/// Path segments we interpolate must be plain ids, so a hostile value cannot
/// steer the token to another Graph endpoint (`../me`, `x?fields=`).
fn check_segment(what: &str, value: &str) -> Result<(), GraphError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && value != "."
        && value != "..";
    if ok {
        Ok(())
    } else {
        Err(GraphError::InvalidInput(format!(
            "{what} must be 1-128 characters of [A-Za-z0-9_.-]"
        )))
    }
}

/// WABA ids are numeric Graph ids; anything else could steer the token to
/// another endpoint.
fn check_waba_id(value: &str) -> Result<(), GraphError> {
    check_numeric_id("waba_id", value)
}

/// WABA and phone-number ids are numeric Graph ids; anything else could steer
/// the token to another endpoint.
pub(crate) fn check_numeric_id(what: &str, value: &str) -> Result<(), GraphError> {
    if !value.is_empty() && value.len() <= 64 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(GraphError::InvalidInput(format!(
            "{what} must be 1-64 decimal digits"
        )))
    }
}

/// `Bearer <token>`, marked sensitive so hyper never indexes it in HPACK
/// tables and `Debug` of the header map shows `Sensitive`.
fn bearer(token: &str) -> Result<HeaderValue, GraphError> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
        // Never echo the token itself.
        GraphError::InvalidInput("token contains characters not allowed in a header".to_owned())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

async fn error_from(response: Response) -> GraphError {
    let status = response.status().as_u16();
    // A body that cannot be read still yields a status-based error.
    let body = read_limited(response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    GraphError::from_response(status, &body)
}

/// Read at most `limit` bytes of a body (truncating, not failing, beyond it).
async fn read_limited(response: Response, limit: usize) -> Result<Vec<u8>, GraphError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(map_reqwest_error)?;
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_reject_path_and_query_tricks() {
        for ok in ["900000000000001", "v23.0", "abc_DEF-1"] {
            assert!(check_segment("x", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../me",
            "1?fields=x",
            "1/2",
            "1#x",
            "1%2F",
            "a b",
        ] {
            assert!(check_segment("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn waba_id_must_be_digits() {
        assert!(check_waba_id("102290129340398").is_ok());
        for bad in ["", "12a", "1.2", "../me", "1/2", "1?x=y", " 1", "١٢٣"] {
            assert!(check_waba_id(bad).is_err(), "{bad}");
        }
        assert!(check_waba_id(&"1".repeat(65)).is_err());
        let err = check_numeric_id("phone_number_id", "../me").unwrap_err();
        assert!(err.to_string().contains("phone_number_id"), "{err}");
        assert!(check_numeric_id("phone_number_id", "106540352242922").is_ok());
    }

    #[test]
    fn bearer_is_sensitive_and_rejects_header_injection() {
        let value = bearer("EAAG").unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer EAAG");
        let err = bearer("abc\r\nX-Evil: 1").unwrap_err();
        assert!(!err.to_string().contains("abc"));
    }

    #[test]
    fn config_validation() {
        assert!(GraphClient::new(GraphConfig::default()).is_ok());
        let bad = |f: fn(&mut GraphConfig)| {
            let mut c = GraphConfig::default();
            f(&mut c);
            GraphClient::new(c).is_err()
        };
        assert!(bad(|c| c.base_url = "not a url".into()));
        assert!(bad(|c| c.base_url = "ftp://graph.facebook.com".into()));
        assert!(bad(|c| c.version = "v23.0/../x".into()));
        assert!(bad(|c| c.timeout = Duration::ZERO));
    }

    #[test]
    fn debug_shows_config_not_secrets() {
        let client = GraphClient::new(GraphConfig::default()).unwrap();
        let text = format!("{client:?}");
        assert!(
            text.contains("graph.facebook.com") && text.contains("v23.0"),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("bearer"));
    }
}
