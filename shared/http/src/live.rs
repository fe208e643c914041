//! Live updates by conditional polling: every successful JSON GET carries a strong `ETag` (a hash
//! of the body), and a request whose `If-None-Match` names it gets `304 Not Modified` with no
//! body. The console polls every couple of seconds and only re-renders on a change; the same
//! works through API Gateway on AWS, where no connection outlives a request.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub async fn etag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Handlers answer with JSON already serialised in memory: buffering copies nothing new, and
    // an in-memory body cannot fail to read.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "reading a response body");
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    let digest = Sha256::digest(&bytes);
    let tag = format!("\"{}\"", hex_prefix(&digest));
    let tag_value = HeaderValue::from_str(&tag).expect("hex is a valid header value");
    // Responses depend on the caller's token: caches may keep them only for that caller.
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    parts.headers.insert(header::ETAG, tag_value.clone());
    let matched = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matched {
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        let mut res = Response::from_parts(parts, Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn hex_prefix(digest: &[u8]) -> String {
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}
