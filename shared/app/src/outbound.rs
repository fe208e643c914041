//! The one outbound path. Agents, the bot and business systems *request* sends ([`Outbound`]);
//! the sender ([`Sender`], behind the outbound queues) is the only caller of
//! `POST /{phone-number-id}/messages`. Every request is checked twice by the same gate
//! (`core::outbound::check`): when it is requested, so the operator hears at once that the
//! window is closed, and when it is sent, because minutes may pass in the queue.
//!
//! A send is a record keyed by its idempotency key: `queued` → `sending` → `sent` | `refused` |
//! `failed` (with `retrying` between attempts). Every outcome is written to the audit trail.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use switchboard_core::consent::{ConsentKind, ConsentRecord};
use switchboard_core::conversation::window_is_open;
use switchboard_core::keys;
use switchboard_core::outbound::{
    action_for, check, graph_body, Address, BucketState, Content, ErrorAction, Facts, Limits,
    Origin, Refusal, SendRequest, TrafficClass,
};

use crate::audit;
use crate::outbox::{flush_outbox, outbox_ops};
use crate::ports::table::item;
use crate::ports::{
    BusEvent, Clock, Condition, EventBus, Item, Key, OutgoingMessage, Queue, StoreError, Table,
    TokenSource, TxOp, Update,
};
use crate::worker::{Handler, Retry};

/// Attempts before a send that keeps failing temporarily is given up (and audited as failed).
pub const MAX_ATTEMPTS: u32 = 8;

/// Meta's messages endpoint, as a port: the Graph client on AWS and locally, its fake in tests.
#[async_trait]
pub trait MessageApi: Send + Sync {
    /// The wamid of the accepted message, or Meta's error.
    async fn send(
        &self,
        token: &str,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<String, ApiFailure>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// Meta's error code; -1 when the response carried none (transport failures, bare 5xx).
    pub code: i64,
    pub http_status: u16,
    pub message: String,
}

#[async_trait]
impl MessageApi for switchboard_graph::GraphClient {
    async fn send(
        &self,
        token: &str,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<String, ApiFailure> {
        use switchboard_graph::GraphError;
        match self.send_message(token, phone_number_id, body).await {
            Ok(sent) => Ok(sent.wamid),
            Err(e) => {
                let http_status = match &e {
                    GraphError::Api { status, .. } => *status,
                    GraphError::TokenExpired { .. } => 401,
                    GraphError::Transport(_) => 503,
                    _ => 400,
                };
                Err(ApiFailure {
                    code: e.code().unwrap_or(-1),
                    http_status,
                    message: e.to_string(),
                })
            }
        }
    }
}

/// The queues sends travel on: one-time passwords never wait behind a campaign.
#[derive(Clone)]
pub struct OutboundQueues {
    pub conversational: Arc<dyn Queue>,
    pub otp: Arc<dyn Queue>,
}

impl OutboundQueues {
    pub fn for_class(&self, class: TrafficClass) -> &Arc<dyn Queue> {
        if class.is_otp() {
            &self.otp
        } else {
            &self.conversational
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("no conversation {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("outbound queue: {0}")]
    Queue(String),
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Everything the gate needs, read from storage.
struct Loaded {
    conversation: Item,
    contact_id: String,
    phone_number_id: Option<String>,
    facts: Facts,
}

fn s<'a>(it: &'a Item, a: &str) -> Option<&'a str> {
    it.get(a).and_then(Value::as_str)
}

async fn load(table: &dyn Table, now: i64, req: &SendRequest) -> Result<Loaded, OutboundError> {
    let conversation = table
        .get(&keys::conversation(&req.tenant, &req.conversation_id).into())
        .await?
        .ok_or_else(|| OutboundError::NotFound(req.conversation_id.clone()))?;
    let contact_id = s(&conversation, "contact_id")
        .ok_or_else(|| OutboundError::NotFound(req.conversation_id.clone()))?
        .to_string();
    let window = table
        .get(&keys::window(&req.tenant, &contact_id).into())
        .await?;
    let window_open = window
        .as_ref()
        .and_then(|w| w.get(keys::ATTR_EXPIRES_AT))
        .and_then(Value::as_i64)
        .is_some_and(|e| window_is_open(e, now));
    let consent = crate::consent::state(table, &req.tenant, &contact_id).await?;
    let (template_category, template_problems) = match &req.content {
        Content::Template {
            name,
            language,
            components,
        } => crate::governance::send_facts(table, &req.tenant, name, language, components).await?,
        _ => (None, Vec::new()),
    };
    let handoff = crate::handoff::handoff_of(&conversation);
    let facts = Facts {
        window_open,
        last_inbound_at: conversation.get("last_activity").and_then(Value::as_i64),
        consent,
        template_category,
        template_problems,
        bot_muted: handoff.bot_muted(),
        address: Address::of(s(&conversation, "wa_id"), s(&conversation, "bsuid")),
    };
    Ok(Loaded {
        phone_number_id: s(&conversation, "phone_number_id").map(str::to_owned),
        contact_id,
        conversation,
        facts,
    })
}

/// Requests sends: validates, records and queues them.
pub struct Outbound {
    pub table: Arc<dyn Table>,
    pub queues: OutboundQueues,
    pub clock: Arc<dyn Clock>,
}

impl Outbound {
    /// Checks the gate, records the send as `queued` and queues it. A second request with the
    /// same idempotency key returns the first one's record and sends nothing new.
    pub async fn request(&self, req: SendRequest) -> Result<Value, OutboundError> {
        Ok(self.request_detailed(req).await?.0)
    }

    /// As [`request`](Self::request), and whether this request created the send (false for a
    /// replay of an earlier one).
    pub async fn request_detailed(&self, req: SendRequest) -> Result<(Value, bool), OutboundError> {
        if req.idempotency_key.is_empty() || req.idempotency_key.len() > 200 {
            return Err(OutboundError::Invalid(
                "idempotency_key must be 1 to 200 characters".into(),
            ));
        }
        let key = Key::from(keys::send(&req.tenant, &req.idempotency_key));
        if let Some(existing) = self.table.get(&key).await? {
            // Recorded but maybe never queued (the queue failed after the record was written):
            // queue it again. The queue's deduplication and the sender's record make this safe.
            if s(&existing, "status") == Some("queued") {
                let class = s(&existing, "class")
                    .map(class_named)
                    .unwrap_or(TrafficClass::Service);
                enqueue(&self.queues, &req, class).await?;
            }
            return Ok((public(&existing), false));
        }
        let now = self.clock.now();
        let loaded = load(self.table.as_ref(), now, &req).await?;
        let class = check(&req.origin, &req.content, &loaded.facts)?;
        let record = send_record(&req, class, now);
        match self
            .table
            .put(record.clone(), Some(Condition::ItemNotExists))
            .await
        {
            Ok(()) => {}
            // Lost a race with the same key: that request is the send.
            Err(StoreError::ConditionFailed) => {
                let existing = self.table.get(&key).await?.unwrap_or(record);
                return Ok((public(&existing), false));
            }
            Err(e) => return Err(e.into()),
        }
        enqueue(&self.queues, &req, class).await?;
        Ok((public(&record), true))
    }

    pub async fn get(
        &self,
        tenant: &str,
        idempotency_key: &str,
    ) -> Result<Option<Value>, StoreError> {
        Ok(self
            .table
            .get(&keys::send(tenant, idempotency_key).into())
            .await?
            .map(|r| public(&r)))
    }

    /// Approved templates to offer when the window is closed.
    pub async fn fitting_templates(&self, tenant: &str) -> Result<Vec<Value>, StoreError> {
        crate::governance::sendable_templates(self.table.as_ref(), tenant).await
    }
}

pub(crate) fn send_record(req: &SendRequest, class: TrafficClass, now: i64) -> Item {
    item(
        &keys::send(&req.tenant, &req.idempotency_key).into(),
        json!({
            "kind": "send", "status": "queued", "idempotency_key": req.idempotency_key,
            "conversation_id": req.conversation_id, "origin": req.origin, "class": class.as_str(),
            "content": req.content.describe(), "template": template_name(&req.content),
            "requested_at": req.requested_at, "queued_at": now, "attempts": 0,
            "request": serde_json::to_value(req).unwrap_or(Value::Null),
        }),
    )
}

pub(crate) async fn enqueue(
    queues: &OutboundQueues,
    req: &SendRequest,
    class: TrafficClass,
) -> Result<(), OutboundError> {
    let body = serde_json::to_string(req).map_err(|e| OutboundError::Invalid(e.to_string()))?;
    queues
        .for_class(class)
        .send_batch(&[OutgoingMessage {
            // One conversation's sends leave in the order they were asked for.
            group: req.conversation_id.clone(),
            dedup_id: dedup_id(&req.idempotency_key),
            body,
        }])
        .await
        .map_err(|e| OutboundError::Queue(e.to_string()))
}

/// SQS deduplication ids are at most 128 characters of a restricted alphabet.
fn dedup_id(key: &str) -> String {
    switchboard_core::event::sha256_hex(key.as_bytes())
}

fn class_named(name: &str) -> TrafficClass {
    match name {
        "utility" => TrafficClass::Utility,
        "marketing" => TrafficClass::Marketing,
        "authentication" => TrafficClass::Authentication,
        _ => TrafficClass::Service,
    }
}

fn template_name(c: &Content) -> Value {
    match c {
        Content::Template { name, language, .. } => json!({"name": name, "language": language}),
        _ => Value::Null,
    }
}

/// The record as the API shows it (without the stored request).
fn public(record: &Item) -> Value {
    let mut v = record.clone();
    for a in ["pk", "sk", "request"] {
        v.remove(a);
    }
    Value::Object(v)
}

/// The sender: the only caller of Meta's messages endpoint.
pub struct Sender {
    pub table: Arc<dyn Table>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub api: Arc<dyn MessageApi>,
    pub tokens: Arc<dyn TokenSource>,
    pub limits: Limits,
}

/// What happened to one queued send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        wamid: String,
    },
    Refused {
        reason: String,
    },
    Failed {
        reason: String,
    },
    /// Already finished by an earlier delivery of the same message.
    Duplicate,
}

impl Sender {
    /// One queued send. `Err` returns it to the queue after the delay it carries.
    /// `_receive_count` is the queue's; the tries against Meta are counted on the send record.
    pub async fn deliver(&self, body: &str, _receive_count: u32) -> Result<SendOutcome, Retry> {
        let req: SendRequest = serde_json::from_str(body)
            .map_err(|e| Retry::now(format!("unreadable send request: {e}")))?;
        let key = Key::from(keys::send(&req.tenant, &req.idempotency_key));
        let record = self.table.get(&key).await.map_err(Retry::store)?;
        if let Some(r) = &record {
            if matches!(s(r, "status"), Some("sent" | "refused" | "failed")) {
                return Ok(SendOutcome::Duplicate);
            }
        }
        let now = self.clock.now();
        let loaded = match load(self.table.as_ref(), now, &req).await {
            Ok(l) => l,
            Err(OutboundError::NotFound(c)) => {
                return self
                    .finish_refused(&req, None, &format!("no conversation {c}"), "not_found")
                    .await
            }
            Err(e) => return Err(Retry::now(e.to_string())),
        };
        let class = match check(&req.origin, &req.content, &loaded.facts) {
            Ok(c) => c,
            Err(r) => {
                return self
                    .finish_refused(&req, Some(&loaded), &r.to_string(), r.code())
                    .await
            }
        };
        if record.is_none() {
            // Queued by a path that writes no record first (the bot, through the outbox).
            let _ = self
                .table
                .put(
                    send_record(&req, class, now),
                    Some(Condition::ItemNotExists),
                )
                .await;
        }
        let Some(pnid) = loaded.phone_number_id.clone() else {
            return self
                .finish_failed(
                    &req,
                    &loaded,
                    "the conversation has no business phone number",
                    None,
                )
                .await;
        };
        if let Some(wait_ms) = self
            .take_tokens(&req.tenant, &pnid, &loaded.contact_id, class)
            .await?
        {
            // Not an attempt against Meta: come back when a token is free.
            return Err(Retry::after(
                "throughput budget exhausted".into(),
                wait_ms.div_ceil(1000).max(1) as u32,
            ));
        }
        let token = match self.tokens.token(&req.tenant).await {
            Ok(t) => t,
            Err(e) => return Err(Retry::after(e.to_string(), 60)),
        };
        let address = loaded
            .facts
            .address
            .clone()
            .ok_or_else(|| Retry::now("no address".into()))?;
        let graph = graph_body(&address, &req.content, req.in_reply_to.as_deref());
        // Tries against Meta, not queue receives (waits for tokens are receives too).
        let tries = self.mark_sending(&key).await?;
        match self.api.send(&token, &pnid, &graph).await {
            Ok(wamid) => self.finish_sent(&req, &loaded, class, &pnid, &wamid).await,
            Err(f) => self.on_error(&req, &loaded, &f, tries).await,
        }
    }

    /// Takes one token from the number's class bucket and one from the recipient pair's; the
    /// wait in milliseconds if either is empty.
    async fn take_tokens(
        &self,
        tenant: &str,
        pnid: &str,
        contact_id: &str,
        class: TrafficClass,
    ) -> Result<Option<u64>, Retry> {
        let number = self.limits.number_bucket(class);
        let number_key = format!("PN#{pnid}#{}", Limits::bucket_name(class));
        if let Some(w) = self.take(tenant, &number_key, number).await? {
            return Ok(Some(w));
        }
        let pair_key = format!("PAIR#{pnid}#{contact_id}");
        self.take(tenant, &pair_key, self.limits.pair).await
    }

    async fn take(
        &self,
        tenant: &str,
        bucket: &str,
        shape: switchboard_core::outbound::Bucket,
    ) -> Result<Option<u64>, Retry> {
        let key = Key::from(keys::rate_bucket(tenant, bucket));
        for _ in 0..20 {
            let now_ms = self.clock.now_millis();
            let current = self.table.get(&key).await.map_err(Retry::store)?;
            let state = current.as_ref().and_then(|c| {
                Some(BucketState {
                    tokens: c.get("tokens")?.as_f64()?,
                    at_ms: c.get("at_ms")?.as_i64()?,
                })
            });
            let next = match shape.take(state, now_ms) {
                Ok(n) => n,
                Err(wait) => return Ok(Some(wait)),
            };
            // Every take bumps `seq`: two senders that read the same state cannot both write
            // (the time alone could be equal for both).
            let seq = current
                .as_ref()
                .and_then(|c| c.get("seq"))
                .and_then(Value::as_i64);
            let cond = match seq {
                Some(n) => Condition::AttrEquals("seq".into(), json!(n)),
                // Absent, or expired by TTL but not yet deleted (DynamoDB deletes lazily; reads
                // hide it, conditions still see it).
                None => Condition::Or(vec![
                    Condition::ItemNotExists,
                    Condition::AttrLessThan(keys::ATTR_EXPIRES_AT.into(), json!(now_ms / 1000 + 1)),
                ]),
            };
            // An idle bucket is full again after capacity / rate seconds; let TTL remove it.
            let ttl = next.at_ms / 1000 + 3600;
            let it = item(
                &key,
                json!({"kind": "rate_bucket", "tokens": next.tokens, "at_ms": next.at_ms,
                       "seq": seq.unwrap_or(0) + 1, keys::ATTR_EXPIRES_AT: ttl}),
            );
            match self.table.put(it, Some(cond)).await {
                Ok(()) => return Ok(None),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(Retry::store(e)),
            }
        }
        // Heavy contention on one bucket: the bucket is busy, which means it is nearly empty.
        Ok(Some(50))
    }

    /// Marks a try and returns how many tries there have been, this one included.
    async fn mark_sending(&self, key: &Key) -> Result<u32, Retry> {
        let it = self
            .table
            .update(
                key,
                Update::default()
                    .set("status", "sending")
                    .add("attempts", 1)
                    .set("last_attempt_at", self.clock.now()),
                None,
            )
            .await
            .map_err(Retry::store)?;
        Ok(it.get("attempts").and_then(Value::as_u64).unwrap_or(1) as u32)
    }

    async fn on_error(
        &self,
        req: &SendRequest,
        loaded: &Loaded,
        f: &ApiFailure,
        attempt: u32,
    ) -> Result<SendOutcome, Retry> {
        let action = action_for(f.code, f.http_status, attempt.saturating_sub(1));
        let detail = format!(
            "Meta error {} (HTTP {}): {}",
            f.code, f.http_status, f.message
        );
        match action {
            ErrorAction::Retry { after_secs, reason } if attempt < MAX_ATTEMPTS => {
                self.note_retry(req, &detail, after_secs).await?;
                Err(Retry::after(format!("{reason}: {detail}"), after_secs as u32))
            }
            ErrorAction::TokenExpired { after_secs } if attempt < MAX_ATTEMPTS => {
                self.alert_token(req, &detail).await;
                self.note_retry(req, &detail, after_secs).await?;
                Err(Retry::after(detail, after_secs as u32))
            }
            ErrorAction::WindowClosed => {
                self.finish_refused(
                    req,
                    Some(loaded),
                    "Meta says the 24-hour window is closed (131047); send an approved template instead",
                    "window_closed",
                )
                .await
            }
            ErrorAction::MarketingStopped => {
                let record = ConsentRecord {
                    kind: ConsentKind::MarketingStop,
                    source: "meta_error".into(),
                    evidence: "131050".into(),
                    at: self.clock.now(),
                    actor: None,
                };
                crate::consent::append(self.table.as_ref(), &req.tenant, &loaded.contact_id, &record)
                    .await
                    .map_err(Retry::store)?;
                self.finish_failed(req, loaded, &detail, Some(&action)).await
            }
            ErrorAction::Unreachable => {
                let _ = self
                    .table
                    .update(
                        &keys::contact(&req.tenant, &loaded.contact_id).into(),
                        Update::default()
                            .set("unreachable", true)
                            .set("unreachable_at", self.clock.now()),
                        None,
                    )
                    .await;
                self.finish_failed(req, loaded, &detail, Some(&action)).await
            }
            _ => self.finish_failed(req, loaded, &detail, Some(&action)).await,
        }
    }

    async fn note_retry(&self, req: &SendRequest, detail: &str, after: u64) -> Result<(), Retry> {
        self.table
            .update(
                &keys::send(&req.tenant, &req.idempotency_key).into(),
                Update::default()
                    .set("status", "retrying")
                    .set("last_error", detail)
                    .set("retry_at", self.clock.now() + after as i64),
                None,
            )
            .await
            .map(|_| ())
            .map_err(Retry::store)
    }

    async fn alert_token(&self, req: &SendRequest, message: &str) {
        let now = self.clock.now();
        let key = Key::from(keys::notice(
            &req.tenant,
            "token_expired",
            now,
            &req.idempotency_key,
        ));
        let _ = self
            .table
            .put(
                item(&key, json!({"kind": "notice", "field": "token_expired", "message": message, "at": now})),
                None,
            )
            .await;
        let _ = self
            .bus
            .publish(&[BusEvent {
                tenant: req.tenant.clone(),
                detail_type: "tenant.token_expired".into(),
                correlation: req.idempotency_key.clone(),
                detail: json!({"message": message}),
            }])
            .await;
    }

    /// Commits a final outcome: the send record, the audit entry, the event (and, for a sent
    /// message, the message in the thread and its delivery-status item) in one transaction.
    async fn finish(
        &self,
        req: &SendRequest,
        status: &str,
        mut extra: Update,
        mut ops: Vec<TxOp>,
        events: Vec<BusEvent>,
        audit_detail: Value,
    ) -> Result<(), Retry> {
        let now = self.clock.now();
        extra = extra.set("status", status).set("finished_at", now);
        let key = Key::from(keys::send(&req.tenant, &req.idempotency_key));
        ops.push(TxOp::Update {
            key,
            update: extra,
            // Finishing twice (a redelivery racing us) must not overwrite the first outcome.
            condition: Some(Condition::Or(vec![Condition::AttrNotExists(
                "finished_at".into(),
            )])),
        });
        ops.push(audit::op(
            &req.tenant,
            self.clock.now_millis(),
            &format!("send:{}:{status}", req.idempotency_key),
            audit::Entry {
                actor: req.origin.label(),
                action: format!("send.{status}"),
                conversation_id: Some(req.conversation_id.clone()),
                detail: audit_detail,
            },
        ));
        let correlation = format!("send:{}", req.idempotency_key);
        ops.extend(outbox_ops(&req.tenant, &correlation, now, &events));
        match self.table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCancelled { .. }) => return Ok(()),
            Err(e) => return Err(Retry::store(e)),
        }
        flush_outbox(
            self.table.as_ref(),
            self.bus.as_ref(),
            &req.tenant,
            &correlation,
        )
        .await
        .map_err(|e| Retry::now(e.to_string()))
    }

    fn event(&self, req: &SendRequest, detail_type: &str, detail: Value) -> BusEvent {
        let mut d = json!({"conversation_id": req.conversation_id,
            "idempotency_key": req.idempotency_key, "origin": req.origin});
        if let (Value::Object(a), Value::Object(b)) = (&mut d, detail) {
            a.extend(b);
        }
        BusEvent {
            tenant: req.tenant.clone(),
            detail_type: detail_type.into(),
            correlation: format!("send:{}", req.idempotency_key),
            detail: d,
        }
    }

    async fn finish_sent(
        &self,
        req: &SendRequest,
        loaded: &Loaded,
        class: TrafficClass,
        pnid: &str,
        wamid: &str,
    ) -> Result<SendOutcome, Retry> {
        let now = self.clock.now();
        let msg_key = Key::from(keys::message(&req.tenant, &req.conversation_id, now, wamid));
        let preview = match &req.content {
            Content::Text { body, .. } => Value::from(body.chars().take(160).collect::<String>()),
            other => Value::from(other.describe()),
        };
        let ops = vec![
            TxOp::Put {
                item: item(
                    &msg_key,
                    json!({"kind": "message", "direction": "outbound", "wamid": wamid,
                        "conversation_id": req.conversation_id, "contact_id": loaded.contact_id,
                        "timestamp": now, "origin": req.origin, "class": class.as_str(),
                        "type": content_type(&req.content), "preview": preview,
                        "template": template_name(&req.content), "phone_number_id": pnid,
                        "idempotency_key": req.idempotency_key,
                        "content": serde_json::to_value(&req.content).unwrap_or(Value::Null)}),
                ),
                condition: None,
            },
            // When we last answered: an unanswered customer window is what the sweeper counts.
            TxOp::Update {
                key: keys::conversation(&req.tenant, &req.conversation_id).into(),
                update: Update::default().set("last_reply_at", now),
                condition: Some(Condition::ItemExists),
            },
            TxOp::Update {
                key: keys::outbound(&req.tenant, wamid).into(),
                update: Update::default()
                    .set("conversation_id", req.conversation_id.as_str())
                    .set("idempotency_key", req.idempotency_key.as_str())
                    .set("sent_at", now)
                    .set("template", template_name(&req.content))
                    .set("class", class.as_str()),
                condition: None,
            },
        ];
        let events = vec![self.event(
            req,
            "message.sent",
            json!({"wamid": wamid, "class": class.as_str(), "template": template_name(&req.content)}),
        )];
        self.finish(
            req,
            "sent",
            Update::default().set("wamid", wamid),
            ops,
            events,
            json!({"wamid": wamid, "class": class.as_str(), "content": req.content.describe(),
                   "template": template_name(&req.content), "in_reply_to": req.in_reply_to,
                   "state": s(&loaded.conversation, "state")}),
        )
        .await?;
        tracing::info!(tenant = %req.tenant, conversation_id = %req.conversation_id, class = class.as_str(), "sent");
        Ok(SendOutcome::Sent {
            wamid: wamid.to_string(),
        })
    }

    async fn finish_refused(
        &self,
        req: &SendRequest,
        loaded: Option<&Loaded>,
        reason: &str,
        code: &str,
    ) -> Result<SendOutcome, Retry> {
        let mut events = vec![self.event(
            req,
            "message.refused",
            json!({"reason": code, "message": reason}),
        )];
        events.extend(self.bot_failed(req, loaded, code));
        self.finish(
            req,
            "refused",
            Update::default().set("reason", code).set("message", reason),
            Vec::new(),
            events,
            json!({"reason": code, "message": reason, "content": req.content.describe(),
                   "template": template_name(&req.content)}),
        )
        .await?;
        tracing::info!(tenant = %req.tenant, conversation_id = %req.conversation_id, reason = code, "send refused");
        Ok(SendOutcome::Refused {
            reason: code.to_string(),
        })
    }

    async fn finish_failed(
        &self,
        req: &SendRequest,
        loaded: &Loaded,
        reason: &str,
        action: Option<&ErrorAction>,
    ) -> Result<SendOutcome, Retry> {
        let action = action.map(|a| serde_json::to_value(a).unwrap_or(Value::Null));
        let mut events = vec![self.event(
            req,
            "message.failed",
            json!({"message": reason, "action": action}),
        )];
        events.extend(self.bot_failed(req, Some(loaded), "send_failed"));
        self.finish(
            req,
            "failed",
            Update::default()
                .set("message", reason)
                .set("action", action.clone().unwrap_or(Value::Null)),
            Vec::new(),
            events,
            json!({"message": reason, "action": action, "content": req.content.describe(),
                   "template": template_name(&req.content)}),
        )
        .await?;
        tracing::warn!(tenant = %req.tenant, conversation_id = %req.conversation_id, "send failed");
        Ok(SendOutcome::Failed {
            reason: reason.to_string(),
        })
    }

    /// When the bot cannot answer, a human should: one of handoff's triggers.
    fn bot_failed(
        &self,
        req: &SendRequest,
        loaded: Option<&Loaded>,
        code: &str,
    ) -> Option<BusEvent> {
        if req.origin != Origin::Bot || code == "bot_muted" {
            return None;
        }
        let queue = loaded
            .and_then(|l| s(&l.conversation, "queue"))
            .unwrap_or(switchboard_core::triage::FRONT_LINE)
            .to_string();
        Some(self.event(
            req,
            "handoff.requested",
            json!({"queue": queue, "reasons": [format!("bot_failed:{code}")]}),
        ))
    }
}

fn content_type(c: &Content) -> &'static str {
    match c {
        Content::Text { .. } => "text",
        Content::Interactive { .. } => "interactive",
        Content::Template { .. } => "template",
    }
}

#[async_trait]
impl Handler for Sender {
    async fn handle_message(&self, body: &str, receive_count: u32) -> Result<(), Retry> {
        self.deliver(body, receive_count).await.map(|_| ())
    }
}
