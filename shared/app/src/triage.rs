//! The triage use case inside the conversation pipeline: gather what the pure triage needs from
//! storage (the sender's recent texts, the same text from other customers, VIP and repeat-contact
//! facts), decide, and turn the decision into writes and bus events for the same transaction.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::event::sha256_hex;
use switchboard_core::keys;
use switchboard_core::triage::noise::{self, NoiseConfig, NoiseContext, Recent};
use switchboard_core::triage::taxonomy::{Approval, Automation, Taxonomy};
use switchboard_core::triage::{triage, Decision, IntentClassifier, TriageInput};
use switchboard_core::webhook::InboundMessage;

use crate::ports::table::item;
use switchboard_core::outbound::{Content, Origin, SendRequest};

use crate::ports::{BusEvent, Index, Item, Key, Query, StoreError, Table, TxOp, Update};

/// Recent texts kept per contact for duplicate, near-duplicate and burst detection.
const RECENT_KEPT: usize = 10;

pub struct Triager {
    pub taxonomy: Taxonomy,
    pub classifier: Arc<dyn IntentClassifier>,
    pub noise: NoiseConfig,
    /// A customer writing again after at least this gap…
    pub repeat_min_gap_secs: i64,
    /// …and within this many seconds of their last message is a repeat contact.
    pub repeat_window_secs: i64,
}

impl Triager {
    pub fn new(taxonomy: Taxonomy, classifier: Arc<dyn IntentClassifier>) -> Self {
        Self {
            taxonomy,
            classifier,
            noise: NoiseConfig::default(),
            repeat_min_gap_secs: 6 * 3600,
            repeat_window_secs: 7 * 24 * 3600,
        }
    }
}

/// What triage reads from storage before the transaction.
#[derive(Debug, Default)]
pub struct Context {
    pub recent: Vec<Recent>,
    pub same_text_senders: usize,
    pub vip: bool,
    pub last_seen: Option<i64>,
    pub norm_text: Option<String>,
}

/// What a decision writes, merged by the caller into the message's transaction.
pub struct Writes {
    pub conversation: Update,
    pub contact: Update,
    pub ops: Vec<TxOp>,
    pub events: Vec<BusEvent>,
    /// The bot's replies, queued for the sender after the transaction commits.
    pub sends: Vec<SendRequest>,
}

fn text_body(m: &InboundMessage) -> Option<&str> {
    (m.kind == "text")
        .then(|| m.text.as_ref().map(|t| t.body.as_str()))
        .flatten()
}

fn wave_pk(tenant: &str, norm: &str) -> String {
    format!("T#{tenant}#WAVE#{}", &sha256_hex(norm.as_bytes())[..32])
}

impl Triager {
    pub async fn context(
        &self,
        table: &dyn Table,
        tenant: &str,
        contact_id: &str,
        message: &InboundMessage,
    ) -> Result<Context, StoreError> {
        let contact = table
            .get(&Key::from(keys::contact(tenant, contact_id)))
            .await?;
        let mut ctx = Context::default();
        if let Some(c) = &contact {
            ctx.vip = c.get("vip").and_then(Value::as_bool).unwrap_or(false);
            ctx.last_seen = c.get("last_seen").and_then(Value::as_i64);
            ctx.recent = c
                .get("recent")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
        }
        if let Some(body) = text_body(message) {
            let norm = noise::normalise(body);
            let words = norm.split(' ').filter(|w| !w.is_empty()).count();
            if words >= self.noise.wave_min_words {
                let mut q = Query::partition(Index::Table, wave_pk(tenant, &norm));
                q.limit = self.noise.wave_min_senders * 4;
                let page = table.query(&q).await?;
                ctx.same_text_senders = page
                    .items
                    .iter()
                    .filter(|i| i.get("contact_id").and_then(Value::as_str) != Some(contact_id))
                    .count();
            }
            ctx.norm_text = Some(norm);
        }
        Ok(ctx)
    }

    pub fn decide(
        &self,
        message: &InboundMessage,
        ctx: &Context,
        conversation: Option<&Item>,
        ts: i64,
    ) -> Decision {
        let s = |a: &str| conversation.and_then(|c| c.get(a)).and_then(Value::as_str);
        let repeat = ctx.last_seen.is_some_and(|last| {
            let gap = ts - last;
            gap >= self.repeat_min_gap_secs && gap <= self.repeat_window_secs
        });
        let input = TriageInput {
            message,
            conversation_lang: s("language"),
            owner_queue: s("queue"),
            repeat_contact: repeat,
            vip: ctx.vip,
            noise: NoiseContext {
                now: ts,
                recent: &ctx.recent,
                same_text_senders: ctx.same_text_senders,
            },
        };
        triage(
            &input,
            &self.taxonomy,
            self.classifier.as_ref(),
            &self.noise,
        )
    }

    /// The writes and events of a decision. `bot_speaks` is false while a human owns the
    /// conversation: the bot is muted and records nothing to send.
    #[allow(clippy::too_many_arguments)]
    pub fn writes(
        &self,
        tenant: &str,
        d: &Decision,
        ctx: &Context,
        conversation: Option<&Item>,
        conversation_id: &str,
        contact_id: &str,
        wamid: &str,
        ts: i64,
        event_key: &str,
        bot_speaks: bool,
    ) -> Writes {
        let decision_json = serde_json::to_value(d).unwrap_or(Value::Null);
        let old_queue = conversation
            .and_then(|c| c.get("queue"))
            .and_then(Value::as_str);
        let mut conv = Update::default().set("queue", d.queue.as_str()).set(
            "last_triage",
            json!({
                "intent": d.intent, "modality": d.modality, "confidence": d.confidence,
                "urgency": d.urgency, "rule": d.rule, "approval": d.approval,
                "risks": d.risks.iter().map(|r| r.tag).collect::<Vec<_>>(),
                "noise": d.noise.as_ref().map(|n| n.reason),
            }),
        );
        if d.noise.is_none() {
            conv = conv
                .set("urgency", d.urgency.as_str())
                .set("needs_review", d.approval == Approval::HumanReview);
            if let Some(i) = &d.intent {
                conv = conv.set("last_intent", i.as_str());
            }
        }
        match d.modality {
            switchboard_core::triage::Modality::Structured => {
                conv = conv.add("structured_count", 1)
            }
            switchboard_core::triage::Modality::Nlu => conv = conv.add("nlu_count", 1),
            switchboard_core::triage::Modality::None => {}
        }
        if d.noise.is_some() {
            conv = conv.add("noise_count", 1);
        }
        if let (Some(l), "detector" | "script" | "markers") =
            (&d.language.lang, d.language.source.as_str())
        {
            conv = conv.set("language", l.as_str());
        }

        let mut contact = Update::default();
        let mut ops = Vec::new();
        if let Some(norm) = &ctx.norm_text {
            let mut recent = ctx.recent.clone();
            recent.push(Recent {
                ts,
                text: norm.chars().take(300).collect(),
            });
            recent.sort_by_key(|r| r.ts);
            let keep = recent.len().saturating_sub(RECENT_KEPT);
            contact = contact.set(
                "recent",
                serde_json::to_value(&recent[keep..]).unwrap_or(Value::Null),
            );
            let words = norm.split(' ').filter(|w| !w.is_empty()).count();
            if words >= self.noise.wave_min_words {
                let key = Key::new(wave_pk(tenant, norm), format!("C#{contact_id}"));
                ops.push(TxOp::Put {
                    item: item(
                        &key,
                        json!({"kind": "wave_member", "contact_id": contact_id, "ts": ts,
                        keys::ATTR_EXPIRES_AT: ts + self.noise.wave_window_secs}),
                    ),
                    condition: None,
                });
            }
        }

        let event = |detail_type: &str, detail: Value| BusEvent {
            tenant: tenant.to_string(),
            detail_type: detail_type.to_string(),
            correlation: event_key.to_string(),
            detail,
        };
        let base = json!({"conversation_id": conversation_id, "wamid": wamid});
        let with = |extra: Value| {
            let mut v = base.clone();
            if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
                a.extend(b);
            }
            v
        };
        let mut sends = Vec::new();
        let with_human = conversation
            .and_then(|c| c.get("state"))
            .and_then(Value::as_str)
            .is_some_and(|st| matches!(st, "awaiting_agent" | "assigned" | "awaiting_customer"));
        let mut events = vec![event(
            "message.triaged",
            with(json!({"triage": decision_json})),
        )];
        if d.noise.is_none() {
            if old_queue != Some(d.queue.as_str()) {
                events.push(event("conversation.routed", with(json!({
                    "queue": d.queue, "previous_queue": old_queue, "rule": d.rule, "urgency": d.urgency}))));
            }
            for q in &d.visibility {
                events.push(event(
                    "conversation.visibility",
                    with(json!({
                    "queue": q, "owner_queue": d.queue, "intent": d.intent, "rule": d.rule})),
                ));
            }
            for r in &d.risks {
                events.push(event(
                    "risk.flagged",
                    with(json!({
                    "risk": r.tag, "rule": r.rule, "evidence": r.evidence, "queue": d.queue})),
                ));
            }
            match (&d.automation, d.approval) {
                (Some(Automation::IntegrationEvent { event: name }), Approval::Auto) => {
                    events.push(event(
                        "intent.integration",
                        with(json!({
                        "event": name, "intent": d.intent, "language": d.language.lang})),
                    ));
                }
                // Already queued for, or owned by, a human: no second request.
                (Some(Automation::Handoff), _) | (_, Approval::HumanReview) if with_human => {}
                (Some(Automation::Handoff), _) | (_, Approval::HumanReview) => {
                    // Several requests in one message can give the same reason twice.
                    let mut reasons: Vec<&String> = Vec::new();
                    for r in &d.approval_reasons {
                        if !reasons.contains(&r) {
                            reasons.push(r);
                        }
                    }
                    events.push(event(
                        "handoff.requested",
                        with(json!({
                        "queue": d.queue, "reasons": reasons, "intent": d.intent,
                        "urgency": d.urgency})),
                    ));
                }
                (
                    Some(a @ (Automation::StaticReply { .. } | Automation::QuickReplyMenu { .. })),
                    Approval::Auto,
                ) if bot_speaks => {
                    let lang = d.language.lang.clone().unwrap_or_else(|| "en".into());
                    if let Some(content) = self.render(a, &lang) {
                        // The bot's answer leaves through the outbound gate like any other send.
                        sends.push(SendRequest {
                            tenant: tenant.to_string(),
                            conversation_id: conversation_id.to_string(),
                            idempotency_key: format!("bot:{wamid}"),
                            origin: Origin::Bot,
                            content,
                            in_reply_to: Some(wamid.to_string()),
                            requested_at: ts,
                        });
                    }
                }
                _ => {}
            }
        }
        Writes {
            conversation: conv,
            contact,
            ops,
            events,
            sends,
        }
    }

    /// The bot's reply for a static reply or menu, in the customer's language (English fallback):
    /// a text, or an interactive list (Meta's limits: button ≤ 20, row title ≤ 24, ≤ 10 rows).
    fn render(&self, automation: &Automation, lang: &str) -> Option<Content> {
        let pick = |m: &std::collections::BTreeMap<String, String>| {
            m.get(lang)
                .or_else(|| m.get("en"))
                .cloned()
                .unwrap_or_default()
        };
        let cut = |s: String, n: usize| s.chars().take(n).collect::<String>();
        match automation {
            Automation::StaticReply { text } => Some(Content::Text {
                body: pick(text),
                preview_url: false,
            }),
            Automation::QuickReplyMenu { text, intents } => {
                let rows: Vec<Value> = intents
                    .iter()
                    .filter_map(|i| self.taxonomy.intent(i))
                    .take(10)
                    .map(|i| json!({"id": i.quick_reply.id, "title": cut(pick(&i.quick_reply.title), 24)}))
                    .collect();
                Some(Content::Interactive {
                    interactive: json!({
                        "type": "list",
                        "body": {"text": cut(pick(text), 1024)},
                        "action": {
                            "button": cut(pick(&self.taxonomy.menu.button), 20),
                            "sections": [{"title": cut(pick(&self.taxonomy.menu.button), 24), "rows": rows}],
                        },
                    }),
                })
            }
            _ => None,
        }
    }
}
