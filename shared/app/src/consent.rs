//! The consent ledger: append-only, one partition per contact. Opt-ins come from operators and
//! business systems (with their evidence); opt-outs from the customer's own words, the marketing
//! opt-out button, Meta's `user_preferences` webhook and error 131050. Nothing is ever updated or
//! deleted; the current consent is the fold of the entries (`core::consent::ConsentState`).

use serde_json::{json, Value};
use switchboard_core::consent::{ConsentRecord, ConsentState};
use switchboard_core::event::sha256_hex;
use switchboard_core::keys;

use crate::ports::table::item;
use crate::ports::{Condition, Index, Item, Query, StoreError, Table, TxOp};

/// The write that appends `record` inside a caller's transaction. The key is derived from the
/// record, so writing the same record twice leaves one entry.
pub fn append_op(tenant: &str, contact_id: &str, record: &ConsentRecord) -> TxOp {
    TxOp::Put {
        item: record_item(tenant, contact_id, record),
        condition: None,
    }
}

fn record_item(tenant: &str, contact_id: &str, record: &ConsentRecord) -> Item {
    let id = &sha256_hex(
        format!(
            "{}\0{}\0{}",
            record.kind.as_str(),
            record.source,
            record.evidence
        )
        .as_bytes(),
    )[..16];
    let mut body = serde_json::to_value(record).unwrap_or(Value::Null);
    body["item"] = json!("consent");
    body["contact_id"] = json!(contact_id);
    item(
        &keys::consent(tenant, contact_id, record.at, id).into(),
        body,
    )
}

pub async fn append(
    table: &dyn Table,
    tenant: &str,
    contact_id: &str,
    record: &ConsentRecord,
) -> Result<(), StoreError> {
    let it = record_item(tenant, contact_id, record);
    match table.put(it, Some(Condition::ItemNotExists)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn ledger(
    table: &dyn Table,
    tenant: &str,
    contact_id: &str,
) -> Result<Vec<ConsentRecord>, StoreError> {
    let mut q = Query::partition(Index::Table, keys::consent_pk(tenant, contact_id));
    q.limit = 500;
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(
            page.items
                .into_iter()
                .filter_map(|i| serde_json::from_value(Value::Object(i)).ok()),
        );
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

pub async fn state(
    table: &dyn Table,
    tenant: &str,
    contact_id: &str,
) -> Result<ConsentState, StoreError> {
    Ok(ConsentState::fold(
        &ledger(table, tenant, contact_id).await?,
    ))
}
