//! Media types: the `GET /{media_id}` answer and a streamed download.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::error::GraphError;

/// Answer of `GET /{version}/{media_id}` (reference §3.1).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub id: String,
    /// Download URL; valid for 5 minutes and only with the bearer token.
    pub url: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Base64 SHA-256 of the bytes, exactly as Meta sends it.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Meta documents a placeholder string but sends a number in practice;
    /// both are accepted. Anything else becomes `None` rather than failing
    /// the call: the size is advisory, the download cap is the real limit.
    #[serde(default, deserialize_with = "lenient_size")]
    pub file_size: Option<u64>,
}

// Manual Debug: the URL's query (`hash=…`) is a capability; keep it out of logs.
impl fmt::Debug for MediaInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = url::Url::parse(&self.url)
            .map(|u| crate::guard::redact(&u))
            .unwrap_or_else(|_| "<unparseable>".to_owned());
        f.debug_struct("MediaInfo")
            .field("id", &self.id)
            .field("url", &url)
            .field("mime_type", &self.mime_type)
            .field("sha256", &self.sha256)
            .field("file_size", &self.file_size)
            .finish()
    }
}

fn lenient_size<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(de)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A download in progress. The body is a stream so a 100 MB file never sits
/// in memory; it already enforces the guard's `max_bytes` and ends with
/// `Err(TooLarge)` (dropping the connection) once the cap is passed.
pub struct Download {
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    pub body: BoxStream<'static, Result<Bytes, GraphError>>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// Check the bytes against Meta's `sha256` while they stream. On mismatch
    /// the stream's last item is `Err(Integrity)` instead of a clean end, so a
    /// consumer writing to storage must treat the object as unusable.
    ///
    /// `expected` is base64 (what Meta sends); 64-char hex is also accepted
    /// because the encoding is only inferred from examples (reference §3.2).
    pub fn verify_sha256(self, expected: &str) -> Result<Download, GraphError> {
        let want = decode_digest(expected).ok_or_else(|| {
            GraphError::InvalidInput("sha256 is neither base64 nor hex of 32 bytes".to_owned())
        })?;
        let expected = expected.to_owned();
        let mut inner = self.body;
        let mut hasher = Some(Sha256::new());
        let body = futures_util::stream::poll_fn(move |cx| {
            let Some(h) = hasher.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    h.update(&chunk);
                    Poll::Ready(Some(Ok(chunk)))
                }
                Poll::Ready(Some(Err(e))) => {
                    hasher = None; // an error ends the stream; no verdict
                    Poll::Ready(Some(Err(e)))
                }
                Poll::Ready(None) => {
                    let got = hasher.take().map(|h| h.finalize()).unwrap_or_default();
                    if got.as_slice() == want.as_slice() {
                        Poll::Ready(None)
                    } else {
                        Poll::Ready(Some(Err(GraphError::Integrity {
                            expected: expected.clone(),
                            actual: base64::engine::general_purpose::STANDARD.encode(got),
                        })))
                    }
                }
                Poll::Pending => Poll::Pending,
            }
        });
        Ok(Download {
            content_type: self.content_type,
            content_length: self.content_length,
            body: body.boxed(),
        })
    }
}

fn decode_digest(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?
    };
    (bytes.len() == 32).then_some(bytes)
}

/// Counts bytes and stops the stream with `TooLarge` once `limit` is passed.
/// Needed even when Content-Length was checked: chunked responses have none,
/// and a server may simply send more than it announced.
pub(crate) struct Capped<S> {
    inner: S,
    seen: u64,
    limit: u64,
    done: bool,
}

impl<S> Capped<S> {
    pub(crate) fn new(inner: S, limit: u64) -> Self {
        Capped {
            inner,
            seen: 0,
            limit,
            done: false,
        }
    }
}

impl<S> Stream for Capped<S>
where
    S: Stream<Item = Result<Bytes, GraphError>> + Unpin,
{
    type Item = Result<Bytes, GraphError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen = self.seen.saturating_add(chunk.len() as u64);
                if self.seen > self.limit {
                    // Fuse: the caller sees one error, and dropping the
                    // stream then drops the connection mid-body.
                    self.done = true;
                    let limit = self.limit;
                    return Poll::Ready(Some(Err(GraphError::TooLarge { limit })));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    #[test]
    fn file_size_accepts_number_string_and_junk() {
        let parse = |size: &str| {
            let json = format!(
                r#"{{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/x","mime_type":"image/jpeg","sha256":"abc","file_size":{size},"id":"9"}}"#
            );
            serde_json::from_str::<MediaInfo>(&json).unwrap().file_size
        };
        assert_eq!(parse("204800"), Some(204_800));
        assert_eq!(parse(r#""204800""#), Some(204_800));
        assert_eq!(parse(r#""<FILE_SIZE>""#), None);
        assert_eq!(parse("null"), None);
        assert_eq!(parse("-1"), None);
        let minimal: MediaInfo = serde_json::from_str(r#"{"id":"1","url":"https://x/"}"#).unwrap();
        assert_eq!(minimal.file_size, None);
        assert!(serde_json::from_str::<MediaInfo>(r#"{"id":"1"}"#).is_err());
    }

    #[test]
    fn debug_hides_url_query() {
        let info = MediaInfo {
            id: "1".into(),
            url: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&hash=SECRET"
                .into(),
            mime_type: None,
            sha256: None,
            file_size: None,
        };
        let text = format!("{info:?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("lookaside.fbsbx.com"));
    }

    fn chunks(parts: &[&'static [u8]]) -> BoxStream<'static, Result<Bytes, GraphError>> {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    #[tokio::test]
    async fn capped_passes_at_limit_and_fails_past_it() {
        let ok: Vec<_> = Capped::new(chunks(&[b"ab", b"cd"]), 4).collect().await;
        assert!(ok.iter().all(|c| c.is_ok()));
        let over: Vec<_> = Capped::new(chunks(&[b"ab", b"cd", b"e", b"f"]), 4)
            .collect()
            .await;
        assert_eq!(over.len(), 3, "stream is fused after the error");
        assert!(matches!(over[2], Err(GraphError::TooLarge { limit: 4 })));
    }

    #[tokio::test]
    async fn verify_sha256_accepts_base64_and_hex_and_flags_mismatch() {
        let digest = Sha256::digest(b"hello");
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        let hexed = hex::encode(digest);
        for expected in [b64.as_str(), hexed.as_str()] {
            let dl = Download {
                content_type: None,
                content_length: None,
                body: chunks(&[b"hel", b"lo"]),
            };
            let items: Vec<_> = dl.verify_sha256(expected).unwrap().body.collect().await;
            assert!(items.iter().all(|i| i.is_ok()));
        }
        let dl = Download {
            content_type: None,
            content_length: None,
            body: chunks(&[b"hellO"]),
        };
        let items: Vec<_> = dl.verify_sha256(&b64).unwrap().body.collect().await;
        assert!(matches!(
            items.last(),
            Some(Err(GraphError::Integrity { .. }))
        ));
        let dl = Download {
            content_type: None,
            content_length: None,
            body: chunks(&[]),
        };
        assert!(matches!(
            dl.verify_sha256("not-a-digest"),
            Err(GraphError::InvalidInput(_))
        ));
    }
}
