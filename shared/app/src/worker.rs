//! A queue consumer for hosts without an event source mapping (`switchboard serve`): receive,
//! process, ack; on failure release with backoff, so the redrive policy moves a poison message
//! to the dead-letter queue after its receive budget.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::{watch, Notify};
use tracing::Instrument;

use crate::ports::{Queue, StoreError};
use crate::process::Processor;

/// A message that goes back to the queue: why, and after how long (the worker's exponential
/// backoff when the handler has no opinion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub reason: String,
    pub after_secs: Option<u32>,
}

impl Retry {
    pub fn now(reason: String) -> Self {
        Self {
            reason,
            after_secs: None,
        }
    }
    pub fn after(reason: String, secs: u32) -> Self {
        Self {
            reason,
            after_secs: Some(secs),
        }
    }
    pub fn store(e: StoreError) -> Self {
        Self::now(e.to_string())
    }
}

impl From<String> for Retry {
    fn from(reason: String) -> Self {
        Self::now(reason)
    }
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What a worker does with one queue message. `Err` returns it to the queue for a retry.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle_message(&self, body: &str, receive_count: u32) -> Result<(), Retry>;
}

#[async_trait]
impl Handler for Processor {
    async fn handle_message(&self, body: &str, _receive_count: u32) -> Result<(), Retry> {
        self.handle(body)
            .await
            .map(|_| ())
            .map_err(|e| Retry::now(e.to_string()))
    }
}

/// How long a received event stays invisible to other consumers while we process it.
pub const VISIBILITY_SECS: u32 = 60;

/// Retry delay after the `receive_count`-th failed attempt: 1, 2, 4 … 60 s.
pub fn backoff_secs(receive_count: u32) -> u32 {
    1u32.checked_shl(receive_count.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(60)
}

/// Processes what is visible now; returns how many messages were handled (acked or released).
/// The correlation id of a queue message: the key of the webhook event it descends from when it
/// has one (`msg:<wamid>`), so one search follows a customer message from ingest through triage,
/// handoff and the reply's send. Other work is named after what it is (`send:<key>`,
/// `template:<tenant>/<name>/<lang>/v<n>`, `onboarding:<tenant>/<step>`).
pub fn correlation_of(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return "unparsed".into();
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(key) = v.get("event").and_then(|e| text(e, "key")) {
        return key; // an event envelope (events queue)
    }
    if let Some(c) = v.get("detail").and_then(|d| text(d, "correlation_id")) {
        return c; // a bus event (handoff, media and onboarding queues)
    }
    if let Some(c) = text(&v, "correlation_id") {
        return c;
    }
    if let Some(wamid) = text(&v, "in_reply_to") {
        return format!("msg:{wamid}"); // a reply to a customer's message
    }
    if let Some(key) = text(&v, "idempotency_key") {
        return format!("send:{key}");
    }
    match (text(&v, "tenant"), text(&v, "step"), text(&v, "name")) {
        (Some(t), Some(step), _) => format!("onboarding:{t}/{step}"),
        (Some(t), None, Some(name)) => format!(
            "template:{t}/{name}/{}/v{}",
            text(&v, "language").unwrap_or_default(),
            v.get("version").and_then(Value::as_i64).unwrap_or(0)
        ),
        _ => "unknown".into(),
    }
}

/// The span every queue message is handled in: each log line of its handling carries
/// `correlation_id` (JSON logs put the current span's fields on every line).
pub fn message_span(body: &str) -> tracing::Span {
    tracing::info_span!("message", correlation_id = %correlation_of(body))
}

pub async fn drain_once(queue: &dyn Queue, processor: &dyn Handler, max: usize) -> usize {
    let messages = match queue.receive(max, VISIBILITY_SECS).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "receive failed");
            return 0;
        }
    };
    let n = messages.len();
    for m in messages {
        let span = message_span(&m.body);
        async {
            match processor.handle_message(&m.body, m.receive_count).await {
                Ok(_) => {
                    if let Err(e) = queue.ack(&m.receipt).await {
                        tracing::error!(error = %e, message_id = %m.message_id, "ack failed; the event will be redelivered and deduplicated");
                    }
                }
                Err(e) => {
                    let delay = e
                        .after_secs
                        .unwrap_or_else(|| backoff_secs(m.receive_count));
                    tracing::warn!(error = %e, message_id = %m.message_id, attempt = m.receive_count, retry_in_secs = delay, "processing failed");
                    let _ = queue.release(&m.receipt, delay).await;
                }
            }
        }
        .instrument(span)
        .await;
    }
    n
}

/// Polls until `shutdown` turns true. When the queue lives in this process, `sent` wakes the
/// worker as soon as something is enqueued; the poll interval only covers redeliveries.
pub async fn run(
    queue: &dyn Queue,
    processor: &dyn Handler,
    sent: Option<Arc<Notify>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        if drain_once(queue, processor, 10).await == 0 {
            let woken = async {
                match &sent {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = woken => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        let got: Vec<_> = (1..=8).map(super::backoff_secs).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(super::backoff_secs(0), 1);
        assert_eq!(super::backoff_secs(99), 60);
    }
}

#[cfg(test)]
mod correlation_tests {
    use super::correlation_of;

    /// The body of the first record of an events/ fixture.
    fn body(path: &str) -> String {
        let file = format!("{}/../../events/{path}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        v["Records"][0]["body"].as_str().unwrap().to_string()
    }

    #[test]
    fn every_queue_message_names_what_it_descends_from() {
        let event = body("conversation/partial-corrupt-body.json");
        assert!(
            correlation_of(&event).starts_with("msg:wamid."),
            "{}",
            correlation_of(&event)
        );
        assert_eq!(
            correlation_of(&body("handoff/queued-billing-request.json")),
            "msg:wamid.HANDOFFFIXTURE1"
        );
        assert_eq!(
            correlation_of(&body("media-function/stored-demo-image.json")),
            "msg:wamid.MEDIAFIXTURE1"
        );
        assert_eq!(
            correlation_of(&body("sender/sent-agent-reply.json")),
            "msg:wamid.OUTBOUNDFIXTURE1"
        );
        assert_eq!(
            correlation_of(&body("onboarding/create-tenant-task.json")),
            "onboarding:acme/create_tenant"
        );
        assert_eq!(
            correlation_of(
                r#"{"tenant": "demo", "name": "order_shipped", "language": "en_US", "version": 1}"#
            ),
            "template:demo/order_shipped/en_US/v1"
        );
        assert_eq!(correlation_of("not json"), "unparsed");
    }
}
