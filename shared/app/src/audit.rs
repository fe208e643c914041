//! The audit trail: who did what to which conversation, with enough context to answer "why was
//! this sent?" later. One partition per tenant and UTC day; written in the same transaction as
//! the action it records, so an action without its audit entry cannot exist.

use serde::Serialize;
use serde_json::{json, Value};
use switchboard_core::keys;

use crate::ports::table::item;
use crate::ports::{Index, Query, SkRange, StoreError, Table, TxOp};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `agent:ana`, `lead:lee`, `bot`, `system:campaigns`.
    pub actor: String,
    /// `send.sent`, `send.refused`, `handoff.accepted`, `consent.opt_in`, …
    pub action: String,
    pub conversation_id: Option<String>,
    pub detail: Value,
}

/// The write that records `entry` at `at_ms`; `id` keeps two entries of the same millisecond apart.
pub fn op(tenant: &str, at_ms: i64, id: &str, entry: Entry) -> TxOp {
    let mut body = serde_json::to_value(&entry).unwrap_or(Value::Null);
    body["kind"] = json!("audit");
    body["at_ms"] = json!(at_ms);
    TxOp::Put {
        item: item(&keys::audit(tenant, at_ms, id).into(), body),
        condition: None,
    }
}

/// A day's entries (`day` = any unix time in it), oldest first, optionally for one conversation.
pub async fn list(
    table: &dyn Table,
    tenant: &str,
    day: i64,
    conversation_id: Option<&str>,
    limit: usize,
) -> Result<Vec<Value>, StoreError> {
    let mut q = Query::partition(Index::Table, keys::audit_pk(tenant, day));
    q.sk = SkRange::All;
    q.limit = 500;
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        for mut it in page.items {
            if conversation_id
                .is_some_and(|c| it.get("conversation_id").and_then(Value::as_str) != Some(c))
            {
                continue;
            }
            it.remove("pk");
            it.remove("sk");
            out.push(Value::Object(it));
            if out.len() >= limit {
                return Ok(out);
            }
        }
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}
