//! Dead-letter queues: look at what landed there, and move it back to its source queue once the
//! cause is fixed (a redrive). Built on the plain queue port, so it works the same on SQLite and
//! on SQS.
//!
//! Peeking receives with a short visibility and releases each message at once, so nothing is
//! consumed; it does count as a receive in the DLQ. A FIFO queue hides the rest of a message
//! group while one of its messages is in flight, so a peek sees at most the head (SQS: the first
//! batch) of each group; a redrive, which deletes as it goes, reaches every message.

use serde::Serialize;

use crate::ports::queue::MAX_BATCH;
use crate::ports::{OutgoingMessage, Queue, QueueError, ReceivedMessage};

/// How long a peeked message stays hidden if the peek dies before releasing it.
pub const PEEK_VISIBILITY_SECS: u32 = 10;
/// How long a message being redriven stays hidden while it is sent to the source queue.
pub const REDRIVE_VISIBILITY_SECS: u32 = 60;
/// Characters of the body shown by `list`.
pub const PREVIEW_CHARS: usize = 200;
/// Empty receives in a row after which a queue counts as exhausted (SQS short polling may answer
/// empty while messages exist).
const EMPTY_RECEIVES: usize = 3;

/// A message in a dead-letter queue, as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub group: String,
    /// Receives so far, the peek included (SQS keeps the source queue's count across the move to
    /// the DLQ; the local queue starts again at zero).
    pub receive_count: u32,
    /// The first `PREVIEW_CHARS` characters of the body (an event envelope).
    pub body_preview: String,
    /// Body size in bytes.
    pub size: usize,
}

impl From<&ReceivedMessage> for DeadLetter {
    fn from(m: &ReceivedMessage) -> Self {
        Self {
            message_id: m.message_id.clone(),
            group: m.group.clone(),
            receive_count: m.receive_count,
            body_preview: preview(&m.body),
            size: m.body.len(),
        }
    }
}

/// The first `PREVIEW_CHARS` characters of `body`.
pub fn preview(body: &str) -> String {
    match body.char_indices().nth(PREVIEW_CHARS) {
        Some((end, _)) => body[..end].to_string(),
        None => body.to_string(),
    }
}

/// Up to `max` messages of `dlq`, each made visible again before returning.
pub async fn peek(dlq: &dyn Queue, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
    let mut seen: Vec<ReceivedMessage> = Vec::new();
    let mut empty = 0;
    let mut failure = None;
    while seen.len() < max && empty < EMPTY_RECEIVES {
        match dlq
            .receive((max - seen.len()).min(MAX_BATCH), PEEK_VISIBILITY_SECS)
            .await
        {
            Ok(batch) if batch.is_empty() => empty += 1,
            Ok(batch) => {
                empty = 0;
                seen.extend(batch);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    for m in &seen {
        // A failed release only delays the message by PEEK_VISIBILITY_SECS.
        if let Err(e) = dlq.release(&m.receipt, 0).await {
            tracing::warn!(error = %e, message_id = %m.message_id, "peeked message not released");
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(seen),
    }
}

/// Up to `max` dead letters, without consuming any.
pub async fn list(dlq: &dyn Queue, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
    Ok(peek(dlq, max).await?.iter().map(DeadLetter::from).collect())
}

/// The message `message_id` among the first `max` peeked, with its full body.
pub async fn find(
    dlq: &dyn Queue,
    message_id: &str,
    max: usize,
) -> Result<Option<ReceivedMessage>, QueueError> {
    Ok(peek(dlq, max)
        .await?
        .into_iter()
        .find(|m| m.message_id == message_id))
}

/// Moves up to `max` messages from `dlq` back to `source`, keeping each one's group, and returns
/// how many moved; `progress` gets the running count. A message is deleted from the DLQ only
/// after the source queue accepted it, and is sent with the DLQ message id as deduplication id,
/// so a redrive interrupted between the two steps and retried within the deduplication window
/// does not deliver it twice.
pub async fn redrive(
    dlq: &dyn Queue,
    source: &dyn Queue,
    max: usize,
    mut progress: impl FnMut(usize),
) -> Result<usize, QueueError> {
    let mut moved = 0;
    let mut empty = 0;
    while moved < max && empty < EMPTY_RECEIVES {
        let batch = dlq
            .receive((max - moved).min(MAX_BATCH), REDRIVE_VISIBILITY_SECS)
            .await?;
        if batch.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let outgoing: Vec<OutgoingMessage> = batch
            .iter()
            .map(|m| OutgoingMessage {
                group: m.group.clone(),
                dedup_id: m.message_id.clone(),
                body: m.body.clone(),
            })
            .collect();
        if let Err(e) = source.send_batch(&outgoing).await {
            for m in &batch {
                let _ = dlq.release(&m.receipt, 0).await;
            }
            return Err(e);
        }
        for m in &batch {
            dlq.ack(&m.receipt).await?;
            moved += 1;
            progress(moved);
        }
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_cuts_at_a_character_boundary() {
        let long = "é".repeat(300);
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS);
        assert_eq!(preview("short"), "short");
    }
}
