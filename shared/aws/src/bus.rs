//! The event bus port on EventBridge.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use switchboard_app::ports::bus::{MAX_PUT, SOURCE};
use switchboard_app::ports::{BusError, BusEvent, EventBus};

/// Entries EventBridge reports as failed are re-sent this many times.
const PUT_ATTEMPTS: usize = 3;

pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), BusError> {
        for chunk in events.chunks(MAX_PUT) {
            let mut pending: Vec<&BusEvent> = chunk.iter().collect();
            let mut reason = String::new();
            for _ in 0..PUT_ATTEMPTS {
                let entries: Vec<PutEventsRequestEntry> = pending
                    .iter()
                    .map(|e| {
                        PutEventsRequestEntry::builder()
                            .event_bus_name(&self.bus_name)
                            .source(SOURCE)
                            .detail_type(&e.detail_type)
                            .detail(e.envelope().to_string())
                            .build()
                    })
                    .collect();
                let out = self
                    .client
                    .put_events()
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| BusError::Unavailable(format!("{e:?}")))?;
                // Result entries line up with request entries; failed ones carry an error code.
                let failed: Vec<&BusEvent> = out
                    .entries()
                    .iter()
                    .zip(&pending)
                    .filter(|(r, _)| r.error_code().is_some())
                    .map(|(r, e)| {
                        reason = format!(
                            "{}: {}",
                            r.error_code().unwrap_or_default(),
                            r.error_message().unwrap_or_default()
                        );
                        *e
                    })
                    .collect();
                pending = failed;
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(BusError::Rejected {
                    failed: pending.len(),
                    total: events.len(),
                    reason,
                });
            }
        }
        Ok(())
    }
}
