use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use switchboard_app::ports::queue::MAX_MESSAGE_BYTES;
use switchboard_app::ports::{OutgoingMessage, Queue, QueueError, ReceivedMessage};

use crate::Db;

/// SQS FIFO deduplication window.
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;

/// A FIFO queue in SQLite with SQS's rules: per-group order and locking, a 5-minute
/// deduplication window, visibility timeouts, receive counts, and a move to the dead-letter queue
/// on the receive after `max_receives`.
pub struct SqliteQueue {
    db: Db,
    name: String,
    dead_letter: Option<(String, u32)>,
    receipts: AtomicU64,
    sent: Arc<tokio::sync::Notify>,
}

impl SqliteQueue {
    /// A queue named `name`; with `dead_letter = Some((dlq, n))` a message received `n` times
    /// without being acked moves to queue `dlq`.
    pub fn new(db: Db, name: &str, dead_letter: Option<(&str, u32)>) -> Self {
        Self {
            db,
            name: name.to_string(),
            dead_letter: dead_letter.map(|(q, n)| (q.to_string(), n)),
            receipts: AtomicU64::new(0),
            sent: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Signalled after every send, so an in-process consumer need not poll an idle queue.
    pub fn sent_signal(&self) -> Arc<tokio::sync::Notify> {
        self.sent.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Moves every message of this queue to `target` (a DLQ redrive), returning how many moved.
    pub async fn move_all_to(&self, target: &str) -> Result<usize, QueueError> {
        let (name, target) = (self.name.clone(), target.to_string());
        self.db
            .with(move |c| {
                c.execute(
                    "UPDATE queue_messages SET queue = ?2, receive_count = 0, receipt = NULL, visible_at_ms = 0 WHERE queue = ?1",
                    params![name, target],
                )
            })
            .await
            .map_err(unavailable)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn unavailable(e: rusqlite::Error) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        if let Some(m) = messages.iter().find(|m| m.body.len() > MAX_MESSAGE_BYTES) {
            return Err(QueueError::TooLarge(m.body.len()));
        }
        let name = self.name.clone();
        let messages = messages.to_vec();
        self.db
            .with(move |c| {
                let tx = c.transaction()?;
                let now = now_ms();
                tx.execute(
                    "DELETE FROM queue_dedup WHERE queue = ?1 AND sent_at_ms < ?2",
                    params![name, now - DEDUP_WINDOW_MS],
                )?;
                for m in &messages {
                    let fresh = tx.execute(
                        "INSERT OR IGNORE INTO queue_dedup (queue, dedup_id, sent_at_ms) VALUES (?1, ?2, ?3)",
                        params![name, m.dedup_id, now],
                    )?;
                    if fresh == 0 {
                        continue; // a duplicate within the window is accepted and dropped
                    }
                    let id = format!("{name}-{now}-{}", m.dedup_id);
                    tx.execute(
                        "INSERT INTO queue_messages (queue, id, grp, dedup_id, body, sent_at_ms, visible_at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
                        params![name, id, m.group, m.dedup_id, m.body, now],
                    )?;
                }
                tx.commit()
            })
            .await
            .map_err(unavailable)?;
        self.sent.notify_one();
        Ok(())
    }

    async fn receive(
        &self,
        max: usize,
        visibility_secs: u32,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let name = self.name.clone();
        let dead_letter = self.dead_letter.clone();
        let receipt_base = self.receipts.fetch_add(1, Ordering::Relaxed);
        self.db
            .with(move |c| {
                let tx = c.transaction()?;
                let now = now_ms();
                // The head of every group whose messages are all visible (no group in flight).
                let mut stmt = tx.prepare(
                    "SELECT seq, id, grp, body, receive_count FROM queue_messages m
                     WHERE queue = ?1
                       AND NOT EXISTS (SELECT 1 FROM queue_messages f
                                       WHERE f.queue = m.queue AND f.grp = m.grp AND f.visible_at_ms > ?2)
                       AND seq = (SELECT MIN(seq) FROM queue_messages h WHERE h.queue = m.queue AND h.grp = m.grp)
                     ORDER BY seq LIMIT ?3",
                )?;
                let heads: Vec<(i64, String, String, String, u32)> = stmt
                    .query_map(params![name, now, max as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<_, _>>()?;
                drop(stmt);
                let mut out = Vec::new();
                for (i, (seq, id, grp, body, count)) in heads.into_iter().enumerate() {
                    if let Some((dlq, max_receives)) = &dead_letter {
                        if count >= *max_receives {
                            tx.execute(
                                "UPDATE queue_messages SET queue = ?2, receive_count = 0, receipt = NULL, visible_at_ms = 0 WHERE seq = ?1",
                                params![seq, dlq],
                            )?;
                            tracing::warn!(queue = %name, message_id = %id, "moved to dead-letter queue");
                            continue;
                        }
                    }
                    let receipt = format!("{seq}:{receipt_base}:{i}:{now}");
                    tx.execute(
                        "UPDATE queue_messages SET receive_count = receive_count + 1, receipt = ?2, visible_at_ms = ?3 WHERE seq = ?1",
                        params![seq, receipt, now + visibility_secs as i64 * 1000],
                    )?;
                    out.push(ReceivedMessage {
                        message_id: id,
                        receipt,
                        group: grp,
                        body,
                        receive_count: count + 1,
                    });
                }
                tx.commit()?;
                Ok(out)
            })
            .await
            .map_err(unavailable)
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        let n = self
            .db
            .with(move |c| {
                c.execute(
                    "DELETE FROM queue_messages WHERE receipt = ?1",
                    params![receipt],
                )
            })
            .await
            .map_err(unavailable)?;
        // SQS accepts a delete with a stale receipt silently; so do we unless nothing matched
        // because the message was received again (then the newer receiver owns it).
        let _ = n;
        Ok(())
    }

    async fn release(&self, receipt: &str, delay_secs: u32) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        let n = self
            .db
            .with(move |c| {
                c.execute(
                    "UPDATE queue_messages SET visible_at_ms = ?2 WHERE receipt = ?1",
                    params![receipt, now_ms() + delay_secs as i64 * 1000 - 1],
                )
            })
            .await
            .map_err(unavailable)?;
        if n == 0 {
            return Err(QueueError::StaleReceipt);
        }
        Ok(())
    }

    async fn depth(&self) -> Result<usize, QueueError> {
        let name = self.name.clone();
        self.db
            .with(move |c| {
                c.query_row(
                    "SELECT COUNT(*) FROM queue_messages WHERE queue = ?1",
                    params![name],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
            })
            .await
            .map(|n| n.unwrap_or(0) as usize)
            .map_err(unavailable)
    }
}
