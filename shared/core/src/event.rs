//! Splitting one webhook POST into events: one per message, status, error, preference or change.
//!
//! Each event carries its own idempotency key (the SQS FIFO deduplication id and the storage
//! dedupe marker) and a group (the FIFO MessageGroupId: one per conversation, so a customer's
//! messages are processed in order while different customers go in parallel).
//!
//! Splitting works on raw JSON values, never on the typed model, so an item Meta shapes in a way
//! we do not expect still becomes an event with its JSON intact. A validly signed body that is not a
//! WhatsApp payload at all becomes one `unparsed` event: nothing that got a 200 is lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::webhook::{
    parse_ts, AccountNotice, Contact, InboundMessage, Metadata, Status, TemplateCategoryUpdate,
    TemplateQualityUpdate, TemplateStatusUpdate, UserPreference,
};

/// Typed view of a `change` event, chosen by field and, where Meta's docs disagree on the field
/// name (quality updates documented under `message_template_status_update`), by shape.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeView {
    TemplateStatus(TemplateStatusUpdate),
    TemplateCategory(TemplateCategoryUpdate),
    TemplateQuality(TemplateQualityUpdate),
    /// Quality, name review, account, review, alerts and capability updates.
    Account(AccountNotice),
    /// A field this version does not model; the JSON is in the event.
    Other,
}

/// Keys Meta puts in a `messages`-field value that we split out; anything else is kept whole.
const MESSAGES_VALUE_KEYS: &[&str] = &[
    "messaging_product",
    "metadata",
    "contacts",
    "messages",
    "statuses",
    "errors",
    "user_preferences",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// Idempotency key: `msg:<wamid>`, `status:<wamid>:<status>`, `template:<id>:<event>:<time>`, …
    pub key: String,
    /// FIFO group: a hash of the business number and the customer (or of the template/account).
    pub group: String,
    /// `changes[].field`, e.g. `messages`, `message_template_status_update`.
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// `entry[].time`, when Meta sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_time: Option<i64>,
    /// When ingest accepted the POST (unix seconds).
    pub received_at: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// An inbound customer message, with the `contacts[]` entry that describes its sender.
    Message {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact: Option<Value>,
        message: Value,
    },
    /// A delivery status of a message we sent.
    Status { status: Value },
    /// `value.errors[]`: a system or account problem not tied to one message.
    Error { error: Value },
    /// `value.user_preferences[]`: marketing stop/resume.
    UserPreference {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact: Option<Value>,
        preference: Value,
    },
    /// Any other change (templates, account, quality, name review, fields we do not know): the whole
    /// `changes[].value`.
    Change { value: Value },
    /// A validly signed body we could not read as a WhatsApp notification, kept whole.
    Unparsed { body: String, reason: String },
}

impl Event {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            EventKind::Message { .. } => "message",
            EventKind::Status { .. } => "status",
            EventKind::Error { .. } => "error",
            EventKind::UserPreference { .. } => "user_preference",
            EventKind::Change { .. } => "change",
            EventKind::Unparsed { .. } => "unparsed",
        }
    }

    pub fn phone_number_id(&self) -> Option<&str> {
        self.metadata.as_ref()?.phone_number_id.as_deref()
    }

    /// The SQS FIFO MessageDeduplicationId: the key itself when SQS accepts it (≤ 128 characters
    /// of printable ASCII), otherwise its SHA-256.
    pub fn dedup_id(&self) -> String {
        sqs_safe_id(&self.key)
    }

    /// Typed view of a message event; `None` for other kinds or when the JSON does not fit.
    pub fn message(&self) -> Option<Result<(InboundMessage, Option<Contact>), serde_json::Error>> {
        match &self.kind {
            EventKind::Message { contact, message } => Some((|| {
                let m = InboundMessage::deserialize(message)?;
                let c = match contact {
                    Some(c) => Some(Contact::deserialize(c)?),
                    None => None,
                };
                Ok((m, c))
            })()),
            _ => None,
        }
    }

    /// Typed view of a change event; `None` for other kinds.
    pub fn change(&self) -> Option<Result<ChangeView, serde_json::Error>> {
        let EventKind::Change { value } = &self.kind else {
            return None;
        };
        let is_quality = value.get("new_quality_score").is_some();
        Some(match self.field.as_str() {
            "message_template_quality_update" => {
                TemplateQualityUpdate::deserialize(value).map(ChangeView::TemplateQuality)
            }
            "message_template_status_update" if is_quality => {
                TemplateQualityUpdate::deserialize(value).map(ChangeView::TemplateQuality)
            }
            "message_template_status_update" => {
                TemplateStatusUpdate::deserialize(value).map(ChangeView::TemplateStatus)
            }
            "template_category_update" => {
                TemplateCategoryUpdate::deserialize(value).map(ChangeView::TemplateCategory)
            }
            "phone_number_quality_update"
            | "phone_number_name_update"
            | "account_update"
            | "account_review_update"
            | "account_alerts"
            | "business_capability_update" => {
                AccountNotice::deserialize(value).map(ChangeView::Account)
            }
            _ => Ok(ChangeView::Other),
        })
    }

    pub fn status(&self) -> Option<Result<Status, serde_json::Error>> {
        match &self.kind {
            EventKind::Status { status } => Some(Status::deserialize(status)),
            _ => None,
        }
    }
}

fn sqs_safe_id(key: &str) -> String {
    let printable = key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if printable && !key.is_empty() && key.len() <= 128 {
        key.to_string()
    } else {
        sha256_hex(key.as_bytes())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn value_hash(v: &Value) -> String {
    // serde_json's default map is ordered, so the same JSON always hashes the same.
    short_hash(&[&v.to_string()])
}

/// Splits a raw webhook body (already signature-checked) into events.
pub fn split_webhook(body: &[u8], received_at: i64) -> Vec<Event> {
    let unparsed = |reason: String| {
        let text = String::from_utf8_lossy(body).into_owned();
        vec![Event {
            key: format!("unparsed:{}", sha256_hex(body)),
            group: "unparsed".into(),
            field: "unparsed".into(),
            waba_id: None,
            metadata: None,
            entry_time: None,
            received_at,
            kind: EventKind::Unparsed { body: text, reason },
        }]
    };
    let root: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return unparsed(format!("body is not JSON: {e}")),
    };
    if root.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return unparsed("`object` is not \"whatsapp_business_account\"".into());
    }
    let Some(entries) = root.get("entry").and_then(Value::as_array) else {
        return unparsed("`entry` is missing or not an array".into());
    };

    let mut events = Vec::new();
    for entry in entries {
        let waba_id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
        let entry_time = entry.get("time").and_then(parse_ts).map(|t| t.0);
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            events.push(Event {
                key: format!("entry:{}", value_hash(entry)),
                group: group_of(&["entry", waba_id.as_deref().unwrap_or("")]),
                field: "unknown".into(),
                waba_id,
                metadata: None,
                entry_time,
                received_at,
                kind: EventKind::Change {
                    value: entry.clone(),
                },
            });
            continue;
        };
        for change in changes {
            let field = change
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            let value = change.get("value").cloned().unwrap_or(Value::Null);
            let ctx = Ctx {
                waba_id: waba_id.clone(),
                entry_time,
                received_at,
                field,
            };
            ctx.split_change(value, &mut events);
        }
    }
    events
}

struct Ctx {
    waba_id: Option<String>,
    entry_time: Option<i64>,
    received_at: i64,
    field: String,
}

impl Ctx {
    fn event(
        &self,
        key: String,
        group: String,
        metadata: Option<Metadata>,
        kind: EventKind,
    ) -> Event {
        Event {
            key,
            group,
            field: self.field.clone(),
            waba_id: self.waba_id.clone(),
            metadata,
            entry_time: self.entry_time,
            received_at: self.received_at,
            kind,
        }
    }

    fn split_change(&self, value: Value, out: &mut Vec<Event>) {
        let Value::Object(obj) = value else {
            out.push(self.change_event(value));
            return;
        };
        let has_arrays = ["messages", "statuses", "errors", "user_preferences"]
            .iter()
            .any(|k| obj.get(*k).is_some_and(Value::is_array));
        if !has_arrays {
            out.push(self.change_event(Value::Object(obj)));
            return;
        }

        let metadata: Option<Metadata> = obj
            .get("metadata")
            .and_then(|m| Metadata::deserialize(m).ok());
        let pnid = metadata
            .as_ref()
            .and_then(|m| m.phone_number_id.clone())
            .unwrap_or_default();
        let contacts: Vec<Value> = obj
            .get("contacts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();

        for message in array(&obj, "messages") {
            let from = customer_id(message.get("from_user_id"), message.get("from"));
            let contact = match_contact(&contacts, message);
            let id = message.get("id").and_then(Value::as_str).unwrap_or("");
            let key = if id.is_empty() {
                format!("msg:{}", value_hash(message))
            } else {
                format!("msg:{id}")
            };
            out.push(self.event(
                key,
                group_of(&["conv", &pnid, &from]),
                metadata.clone(),
                EventKind::Message {
                    contact,
                    message: message.clone(),
                },
            ));
        }
        for status in array(&obj, "statuses") {
            let to = customer_id(status.get("recipient_user_id"), status.get("recipient_id"));
            let id = status.get("id").and_then(Value::as_str).unwrap_or("");
            let st = status.get("status").and_then(Value::as_str).unwrap_or("");
            let key = if id.is_empty() {
                format!("status:{}", value_hash(status))
            } else {
                format!("status:{id}:{st}")
            };
            out.push(self.event(
                key,
                group_of(&["conv", &pnid, &to]),
                metadata.clone(),
                EventKind::Status {
                    status: status.clone(),
                },
            ));
        }
        for error in array(&obj, "errors") {
            out.push(self.event(
                format!(
                    "error:{pnid}:{}:{}",
                    self.entry_time.unwrap_or(0),
                    value_hash(error)
                ),
                group_of(&["number", &pnid]),
                metadata.clone(),
                EventKind::Error {
                    error: error.clone(),
                },
            ));
        }
        for pref in array(&obj, "user_preferences") {
            let who = customer_id(pref.get("user_id"), pref.get("wa_id"));
            let p = UserPreference::deserialize(pref).unwrap_or_default();
            let key = format!(
                "pref:{}:{}:{}",
                short_hash(&[&pnid, &who]),
                p.value.as_deref().unwrap_or(""),
                p.timestamp().map(|t| t.0).unwrap_or(0)
            );
            out.push(self.event(
                key,
                group_of(&["conv", &pnid, &who]),
                metadata.clone(),
                EventKind::UserPreference {
                    contact: match_contact(&contacts, pref),
                    preference: pref.clone(),
                },
            ));
        }
        // Keys we do not split (a new array Meta adds, say) must not vanish with the split.
        let leftovers: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !MESSAGES_VALUE_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !leftovers.is_empty() {
            out.push(self.change_event(Value::Object(obj)));
        }
    }

    /// A whole change kept as one event: template, quality, account and unknown fields.
    fn change_event(&self, value: Value) -> Event {
        let waba = self.waba_id.as_deref().unwrap_or("");
        let (key, group) =
            if self.field == "message_template_status_update" && value.get("event").is_some() {
                let t = TemplateStatusUpdate::deserialize(&value).unwrap_or_default();
                let id = crate::webhook::template_id(&t.message_template_id);
                (
                    format!("template:{id}:{}:{}", t.event, self.entry_time.unwrap_or(0)),
                    group_of(&["template", waba, &id]),
                )
            } else if let Some(id) = value.get("message_template_id") {
                let id = crate::webhook::template_id(id);
                (
                    format!(
                        "{}:{id}:{}:{}",
                        self.field,
                        self.entry_time.unwrap_or(0),
                        value_hash(&value)
                    ),
                    group_of(&["template", waba, &id]),
                )
            } else {
                (
                    format!(
                        "{}:{waba}:{}:{}",
                        self.field,
                        self.entry_time.unwrap_or(0),
                        value_hash(&value)
                    ),
                    group_of(&["account", waba]),
                )
            };
        let metadata = value
            .get("metadata")
            .and_then(|m| Metadata::deserialize(m).ok());
        self.event(key, group, metadata, EventKind::Change { value })
    }
}

fn array<'a>(obj: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    obj.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// The customer's id for grouping: BSUID first, then `wa_id`/`from`.
fn customer_id(user_id: Option<&Value>, wa_id: Option<&Value>) -> String {
    user_id
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| wa_id.and_then(Value::as_str))
        .unwrap_or("")
        .to_string()
}

/// The `contacts[]` entry for a message: matched on BSUID or wa_id, or the only contact there is.
fn match_contact(contacts: &[Value], item: &Value) -> Option<Value> {
    let user_id = item
        .get("from_user_id")
        .or_else(|| item.get("user_id"))
        .and_then(Value::as_str);
    let wa_id = item
        .get("from")
        .or_else(|| item.get("wa_id"))
        .and_then(Value::as_str);
    contacts
        .iter()
        .find(|c| {
            (user_id.is_some() && c.get("user_id").and_then(Value::as_str) == user_id)
                || (wa_id.is_some() && c.get("wa_id").and_then(Value::as_str) == wa_id)
        })
        .or(if contacts.len() == 1 {
            contacts.first()
        } else {
            None
        })
        .cloned()
}

/// Group ids are hashed: they stay within SQS's 128 characters and carry no phone number.
fn group_of(parts: &[&str]) -> String {
    short_hash(parts)
}
