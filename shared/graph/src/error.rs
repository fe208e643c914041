//! Error type for Graph API calls and media downloads, including the parser
//! for Meta's error envelope (reference §4.4).
//!
//! Messages never contain access tokens, and URLs are only ever reported in
//! redacted form (no query string), because Meta's signed media URLs and CDN
//! URLs carry capability-like query parameters.

use serde::Deserialize;

use crate::guard::GuardError;

/// `code` used in [`GraphError::Api`] / [`GraphError::TokenExpired`] when the
/// response carried no Meta error envelope (e.g. an HTML 502 from a proxy).
/// Deliberately not `0`: Meta uses `0` for "AuthException".
pub const NO_ERROR_CODE: i64 = -1;

/// Meta error codes that mean "temporary, try again later" (reference §4.4):
/// 1 unknown/temporary, 2 service temporarily unavailable, 4 app call-rate
/// limit, 80007 WABA rate limit, 130429 throughput limit, 131000 unknown error
/// ("retry"), 131016 service unavailable, 133004 server temporarily unavailable.
const RETRYABLE_CODES: [i64; 8] = [1, 2, 4, 80007, 130429, 131000, 131016, 133004];

/// Everything that can go wrong talking to the Graph API or downloading media.
///
/// `#[non_exhaustive]` so new failure modes can be added without breaking
/// callers; classify with [`is_retryable`](Self::is_retryable),
/// [`needs_fresh_url`](Self::needs_fresh_url) and
/// [`is_token_problem`](Self::is_token_problem) rather than matching exhaustively.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Meta answered with an error (parsed from the `{"error":{...}}` envelope
    /// when present; `code` is [`NO_ERROR_CODE`] when it was not).
    #[error("graph api error (http {status}, code {code}): {message}")]
    Api {
        status: u16,
        code: i64,
        message: String,
        details: Option<String>,
        fbtrace_id: Option<String>,
    },
    /// The access token is expired or invalid (code 190, code 0 or HTTP 401).
    #[error("access token rejected (code {code}): {message}")]
    TokenExpired { code: i64, message: String },
    /// The media URL answered 404. Meta: the URL expired (they live 5
    /// minutes) — call `media_info` again for a fresh one.
    #[error("media url not found or expired")]
    NotFound,
    /// The URL (or an address it resolved to) was refused by the SSRF guard.
    #[error("media url refused: {0}")]
    Guard(#[from] GuardError),
    /// The body is larger than the configured cap (announced or observed).
    #[error("media larger than the {limit} byte limit")]
    TooLarge { limit: u64 },
    /// A redirect was refused (guard failure or too many hops). `location` is
    /// redacted: scheme, host, port and path only.
    #[error("redirect refused: {location}")]
    Redirect { location: String },
    /// The downloaded bytes do not match the sha256 Meta advertised.
    #[error("media sha256 mismatch (expected {expected}, got {actual})")]
    Integrity { expected: String, actual: String },
    /// Network-level failure: DNS, connect, TLS, timeout, truncated body.
    #[error("transport error: {0}")]
    Transport(String),
    /// A successful response whose body could not be understood.
    #[error("could not decode graph response: {0}")]
    Decode(String),
    /// A caller-supplied value (config, media id, token characters) is unusable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl GraphError {
    /// Worth retrying the same call after a backoff: 5xx, 429, transport
    /// failures and the throttling / temporary Meta codes.
    pub fn is_retryable(&self) -> bool {
        match self {
            GraphError::Api { status, code, .. } => {
                *status >= 500 || *status == 429 || RETRYABLE_CODES.contains(code)
            }
            GraphError::Transport(_) => true,
            _ => false,
        }
    }

    /// The media URL is unusable; call `media_info` again and download the new
    /// URL (Meta §3.2: "On download failure Meta returns 404 → fetch a new URL
    /// and retry"). Also true for guard/redirect refusals and integrity
    /// failures, so a webhook-supplied `url` that fails is replaced by one from
    /// `GET /{media_id}`. Callers must bound how often they do this.
    pub fn needs_fresh_url(&self) -> bool {
        match self {
            GraphError::NotFound
            | GraphError::Guard(_)
            | GraphError::Redirect { .. }
            | GraphError::Integrity { .. } => true,
            // 410 Gone is how signed CDN URLs commonly report expiry.
            GraphError::Api { status, .. } => *status == 410,
            _ => false,
        }
    }

    /// The token must be renewed or re-scoped by an operator: expired/invalid
    /// (190, 0, 401) or lacking a permission (10, 200–299, reference §4.4).
    pub fn is_token_problem(&self) -> bool {
        match self {
            GraphError::TokenExpired { .. } => true,
            GraphError::Api { code, .. } => *code == 10 || (200..=299).contains(code),
            _ => false,
        }
    }

    /// Meta's error `code` for [`Api`](Self::Api) and
    /// [`TokenExpired`](Self::TokenExpired), e.g. `131047` (re-engagement:
    /// send a template), `130429` (throughput), `131056` (pair rate limit),
    /// `131026` (undeliverable), `131050` (user stopped marketing), `190`
    /// (token expired). `None` for the other variants and when the response
    /// carried no Meta error envelope ([`NO_ERROR_CODE`]).
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Api { code, .. } | GraphError::TokenExpired { code, .. }
                if *code != NO_ERROR_CODE =>
            {
                Some(*code)
            }
            _ => None,
        }
    }

    /// Build the error for a non-success response from its status and body.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> GraphError {
        match parse_envelope(body) {
            Some(err) => {
                let code = err.code.unwrap_or(NO_ERROR_CODE);
                let message = err.message.unwrap_or_else(|| format!("HTTP {status}"));
                if code == 190 || code == 0 || status == 401 {
                    return GraphError::TokenExpired { code, message };
                }
                GraphError::Api {
                    status,
                    code,
                    message,
                    details: err.error_data.and_then(|d| d.details),
                    fbtrace_id: err.fbtrace_id,
                }
            }
            // Bodies without an envelope (proxies, CDNs) are not echoed: they
            // may be large HTML pages and add nothing actionable.
            None if status == 401 => GraphError::TokenExpired {
                code: NO_ERROR_CODE,
                message: "HTTP 401 without a Graph error envelope".to_owned(),
            },
            None => GraphError::Api {
                status,
                code: NO_ERROR_CODE,
                message: format!("HTTP {status} without a Graph error envelope"),
                details: None,
                fbtrace_id: None,
            },
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

/// Fields of Meta's error object we act on; `type` and the deprecated
/// `error_subcode` are ignored on purpose (build logic on `code` + `details`).
#[derive(Deserialize)]
struct EnvelopeError {
    message: Option<String>,
    code: Option<i64>,
    error_data: Option<ErrorData>,
    fbtrace_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

fn parse_envelope(body: &[u8]) -> Option<EnvelopeError> {
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .map(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: i64) -> GraphError {
        GraphError::Api {
            status,
            code,
            message: String::new(),
            details: None,
            fbtrace_id: None,
        }
    }

    #[test]
    fn parses_full_envelope() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"slow down"},"error_subcode":2494055,"fbtrace_id":"Az1"}}"#;
        match GraphError::from_response(400, body) {
            GraphError::Api {
                status,
                code,
                message,
                details,
                fbtrace_id,
            } => {
                assert_eq!((status, code), (400, 130429));
                assert_eq!(message, "(#130429) Rate limit hit");
                assert_eq!(details.as_deref(), Some("slow down"));
                assert_eq!(fbtrace_id.as_deref(), Some("Az1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn token_codes_and_401_map_to_token_expired() {
        let body190 = br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190}}"#;
        let body0 = br#"{"error":{"message":"AuthException","code":0}}"#;
        for (status, body) in [(400u16, &body190[..]), (401, &body0[..]), (401, b"<html>")] {
            let err = GraphError::from_response(status, body);
            assert!(
                matches!(err, GraphError::TokenExpired { .. }),
                "{status}: {err:?}"
            );
            assert!(err.is_token_problem());
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn non_envelope_bodies_do_not_look_like_code_zero() {
        let err = GraphError::from_response(502, b"<html>bad gateway</html>");
        assert!(matches!(
            err,
            GraphError::Api {
                status: 502,
                code: NO_ERROR_CODE,
                ..
            }
        ));
        assert!(err.is_retryable());
        assert!(!err.is_token_problem());
    }

    #[test]
    fn retryable_classification() {
        for code in RETRYABLE_CODES {
            assert!(api(400, code).is_retryable(), "{code}");
        }
        assert!(api(500, 3).is_retryable());
        assert!(api(429, NO_ERROR_CODE).is_retryable());
        assert!(GraphError::Transport("reset".into()).is_retryable());
        assert!(!api(400, 100).is_retryable());
        assert!(!api(400, 131026).is_retryable());
        assert!(!GraphError::NotFound.is_retryable());
        assert!(!GraphError::TooLarge { limit: 1 }.is_retryable());
    }

    #[test]
    fn code_is_metas_code_or_none() {
        assert_eq!(api(400, 131047).code(), Some(131047));
        assert_eq!(api(400, 0).code(), Some(0));
        assert_eq!(api(502, NO_ERROR_CODE).code(), None);
        let expired = GraphError::from_response(
            401,
            br#"{"error":{"message":"Error validating access token","code":190}}"#,
        );
        assert_eq!(expired.code(), Some(190));
        assert_eq!(GraphError::from_response(401, b"<html>").code(), None);
        assert_eq!(GraphError::NotFound.code(), None);
        assert_eq!(GraphError::Transport("reset".into()).code(), None);
    }

    #[test]
    fn fresh_url_and_token_classification() {
        assert!(GraphError::NotFound.needs_fresh_url());
        assert!(GraphError::Guard(GuardError::CredentialsInUrl).needs_fresh_url());
        assert!(GraphError::Redirect {
            location: "x".into()
        }
        .needs_fresh_url());
        assert!(api(410, NO_ERROR_CODE).needs_fresh_url());
        assert!(!api(500, 2).needs_fresh_url());
        assert!(api(403, 10).is_token_problem());
        assert!(api(403, 200).is_token_problem());
        assert!(!api(400, 100).is_token_problem());
    }
}
