//! The handoff use case: a person (or the pipeline) acts on a conversation — request, accept,
//! transfer, resolve, return to the bot, reply — under the rules of `core::handoff`. Each
//! transition is one conditional write on the conversation's version, so of two agents accepting
//! at once exactly one wins; its event goes out through the outbox.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::conversation::ConversationState;
use switchboard_core::handoff::{Action, Actor, Handoff, HandoffError};
use switchboard_core::keys;
use switchboard_core::sla::{self, Clock as SlaClock, SlaPolicies};
use switchboard_core::triage::FRONT_LINE;

use crate::audit;
use crate::outbox::{flush_outbox, outbox_ops};
use crate::ports::{BusEvent, Clock, Condition, EventBus, Key, StoreError, Table, TxOp, Update};

#[derive(Debug, thiserror::Error)]
pub enum HandoffServiceError {
    #[error("no conversation {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Refused(#[from] HandoffError),
    #[error("the conversation kept changing; retry")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored, event not yet published: {0}")]
    Publish(String),
}

pub struct HandoffService {
    pub table: Arc<dyn Table>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    /// The SLA policies whose clocks a handoff starts (first response, next response,
    /// resolution); the sweeper reads the same timestamps.
    pub sla: Arc<SlaPolicies>,
}

fn str_attr(it: &crate::ports::Item, a: &str) -> Option<String> {
    it.get(a).and_then(Value::as_str).map(str::to_owned)
}

impl HandoffService {
    pub async fn act(
        &self,
        tenant: &str,
        conversation_id: &str,
        actor: &Actor,
        action: &Action,
    ) -> Result<Value, HandoffServiceError> {
        self.act_with(tenant, conversation_id, actor, action, None)
            .await
    }

    /// Whether `actor` may do `action` now, without doing it (a reply is checked before its
    /// message is queued, and recorded once the gate accepted it).
    pub async fn check(
        &self,
        tenant: &str,
        conversation_id: &str,
        actor: &Actor,
        action: &Action,
    ) -> Result<(), HandoffServiceError> {
        let current = self
            .table
            .get(&Key::from(keys::conversation(tenant, conversation_id)))
            .await?
            .ok_or_else(|| HandoffServiceError::NotFound(conversation_id.to_string()))?;
        handoff_of(&current).apply(actor, action)?;
        Ok(())
    }

    /// As [`act`](Self::act); a request may carry the urgency triage gave it.
    pub async fn act_with(
        &self,
        tenant: &str,
        conversation_id: &str,
        actor: &Actor,
        action: &Action,
        urgency: Option<&str>,
    ) -> Result<Value, HandoffServiceError> {
        let key = Key::from(keys::conversation(tenant, conversation_id));
        for _ in 0..5 {
            let current = self
                .table
                .get(&key)
                .await?
                .ok_or_else(|| HandoffServiceError::NotFound(conversation_id.to_string()))?;
            let handoff = handoff_of(&current);
            let state = handoff.state;
            let t = handoff.apply(actor, action)?;
            let version = current.get("version").and_then(Value::as_i64).unwrap_or(0);
            let last_activity = current
                .get("last_activity")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let now = self.clock.now();
            let mut up = Update::default()
                .set("state", t.to.as_str())
                .set("version", version + 1)
                .set(
                    keys::ATTR_GSI1PK,
                    keys::conversations_by_state(tenant, t.to.as_str()),
                )
                .set(
                    keys::ATTR_GSI1SK,
                    keys::activity_sort(last_activity, conversation_id),
                )
                .set("handoff_at", now);
            up = match &t.owner {
                Some(o) => up.set("owner", o.as_str()),
                None => up.remove("owner"),
            };
            if let Some(q) = &t.queue {
                up = up.set("queue", q.as_str());
            }
            // SLA clocks are timestamps on the conversation: the sweeper and the queue view
            // compute deadlines from them under the current policy.
            match action {
                Action::Request { reason, .. } => {
                    let urgency = urgency
                        .map(str::to_owned)
                        .or_else(|| str_attr(&current, "urgency"))
                        .unwrap_or_else(|| "normal".into());
                    up = up
                        .set("handoff_reason", reason.as_str())
                        .set("needs_review", true)
                        .set("handoff_requested_at", now)
                        .set("priority", i64::from(sla::priority(&urgency)))
                        .set("urgency", urgency.as_str())
                        .add("handoff_count", 1)
                        .remove("first_response_at")
                        .remove("awaiting_reply_since")
                        .remove("resolved_at");
                }
                Action::Accept => up = up.set("accepted_at", now),
                Action::Reply => {
                    up = up.remove("awaiting_reply_since");
                    if current.get("first_response_at").is_none() {
                        up = up.set("first_response_at", now);
                    }
                }
                Action::Resolve => up = up.set("resolved_at", now).set("resolved_by", "agent"),
                Action::ReturnToBot => up = up.remove("awaiting_reply_since"),
                // Back to a queue is a new request there: first response restarts under the
                // new queue's policy (a lead's direct assignment keeps the clocks).
                Action::Transfer { .. } if t.to == ConversationState::AwaitingAgent => {
                    up = up
                        .set("handoff_requested_at", now)
                        .remove("first_response_at")
                        .remove("awaiting_reply_since");
                }
                Action::Transfer { .. } => {}
            }
            if t.to == ConversationState::Resolved || t.to == ConversationState::Bot {
                up = up.set("needs_review", false);
            }
            let cond = Condition::AttrEquals("version".into(), json!(version));
            let event_key = format!("handoff:{conversation_id}:{}", version + 1);
            let mut detail = json!({
                "conversation_id": conversation_id, "from": state.as_str(), "to": t.to.as_str(),
                "queue": t.queue, "owner": t.owner, "actor": actor_label(actor), "action": action,
            });
            if let (Value::Object(d), Value::Object(timing)) =
                (&mut detail, self.timing(&current, action, now))
            {
                d.extend(timing);
            }
            let event = BusEvent {
                tenant: tenant.to_string(),
                detail_type: t.event.to_string(),
                correlation: event_key.clone(),
                detail,
            };
            let mut ops = vec![TxOp::Update {
                key: key.clone(),
                update: up,
                condition: Some(cond),
            }];
            ops.push(audit::op(
                tenant,
                self.clock.now_millis(),
                &event_key,
                audit::Entry {
                    actor: actor_text(actor),
                    action: t.event.to_string(),
                    conversation_id: Some(conversation_id.to_string()),
                    detail: json!({"from": state.as_str(), "to": t.to.as_str(), "queue": t.queue,
                                   "owner": t.owner, "request": action}),
                },
            ));
            ops.extend(outbox_ops(tenant, &event_key, now, &[event]));
            match self.table.transact(ops).await {
                Ok(()) => {
                    flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &event_key)
                        .await
                        .map_err(|e| HandoffServiceError::Publish(e.to_string()))?;
                    return Ok(
                        json!({"conversation_id": conversation_id, "state": t.to.as_str(),
                                     "queue": t.queue, "owner": t.owner, "event": t.event}),
                    );
                }
                // Someone changed the conversation meanwhile: re-read and decide again (an
                // accept that lost the race now sees an owner and is refused).
                Err(StoreError::TransactionCancelled { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(HandoffServiceError::Contention)
    }
}

impl HandoffService {
    /// Response and resolution times a transition completes, in the queue's business seconds,
    /// and whether they met the SLA: what the metrics fold (agent replies only, never the bot's).
    fn timing(&self, current: &crate::ports::Item, action: &Action, now: i64) -> Value {
        let queue = str_attr(current, "queue").unwrap_or_else(|| FRONT_LINE.to_string());
        let urgency = str_attr(current, "urgency").unwrap_or_else(|| "normal".to_string());
        let (_, hours) = self.sla.policy_for(&queue, &urgency);
        let at = |a: &str| current.get(a).and_then(Value::as_i64);
        let measure = |name: &str, clock: SlaClock, start: i64| {
            let due = self.sla.deadline(&queue, &urgency, clock, start).due_at;
            json!({format!("{name}_secs"): hours.business_secs_between(start, now),
                   format!("{name}_within_sla"): now <= due, "urgency": urgency})
        };
        match action {
            Action::Reply => match (at("first_response_at"), at("handoff_requested_at")) {
                (None, Some(start)) => measure("first_response", SlaClock::FirstResponse, start),
                (Some(_), _) => at("awaiting_reply_since")
                    .map(|start| measure("next_response", SlaClock::NextResponse, start))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            },
            Action::Resolve => at("handoff_requested_at")
                .map(|start| measure("resolution", SlaClock::Resolution, start))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
}

/// The handoff part of a stored conversation (a conversation without a state is the bot's).
pub(crate) fn handoff_of(conversation: &crate::ports::Item) -> Handoff {
    Handoff {
        state: str_attr(conversation, "state")
            .as_deref()
            .and_then(ConversationState::parse)
            .unwrap_or(ConversationState::Bot),
        queue: str_attr(conversation, "queue"),
        owner: str_attr(conversation, "owner"),
    }
}

fn actor_text(actor: &Actor) -> String {
    match actor {
        Actor::Agent(n) => format!("agent:{n}"),
        Actor::Lead(n) => format!("lead:{n}"),
        Actor::System => "system".into(),
    }
}

fn actor_label(actor: &Actor) -> Value {
    match actor {
        Actor::Agent(n) => json!({"agent": n}),
        Actor::Lead(n) => json!({"lead": n}),
        Actor::System => json!("system"),
    }
}

/// The handoff function: `handoff.requested` events (from triage, the customer's "talk to a
/// human", a bot that failed) delivered by the bus to the handoff queue, each made a request
/// transition. A conversation already with a human is left alone.
pub struct HandoffRequests {
    pub service: Arc<HandoffService>,
}

#[derive(Debug, serde::Deserialize)]
struct Requested {
    conversation_id: String,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    urgency: Option<String>,
}

impl HandoffRequests {
    pub async fn handle(&self, body: &str) -> Result<Value, String> {
        let (tenant, r): (String, Requested) = crate::ports::bus::delivered_data(body)?;
        if tenant.is_empty() {
            return Err("event without a tenant".into());
        }
        let action = Action::Request {
            queue: r
                .queue
                .unwrap_or_else(|| switchboard_core::triage::FRONT_LINE.into()),
            reason: if r.reasons.is_empty() {
                "requested".into()
            } else {
                r.reasons.join(", ")
            },
        };
        match self
            .service
            .act_with(
                &tenant,
                &r.conversation_id,
                &Actor::System,
                &action,
                r.urgency.as_deref(),
            )
            .await
        {
            Ok(v) => {
                tracing::info!(tenant = %tenant, conversation_id = %r.conversation_id, queue = ?v.get("queue"), "handoff queued");
                Ok(v)
            }
            // Already queued or owned (a duplicate delivery, or a second trigger): nothing to do.
            Err(HandoffServiceError::Refused(e)) => {
                tracing::info!(tenant = %tenant, conversation_id = %r.conversation_id, reason = %e, "handoff request skipped");
                Ok(json!({"skipped": e.to_string()}))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl crate::worker::Handler for HandoffRequests {
    async fn handle_message(
        &self,
        body: &str,
        _receive_count: u32,
    ) -> Result<(), crate::worker::Retry> {
        self.handle(body).await.map(|_| ()).map_err(Into::into)
    }
}
