//! The conversation use case: one queued event in, the stored state it implies out.
//!
//! Each event lands in one transaction together with its dedupe marker, so an event is applied
//! exactly once however often the queue delivers it, and a crash half-way leaves nothing half-done.
//! Reads before the transaction are guarded by a version condition; a concurrent writer makes the
//! transaction fail and we re-read and try again.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::consent::{of_user_preference, opt_out_of_message, ConsentRecord};
use switchboard_core::conversation::{
    window_expires_at, ConversationState, DeliveryStatus, Identity,
};
use switchboard_core::event::{sha256_hex, EventKind};
use switchboard_core::media::MediaJob;
use switchboard_core::triage::taxonomy::Approval;
use switchboard_core::webhook::{Contact, InboundMessage};
use switchboard_core::{keys, Event};

use crate::envelope::{open, EnvelopeError};
use crate::outbound::OutboundQueues;
use crate::outbox::{flush, outbox_ops, send_ops, OutboxError};
use crate::ports::table::item;
use crate::ports::{
    BlobStore, BusError, BusEvent, Clock, Condition, EventBus, Key, StoreError, Table, TxOp, Update,
};
use crate::routes::resolve_tenant;
use crate::triage::Triager;

/// The bus event that asks the media function to fetch a file (an EventBridge rule routes it to
/// the media queue; locally the in-process bus does).
pub const MEDIA_RECEIVED: &str = "media.received";

/// Dedupe markers outlive Meta's 7-day retry window with room to spare.
const MARKER_TTL_SECS: i64 = 30 * 24 * 3600;
/// Optimistic-concurrency retries before giving the event back to the queue.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A customer message stored in a conversation.
    Message { conversation_id: String },
    /// A delivery status applied (or recorded without moving the status backwards).
    Status,
    /// Stored as a tenant-level notice (templates, account, errors, preferences, unparsed).
    Notice,
    /// Seen before: nothing changed.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("gave up after {MAX_ATTEMPTS} concurrent-update conflicts")]
    Contention,
    #[error("stored, but its events are not published yet: {0}")]
    Publish(#[from] BusError),
    #[error("stored, but its sends are not queued yet: {0}")]
    Outbound(String),
}

pub struct Processor {
    pub table: Arc<dyn Table>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub bus: Arc<dyn EventBus>,
    pub triage: Arc<Triager>,
    /// Where the bot's replies are queued for the sender.
    pub outbound: OutboundQueues,
}

impl Processor {
    /// A queue message body (an envelope) → stored state.
    pub async fn handle(&self, body: &str) -> Result<Outcome, ProcessError> {
        let event = open(body, self.blobs.as_ref()).await?;
        self.process(&event).await
    }

    pub async fn process(&self, event: &Event) -> Result<Outcome, ProcessError> {
        let tenant = match event.kind {
            EventKind::Unparsed { .. } => keys::UNROUTED_TENANT.to_string(),
            _ => {
                resolve_tenant(
                    self.table.as_ref(),
                    event.phone_number_id(),
                    event.waba_id.as_deref(),
                )
                .await?
            }
        };
        let outcome = match event.kind {
            EventKind::Message { .. } => match event.message() {
                Some(Ok((message, contact))) => {
                    self.message(&tenant, event, &message, contact.as_ref())
                        .await
                }
                // A message whose shape we cannot read is kept whole as a notice.
                _ => self.notice(&tenant, event, "malformed_message").await,
            },
            EventKind::Status { .. } => match event.status() {
                Some(Ok(status)) => self.status(&tenant, event, &status).await,
                _ => self.notice(&tenant, event, "malformed_status").await,
            },
            EventKind::Unparsed { .. } => self.notice(&tenant, event, "unparsed").await,
            EventKind::UserPreference {
                ref preference,
                ref contact,
            } => {
                self.preference(&tenant, event, preference, contact.as_ref())
                    .await
            }
            _ => self.notice(&tenant, event, &event.field).await,
        }?;
        tracing::info!(event_key = %event.key, tenant = %tenant, outcome = outcome_name(&outcome), "processed");
        Ok(outcome)
    }

    fn marker(&self, tenant: &str, event: &Event) -> TxOp {
        let key = Key::from(keys::processed(tenant, &event.key));
        TxOp::Put {
            item: item(
                &key,
                json!({
                    "kind": "processed",
                    "event_key": event.key,
                    "processed_at": self.clock.now(),
                    keys::ATTR_EXPIRES_AT: self.clock.now() + MARKER_TTL_SECS,
                }),
            ),
            condition: Some(Condition::ItemNotExists),
        }
    }

    /// Runs `build` (which reads and returns the ops after the marker) until the transaction
    /// commits, the marker shows a duplicate, or contention persists.
    async fn commit<F, Fut>(
        &self,
        tenant: &str,
        event: &Event,
        mut build: F,
    ) -> Result<bool, ProcessError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<TxOp>, StoreError>>,
    {
        let marker_key = Key::from(keys::processed(tenant, &event.key));
        for _ in 0..MAX_ATTEMPTS {
            // Cheap early exit for the common duplicate (a Meta retry of a stored POST).
            if self.table.get(&marker_key).await?.is_some() {
                return Ok(false);
            }
            let mut ops = vec![self.marker(tenant, event)];
            ops.extend(build().await?);
            match self.table.transact(ops).await {
                Ok(()) => return Ok(true),
                Err(StoreError::TransactionCancelled { failed }) => {
                    if failed.first() == Some(&true) {
                        return Ok(false);
                    }
                    tracing::debug!(event_key = %event.key, "conflict; retrying");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ProcessError::Contention)
    }

    async fn message(
        &self,
        tenant: &str,
        event: &Event,
        message: &InboundMessage,
        contact: Option<&Contact>,
    ) -> Result<Outcome, ProcessError> {
        let mut identity = Identity::of_message(message, contact);
        let mut identifiers = identity.identifiers();
        if identifiers.is_empty() {
            // Neither phone nor BSUID: keep the message under the sender's queue group.
            identifiers.push(format!("unknown:{}", event.group));
        }
        let contact_id = self.resolve_contact(tenant, &identifiers).await?;
        // `user_changed_number`: the new number is an alias of the same contact.
        if let Some(sys) = &message.system {
            let mut new_ids = Vec::new();
            if let Some(w) = sys.wa_id.as_deref().filter(|w| !w.is_empty()) {
                new_ids.push(format!("wa:{w}"));
                identity.wa_id = Some(w.to_string());
            }
            if let Some(u) = sys.user_id.as_deref().filter(|u| !u.is_empty()) {
                new_ids.push(format!("bsuid:{u}"));
                identity.bsuid = Some(u.to_string());
            }
            self.claim_aliases(tenant, &new_ids, &contact_id, true)
                .await?;
        }
        let conversation_id = conversation_id_of(&contact_id);
        let ts = message
            .timestamp()
            .map(|t| t.0)
            .unwrap_or(event.received_at);
        let wamid = if message.id.is_empty() {
            event.key.clone()
        } else {
            message.id.clone()
        };
        let preview = message.preview().map(|p| truncate(&p, 160));

        let triage_ctx = self
            .triage
            .context(self.table.as_ref(), tenant, &contact_id, message)
            .await?;
        let triager = self.triage.clone();
        let now = self.clock.now();
        let table = self.table.clone();
        let conv_key = Key::from(keys::conversation(tenant, &conversation_id));
        let window_key = Key::from(keys::window(tenant, &contact_id));
        let committed = self
            .commit(tenant, event, || {
                let table = table.clone();
                let conv_key = conv_key.clone();
                let window_key = window_key.clone();
                let identity = identity.clone();
                let preview = preview.clone();
                let contact_id = contact_id.clone();
                let conversation_id = conversation_id.clone();
                let wamid = wamid.clone();
                let triager = triager.clone();
                let triage_ctx = &triage_ctx;
                async move {
                    let current = table.get(&conv_key).await?;
                    let get_i64 = |a: &str| {
                        current
                            .as_ref()
                            .and_then(|c| c.get(a))
                            .and_then(Value::as_i64)
                    };
                    let version = get_i64("version");
                    let state = current
                        .as_ref()
                        .and_then(|c| c.get("state"))
                        .and_then(Value::as_str)
                        .and_then(ConversationState::parse);
                    let has_owner = current
                        .as_ref()
                        .and_then(|c| c.get("owner"))
                        .is_some_and(|o| !o.is_null());
                    let new_state = match state {
                        Some(s) => s.on_customer_message(has_owner),
                        None => ConversationState::Bot,
                    };
                    let decision = triager.decide(message, triage_ctx, current.as_ref(), ts);
                    // A message the bot may not act on alone is not answered by the bot; its
                    // `handoff.requested` event queues the conversation for a human (the handoff
                    // function makes that transition, with its SLA clocks).
                    let needs_human =
                        decision.noise.is_none() && decision.approval == Approval::HumanReview;
                    let writes = triager.writes(
                        tenant,
                        &decision,
                        triage_ctx,
                        current.as_ref(),
                        &conversation_id,
                        &contact_id,
                        &wamid,
                        ts,
                        &event.key,
                        new_state == ConversationState::Bot && !needs_human,
                    );
                    // Messages arrive out of order: activity and window only move forward.
                    let last_activity = get_i64("last_activity").unwrap_or(i64::MIN).max(ts);
                    let newest = last_activity == ts;
                    let window_expires = get_i64("window_expires_at")
                        .unwrap_or(0)
                        .max(window_expires_at(ts));

                    let mut conv = Update::default()
                        .set("kind", "conversation")
                        .set("id", conversation_id.as_str())
                        .set("tenant", tenant)
                        .set("contact_id", contact_id.as_str())
                        .set("state", new_state.as_str())
                        .set("last_activity", last_activity)
                        .set("window_expires_at", window_expires)
                        .set(
                            keys::ATTR_GSI1PK,
                            keys::conversations_by_state(tenant, new_state.as_str()),
                        )
                        .set(
                            keys::ATTR_GSI1SK,
                            keys::activity_sort(last_activity, &conversation_id),
                        )
                        .set(keys::ATTR_GSI2PK, keys::conversations_all(tenant))
                        .set(
                            keys::ATTR_GSI2SK,
                            keys::activity_sort(last_activity, &conversation_id),
                        )
                        .set("version", version.unwrap_or(0) + 1)
                        .set_if_absent("created_at", ts)
                        .add("message_count", 1);
                    if let Some(pn) = event.phone_number_id() {
                        conv = conv.set("phone_number_id", pn);
                    }
                    // The next-response clock: the customer is waiting for the human who owns
                    // the conversation (the agent's reply stops it).
                    if has_owner
                        && current
                            .as_ref()
                            .and_then(|c| c.get("awaiting_reply_since"))
                            .is_none()
                    {
                        conv = conv.set("awaiting_reply_since", ts);
                    }
                    if newest {
                        conv = conv
                            .set(
                                "last_message_preview",
                                preview.clone().map_or(Value::Null, Value::from),
                            )
                            .set("last_message_type", message.kind.as_str());
                    }
                    for (attr, v) in identity_attrs(&identity) {
                        conv = conv.set(attr, v);
                    }
                    let conv = conv.merge(writes.conversation);
                    let conv_cond = match version {
                        Some(v) => Condition::AttrEquals("version".into(), json!(v)),
                        None => Condition::ItemNotExists,
                    };

                    let mut contact_update = Update::default()
                        .set("kind", "contact")
                        .set("id", contact_id.as_str())
                        .set("last_seen", last_activity)
                        .set_if_absent("first_seen", ts);
                    for (attr, v) in identity_attrs(&identity) {
                        contact_update = contact_update.set(attr, v);
                    }
                    let contact_update = contact_update.merge(writes.contact);

                    let msg_key = Key::from(keys::message(tenant, &conversation_id, ts, &wamid));
                    let msg_item = item(
                        &msg_key,
                        json!({
                            "kind": "message",
                            "direction": "inbound",
                            "wamid": wamid,
                            "conversation_id": conversation_id,
                            "contact_id": contact_id,
                            "type": message.kind,
                            "timestamp": ts,
                            "received_at": event.received_at,
                            "preview": preview,
                            "known_type": message.is_known_type(),
                            "context_id": message.context.as_ref().and_then(|c| c.id.clone()),
                            "phone_number_id": event.phone_number_id(),
                            "event_key": event.key,
                            "intent": decision.intent,
                            "modality": decision.modality,
                            "noise": decision.noise.as_ref().map(|n| n.reason),
                            "triage": serde_json::to_value(&decision).unwrap_or(Value::Null),
                            "raw": serde_json::to_value(message).unwrap_or(Value::Null),
                        }),
                    );
                    let mut ops = vec![
                        TxOp::Put {
                            item: msg_item,
                            condition: None,
                        },
                        TxOp::Update {
                            key: conv_key,
                            update: conv,
                            condition: Some(conv_cond),
                        },
                        TxOp::Update {
                            key: Key::from(keys::contact(tenant, &contact_id)),
                            update: contact_update,
                            condition: None,
                        },
                        TxOp::Update {
                            key: window_key,
                            update: Update::default()
                                .set("kind", "window")
                                .set("contact_id", contact_id.as_str())
                                .set("conversation_id", conversation_id.as_str())
                                .set(keys::ATTR_EXPIRES_AT, window_expires),
                            condition: None,
                        },
                    ];
                    ops.extend(writes.ops);
                    let mut events = writes.events.clone();
                    // A session starts with the first message, or the first after a resolution:
                    // the denominator of handoff and deflection rates (docs/metrics.md).
                    if matches!(state, None | Some(ConversationState::Resolved)) {
                        events.insert(
                            0,
                            BusEvent {
                                tenant: tenant.to_string(),
                                detail_type: "conversation.opened".into(),
                                correlation: event.key.clone(),
                                detail: json!({"conversation_id": conversation_id,
                                    "contact_id": contact_id, "wamid": wamid,
                                    "reopened": state.is_some(), "at": ts}),
                            },
                        );
                    }
                    // Meta's copy expires: every media message becomes a fetch job at once.
                    if let Some(job) = MediaJob::of_message(
                        message,
                        tenant,
                        &conversation_id,
                        &contact_id,
                        event.phone_number_id(),
                        ts,
                        event.received_at,
                    ) {
                        events.push(BusEvent {
                            tenant: tenant.to_string(),
                            detail_type: MEDIA_RECEIVED.to_string(),
                            correlation: event.key.clone(),
                            detail: serde_json::to_value(&job).unwrap_or(Value::Null),
                        });
                    }
                    // STOP words and the opt-out button go to the consent ledger at once.
                    if let Some(out) = opt_out_of_message(message) {
                        let record = ConsentRecord {
                            kind: out.kind(),
                            source: out.source.clone(),
                            evidence: out.evidence.clone(),
                            at: ts,
                            actor: Some("customer".into()),
                        };
                        ops.extend(consent_ops(
                            tenant,
                            &contact_id,
                            &conversation_id,
                            &record,
                            &wamid,
                        ));
                        events.push(consent_event(tenant, &event.key, &contact_id, &record));
                    }
                    ops.extend(outbox_ops(tenant, &event.key, now, &events));
                    ops.extend(send_ops(tenant, &event.key, &writes.sends));
                    Ok(ops)
                }
            })
            .await?;
        self.flush_outbox(tenant, &event.key).await?;
        Ok(if committed {
            Outcome::Message { conversation_id }
        } else {
            Outcome::Duplicate
        })
    }

    /// The contact an identity belongs to, creating its aliases on first sight. The id is derived
    /// from the first identifier, so a retry after a crash lands on the same contact.
    async fn resolve_contact(
        &self,
        tenant: &str,
        identifiers: &[String],
    ) -> Result<String, StoreError> {
        for id in identifiers {
            if let Some(it) = self
                .table
                .get(&Key::from(keys::contact_alias(tenant, id)))
                .await?
            {
                if let Some(c) = it.get("contact_id").and_then(Value::as_str) {
                    let c = c.to_string();
                    self.claim_aliases(tenant, identifiers, &c, false).await?;
                    return Ok(c);
                }
            }
        }
        let contact_id = format!(
            "c_{}",
            &sha256_hex(format!("{tenant}\0{}", identifiers[0]).as_bytes())[..24]
        );
        self.claim_aliases(tenant, identifiers, &contact_id, false)
            .await?;
        Ok(contact_id)
    }

    /// Points identifiers at a contact. An identifier already taken stays with its contact unless
    /// `reassign` (a number change moves the number to this contact).
    async fn claim_aliases(
        &self,
        tenant: &str,
        identifiers: &[String],
        contact_id: &str,
        reassign: bool,
    ) -> Result<(), StoreError> {
        for id in identifiers {
            let key = Key::from(keys::contact_alias(tenant, id));
            let it = item(&key, json!({"kind": "alias", "contact_id": contact_id}));
            let cond = (!reassign).then_some(Condition::ItemNotExists);
            match self.table.put(it, cond).await {
                Ok(()) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn status(
        &self,
        tenant: &str,
        event: &Event,
        status: &switchboard_core::webhook::Status,
    ) -> Result<Outcome, ProcessError> {
        let Some(new) = DeliveryStatus::parse(&status.status) else {
            return self.notice(tenant, event, "unknown_status").await;
        };
        let ts = status.timestamp().map(|t| t.0).unwrap_or(event.received_at);
        let key = Key::from(keys::outbound(tenant, &status.id));
        let table = self.table.clone();
        let now = self.clock.now();
        let committed = self
            .commit(tenant, event, || {
                let table = table.clone();
                let key = key.clone();
                async move {
                    let current = table.get(&key).await?;
                    let rank = current
                        .as_ref()
                        .and_then(|c| c.get("status_rank"))
                        .and_then(Value::as_i64);
                    let mut up = Update::default()
                        .set("kind", "outbound_status")
                        .set("wamid", status.id.as_str())
                        .set(&format!("{}_at", new.as_str()), ts);
                    if let Some(p) = &status.pricing {
                        up = up.set("pricing", serde_json::to_value(p).unwrap_or(Value::Null));
                    }
                    if let Some(cb) = &status.biz_opaque_callback_data {
                        up = up.set("biz_opaque_callback_data", cb.as_str());
                    }
                    if !status.errors.is_empty() {
                        up = up.set(
                            "errors",
                            serde_json::to_value(&status.errors).unwrap_or(Value::Null),
                        );
                    }
                    // Only a higher rank moves the status; the timestamp of each step is kept anyway.
                    if rank.is_none_or(|r| new.rank() > r) {
                        up = up
                            .set("status", new.as_str())
                            .set("status_rank", new.rank());
                    }
                    let cond = match rank {
                        Some(r) => Condition::AttrEquals("status_rank".into(), json!(r)),
                        None => Condition::AttrNotExists("status_rank".into()),
                    };
                    // Delivery and read rates count each message once per status, whatever the
                    // order statuses arrive in.
                    let attr = |a: &str| current.as_ref().and_then(|c| c.get(a)).cloned();
                    let first = attr(&format!("{}_at", new.as_str())).is_none();
                    let signal = BusEvent {
                        tenant: tenant.to_string(),
                        detail_type: "message.status".into(),
                        correlation: event.key.clone(),
                        detail: json!({"wamid": status.id, "status": new.as_str(), "first": first,
                            "conversation_id": attr("conversation_id"), "template": attr("template"),
                            "class": attr("class"),
                            "errors": serde_json::to_value(&status.errors).unwrap_or(Value::Null)}),
                    };
                    let mut ops = vec![TxOp::Update {
                        key,
                        update: up,
                        condition: Some(cond),
                    }];
                    ops.extend(outbox_ops(tenant, &event.key, now, &[signal]));
                    Ok(ops)
                }
            })
            .await?;
        self.flush_outbox(tenant, &event.key).await?;
        Ok(if committed {
            Outcome::Status
        } else {
            Outcome::Duplicate
        })
    }

    /// Meta's `user_preferences` (marketing stop/resume from the WhatsApp client): a ledger entry
    /// for the contact, and the notice as received.
    async fn preference(
        &self,
        tenant: &str,
        event: &Event,
        preference: &Value,
        contact: Option<&Value>,
    ) -> Result<Outcome, ProcessError> {
        let Some(kind) = of_user_preference(preference) else {
            return self.notice(tenant, event, &event.field).await;
        };
        let pick = |a: &str| {
            preference
                .get(a)
                .or_else(|| contact.and_then(|c| c.get(a)))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let mut ids = Vec::new();
        if let Some(w) = pick("wa_id") {
            ids.push(format!("wa:{w}"));
        }
        if let Some(u) = pick("user_id") {
            ids.push(format!("bsuid:{u}"));
        }
        if ids.is_empty() {
            return self.notice(tenant, event, &event.field).await;
        }
        let contact_id = self.resolve_contact(tenant, &ids).await?;
        let at = preference
            .get("timestamp")
            .and_then(|t| {
                t.as_i64()
                    .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(event.received_at);
        let record = ConsentRecord {
            kind,
            source: "user_preferences".into(),
            evidence: preference
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("marketing preference")
                .to_string(),
            at,
            actor: Some("customer".into()),
        };
        let conversation_id = conversation_id_of(&contact_id);
        let mut ops = consent_ops(tenant, &contact_id, &conversation_id, &record, &event.key);
        ops.extend(outbox_ops(
            tenant,
            &event.key,
            self.clock.now(),
            &[consent_event(tenant, &event.key, &contact_id, &record)],
        ));
        let committed = self
            .commit(tenant, event, || {
                let ops = ops.clone();
                async move { Ok(ops) }
            })
            .await?;
        self.flush_outbox(tenant, &event.key).await?;
        Ok(if committed {
            Outcome::Notice
        } else {
            Outcome::Duplicate
        })
    }

    async fn notice(
        &self,
        tenant: &str,
        event: &Event,
        field: &str,
    ) -> Result<Outcome, ProcessError> {
        let ts = event.entry_time.unwrap_or(event.received_at);
        let key = Key::from(keys::notice(tenant, field, ts, &event.key));
        let it = item(
            &key,
            json!({
                "kind": "notice",
                "field": field,
                "event_key": event.key,
                "received_at": event.received_at,
                "event": serde_json::to_value(event).unwrap_or(Value::Null),
            }),
        );
        // Template webhooks also move the template's status and history.
        let mut template_ops = crate::templates::ops_for(tenant, event);
        // Meta's answers to onboarding checkpoints (display name review, template status,
        // account updates) go on the bus: the onboarding function resumes the waiting step.
        if SIGNAL_FIELDS.contains(&field) {
            if let EventKind::Change { value } = &event.kind {
                let signal = BusEvent {
                    tenant: tenant.to_string(),
                    detail_type: format!("meta.{field}"),
                    correlation: event.key.clone(),
                    detail: json!({"field": field, "waba_id": event.waba_id,
                                   "phone_number_id": event.phone_number_id(), "value": value}),
                };
                template_ops.extend(outbox_ops(tenant, &event.key, self.clock.now(), &[signal]));
            }
        }
        let committed = self
            .commit(tenant, event, || {
                let it = it.clone();
                let template_ops = template_ops.clone();
                async move {
                    let mut ops = vec![TxOp::Put {
                        item: it,
                        condition: None,
                    }];
                    ops.extend(template_ops);
                    Ok(ops)
                }
            })
            .await?;
        self.flush_outbox(tenant, &event.key).await?;
        Ok(if committed {
            Outcome::Notice
        } else {
            Outcome::Duplicate
        })
    }
}

/// Notice fields whose webhooks answer onboarding checkpoints, published as `meta.<field>`.
pub const SIGNAL_FIELDS: [&str; 3] = [
    "phone_number_name_update",
    "message_template_status_update",
    "account_update",
];

/// A consent change: the ledger entry and its audit record.
fn consent_ops(
    tenant: &str,
    contact_id: &str,
    conversation_id: &str,
    record: &ConsentRecord,
    cause: &str,
) -> Vec<TxOp> {
    vec![
        crate::consent::append_op(tenant, contact_id, record),
        crate::audit::op(
            tenant,
            record.at * 1000,
            &format!("consent:{cause}"),
            crate::audit::Entry {
                actor: "customer".into(),
                action: format!("consent.{}", record.kind.as_str()),
                conversation_id: Some(conversation_id.to_string()),
                detail: json!({"source": record.source, "evidence": record.evidence, "contact_id": contact_id}),
            },
        ),
    ]
}

fn consent_event(tenant: &str, cause: &str, contact_id: &str, record: &ConsentRecord) -> BusEvent {
    BusEvent {
        tenant: tenant.to_string(),
        detail_type: "consent.changed".into(),
        correlation: cause.to_string(),
        detail: json!({"contact_id": contact_id, "kind": record.kind.as_str(),
                       "source": record.source, "evidence": record.evidence, "at": record.at}),
    }
}

impl From<OutboxError> for ProcessError {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::Store(e) => ProcessError::Store(e),
            OutboxError::Bus(e) => ProcessError::Publish(e),
            other => ProcessError::Outbound(other.to_string()),
        }
    }
}

impl Processor {
    async fn flush_outbox(&self, tenant: &str, event_key: &str) -> Result<(), ProcessError> {
        Ok(flush(
            self.table.as_ref(),
            self.bus.as_ref(),
            Some(&self.outbound),
            tenant,
            event_key,
        )
        .await?)
    }
}

pub fn conversation_id_of(contact_id: &str) -> String {
    format!("cv_{}", contact_id.trim_start_matches("c_"))
}

fn identity_attrs(identity: &Identity) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(v) = &identity.wa_id {
        out.push(("wa_id", Value::from(v.as_str())));
    }
    if let Some(v) = &identity.bsuid {
        out.push(("bsuid", Value::from(v.as_str())));
    }
    if let Some(v) = &identity.username {
        out.push(("username", Value::from(v.as_str())));
    }
    if let Some(v) = &identity.profile_name {
        out.push(("profile_name", Value::from(v.as_str())));
    }
    out
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Message { .. } => "message",
        Outcome::Status => "status",
        Outcome::Notice => "notice",
        Outcome::Duplicate => "duplicate",
    }
}
