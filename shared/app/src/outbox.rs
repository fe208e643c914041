//! The transactional outbox and the event log.
//!
//! Bus events are written in the transaction that causes them and published after it commits: a
//! crash or a bus outage in between leaves them in the outbox, and the retry (a duplicate by
//! then) publishes them. At least once, never lost.
//!
//! The same transaction appends each event to the tenant's event log (one partition per UTC day),
//! the append-only record the metrics are computed from and can be recomputed from.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use switchboard_core::{keys, rollup};

use switchboard_core::outbound::{SendRequest, TrafficClass};

use crate::outbound::OutboundQueues;
use crate::ports::table::{item, key_of};
use crate::ports::{
    BusError, BusEvent, Condition, EventBus, Index, Item, Key, Query, SkRange, StoreError, Table,
    TxOp, Update,
};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored, but its events are not published yet: {0}")]
    Bus(#[from] BusError),
    #[error("stored, but its sends are not queued yet: {0}")]
    Queue(String),
    #[error("sends are waiting in the outbox but this host has no outbound queue")]
    NoOutbound,
}

/// The outbox and event-log writes for `events`, caused by `event_key` at `at` (unix seconds).
pub fn outbox_ops(tenant: &str, event_key: &str, at: i64, events: &[BusEvent]) -> Vec<TxOp> {
    let mut ops = Vec::with_capacity(events.len() * 2);
    for (i, e) in events.iter().enumerate() {
        let event = serde_json::to_value(e).unwrap_or(Value::Null);
        ops.push(TxOp::Put {
            item: item(
                &Key::new(outbox_pk(tenant, event_key), format!("{i:04}")),
                json!({"kind": "outbox", "event": event, "at": at}),
            ),
            condition: None,
        });
        ops.push(TxOp::Put {
            item: item(
                &Key::from(keys::event_log(tenant, at, &format!("{event_key}#{i:04}"))),
                json!({"kind": "event", "type": e.detail_type, "at": at,
                       "correlation": e.correlation, "detail": e.detail}),
            ),
            condition: None,
        });
    }
    ops
}

/// Sends requested by the same transaction (the bot's replies), queued for the sender on flush.
pub fn send_ops(tenant: &str, event_key: &str, requests: &[SendRequest]) -> Vec<TxOp> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| TxOp::Put {
            item: item(
                &Key::new(outbox_pk(tenant, event_key), format!("S{i:04}")),
                json!({"kind": "outbox_send", "request": serde_json::to_value(r).unwrap_or(Value::Null)}),
            ),
            condition: None,
        })
        .collect()
}

fn outbox_pk(tenant: &str, event_key: &str) -> String {
    format!("T#{tenant}#OUTBOX#{event_key}")
}

/// Publishes and removes the outbox items of `event_key` (see [`outbox_ops`], [`send_ops`]).
/// Sends need `sends`; without it they stay in the outbox and the flush fails, so nothing is lost.
pub async fn flush_outbox(
    table: &dyn Table,
    bus: &dyn EventBus,
    tenant: &str,
    event_key: &str,
) -> Result<(), OutboxError> {
    flush(table, bus, None, tenant, event_key).await
}

pub async fn flush(
    table: &dyn Table,
    bus: &dyn EventBus,
    sends: Option<&OutboundQueues>,
    tenant: &str,
    event_key: &str,
) -> Result<(), OutboxError> {
    let page = table
        .query(&Query::partition(
            Index::Table,
            outbox_pk(tenant, event_key),
        ))
        .await?;
    if page.items.is_empty() {
        return Ok(());
    }
    let kind = |i: &Item| i.get("kind").and_then(Value::as_str).map(str::to_owned);
    let events: Vec<BusEvent> = page
        .items
        .iter()
        .filter(|i| kind(i).as_deref() == Some("outbox"))
        .filter_map(|i| i.get("event").cloned())
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    if !events.is_empty() {
        bus.publish(&events).await?;
    }
    for it in page
        .items
        .iter()
        .filter(|i| kind(i).as_deref() == Some("outbox"))
    {
        retire(table, tenant, it).await?;
    }
    for it in page
        .items
        .iter()
        .filter(|i| kind(i).as_deref() == Some("outbox_send"))
    {
        let queues = sends.ok_or(OutboxError::NoOutbound)?;
        let Some(req) = it
            .get("request")
            .cloned()
            .and_then(|v| serde_json::from_value::<SendRequest>(v).ok())
        else {
            table.delete(&key_of(it)?, None).await?;
            continue;
        };
        // Free-form bot replies are conversational traffic; the queue deduplicates a re-flush.
        crate::outbound::enqueue(queues, &req, TrafficClass::Service)
            .await
            .map_err(|e| OutboxError::Queue(e.to_string()))?;
        table.delete(&key_of(it)?, None).await?;
    }
    Ok(())
}

/// Where counter increments are reported as they are applied, besides the table: CloudWatch EMF
/// lines on AWS (installed by the Lambda runtime setup), nothing locally. A process-wide hook,
/// like the tracing subscriber, because every use case that flushes the outbox feeds it.
pub type MetricsSink = dyn Fn(&str, &BTreeMap<String, i64>) + Send + Sync;

static SINK: std::sync::OnceLock<Box<MetricsSink>> = std::sync::OnceLock::new();

/// Installs the sink once per process (later calls are ignored).
pub fn set_metrics_sink(sink: Box<MetricsSink>) {
    let _ = SINK.set(sink);
}

/// Roll-up counters are split over this many items per (day, dimension), so concurrent writers
/// rarely touch the same item; readers sum the shards.
pub const ROLLUP_SHARDS: u64 = 4;

pub fn rollup_pk(tenant: &str, day: &str) -> String {
    format!("T#{tenant}#ROLLUP#{day}")
}

/// Removes a published outbox event and adds its roll-up counters in one transaction: the
/// counters move exactly once per event, however often a flush is retried (a second flush finds
/// the outbox item gone and the transaction refused).
async fn retire(table: &dyn Table, tenant: &str, outbox_item: &Item) -> Result<(), StoreError> {
    let key = key_of(outbox_item)?;
    let event = outbox_item.get("event");
    let kind = event
        .and_then(|e| e.get("detail_type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let detail = event
        .and_then(|e| e.get("detail"))
        .cloned()
        .unwrap_or(Value::Null);
    let deltas = match outbox_item.get("at").and_then(Value::as_i64) {
        Some(at) => rollup::merge(rollup::fold(kind, at, &detail)),
        // Written before roll-ups existed: `switchboard metrics rebuild` counts it from the log.
        None => Default::default(),
    };
    if deltas.is_empty() {
        return table.delete(&key, None).await;
    }
    let digest = switchboard_core::event::sha256_hex(format!("{}\0{}", key.pk, key.sk).as_bytes());
    let shard = u64::from_str_radix(&digest[..8], 16).unwrap_or(0) % ROLLUP_SHARDS;
    let mut ops = vec![TxOp::Delete {
        key,
        condition: Some(Condition::ItemExists),
    }];
    for ((day, dim), counters) in &deltas {
        ops.push(TxOp::Update {
            key: Key::new(rollup_pk(tenant, day), format!("{dim}#{shard}")),
            update: rollup_update(day, dim, counters),
            condition: None,
        });
    }
    let totals = deltas
        .iter()
        .find(|((_, dim), _)| dim == "all")
        .map(|(_, c)| c.clone());
    match table.transact(ops).await {
        Ok(()) => {
            if let (Some(sink), Some(totals)) = (SINK.get(), totals) {
                sink(tenant, &totals);
            }
            Ok(())
        }
        Err(StoreError::TransactionCancelled { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub(crate) fn rollup_update(day: &str, dim: &str, counters: &BTreeMap<String, i64>) -> Update {
    let mut up = Update::default()
        .set("kind", "rollup")
        .set("day", day)
        .set("dim", dim);
    for (metric, n) in counters {
        up = up.add(&format!("m_{metric}"), *n);
    }
    up
}

/// Counters per dimension, summed over shards and over the days of `from..=to` (unix times).
pub async fn read_rollups(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for day in days(from, to) {
        let mut q = Query::partition(Index::Table, rollup_pk(tenant, &day));
        q.limit = 1000;
        loop {
            let page = table.query(&q).await?;
            for it in &page.items {
                let dim = it
                    .get("dim")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let entry = out.entry(dim).or_default();
                for (k, v) in it {
                    if let (Some(metric), Some(n)) = (k.strip_prefix("m_"), v.as_i64()) {
                        *entry.entry(metric.to_string()).or_default() += n;
                    }
                }
            }
            match page.cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` of every UTC day from the one holding `from` to the one holding `to`.
pub fn days(from: i64, to: i64) -> Vec<String> {
    (from.div_euclid(86_400)..=to.div_euclid(86_400))
        .map(|d| keys::civil_date(d * 86_400))
        .collect()
}

/// The tenant's logged events with `from <= at < to`, oldest first.
pub async fn read_log(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::new();
    if to <= from {
        return Ok(out);
    }
    let mut day = from.div_euclid(86_400);
    let last = (to - 1).div_euclid(86_400);
    while day <= last {
        let pk = keys::event_log_pk(tenant, day * 86_400);
        let mut q = Query::partition(Index::Table, pk);
        q.sk = SkRange::Between(format!("{from:012}"), format!("{:012}~", to - 1));
        q.limit = 1000;
        loop {
            let page = table.query(&q).await?;
            out.extend(page.items);
            match page.cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        day += 1;
    }
    Ok(out)
}
