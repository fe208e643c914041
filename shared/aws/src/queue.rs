//! The queue port on SQS FIFO.

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use switchboard_app::ports::queue::{batches, MAX_MESSAGE_BYTES};
use switchboard_app::ports::{OutgoingMessage, Queue, QueueError, ReceivedMessage};

/// Entries SQS reports as failed are re-sent this many times before the batch counts as failed.
const SEND_ATTEMPTS: usize = 3;

pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

fn unavailable<E: std::fmt::Debug>(e: E) -> QueueError {
    QueueError::Unavailable(format!("{e:?}"))
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        if let Some(m) = messages.iter().find(|m| m.body.len() > MAX_MESSAGE_BYTES) {
            return Err(QueueError::TooLarge(m.body.len()));
        }
        for batch in batches(messages) {
            let mut pending: Vec<(usize, &OutgoingMessage)> = batch.iter().enumerate().collect();
            let mut last_reason = String::new();
            for _ in 0..SEND_ATTEMPTS {
                let entries = pending
                    .iter()
                    .map(|(i, m)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(&m.body)
                            .message_group_id(&m.group)
                            .message_deduplication_id(&m.dedup_id)
                            .build()
                            .map_err(unavailable)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(unavailable)?;
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if let Some(f) = out.failed().first() {
                    last_reason = format!("{}: {}", f.code(), f.message().unwrap_or_default());
                }
                pending.retain(|(i, _)| failed.contains(&i.to_string().as_str()));
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(QueueError::Rejected {
                    failed: pending.len(),
                    total: messages.len(),
                    reason: last_reason,
                });
            }
        }
        Ok(())
    }

    async fn receive(
        &self,
        max: usize,
        visibility_secs: u32,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(visibility_secs as i32)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .messages()
            .iter()
            .map(|m| {
                let attr = |n: MessageSystemAttributeName| {
                    m.attributes()
                        .and_then(|a| a.get(&n))
                        .cloned()
                        .unwrap_or_default()
                };
                ReceivedMessage {
                    message_id: m.message_id().unwrap_or_default().to_string(),
                    receipt: m.receipt_handle().unwrap_or_default().to_string(),
                    group: attr(MessageSystemAttributeName::MessageGroupId),
                    body: m.body().unwrap_or_default().to_string(),
                    receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
                        .parse()
                        .unwrap_or(1),
                }
            })
            .collect())
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn release(&self, receipt: &str, delay_secs: u32) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(delay_secs as i32)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn depth(&self) -> Result<usize, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(unavailable)?;
        let get = |n: QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(&n))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        Ok(get(QueueAttributeName::ApproximateNumberOfMessages)
            + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}
