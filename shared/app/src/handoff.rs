//! The handoff use case: a person (or the pipeline) acts on a conversation — request, accept,
//! transfer, resolve, return to the bot, reply — under the rules of `core::handoff`. Each
//! transition is one conditional write on the conversation's version, so of two agents accepting
//! at once exactly one wins; its event goes out through the outbox.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::conversation::ConversationState;
use switchboard_core::handoff::{Action, Actor, Handoff, HandoffError};
use switchboard_core::keys;

use crate::ports::{BusEvent, Clock, Condition, EventBus, Key, StoreError, Table, TxOp, Update};
use crate::process::{flush_outbox, outbox_ops, ProcessError};

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
        let key = Key::from(keys::conversation(tenant, conversation_id));
        for _ in 0..5 {
            let current = self
                .table
                .get(&key)
                .await?
                .ok_or_else(|| HandoffServiceError::NotFound(conversation_id.to_string()))?;
            let state = str_attr(&current, "state")
                .as_deref()
                .and_then(ConversationState::parse)
                .unwrap_or(ConversationState::Bot);
            let handoff = Handoff {
                state,
                queue: str_attr(&current, "queue"),
                owner: str_attr(&current, "owner"),
            };
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
            if let Action::Request { reason, .. } = action {
                up = up
                    .set("handoff_reason", reason.as_str())
                    .set("needs_review", true);
            }
            if t.to == ConversationState::Resolved || t.to == ConversationState::Bot {
                up = up.set("needs_review", false);
            }
            let cond = Condition::AttrEquals("version".into(), json!(version));
            let event_key = format!("handoff:{conversation_id}:{}", version + 1);
            let event = BusEvent {
                tenant: tenant.to_string(),
                detail_type: t.event.to_string(),
                correlation: event_key.clone(),
                detail: json!({
                    "conversation_id": conversation_id, "from": state.as_str(), "to": t.to.as_str(),
                    "queue": t.queue, "owner": t.owner, "actor": actor_label(actor), "action": action,
                }),
            };
            let mut ops = vec![TxOp::Update {
                key: key.clone(),
                update: up,
                condition: Some(cond),
            }];
            ops.extend(outbox_ops(tenant, &event_key, &[event]));
            match self.table.transact(ops).await {
                Ok(()) => {
                    flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &event_key)
                        .await
                        .map_err(|e: ProcessError| HandoffServiceError::Publish(e.to_string()))?;
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

fn actor_label(actor: &Actor) -> Value {
    match actor {
        Actor::Agent(n) => json!({"agent": n}),
        Actor::Lead(n) => json!({"lead": n}),
        Actor::System => json!("system"),
    }
}
