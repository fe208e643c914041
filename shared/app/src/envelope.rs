//! What travels on the events queue: an event, or a pointer to it in blob storage (claim check)
//! when the event is too big for a queue message.

use serde::{Deserialize, Serialize};
use switchboard_core::event::sha256_hex;
use switchboard_core::Event;

use crate::ports::{queue::MAX_MESSAGE_BYTES, BlobError, BlobStore, OutgoingMessage};

/// Events bigger than this go to blob storage; the headroom leaves space for the envelope.
pub const CLAIM_CHECK_THRESHOLD: usize = MAX_MESSAGE_BYTES - 8 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Envelope {
    Event(Box<Event>),
    Claim { blob_key: String, event_key: String },
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("queue message is not an envelope: {0}")]
    Corrupt(String),
    #[error("claim-checked event {0} is missing from blob storage")]
    MissingClaim(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// The queue message carrying `event` inline, or `Err(encoded_len)` when it is too big for one.
pub fn encode_inline(event: &Event) -> Result<OutgoingMessage, usize> {
    // Same JSON as `Envelope::Event`, without cloning the event.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Borrowed<'a> {
        Event(&'a Event),
    }
    let body = serde_json::to_string(&Borrowed::Event(event)).expect("events always serialise");
    if body.len() > CLAIM_CHECK_THRESHOLD {
        return Err(body.len());
    }
    Ok(OutgoingMessage {
        group: event.group.clone(),
        dedup_id: event.dedup_id(),
        body,
    })
}

/// The queue message for an event, storing its body in `blobs` first when it is too big.
pub async fn seal(event: &Event, blobs: &dyn BlobStore) -> Result<OutgoingMessage, BlobError> {
    if let Ok(message) = encode_inline(event) {
        return Ok(message);
    }
    let blob_key = format!("claims/{}.json", sha256_hex(event.key.as_bytes()));
    let bytes = serde_json::to_vec(event).expect("events always serialise");
    blobs.put(&blob_key, bytes, "application/json").await?;
    let body = serde_json::to_string(&Envelope::Claim {
        blob_key,
        event_key: event.key.clone(),
    })
    .expect("envelopes always serialise");
    Ok(OutgoingMessage {
        group: event.group.clone(),
        dedup_id: event.dedup_id(),
        body,
    })
}

/// The event a queue message carries, fetching it from blob storage for a claim.
pub async fn open(body: &str, blobs: &dyn BlobStore) -> Result<Event, EnvelopeError> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|e| EnvelopeError::Corrupt(e.to_string()))?;
    match envelope {
        Envelope::Event(e) => Ok(*e),
        Envelope::Claim {
            blob_key,
            event_key,
        } => {
            let bytes = blobs
                .get(&blob_key)
                .await?
                .ok_or(EnvelopeError::MissingClaim(event_key))?;
            serde_json::from_slice(&bytes).map_err(|e| EnvelopeError::Corrupt(e.to_string()))
        }
    }
}
