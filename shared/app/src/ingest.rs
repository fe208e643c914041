//! The webhook use case: verify, split, enqueue, and only then acknowledge.

use std::sync::Arc;

use switchboard_core::signature::{verify_signature, SignatureError};
use switchboard_core::split_webhook;

use crate::envelope::seal;
use crate::ports::{BlobError, BlobStore, Clock, Queue, QueueError};

/// Meta's documented maximum webhook payload (reference §1.8).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Secrets of the Meta app: the app secret signs POSTs, the verify token answers the GET handshake.
#[derive(Clone)]
pub struct WebhookSecrets {
    pub app_secret: String,
    pub verify_token: String,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets { .. }")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("body is {0} bytes; the limit is {MAX_BODY_BYTES}")]
    TooLarge(usize),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("could not enqueue: {0}")]
    Enqueue(#[from] QueueError),
    #[error("could not store an oversized event: {0}")]
    ClaimCheck(#[from] BlobError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub events: usize,
}

pub struct Ingest {
    pub secrets: WebhookSecrets,
    pub queue: Arc<dyn Queue>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
}

impl Ingest {
    /// The GET handshake: the challenge to echo back, or `None` (→ 403).
    pub fn verify_subscription<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Option<&'a str> {
        let token_ok = token
            .is_some_and(|t| constant_time_eq(t.as_bytes(), self.secrets.verify_token.as_bytes()));
        (mode == Some("subscribe") && token_ok)
            .then_some(challenge)
            .flatten()
    }

    /// A POST: every event of the body is on the queue when this returns `Ok`.
    pub async fn accept(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Accepted, IngestError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(IngestError::TooLarge(body.len()));
        }
        verify_signature(self.secrets.app_secret.as_bytes(), body, signature)?;
        let events = split_webhook(body, self.clock.now());
        let mut messages = Vec::with_capacity(events.len());
        for event in &events {
            messages.push(seal(event, self.blobs.as_ref()).await?);
        }
        self.queue.send_batch(&messages).await?;
        for e in &events {
            tracing::info!(event_key = %e.key, kind = e.kind_name(), field = %e.field, "enqueued");
        }
        Ok(Accepted {
            events: events.len(),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Length leaks, contents do not.
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
