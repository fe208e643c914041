use async_trait::async_trait;
use rusqlite::params;
use serde_json::Value;
use std::sync::Arc;

use switchboard_app::ports::bus::as_delivered;
use switchboard_app::ports::{BusError, BusEvent, EventBus, OutgoingMessage, Queue};
use tokio::sync::broadcast;

use crate::{Db, SqliteQueue};

/// The in-process bus: every event is recorded in SQLite (so `switchboard serve` can show what
/// would have gone to EventBridge), delivered to the queues its rules name — as EventBridge rules
/// with SQS targets do — and broadcast to in-process subscribers.
pub struct LocalBus {
    db: Db,
    live: broadcast::Sender<BusEvent>,
    rules: std::sync::RwLock<Vec<(String, Arc<SqliteQueue>)>>,
}

impl LocalBus {
    pub fn new(db: Db) -> Self {
        let (live, _) = broadcast::channel(1024);
        Self {
            db,
            live,
            rules: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// Delivers events of `detail_type` to `queue` in EventBridge's SQS delivery format.
    pub fn route(&self, detail_type: &str, queue: Arc<SqliteQueue>) {
        self.rules
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((detail_type.to_string(), queue));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.live.subscribe()
    }

    /// A tenant's events after `after_seq`, oldest first, with their sequence numbers.
    pub async fn list(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, BusEvent)>, BusError> {
        let tenant = tenant.to_string();
        self.db
            .with(move |c| {
                let mut stmt = c.prepare(
                    "SELECT seq, tenant, detail_type, correlation, detail FROM bus_events
                     WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![tenant, after_seq, limit as i64], |r| {
                    let detail: String = r.get(4)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        BusEvent {
                            tenant: r.get(1)?,
                            detail_type: r.get(2)?,
                            correlation: r.get(3)?,
                            detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                        },
                    ))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), BusError> {
        let owned = events.to_vec();
        self.db
            .with(move |c| {
                let tx = c.transaction()?;
                for e in &owned {
                    tx.execute(
                        "INSERT INTO bus_events (tenant, detail_type, correlation, detail) VALUES (?1, ?2, ?3, ?4)",
                        params![e.tenant, e.detail_type, e.correlation, e.detail.to_string()],
                    )?;
                }
                tx.commit()
            })
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let targets: Vec<(String, Arc<SqliteQueue>)> =
            self.rules.read().unwrap_or_else(|p| p.into_inner()).clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        for (detail_type, queue) in targets {
            let messages: Vec<OutgoingMessage> = events
                .iter()
                .filter(|e| e.detail_type == detail_type)
                .map(|e| OutgoingMessage {
                    group: e.correlation.clone(),
                    dedup_id: format!("{}:{}", e.correlation, e.detail_type),
                    body: as_delivered(e, now).to_string(),
                })
                .collect();
            if !messages.is_empty() {
                queue
                    .send_batch(&messages)
                    .await
                    .map_err(|e| BusError::Unavailable(e.to_string()))?;
            }
        }
        for e in events {
            // No subscriber is fine: the table is the record.
            let _ = self.live.send(e.clone());
        }
        Ok(())
    }
}
