//! The table port on DynamoDB: one table, `pk`/`sk` keys, GSIs `gsi1` and `gsi2`, TTL on
//! `expires_at`. The port's condition and update enums become DynamoDB expressions here.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem,
    Update as DynUpdate,
};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};
use switchboard_app::ports::table::{is_expired, key_of, MAX_TX_OPS};
use switchboard_app::ports::{
    Clock, Condition, Item, Key, Page, Query, SkRange, StoreError, Table, TxOp, Update,
};
use switchboard_core::keys;

pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }
}

pub(crate) fn to_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect())
        }
    }
}

pub(crate) fn from_attr(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
            .unwrap_or_else(|| Value::String(n.clone())),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), from_attr(v))).collect())
        }
        AttributeValue::Ss(s) => Value::Array(s.iter().cloned().map(Value::String).collect()),
        AttributeValue::B(b) => Value::String(String::from_utf8_lossy(b.as_ref()).into_owned()),
        // Number sets and binary sets are never written by Switchboard.
        _ => Value::Null,
    }
}

fn to_item(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), from_attr(v)))
        .collect::<Map<_, _>>()
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (keys::ATTR_PK.to_string(), AttributeValue::S(key.pk.clone())),
        (keys::ATTR_SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Collects `#name` and `:value` placeholders while expressions are written.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        let existing = self
            .names
            .iter()
            .find(|(_, v)| v.as_str() == attr)
            .map(|(k, _)| k.clone());
        existing.unwrap_or_else(|| {
            let p = format!("#n{}", self.names.len());
            self.names.insert(p.clone(), attr.to_string());
            p
        })
    }

    fn value(&mut self, v: &Value) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), to_attr(v));
        p
    }

    fn condition(&mut self, c: &Condition) -> String {
        match c {
            Condition::ItemNotExists => {
                format!("attribute_not_exists({})", self.name(keys::ATTR_PK))
            }
            Condition::ItemExists => format!("attribute_exists({})", self.name(keys::ATTR_PK)),
            Condition::AttrNotExists(a) => format!("attribute_not_exists({})", self.name(a)),
            Condition::AttrEquals(a, v) => format!("{} = {}", self.name(a), self.value(v)),
            Condition::AttrLessThan(a, v) => format!("{} < {}", self.name(a), self.value(v)),
            Condition::Or(cs) => self.join(cs, " OR "),
            Condition::And(cs) => self.join(cs, " AND "),
        }
    }

    fn join(&mut self, cs: &[Condition], op: &str) -> String {
        let parts: Vec<_> = cs.iter().map(|c| self.condition(c)).collect();
        format!("({})", parts.join(op))
    }

    fn update(&mut self, u: &Update) -> Result<String, StoreError> {
        let mut set = Vec::new();
        for (k, v) in &u.set {
            if k == keys::ATTR_PK || k == keys::ATTR_SK {
                continue;
            }
            set.push(format!("{} = {}", self.name(k), self.value(v)));
        }
        for (k, v) in &u.set_if_absent {
            let n = self.name(k);
            set.push(format!("{n} = if_not_exists({n}, {})", self.value(v)));
        }
        let mut parts = Vec::new();
        if !set.is_empty() {
            parts.push(format!("SET {}", set.join(", ")));
        }
        if !u.add.is_empty() {
            let adds: Vec<_> = u
                .add
                .iter()
                .map(|(k, n)| format!("{} {}", self.name(k), self.value(&Value::from(*n))))
                .collect();
            parts.push(format!("ADD {}", adds.join(", ")));
        }
        if !u.remove.is_empty() {
            let rm: Vec<_> = u.remove.iter().map(|k| self.name(k)).collect();
            parts.push(format!("REMOVE {}", rm.join(", ")));
        }
        if parts.is_empty() {
            return Err(StoreError::Invalid("empty update".into()));
        }
        Ok(parts.join(" "))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}"))
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn tx_item(table: &str, op: &TxOp) -> Result<TransactWriteItem, StoreError> {
    let mut ex = Expr::default();
    Ok(match op {
        TxOp::Put { item, condition } => {
            let cond = condition.as_ref().map(|c| ex.condition(c));
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(to_item(item)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(ex.names())
                        .set_expression_attribute_values(ex.values())
                        .build()
                        .map_err(build_err)?,
                )
                .build()
        }
        TxOp::Update {
            key,
            update,
            condition,
        } => {
            let expr = ex.update(update)?;
            let cond = condition.as_ref().map(|c| ex.condition(c));
            TransactWriteItem::builder()
                .update(
                    DynUpdate::builder()
                        .table_name(table)
                        .set_key(Some(key_attrs(key)))
                        .update_expression(expr)
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(ex.names())
                        .set_expression_attribute_values(ex.values())
                        .build()
                        .map_err(build_err)?,
                )
                .build()
        }
        TxOp::Delete { key, condition } => {
            let cond = condition.as_ref().map(|c| ex.condition(c));
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key_attrs(key)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(ex.names())
                        .set_expression_attribute_values(ex.values())
                        .build()
                        .map_err(build_err)?,
                )
                .build()
        }
        TxOp::Check { key, condition } => {
            let cond = ex.condition(condition);
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key_attrs(key)))
                        .condition_expression(cond)
                        .set_expression_attribute_names(ex.names())
                        .set_expression_attribute_values(ex.values())
                        .build()
                        .map_err(build_err)?,
                )
                .build()
        }
    })
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let now = self.clock.now();
        Ok(out.item().map(from_item).filter(|it| !is_expired(it, now)))
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        key_of(&item)?;
        let mut ex = Expr::default();
        let cond = condition.as_ref().map(|c| ex.condition(c));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(ex.names())
            .set_expression_attribute_values(ex.values())
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        let mut ex = Expr::default();
        let expr = ex.update(&update)?;
        let cond = condition.as_ref().map(|c| ex.condition(c));
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression(expr)
            .set_condition_expression(cond)
            .set_expression_attribute_names(ex.names())
            .set_expression_attribute_values(ex.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.attributes().map(from_item).unwrap_or_default()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError> {
        let mut ex = Expr::default();
        let cond = condition.as_ref().map(|c| ex.condition(c));
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(ex.names())
            .set_expression_attribute_values(ex.values())
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = query.index.attrs();
        let mut ex = Expr::default();
        let mut kce = format!(
            "{} = {}",
            ex.name(pk_attr),
            ex.value(&Value::from(query.pk.as_str()))
        );
        match &query.sk {
            SkRange::All => {}
            SkRange::BeginsWith(p) => {
                let (n, v) = (ex.name(sk_attr), ex.value(&Value::from(p.as_str())));
                kce.push_str(&format!(" AND begins_with({n}, {v})"));
            }
            SkRange::Between(a, b) => {
                let n = ex.name(sk_attr);
                let (va, vb) = (
                    ex.value(&Value::from(a.as_str())),
                    ex.value(&Value::from(b.as_str())),
                );
                kce.push_str(&format!(" AND {n} BETWEEN {va} AND {vb}"));
            }
        }
        // TTL deletes lazily: expired items are filtered out here as in every read.
        let exp = ex.name(keys::ATTR_EXPIRES_AT);
        let filter = format!(
            "attribute_not_exists({exp}) OR {exp} > {}",
            ex.value(&Value::from(self.clock.now()))
        );
        let start = match &query.cursor {
            Some(c) => {
                let v: Map<String, Value> = serde_json::from_str(c)
                    .map_err(|_| StoreError::Invalid("bad cursor".into()))?;
                Some(v.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect())
            }
            None => None,
        };
        let mut items = Vec::new();
        let mut last = start;
        // Keep reading until the page is full or the partition ends, so a page is short only at
        // the end (DynamoDB applies Limit before the TTL filter).
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.name().map(str::to_owned))
                .key_condition_expression(&kce)
                .filter_expression(&filter)
                .set_expression_attribute_names(ex.names())
                .set_expression_attribute_values(ex.values())
                .scan_index_forward(query.forward)
                .limit((query.limit - items.len()) as i32)
                .set_exclusive_start_key(last.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items().iter().map(from_item));
            last = out.last_evaluated_key().cloned();
            if last.is_none() || items.len() >= query.limit {
                break;
            }
        }
        let cursor = last.map(|k| Value::Object(from_item(&k)).to_string());
        Ok(Page { items, cursor })
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        if ops.is_empty() || ops.len() > MAX_TX_OPS {
            return Err(StoreError::Invalid(format!(
                "{} operations in a transaction",
                ops.len()
            )));
        }
        let items = ops
            .iter()
            .map(|op| tx_item(&self.table, op))
            .collect::<Result<Vec<_>, _>>()?;
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => {
                if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) = e.err() {
                    let reasons = tc.cancellation_reasons();
                    let failed: Vec<bool> = (0..ops.len())
                        .map(|i| {
                            reasons
                                .get(i)
                                .and_then(|r| r.code())
                                .is_some_and(|c| c == "ConditionalCheckFailed")
                        })
                        .collect();
                    // All `false` means cancelled for another reason (a conflicting transaction):
                    // the caller re-reads and retries either way.
                    return Err(StoreError::TransactionCancelled { failed });
                }
                Err(unavailable(e))
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
