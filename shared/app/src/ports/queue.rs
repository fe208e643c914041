use async_trait::async_trait;

/// A message for a FIFO queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// MessageGroupId: messages of one group are delivered in order, one batch at a time.
    pub group: String,
    /// MessageDeduplicationId: a second send with the same id within the dedup window is dropped.
    pub dedup_id: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Handle for `ack`/`release`; valid while the message is in flight.
    pub receipt: String,
    pub group: String,
    pub body: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue rejected {failed} of {total} messages: {reason}")]
    Rejected {
        failed: usize,
        total: usize,
        reason: String,
    },
    #[error("message too large for the queue: {0} bytes")]
    TooLarge(usize),
    #[error("receipt is no longer valid")]
    StaleReceipt,
}

/// Largest message body both backends accept (SQS: 256 KiB). Bigger events travel by claim check.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Most messages in one SendMessageBatch.
pub const MAX_BATCH: usize = 10;

/// A FIFO queue with SQS semantics: group ordering, deduplication, visibility timeout, receive
/// counts and a dead-letter queue after too many receives.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends every message or fails: callers ack upstream only after `Ok`.
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError>;
    /// Up to `max` messages, hidden from other receivers for `visibility_secs`.
    async fn receive(
        &self,
        max: usize,
        visibility_secs: u32,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;
    /// Deletes a processed message.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;
    /// Makes an in-flight message visible again after `delay_secs` (a retry).
    async fn release(&self, receipt: &str, delay_secs: u32) -> Result<(), QueueError>;
    /// Approximate number of messages waiting or in flight.
    async fn depth(&self) -> Result<usize, QueueError>;
}

/// Splits messages into batches SQS accepts: at most 10 messages and 256 KiB in total each.
pub fn batches(messages: &[OutgoingMessage]) -> Vec<&[OutgoingMessage]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = m.body.len();
        if i > start && (i - start == MAX_BATCH || bytes + size > MAX_MESSAGE_BYTES) {
            out.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: usize) -> OutgoingMessage {
        OutgoingMessage {
            group: "g".into(),
            dedup_id: "d".into(),
            body: "x".repeat(n),
        }
    }

    #[test]
    fn batches_respect_count_and_size() {
        let ms: Vec<_> = (0..23).map(|_| msg(10)).collect();
        let sizes: Vec<_> = batches(&ms).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<_> = (0..4).map(|_| msg(100 * 1024)).collect();
        let sizes: Vec<_> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2]);
        assert!(batches(&[]).is_empty());
    }
}
