//! Shared helpers for the integration tests (all run against `GraphFake`).
#![allow(dead_code)] // each test binary uses a different subset

use base64::Engine as _;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use switchboard_graph::{Download, GraphClient, GraphConfig, GraphError, GraphFake, MediaGuard};

pub const TOKEN: &str = "EAAG-test-token";
pub const MEDIA_ID: &str = "900000000000001";

pub async fn fake() -> GraphFake {
    let fake = GraphFake::start().await;
    fake.add_token(TOKEN);
    fake
}

pub fn client_with(fake: &GraphFake, tweak: impl FnOnce(&mut MediaGuard)) -> GraphClient {
    let mut config = GraphConfig::for_fake(fake);
    tweak(&mut config.media_guard);
    GraphClient::new(config).expect("client")
}

pub fn client(fake: &GraphFake) -> GraphClient {
    client_with(fake, |_| {})
}

/// Deterministic, non-repeating test content.
pub fn sample_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8)
        .collect()
}

pub async fn collect(download: Download) -> Result<Vec<u8>, GraphError> {
    let mut out = Vec::new();
    let mut body = download.body;
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Count and hash without keeping the bytes: (bytes seen, base64 sha256, first error).
pub async fn drain(download: Download) -> (u64, String, Option<GraphError>) {
    let mut hasher = Sha256::new();
    let mut seen = 0u64;
    let mut body = download.body;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => {
                seen += bytes.len() as u64;
                hasher.update(&bytes);
            }
            Err(e) => return (seen, String::new(), Some(e)),
        }
    }
    (seen, b64(&hasher.finalize()), None)
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Download requests the fake saw.
pub fn downloads_seen(fake: &GraphFake) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.starts_with("GET /whatsapp_business/attachments/"))
        .count()
}
