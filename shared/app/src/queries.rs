//! Read models for operators: conversation lists, one conversation, its messages.

use serde::Serialize;
use serde_json::Value;
use switchboard_core::conversation::{window_is_open, ConversationState};
use switchboard_core::keys;

use crate::ports::{Clock, Index, Item, Key, Query, SkRange, StoreError, Table};

pub const MAX_PAGE: usize = 200;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ContactView {
    /// Phone number (WhatsApp id) when Meta sent one.
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub username: Option<String>,
    pub profile_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WindowView {
    pub open: bool,
    pub expires_at: Option<i64>,
    pub seconds_left: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConversationView {
    pub id: String,
    pub state: String,
    pub contact_id: String,
    pub contact: ContactView,
    pub phone_number_id: Option<String>,
    pub owner: Option<String>,
    pub last_activity: i64,
    pub last_message_preview: Option<String>,
    pub last_message_type: Option<String>,
    pub message_count: i64,
    pub created_at: Option<i64>,
    pub window: WindowView,
    /// The accountable owner queue (triage routing).
    pub queue: Option<String>,
    pub urgency: Option<String>,
    pub language: Option<String>,
    pub last_intent: Option<String>,
    /// The latest message needs a human's review before the bot acts.
    pub needs_review: bool,
    /// The latest triage decision in short: intent, modality, confidence, urgency, rule, risks.
    pub last_triage: Option<Value>,
    /// Messages by how their intent was found: quick-reply ids vs the NLU, and noise filtered.
    pub modality_counts: ModalityCounts,
    /// The running SLA deadlines while a human is awaited or owns the conversation (inbox
    /// listings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModalityCounts {
    pub structured: i64,
    pub nlu: i64,
    pub noise: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageView {
    pub wamid: String,
    pub direction: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: i64,
    pub received_at: Option<i64>,
    pub preview: Option<String>,
    pub context_id: Option<String>,
    /// The triage decision: intent, modality, confidence, segments, tags, queue, rule, versions.
    pub triage: Option<Value>,
    /// The message as Meta sent it (inbound) or as we asked Meta to send it (outbound).
    pub raw: Value,
    /// Outbound only: who sent it (`{"kind":"agent","name":…}`, `{"kind":"bot"}`, …) and the
    /// template used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("unknown conversation state {0:?}; expected one of bot, awaiting_agent, assigned, awaiting_customer, resolved")]
    UnknownState(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn s(it: &Item, a: &str) -> Option<String> {
    it.get(a).and_then(Value::as_str).map(str::to_owned)
}
fn n(it: &Item, a: &str) -> Option<i64> {
    it.get(a).and_then(Value::as_i64)
}

fn conversation_view(it: &Item, now: i64) -> ConversationView {
    let expires = n(it, "window_expires_at");
    let open = expires.is_some_and(|e| window_is_open(e, now));
    ConversationView {
        id: s(it, "id").unwrap_or_default(),
        state: s(it, "state").unwrap_or_else(|| ConversationState::Bot.as_str().into()),
        contact_id: s(it, "contact_id").unwrap_or_default(),
        contact: ContactView {
            phone: s(it, "wa_id"),
            bsuid: s(it, "bsuid"),
            username: s(it, "username"),
            profile_name: s(it, "profile_name"),
        },
        phone_number_id: s(it, "phone_number_id"),
        owner: s(it, "owner"),
        last_activity: n(it, "last_activity").unwrap_or(0),
        last_message_preview: s(it, "last_message_preview"),
        last_message_type: s(it, "last_message_type"),
        message_count: n(it, "message_count").unwrap_or(0),
        created_at: n(it, "created_at"),
        window: WindowView {
            open,
            expires_at: expires,
            seconds_left: if open { expires.unwrap_or(0) - now } else { 0 },
        },
        queue: s(it, "queue"),
        urgency: s(it, "urgency"),
        language: s(it, "language"),
        last_intent: s(it, "last_intent"),
        needs_review: it
            .get("needs_review")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        last_triage: it.get("last_triage").cloned(),
        modality_counts: ModalityCounts {
            structured: n(it, "structured_count").unwrap_or(0),
            nlu: n(it, "nlu_count").unwrap_or(0),
            noise: n(it, "noise_count").unwrap_or(0),
        },
        sla: None,
    }
}

/// A tenant's conversations, most recently active first, optionally in one state.
pub async fn list_conversations(
    table: &dyn Table,
    clock: &dyn Clock,
    tenant: &str,
    state: Option<&str>,
    limit: usize,
    cursor: Option<String>,
) -> Result<Listing<ConversationView>, QueryError> {
    inbox(table, clock, None, tenant, state, limit, cursor).await
}

/// The inbox: [`list_conversations`] with each row's SLA deadlines under `policies`, so the
/// console shows a timer without a request per row.
pub async fn inbox(
    table: &dyn Table,
    clock: &dyn Clock,
    policies: Option<&switchboard_core::sla::SlaPolicies>,
    tenant: &str,
    state: Option<&str>,
    limit: usize,
    cursor: Option<String>,
) -> Result<Listing<ConversationView>, QueryError> {
    let (index, pk) = match state {
        Some(st) => {
            let st =
                ConversationState::parse(st).ok_or_else(|| QueryError::UnknownState(st.into()))?;
            (
                Index::Gsi1,
                keys::conversations_by_state(tenant, st.as_str()),
            )
        }
        None => (Index::Gsi2, keys::conversations_all(tenant)),
    };
    let page = table
        .query(&Query {
            index,
            pk,
            sk: SkRange::All,
            forward: false,
            limit: limit.clamp(1, MAX_PAGE),
            cursor,
        })
        .await?;
    let now = clock.now();
    Ok(Listing {
        items: page
            .items
            .iter()
            .map(|it| {
                let mut view = conversation_view(it, now);
                if let Some(p) = policies {
                    let sla = crate::sla::sla_view(p, it, now);
                    if sla["deadlines"].as_array().is_some_and(|d| !d.is_empty()) {
                        view.sla = Some(sla);
                    }
                }
                view
            })
            .collect(),
        next_cursor: page.cursor,
    })
}

pub async fn get_conversation(
    table: &dyn Table,
    clock: &dyn Clock,
    tenant: &str,
    id: &str,
) -> Result<Option<ConversationView>, StoreError> {
    Ok(table
        .get(&Key::from(keys::conversation(tenant, id)))
        .await?
        .map(|it| conversation_view(&it, clock.now())))
}

/// Messages of a conversation, oldest first. `None` when the conversation does not exist.
pub async fn list_messages(
    table: &dyn Table,
    tenant: &str,
    conversation_id: &str,
    limit: usize,
    cursor: Option<String>,
) -> Result<Option<Listing<MessageView>>, StoreError> {
    if table
        .get(&Key::from(keys::conversation(tenant, conversation_id)))
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let page = table
        .query(&Query {
            index: Index::Table,
            pk: keys::conversation_pk(tenant, conversation_id),
            sk: SkRange::BeginsWith(keys::MESSAGE_PREFIX.into()),
            forward: true,
            limit: limit.clamp(1, MAX_PAGE),
            cursor,
        })
        .await?;
    Ok(Some(Listing {
        items: page
            .items
            .iter()
            .map(|it| MessageView {
                wamid: s(it, "wamid").unwrap_or_default(),
                direction: s(it, "direction").unwrap_or_default(),
                kind: s(it, "type").unwrap_or_default(),
                timestamp: n(it, "timestamp").unwrap_or(0),
                received_at: n(it, "received_at"),
                preview: s(it, "preview"),
                context_id: s(it, "context_id"),
                triage: it.get("triage").cloned().filter(|t| !t.is_null()),
                raw: it
                    .get("raw")
                    .or_else(|| it.get("content"))
                    .cloned()
                    .unwrap_or(Value::Null),
                origin: it.get("origin").cloned().filter(|v| !v.is_null()),
                template: it.get("template").cloned().filter(|v| !v.is_null()),
            })
            .collect(),
        next_cursor: page.cursor,
    }))
}

/// Tenant-level notices of one field (e.g. `unparsed`, `message_template_status_update`), newest first.
pub async fn list_notices(
    table: &dyn Table,
    tenant: &str,
    field: &str,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let page = table
        .query(&Query {
            index: Index::Table,
            pk: keys::notices_pk(tenant, field),
            sk: SkRange::All,
            forward: false,
            limit: limit.clamp(1, MAX_PAGE),
            cursor: None,
        })
        .await?;
    Ok(page.items)
}

/// Media search filters; all optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MediaQuery {
    pub conversation_id: Option<String>,
    /// image, video, audio, document, sticker.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Unix seconds, inclusive (Meta's message time).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Case-insensitive substring of the original filename.
    pub filename: Option<String>,
    /// The sender: a contact id, phone number or BSUID.
    pub sender: Option<String>,
    /// pending, stored, quarantined, lost, unrecoverable.
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MediaView {
    pub wamid: String,
    pub conversation_id: String,
    pub contact_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub caption: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub sent_at: i64,
    pub received_at: Option<i64>,
    /// A time-limited download URL, for stored files.
    pub url: Option<String>,
}

/// How long a search result's download URL works.
pub const MEDIA_URL_SECS: u64 = 15 * 60;
/// Index pages read per search at most, so a narrow filter cannot scan a tenant's history.
const MAX_SCAN_PAGES: usize = 20;

/// Media of a tenant (or one conversation), newest first, by type, date, filename and sender.
/// Returns at least `limit` items when that many match (whole index pages), and a cursor.
pub async fn search_media(
    table: &dyn Table,
    blobs: &dyn crate::ports::BlobStore,
    tenant: &str,
    q: &MediaQuery,
) -> Result<Listing<MediaView>, StoreError> {
    let range = |from: Option<i64>, to: Option<i64>, prefix: &str| match (from, to) {
        (None, None) if prefix.is_empty() => SkRange::All,
        (None, None) => SkRange::BeginsWith(prefix.to_string()),
        (f, t) => SkRange::Between(
            format!("{prefix}{:012}", f.unwrap_or(0).max(0)),
            format!("{prefix}{:012}~", t.unwrap_or(999_999_999_999).max(0)),
        ),
    };
    let (index, pk, sk) = match (&q.conversation_id, &q.kind) {
        (Some(c), _) => (
            Index::Table,
            keys::conversation_pk(tenant, c),
            range(q.from, q.to, "MEDIA#"),
        ),
        (None, Some(kind)) => (
            Index::Gsi2,
            format!("T#{tenant}#MEDIA#{kind}"),
            range(q.from, q.to, ""),
        ),
        (None, None) => (
            Index::Gsi1,
            format!("T#{tenant}#MEDIA"),
            range(q.from, q.to, ""),
        ),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let filename = q.filename.as_deref().map(str::to_lowercase);
    let keep = |it: &Item| {
        q.kind
            .as_deref()
            .is_none_or(|k| s(it, "type").as_deref() == Some(k))
            && q.status
                .as_deref()
                .is_none_or(|st| s(it, "status").as_deref() == Some(st))
            && filename
                .as_deref()
                .is_none_or(|f| s(it, "filename_lower").is_some_and(|n| n.contains(f)))
            && q.sender.as_deref().is_none_or(|who| {
                ["contact_id", "sender_phone", "sender_bsuid"]
                    .iter()
                    .any(|a| s(it, a).as_deref() == Some(who))
            })
    };
    let mut query = Query {
        index,
        pk,
        sk,
        forward: false,
        limit,
        cursor: q.cursor.clone(),
    };
    let mut found = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_SCAN_PAGES {
        let page = table.query(&query).await?;
        found.extend(
            page.items
                .into_iter()
                .filter(|it| s(it, "kind").as_deref() == Some("media"))
                .filter(keep),
        );
        cursor = page.cursor;
        if found.len() >= limit || cursor.is_none() {
            break;
        }
        query.cursor = cursor.clone();
    }
    // Whole pages only: truncating inside a page would skip its rest on the next request.
    let mut items = Vec::with_capacity(found.len());
    for it in found {
        let status = s(&it, "status").unwrap_or_default();
        let url = match (status.as_str(), s(&it, "blob_key")) {
            ("stored", Some(k)) => blobs.presign_get(&k, MEDIA_URL_SECS).await.ok(),
            _ => None,
        };
        items.push(MediaView {
            wamid: s(&it, "wamid").unwrap_or_default(),
            conversation_id: s(&it, "conversation_id").unwrap_or_default(),
            contact_id: s(&it, "contact_id").unwrap_or_default(),
            kind: s(&it, "type").unwrap_or_default(),
            status,
            reason: s(&it, "reason"),
            mime_type: s(&it, "mime_type").or_else(|| s(&it, "declared_mime")),
            filename: s(&it, "filename"),
            caption: s(&it, "caption"),
            size: n(&it, "size"),
            sha256: s(&it, "sha256"),
            sent_at: n(&it, "sent_at").unwrap_or(0),
            received_at: n(&it, "received_at"),
            url,
        });
    }
    Ok(Listing {
        items,
        next_cursor: cursor,
    })
}

/// What an agent gets on accepting a conversation: the bot's intent history with confidences,
/// the last turns, entities pulled from them, why it was handed over, its media and the window.
pub async fn context_packet(
    table: &dyn Table,
    clock: &dyn Clock,
    blobs: &dyn crate::ports::BlobStore,
    sla: &switchboard_core::sla::SlaPolicies,
    tenant: &str,
    conversation_id: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(conv_item) = table
        .get(&Key::from(keys::conversation(tenant, conversation_id)))
        .await?
    else {
        return Ok(None);
    };
    let conversation = conversation_view(&conv_item, clock.now());
    // The last 10 turns: newest first from the index, then oldest first for reading.
    let page = table
        .query(&Query {
            index: Index::Table,
            pk: keys::conversation_pk(tenant, conversation_id),
            sk: SkRange::BeginsWith(keys::MESSAGE_PREFIX.into()),
            forward: false,
            limit: 10,
            cursor: None,
        })
        .await?;
    let mut turns = page.items;
    turns.reverse();
    let mut entities: Vec<switchboard_core::entities::Entity> = Vec::new();
    let mut intents = Vec::new();
    for t in &turns {
        if let Some(text) = t
            .get("raw")
            .and_then(|r| r.get("text"))
            .and_then(|x| x.get("body"))
            .and_then(Value::as_str)
        {
            for e in switchboard_core::entities::extract(text) {
                if !entities.contains(&e) {
                    entities.push(e);
                }
            }
        }
        if let Some(tr) = t.get("triage").filter(|x| !x.is_null()) {
            intents.push(serde_json::json!({
                "wamid": s(t, "wamid"), "timestamp": n(t, "timestamp"),
                "intent": tr.get("intent"), "confidence": tr.get("confidence"),
                "modality": tr.get("modality"), "abstained": tr.get("abstained"),
                "urgency": tr.get("urgency"), "rule": tr.get("rule"),
                "risks": tr.get("risks"), "candidates": tr.pointer("/segments/0/candidates"),
            }));
        }
    }
    let media = search_media(
        table,
        blobs,
        tenant,
        &MediaQuery {
            conversation_id: Some(conversation_id.to_string()),
            limit: Some(20),
            ..Default::default()
        },
    )
    .await?
    .items;
    let recent: Vec<Value> = turns
        .iter()
        .map(|t| serde_json::json!({"wamid": s(t, "wamid"), "direction": s(t, "direction"), "type": s(t, "type"),
                                     "timestamp": n(t, "timestamp"), "preview": s(t, "preview")}))
        .collect();
    Ok(Some(serde_json::json!({
        "conversation": conversation,
        "handoff_reason": s(&conv_item, "handoff_reason").or_else(|| {
            conv_item.get("last_triage").and_then(|l| l.get("rule")).and_then(Value::as_str).map(str::to_owned)
        }),
        "intent_history": intents,
        "recent_turns": recent,
        "entities": entities,
        "media": media,
        "window": conversation.window,
        "sla": crate::sla::sla_view(sla, &conv_item, clock.now()),
    })))
}
