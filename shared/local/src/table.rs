use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};
use switchboard_app::ports::table::{apply_update, eval_condition, is_expired, key_of, MAX_TX_OPS};
use switchboard_app::ports::{
    Clock, Condition, Item, Key, Page, Query, SkRange, StoreError, Table, TxOp, Update,
};
use switchboard_core::keys;

use crate::Db;

/// The table port on SQLite: items as JSON, GSI and TTL attributes in indexed columns.
/// Conditions and updates are evaluated with the same functions the port defines, inside one
/// SQLite transaction, so they are atomic like DynamoDB's.
pub struct SqliteTable {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl SqliteTable {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn load(tx: &Connection, key: &Key) -> Result<Option<Item>, StoreError> {
    tx.query_row(
        "SELECT data FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map_err(sql_err)?
    .map(|s| parse(&s))
    .transpose()
}

fn parse(s: &str) -> Result<Item, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Invalid(format!("stored item is not JSON: {e}")))
}

fn store(tx: &Connection, item: &Item) -> Result<(), StoreError> {
    let key = key_of(item)?;
    let col = |a: &str| item.get(a).and_then(Value::as_str).map(str::to_owned);
    tx.execute(
        "INSERT OR REPLACE INTO items (pk, sk, data, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            key.pk,
            key.sk,
            Value::Object(item.clone()).to_string(),
            col(keys::ATTR_GSI1PK),
            col(keys::ATTR_GSI1SK),
            col(keys::ATTR_GSI2PK),
            col(keys::ATTR_GSI2SK),
            item.get(keys::ATTR_EXPIRES_AT).and_then(Value::as_i64),
        ],
    )
    .map_err(sql_err)?;
    Ok(())
}

fn check(stored: Option<&Item>, cond: Option<&Condition>) -> bool {
    cond.is_none_or(|c| eval_condition(c, stored))
}

/// Applies one op inside `tx`; `Ok(false)` when its condition fails.
fn apply(tx: &Transaction, op: &TxOp) -> Result<bool, StoreError> {
    match op {
        TxOp::Put { item, condition } => {
            let key = key_of(item)?;
            if !check(load(tx, &key)?.as_ref(), condition.as_ref()) {
                return Ok(false);
            }
            store(tx, item)?;
        }
        TxOp::Update {
            key,
            update,
            condition,
        } => {
            let stored = load(tx, key)?;
            if !check(stored.as_ref(), condition.as_ref()) {
                return Ok(false);
            }
            store(tx, &apply_update(stored, key, update))?;
        }
        TxOp::Delete { key, condition } => {
            if !check(load(tx, key)?.as_ref(), condition.as_ref()) {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                params![key.pk, key.sk],
            )
            .map_err(sql_err)?;
        }
        TxOp::Check { key, condition } => {
            if !eval_condition(condition, load(tx, key)?.as_ref()) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Cursor: the last item's index key, as JSON.
fn cursor_of(query: &Query, item: &Item) -> String {
    let (_, sk_attr) = query.index.attrs();
    json!({"sk": item.get(sk_attr), "pk": item.get(keys::ATTR_PK), "tsk": item.get(keys::ATTR_SK)})
        .to_string()
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        let now = self.clock.now();
        self.db
            .with(move |c| Ok(load(c, &key)?.filter(|it| !is_expired(it, now))))
            .await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.transact(vec![TxOp::Put { item, condition }])
            .await
            .map_err(single)
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        let op = TxOp::Update {
            key: key.clone(),
            update,
            condition,
        };
        let key = key.clone();
        self.db
            .with(move |c| {
                let tx = c.transaction().map_err(sql_err)?;
                if !apply(&tx, &op)? {
                    return Err(StoreError::ConditionFailed);
                }
                let out =
                    load(&tx, &key)?.ok_or_else(|| StoreError::Invalid("update lost".into()))?;
                tx.commit().map_err(sql_err)?;
                Ok(out)
            })
            .await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError> {
        self.transact(vec![TxOp::Delete {
            key: key.clone(),
            condition,
        }])
        .await
        .map_err(single)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let query = query.clone();
        let now = self.clock.now();
        self.db
            .with(move |c| {
                let (pk_col, sk_col) = query.index.attrs();
                let order = if query.forward { "ASC" } else { "DESC" };
                // Within equal index sort keys (possible on GSIs), the table key breaks ties.
                let mut sql = format!(
                    "SELECT data FROM items WHERE {pk_col} = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                );
                let mut args: Vec<rusqlite::types::Value> =
                    vec![query.pk.clone().into(), now.into()];
                match &query.sk {
                    SkRange::All => {}
                    SkRange::BeginsWith(prefix) => {
                        sql.push_str(&format!(" AND substr({sk_col}, 1, length(?{})) = ?{}", args.len() + 1, args.len() + 1));
                        args.push(prefix.clone().into());
                    }
                    SkRange::Between(a, b) => {
                        sql.push_str(&format!(" AND {sk_col} >= ?{} AND {sk_col} <= ?{}", args.len() + 1, args.len() + 2));
                        args.push(a.clone().into());
                        args.push(b.clone().into());
                    }
                }
                if let Some(cur) = &query.cursor {
                    let cur: Value = serde_json::from_str(cur)
                        .map_err(|_| StoreError::Invalid("bad cursor".into()))?;
                    let s = |k: &str| cur.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let cmp = if query.forward { ">" } else { "<" };
                    let n = args.len();
                    sql.push_str(&format!(
                        " AND ({sk_col} {cmp} ?{a} OR ({sk_col} = ?{a} AND (pk, sk) {cmp} (?{b}, ?{c})))",
                        a = n + 1,
                        b = n + 2,
                        c = n + 3
                    ));
                    args.push(s("sk").into());
                    args.push(s("pk").into());
                    args.push(s("tsk").into());
                }
                sql.push_str(&format!(" ORDER BY {sk_col} {order}, pk {order}, sk {order} LIMIT ?{}", args.len() + 1));
                args.push(((query.limit + 1) as i64).into());
                let mut stmt = c.prepare(&sql).map_err(sql_err)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))
                    .map_err(sql_err)?;
                let mut items = Vec::new();
                for row in rows {
                    items.push(parse(&row.map_err(sql_err)?)?);
                }
                let more = items.len() > query.limit;
                items.truncate(query.limit);
                let cursor = if more {
                    items.last().map(|it| cursor_of(&query, it))
                } else {
                    None
                };
                Ok(Page { items, cursor })
            })
            .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        if ops.is_empty() || ops.len() > MAX_TX_OPS {
            return Err(StoreError::Invalid(format!(
                "{} operations in a transaction",
                ops.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for op in &ops {
            let key = match op {
                TxOp::Put { item, .. } => key_of(item)?,
                TxOp::Update { key, .. } | TxOp::Delete { key, .. } | TxOp::Check { key, .. } => {
                    key.clone()
                }
            };
            // DynamoDB rejects two operations on one item; so do we, to keep the backends equal.
            if !seen.insert(key) {
                return Err(StoreError::Invalid(
                    "two operations on one item in a transaction".into(),
                ));
            }
        }
        self.db
            .with(move |c| {
                let tx = c.transaction().map_err(sql_err)?;
                let mut failed = vec![false; ops.len()];
                for (i, op) in ops.iter().enumerate() {
                    failed[i] = !apply(&tx, op)?;
                }
                if failed.iter().any(|f| *f) {
                    // Dropping `tx` rolls back.
                    return Err(StoreError::TransactionCancelled { failed });
                }
                tx.commit().map_err(sql_err)
            })
            .await
    }
}

/// A one-op transaction's cancellation is a plain condition failure.
fn single(e: StoreError) -> StoreError {
    match e {
        StoreError::TransactionCancelled { .. } => StoreError::ConditionFailed,
        other => other,
    }
}
