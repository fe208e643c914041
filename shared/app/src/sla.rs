//! SLA timers. A handoff stamps the conversation with when each clock started
//! (`handoff_requested_at`, `awaiting_reply_since`) and stopped (`first_response_at`,
//! `resolved_at`); deadlines are computed from those stamps under the current policy and the
//! queue's business hours (`core::sla`). The sweeper, run on a schedule, raises `sla.warning`
//! and `sla.breached` once per clock and level, on the bus and in the event log.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::conversation::ConversationState;
use switchboard_core::keys;
use switchboard_core::sla::{
    running_clocks, status, Clock as SlaClock, Deadline, SlaPolicies, SlaStatus,
};
use switchboard_core::triage::FRONT_LINE;

use crate::audit;
use crate::outbox::{flush_outbox, outbox_ops};
use crate::ports::table::item;
use crate::ports::{
    BusEvent, Clock, Condition, EventBus, Index, Item, Key, Query, StoreError, Table, TxOp, Update,
};

/// States in which a human is involved and SLA clocks may run.
pub const HUMAN_STATES: [ConversationState; 3] = [
    ConversationState::AwaitingAgent,
    ConversationState::Assigned,
    ConversationState::AwaitingCustomer,
];

fn s<'a>(it: &'a Item, a: &str) -> Option<&'a str> {
    it.get(a).and_then(Value::as_str)
}

fn i(it: &Item, a: &str) -> Option<i64> {
    it.get(a).and_then(Value::as_i64)
}

/// The running deadlines of a conversation, with their status at `now`.
pub fn deadlines_of(policies: &SlaPolicies, conv: &Item, now: i64) -> Vec<(Deadline, SlaStatus)> {
    let Some(state) = s(conv, "state").and_then(ConversationState::parse) else {
        return Vec::new();
    };
    let Some(requested) = i(conv, "handoff_requested_at") else {
        return Vec::new();
    };
    let queue = s(conv, "queue").unwrap_or(FRONT_LINE);
    let urgency = s(conv, "urgency").unwrap_or("normal");
    let replied = conv.get("first_response_at").is_some();
    running_clocks(state, replied)
        .iter()
        .filter_map(|&clock| {
            let started = match clock {
                SlaClock::FirstResponse | SlaClock::Resolution => requested,
                SlaClock::NextResponse => i(conv, "awaiting_reply_since")?,
            };
            let d = policies.deadline(queue, urgency, clock, started);
            Some((d, status(&d, now)))
        })
        .collect()
}

/// A conversation's SLA as the API shows it: each running deadline, the nearest one and the
/// worst status.
pub fn sla_view(policies: &SlaPolicies, conv: &Item, now: i64) -> Value {
    let deadlines = deadlines_of(policies, conv, now);
    let next_due = deadlines.iter().map(|(d, _)| d.due_at).min();
    let worst = deadlines
        .iter()
        .map(|(_, st)| *st)
        .max()
        .unwrap_or(SlaStatus::Ok);
    json!({
        "status": worst,
        "next_due_at": next_due,
        "policy_version": policies.version,
        "deadlines": deadlines.iter().map(|(d, st)| json!({
            "clock": d.clock, "started_at": d.started_at, "warn_at": d.warn_at,
            "due_at": d.due_at, "status": st})).collect::<Vec<_>>(),
    })
}

/// Conversations with a human involved, for one tenant (all three states, every page).
pub async fn human_conversations(table: &dyn Table, tenant: &str) -> Result<Vec<Item>, StoreError> {
    conversations_in(table, tenant, &HUMAN_STATES).await
}

/// A tenant's conversations in `states` (GSI1, every page).
pub async fn conversations_in(
    table: &dyn Table,
    tenant: &str,
    states: &[ConversationState],
) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::new();
    for st in states {
        let mut q = Query::partition(
            Index::Gsi1,
            keys::conversations_by_state(tenant, st.as_str()),
        );
        q.limit = 500;
        loop {
            let page = table.query(&q).await?;
            out.extend(page.items);
            match page.cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(out)
}

/// The work queues as an agent sees them: per queue, conversations ordered by priority (highest
/// first) then by their nearest deadline.
pub async fn queues(
    table: &dyn Table,
    policies: &SlaPolicies,
    tenant: &str,
    now: i64,
    only_queue: Option<&str>,
) -> Result<Value, StoreError> {
    let mut rows: Vec<(String, i64, i64, Value)> = Vec::new();
    for conv in human_conversations(table, tenant).await? {
        let queue = s(&conv, "queue").unwrap_or(FRONT_LINE).to_string();
        if only_queue.is_some_and(|q| q != queue) {
            continue;
        }
        let deadlines = deadlines_of(policies, &conv, now);
        let next_due = deadlines
            .iter()
            .map(|(d, _)| d.due_at)
            .min()
            .unwrap_or(i64::MAX);
        let priority = i(&conv, "priority").unwrap_or(1);
        rows.push((
            queue,
            priority,
            next_due,
            json!({
                "conversation_id": s(&conv, "id"), "state": s(&conv, "state"),
                "owner": s(&conv, "owner"), "urgency": s(&conv, "urgency"), "priority": priority,
                "handoff_reason": s(&conv, "handoff_reason"),
                "handoff_requested_at": i(&conv, "handoff_requested_at"),
                "last_message_preview": conv.get("last_message_preview"),
                "window_expires_at": i(&conv, "window_expires_at"),
                "sla": sla_view(policies, &conv, now),
            }),
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut queues: Vec<Value> = Vec::new();
    for (queue, _, _, row) in rows {
        let waiting = row["state"] == "awaiting_agent";
        match queues.last_mut() {
            Some(q) if q["queue"] == queue.as_str() => {
                if let Some(a) = q["conversations"].as_array_mut() {
                    a.push(row);
                }
                if waiting {
                    q["waiting"] = json!(q["waiting"].as_i64().unwrap_or(0) + 1);
                }
            }
            _ => queues.push(
                json!({"queue": queue, "waiting": i64::from(waiting), "conversations": [row]}),
            ),
        }
    }
    Ok(json!({"queues": queues, "policy_version": policies.version, "now": now}))
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub tenants: usize,
    pub conversations: usize,
    pub warnings: usize,
    pub breaches: usize,
    pub auto_closed: usize,
    pub windows_expired: usize,
}

pub struct SlaSweeper {
    pub table: Arc<dyn Table>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub policies: Arc<SlaPolicies>,
}

impl SlaSweeper {
    /// One pass over every tenant. Idempotent: each clock raises each level once.
    pub async fn sweep(&self) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        for tenant in crate::routes::tenants(self.table.as_ref()).await? {
            report.tenants += 1;
            // One read of the open conversations serves the three passes.
            let human = human_conversations(self.table.as_ref(), &tenant).await?;
            let bot =
                conversations_in(self.table.as_ref(), &tenant, &[ConversationState::Bot]).await?;
            self.sweep_tenant(&tenant, &human, &mut report).await?;
            self.expired_windows(&tenant, human.iter().chain(&bot), &mut report)
                .await?;
            self.auto_close(&tenant, &bot, &mut report).await?;
        }
        Ok(report)
    }

    /// Raises `window.expired` once for each open conversation whose 24-hour window closed with
    /// the customer's last message unanswered (the expired-window count of docs/metrics.md).
    pub async fn expired_windows<'a>(
        &self,
        tenant: &str,
        open: impl Iterator<Item = &'a Item>,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        for conv in open {
            let (Some(id), Some(expired_at)) = (s(conv, "id"), i(conv, "window_expires_at")) else {
                continue;
            };
            let answered =
                i(conv, "last_reply_at").unwrap_or(0) >= i(conv, "last_activity").unwrap_or(0);
            if expired_at > now || answered {
                continue;
            }
            let cause = format!("window:{id}:{expired_at}");
            let event = BusEvent {
                tenant: tenant.to_string(),
                detail_type: "window.expired".into(),
                correlation: cause.clone(),
                detail: json!({"conversation_id": id, "queue": s(conv, "queue"),
                               "state": s(conv, "state"), "expired_at": expired_at}),
            };
            let mut ops = vec![TxOp::Put {
                item: item(
                    &Key::new(format!("T#{tenant}#WINX#{id}"), expired_at.to_string()),
                    json!({"kind": "window_expired_marker", keys::ATTR_EXPIRES_AT: now + 90 * 86_400}),
                ),
                condition: Some(Condition::ItemNotExists),
            }];
            ops.extend(outbox_ops(tenant, &cause, now, &[event]));
            match self.table.transact(ops).await {
                Ok(()) => report.windows_expired += 1,
                Err(StoreError::TransactionCancelled { .. }) => continue,
                Err(e) => return Err(e),
            }
            let _ = flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &cause).await;
        }
        Ok(())
    }

    /// Closes conversations the bot handled whose customer-service window has closed: nothing more
    /// can be said freely, and the next message opens a new session (metrics: auto-closure).
    pub async fn auto_close(
        &self,
        tenant: &str,
        bot: &[Item],
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let idle = bot.iter().filter(|c| {
            i(c, "window_expires_at").is_some_and(|w| w <= now) && c.get("owner").is_none()
        });
        for conv in idle {
            let Some(id) = s(conv, "id").map(str::to_owned) else {
                continue;
            };
            let version = i(conv, "version").unwrap_or(0);
            let cause = format!("autoclose:{id}:{version}");
            let event = BusEvent {
                tenant: tenant.to_string(),
                detail_type: "conversation.auto_closed".into(),
                correlation: cause.clone(),
                detail: json!({"conversation_id": id, "queue": s(conv, "queue"),
                               "window_expired_at": i(conv, "window_expires_at")}),
            };
            let last = i(conv, "last_activity").unwrap_or(0);
            let mut ops = vec![
                TxOp::Update {
                    key: keys::conversation(tenant, &id).into(),
                    update: Update::default()
                        .set("state", ConversationState::Resolved.as_str())
                        .set("version", version + 1)
                        .set("resolved_at", now)
                        .set("resolved_by", "bot")
                        .set(
                            keys::ATTR_GSI1PK,
                            keys::conversations_by_state(
                                tenant,
                                ConversationState::Resolved.as_str(),
                            ),
                        )
                        .set(keys::ATTR_GSI1SK, keys::activity_sort(last, &id)),
                    // A customer message meanwhile wins: the conversation stays open.
                    condition: Some(Condition::AttrEquals("version".into(), json!(version))),
                },
                audit::op(
                    tenant,
                    self.clock.now_millis(),
                    &cause,
                    audit::Entry {
                        actor: "system:sweeper".into(),
                        action: "conversation.auto_closed".into(),
                        conversation_id: Some(id.clone()),
                        detail: json!({"window_expired_at": i(conv, "window_expires_at")}),
                    },
                ),
            ];
            ops.extend(outbox_ops(tenant, &cause, now, &[event]));
            match self.table.transact(ops).await {
                Ok(()) => report.auto_closed += 1,
                Err(StoreError::TransactionCancelled { .. }) => continue,
                Err(e) => return Err(e),
            }
            let _ = flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &cause).await;
        }
        Ok(())
    }

    pub async fn sweep_tenant(
        &self,
        tenant: &str,
        human: &[Item],
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        for conv in human {
            report.conversations += 1;
            for (d, st) in deadlines_of(&self.policies, conv, now) {
                let levels: &[SlaStatus] = match st {
                    SlaStatus::Ok => &[],
                    SlaStatus::Warning => &[SlaStatus::Warning],
                    // A breach found without its warning (the sweeper was down) raises both.
                    SlaStatus::Breached => &[SlaStatus::Warning, SlaStatus::Breached],
                };
                for &level in levels {
                    if self.raise(tenant, conv, &d, level, now).await? {
                        match level {
                            SlaStatus::Breached => report.breaches += 1,
                            _ => report.warnings += 1,
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Raises one level of one clock unless it was raised before; true if raised now.
    async fn raise(
        &self,
        tenant: &str,
        conv: &Item,
        d: &Deadline,
        level: SlaStatus,
        now: i64,
    ) -> Result<bool, StoreError> {
        let conversation_id = s(conv, "id").unwrap_or_default();
        // The number orders a warning before its breach when one sweep raises both.
        let (order, level_name) = match level {
            SlaStatus::Breached => (2, "breached"),
            _ => (1, "warning"),
        };
        let marker = Key::new(
            format!("T#{tenant}#SLA#{conversation_id}"),
            format!("{}#{}#{level_name}", d.clock.as_str(), d.started_at),
        );
        let cause = format!(
            "sla:{conversation_id}:{}:{}:{order}-{level_name}",
            d.clock.as_str(),
            d.started_at
        );
        let detail = json!({
            "conversation_id": conversation_id, "clock": d.clock, "level": level_name,
            "started_at": d.started_at, "warn_at": d.warn_at, "due_at": d.due_at,
            "queue": s(conv, "queue"), "urgency": s(conv, "urgency"), "owner": s(conv, "owner"),
            "state": s(conv, "state"), "policy_version": self.policies.version,
        });
        let event = BusEvent {
            tenant: tenant.to_string(),
            detail_type: format!("sla.{level_name}"),
            correlation: cause.clone(),
            detail: detail.clone(),
        };
        let mut ops = vec![
            TxOp::Put {
                item: item(
                    &marker,
                    json!({"kind": "sla_marker", "at": now,
                    keys::ATTR_EXPIRES_AT: now + 90 * 24 * 3600}),
                ),
                condition: Some(Condition::ItemNotExists),
            },
            TxOp::Update {
                key: keys::conversation(tenant, conversation_id).into(),
                update: Update::default().set(&format!("sla_{}", d.clock.as_str()), level_name),
                condition: Some(Condition::ItemExists),
            },
            audit::op(
                tenant,
                self.clock.now_millis(),
                &cause,
                audit::Entry {
                    actor: "system:sla".into(),
                    action: format!("sla.{level_name}"),
                    conversation_id: Some(conversation_id.to_string()),
                    detail,
                },
            ),
        ];
        ops.extend(outbox_ops(tenant, &cause, now, &[event]));
        match self.table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCancelled { .. }) => {
                // Raised before. If its publication failed then, this sweep retries it.
                let _ = flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &cause).await;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        if let Err(e) = flush_outbox(self.table.as_ref(), self.bus.as_ref(), tenant, &cause).await {
            tracing::warn!(error = %e, "SLA event stored; the next sweep publishes it");
        }
        Ok(true)
    }
}
