//! Domain events for the business's own systems and for other teams: EventBridge on AWS, an
//! in-process bus (recorded in SQLite) locally.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `source` of every event Switchboard publishes.
pub const SOURCE: &str = "switchboard";
/// Most entries in one PutEvents call.
pub const MAX_PUT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    pub tenant: String,
    /// e.g. `message.triaged`, `conversation.routed`, `conversation.visibility`, `risk.flagged`,
    /// `intent.integration`.
    pub detail_type: String,
    /// Correlation id: the event key of the webhook event that caused this.
    pub correlation: String,
    pub detail: Value,
}

impl BusEvent {
    /// The EventBridge `Detail`: the payload with tenant and correlation id, so rules can match on
    /// `detail.tenant` and every consumer can trace an event back to its webhook.
    pub fn envelope(&self) -> Value {
        serde_json::json!({
            "tenant": self.tenant,
            "correlation_id": self.correlation,
            "data": self.detail,
        })
    }
}

/// The JSON an EventBridge rule delivers to an SQS target: what the media function (and any
/// other queue consumer of bus events) reads, on AWS and locally alike.
pub fn as_delivered(event: &BusEvent, now: i64) -> Value {
    serde_json::json!({
        "version": "0",
        "id": format!("{}:{}", event.correlation, event.detail_type),
        "detail-type": event.detail_type,
        "source": SOURCE,
        // As EventBridge delivers it: an RFC 3339 time, an account and a region.
        "time": switchboard_core::keys::rfc3339(now),
        "account": "000000000000",
        "region": "local",
        "resources": [],
        "detail": event.envelope(),
    })
}

/// The `data` of a delivered bus event, parsed as `T`.
pub fn delivered_data<T: serde::de::DeserializeOwned>(body: &str) -> Result<(String, T), String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let tenant = v["detail"]["tenant"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let data = serde_json::from_value(v["detail"]["data"].clone())
        .map_err(|e| format!("unexpected event data: {e}"))?;
    Ok((tenant, data))
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    #[error("event bus rejected {failed} of {total} events: {reason}")]
    Rejected {
        failed: usize,
        total: usize,
        reason: String,
    },
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes every event or fails (callers keep them in the outbox and retry).
    async fn publish(&self, events: &[BusEvent]) -> Result<(), BusError>;
}
