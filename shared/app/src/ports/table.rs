//! The storage port: one table with DynamoDB's semantics.
//!
//! Items are JSON objects with string `pk`/`sk` keys. Two GSIs (`gsi1pk`/`gsi1sk`,
//! `gsi2pk`/`gsi2sk`) are projected from items that carry those attributes. Reads are TTL-aware:
//! an item whose `expires_at` (unix seconds) is at or before the clock's now is not returned,
//! because DynamoDB deletes expired items lazily, hours or days later. Conditions, like
//! DynamoDB's, see an expired item that has not been deleted yet as present.

use async_trait::async_trait;
use serde_json::{Map, Value};

pub type Item = Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl From<(String, String)> for Key {
    fn from((pk, sk): (String, String)) -> Self {
        Self { pk, sk }
    }
}

/// Conditions on the item as stored, expressible in DynamoDB's condition language.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `attribute_not_exists(pk)`
    ItemNotExists,
    /// `attribute_exists(pk)`
    ItemExists,
    AttrNotExists(String),
    AttrEquals(String, Value),
    /// Numbers compare as numbers, strings as strings.
    AttrLessThan(String, Value),
    Or(Vec<Condition>),
    And(Vec<Condition>),
}

/// An update expression: `SET a = :a, b = if_not_exists(b, :b) ADD c :c REMOVE d`.
/// Updating an absent item creates it (upsert), as DynamoDB does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Item,
    pub set_if_absent: Item,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn set(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set.insert(attr.to_string(), value.into());
        self
    }
    pub fn set_if_absent(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set_if_absent.insert(attr.to_string(), value.into());
        self
    }
    pub fn add(mut self, attr: &str, n: i64) -> Self {
        self.add.push((attr.to_string(), n));
        self
    }
    pub fn remove(mut self, attr: &str) -> Self {
        self.remove.push(attr.to_string());
        self
    }

    /// Both updates in one; `other` wins where both set the same attribute.
    pub fn merge(mut self, other: Update) -> Self {
        self.set.extend(other.set);
        for (k, v) in other.set_if_absent {
            self.set_if_absent.entry(k).or_insert(v);
        }
        self.add.extend(other.add);
        self.remove.extend(other.remove);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// Partition and sort attribute names of the index.
    pub fn attrs(self) -> (&'static str, &'static str) {
        use switchboard_core::keys::*;
        match self {
            Index::Table => (ATTR_PK, ATTR_SK),
            Index::Gsi1 => (ATTR_GSI1PK, ATTR_GSI1SK),
            Index::Gsi2 => (ATTR_GSI2PK, ATTR_GSI2SK),
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkRange,
    /// Ascending by sort key when true.
    pub forward: bool,
    pub limit: usize,
    /// Opaque cursor from a previous page.
    pub cursor: Option<String>,
}

impl Query {
    pub fn partition(index: Index, pk: impl Into<String>) -> Self {
        Self {
            index,
            pk: pk.into(),
            sk: SkRange::All,
            forward: true,
            limit: 100,
            cursor: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; `failed[i]` tells whether op `i`'s condition failed.
    #[error("transaction cancelled (conditions failed at {failed:?})")]
    TransactionCancelled { failed: Vec<bool> },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// Maximum operations in one transaction (DynamoDB's limit).
pub const MAX_TX_OPS: usize = 100;

#[async_trait]
pub trait Table: Send + Sync {
    /// The item, unless absent or expired.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// Writes the whole item (must contain `pk` and `sk`).
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;
    /// Applies `update`, creating the item if needed; returns the item as written.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError>;
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError>;
    /// Items of one partition of the table or a GSI, in sort-key order, expired ones left out.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// All or nothing.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;
}

/// Builds an item from its key and attributes.
pub fn item(key: &Key, attrs: Value) -> Item {
    let mut m = match attrs {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("pk".into(), Value::String(key.pk.clone()));
    m.insert("sk".into(), Value::String(key.sk.clone()));
    m
}

pub fn key_of(item: &Item) -> Result<Key, StoreError> {
    let get = |a: &str| {
        item.get(a)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Invalid(format!("item has no string `{a}`")))
    };
    Ok(Key::new(get("pk")?, get("sk")?))
}

/// Whether an item has expired at `now` (TTL attribute `expires_at`).
pub fn is_expired(item: &Item, now: i64) -> bool {
    item.get(switchboard_core::keys::ATTR_EXPIRES_AT)
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp <= now)
}

/// Evaluates a condition on the stored item (`None` = absent). The local backend uses this; the
/// DynamoDB adapter translates the same enum into a condition expression.
pub fn eval_condition(cond: &Condition, stored: Option<&Item>) -> bool {
    match cond {
        Condition::ItemNotExists => stored.is_none(),
        Condition::ItemExists => stored.is_some(),
        Condition::AttrNotExists(a) => stored.is_none_or(|i| !i.contains_key(a)),
        Condition::AttrEquals(a, v) => stored.and_then(|i| i.get(a)) == Some(v),
        Condition::AttrLessThan(a, v) => match (stored.and_then(|i| i.get(a)), v) {
            (Some(Value::Number(x)), Value::Number(y)) => {
                x.as_f64().zip(y.as_f64()).is_some_and(|(x, y)| x < y)
            }
            (Some(Value::String(x)), Value::String(y)) => x < y,
            _ => false,
        },
        Condition::Or(cs) => cs.iter().any(|c| eval_condition(c, stored)),
        Condition::And(cs) => cs.iter().all(|c| eval_condition(c, stored)),
    }
}

/// Applies an update to a stored item (or to a new one with `key`).
pub fn apply_update(stored: Option<Item>, key: &Key, update: &Update) -> Item {
    let mut it = stored.unwrap_or_else(|| item(key, Value::Null));
    for (k, v) in &update.set {
        it.insert(k.clone(), v.clone());
    }
    for (k, v) in &update.set_if_absent {
        it.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, n) in &update.add {
        let cur = it.get(k).and_then(Value::as_i64).unwrap_or(0);
        it.insert(k.clone(), Value::from(cur + n));
    }
    for k in &update.remove {
        it.remove(k);
    }
    it
}
