//! The outbound gate's rules. Everything Switchboard sends — an agent's reply, the bot's answer, a
//! template — is a [`SendRequest`] that passes these checks before the sender calls
//! `POST /{phone-number-id}/messages`, and whose Meta error (if any) maps to an [`ErrorAction`].
//! Pure: the app layer gathers the facts (window, consent ledger, template status) and applies
//! the verdicts.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::consent::ConsentState;
use crate::template::send::SendProblem;

/// Meta's text body limit (reference §4.2).
pub const MAX_TEXT_BODY: usize = 4096;

/// What to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        body: String,
        #[serde(default)]
        preview_url: bool,
    },
    /// Meta's `interactive` object as is (buttons, lists).
    Interactive { interactive: Value },
    /// An approved template with Meta's `components` array of parameters.
    Template {
        name: String,
        language: String,
        #[serde(default = "empty_array")]
        components: Value,
    },
}

fn empty_array() -> Value {
    json!([])
}

impl Content {
    pub fn is_template(&self) -> bool {
        matches!(self, Content::Template { .. })
    }

    /// A short, body-free description for the audit trail and logs.
    pub fn describe(&self) -> String {
        match self {
            Content::Text { body, .. } => format!("text ({} chars)", body.chars().count()),
            Content::Interactive { interactive } => format!(
                "interactive {}",
                interactive
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ),
            Content::Template { name, language, .. } => format!("template {name} ({language})"),
        }
    }
}

/// Who asked for the send. The audit trail records it; the bot is refused while muted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    Agent {
        name: String,
    },
    Bot,
    /// A business system (campaigns, notifications) through the API.
    System {
        name: String,
    },
}

impl Origin {
    pub fn label(&self) -> String {
        match self {
            Origin::Agent { name } => format!("agent:{name}"),
            Origin::Bot => "bot".into(),
            Origin::System { name } => format!("system:{name}"),
        }
    }
}

/// One message to send, as queued. The idempotency key makes a retried request (an operator
/// double-clicking, a Lambda retry) one send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendRequest {
    pub tenant: String,
    pub conversation_id: String,
    pub idempotency_key: String,
    pub origin: Origin,
    pub content: Content,
    /// The customer message this answers (Meta's `context.message_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    pub requested_at: i64,
}

/// Traffic classes, each with its own share of the number's throughput so a marketing burst can
/// never delay a one-time password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrafficClass {
    /// Free-form replies inside the customer-service window.
    Service,
    Utility,
    Marketing,
    Authentication,
}

impl TrafficClass {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficClass::Service => "service",
            TrafficClass::Utility => "utility",
            TrafficClass::Marketing => "marketing",
            TrafficClass::Authentication => "authentication",
        }
    }

    /// From a template's category (`MARKETING`, …); unknown categories count as marketing, the
    /// strictest class.
    pub fn of_template_category(category: Option<&str>) -> Self {
        match category.map(str::to_ascii_uppercase).as_deref() {
            Some("UTILITY") => TrafficClass::Utility,
            Some("AUTHENTICATION") => TrafficClass::Authentication,
            _ => TrafficClass::Marketing,
        }
    }

    /// One-time passwords travel on their own queue.
    pub fn is_otp(self) -> bool {
        self == TrafficClass::Authentication
    }
}

/// Where the message goes: `to` for a phone contact, `recipient` for a BSUID-only contact
/// (reference §2.2, §4.1: always `+` and the country code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Phone(String),
    Bsuid(String),
}

impl Address {
    pub fn of(wa_id: Option<&str>, bsuid: Option<&str>) -> Option<Address> {
        fn non_empty(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(w) = non_empty(wa_id) {
            let digits: String = w.chars().filter(char::is_ascii_digit).collect();
            return (!digits.is_empty()).then(|| Address::Phone(format!("+{digits}")));
        }
        non_empty(bsuid).map(|b| Address::Bsuid(b.to_string()))
    }
}

/// Meta's request body for `POST /{phone-number-id}/messages`.
pub fn graph_body(address: &Address, content: &Content, in_reply_to: Option<&str>) -> Value {
    let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual"});
    match address {
        Address::Phone(p) => body["to"] = json!(p),
        Address::Bsuid(b) => body["recipient"] = json!(b),
    }
    match content {
        Content::Text {
            body: text,
            preview_url,
        } => {
            body["type"] = json!("text");
            body["text"] = json!({"body": text, "preview_url": preview_url});
        }
        Content::Interactive { interactive } => {
            body["type"] = json!("interactive");
            body["interactive"] = interactive.clone();
        }
        Content::Template {
            name,
            language,
            components,
        } => {
            body["type"] = json!("template");
            body["template"] =
                json!({"name": name, "language": {"code": language}, "components": components});
        }
    }
    // Quoting is not shown for template replies (§4.1), so only free-form messages carry it.
    if let (Some(id), false) = (in_reply_to, content.is_template()) {
        body["context"] = json!({"message_id": id});
    }
    body
}

/// What the gate knows when it decides.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub window_open: bool,
    /// The customer's last message (unix seconds), if any.
    pub last_inbound_at: Option<i64>,
    pub consent: ConsentState,
    /// For templates: the stored template's category, and what send-time validation found.
    pub template_category: Option<String>,
    pub template_problems: Vec<SendProblem>,
    /// A human owns the conversation (or is awaited): the bot stays silent.
    pub bot_muted: bool,
    pub address: Option<Address>,
}

/// Why the gate refused a send. Each says what the operator can do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    #[error("the 24-hour customer-service window is closed; send an approved template instead")]
    WindowClosed,
    #[error("the customer has not opted in to business-initiated messages")]
    NoOptIn,
    #[error("the customer opted out ({evidence}); they must write to you or opt in again")]
    OptedOut { evidence: String },
    #[error("the customer stopped marketing messages")]
    MarketingStopped,
    #[error("the template cannot be sent: {}", summary(.problems))]
    Template { problems: Vec<SendProblem> },
    #[error("this contact has only a business-scoped user id, which {0} templates cannot reach")]
    BsuidNotSupported(&'static str),
    #[error("the contact has no phone number or business-scoped user id to send to")]
    NoAddress,
    #[error("a human owns this conversation; the bot is muted")]
    BotMuted,
    #[error("text body is {0} characters; Meta's limit is {MAX_TEXT_BODY}")]
    TooLong(usize),
}

fn summary(problems: &[SendProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{} ({})", p.message, p.code))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::WindowClosed => "window_closed",
            Refusal::NoOptIn => "no_opt_in",
            Refusal::OptedOut { .. } => "opted_out",
            Refusal::MarketingStopped => "marketing_stopped",
            Refusal::Template { .. } => "template_invalid",
            Refusal::BsuidNotSupported(_) => "bsuid_not_supported",
            Refusal::NoAddress => "no_address",
            Refusal::BotMuted => "bot_muted",
            Refusal::TooLong(_) => "too_long",
        }
    }
}

/// The traffic class of a send.
pub fn class_of(content: &Content, facts: &Facts) -> TrafficClass {
    if content.is_template() {
        TrafficClass::of_template_category(facts.template_category.as_deref())
    } else {
        TrafficClass::Service
    }
}

/// The gate. Free-form messages need the window; templates (business-initiated) need opt-in on
/// record, no later opt-out, and for marketing no marketing stop. An opt-out also silences
/// free-form replies until the customer writes again: writing to us after STOP is a new
/// conversation they started.
pub fn check(origin: &Origin, content: &Content, facts: &Facts) -> Result<TrafficClass, Refusal> {
    if *origin == Origin::Bot && facts.bot_muted {
        return Err(Refusal::BotMuted);
    }
    let address = facts.address.as_ref().ok_or(Refusal::NoAddress)?;
    let class = class_of(content, facts);
    let consent = &facts.consent;
    match content {
        Content::Text { body, .. } if body.chars().count() > MAX_TEXT_BODY => {
            return Err(Refusal::TooLong(body.chars().count()))
        }
        Content::Text { .. } | Content::Interactive { .. } => {
            if !facts.window_open {
                return Err(Refusal::WindowClosed);
            }
            if let Some(out) = &consent.opted_out {
                if facts.last_inbound_at.is_none_or(|t| t <= out.at) {
                    return Err(Refusal::OptedOut {
                        evidence: out.evidence.clone(),
                    });
                }
            }
        }
        Content::Template { .. } => {
            if !facts.template_problems.is_empty() {
                return Err(Refusal::Template {
                    problems: facts.template_problems.clone(),
                });
            }
            if let Some(out) = &consent.opted_out {
                return Err(Refusal::OptedOut {
                    evidence: out.evidence.clone(),
                });
            }
            if consent.opted_in.is_none() {
                return Err(Refusal::NoOptIn);
            }
            if class == TrafficClass::Marketing && consent.marketing_stopped.is_some() {
                return Err(Refusal::MarketingStopped);
            }
            // Error 131062: authentication templates need a phone number.
            if class == TrafficClass::Authentication && matches!(address, Address::Bsuid(_)) {
                return Err(Refusal::BsuidNotSupported("authentication"));
            }
        }
    }
    Ok(class)
}

/// What a Meta error on a send means for us (reference §4.4, §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ErrorAction {
    /// 131047: the window closed under us; the operator must switch to a template.
    WindowClosed,
    /// 130429 (throughput), 131056 (pair rate) and temporary errors: try again after the delay.
    Retry {
        after_secs: u64,
        reason: &'static str,
    },
    /// 131026: the number is not on WhatsApp or cannot receive this; do not retry.
    Unreachable,
    /// 190 / 0: the token expired. Alert an operator and keep the message for a later retry.
    TokenExpired { after_secs: u64 },
    /// 131050: the customer stopped marketing; record it in the consent ledger.
    MarketingStopped,
    /// 131049: Meta chose not to deliver; do not retry within 24 hours.
    Withheld,
    /// Template problems (132xxx) and invalid requests: fix and send again by hand.
    Rejected,
}

/// Longest we hold a message back between attempts (SQS's visibility limit is 12 hours).
const MAX_BACKOFF_SECS: u64 = 15 * 60;

/// The action for Meta error `code` on the `attempt`-th try (0-based). HTTP 5xx without a
/// Meta code is temporary.
pub fn action_for(code: i64, http_status: u16, attempt: u32) -> ErrorAction {
    let exp = |base: u64| base.saturating_pow(attempt).min(MAX_BACKOFF_SECS);
    match code {
        131047 => ErrorAction::WindowClosed,
        // Throughput: the number is over its mps; it clears within seconds.
        130429 => ErrorAction::Retry {
            after_secs: exp(2).max(1),
            reason: "throughput limit (130429)",
        },
        // Pair rate: "retry after 4^X seconds" (§4.5); other recipients are fine.
        131056 => ErrorAction::Retry {
            after_secs: exp(4),
            reason: "pair rate limit (131056)",
        },
        131026 => ErrorAction::Unreachable,
        190 | 0 => ErrorAction::TokenExpired { after_secs: 300 },
        131050 => ErrorAction::MarketingStopped,
        131049 => ErrorAction::Withheld,
        1 | 2 | 4 | 80007 | 131000 | 131016 | 131057 | 133004 | 2494100 => ErrorAction::Retry {
            after_secs: exp(2).max(1),
            reason: "temporary Meta error",
        },
        _ if http_status >= 500 || http_status == 429 => ErrorAction::Retry {
            after_secs: exp(2).max(1),
            reason: "Meta unavailable",
        },
        _ => ErrorAction::Rejected,
    }
}

/// A token bucket: `capacity` tokens, refilled at `per_sec`. State is stored (one item per
/// bucket) and updated with a condition, so every sender instance shares it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub capacity: f64,
    pub per_sec: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BucketState {
    pub tokens: f64,
    pub at_ms: i64,
}

impl Bucket {
    /// Takes one token at `now_ms`: the new state, or how many milliseconds until one is free.
    pub fn take(&self, state: Option<BucketState>, now_ms: i64) -> Result<BucketState, u64> {
        let s = state.unwrap_or(BucketState {
            tokens: self.capacity,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - s.at_ms).max(0) as f64 / 1000.0;
        let tokens = (s.tokens + elapsed * self.per_sec).min(self.capacity);
        if tokens >= 1.0 {
            Ok(BucketState {
                tokens: tokens - 1.0,
                at_ms: now_ms.max(s.at_ms),
            })
        } else {
            Err((((1.0 - tokens) / self.per_sec) * 1000.0).ceil() as u64)
        }
    }
}

/// Throughput limits per business number (reference §4.5: 80 mps by default, sent and received
/// together) split into shares per traffic class, and the pair rate per recipient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub per_number_mps: f64,
    /// Meta allows ~1 message per 6 s to one user with bursts "borrowed" from the future; we
    /// allow a small burst and the steady rate, so we never trigger 131056 ourselves.
    pub pair: Bucket,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_number_mps: 80.0,
            pair: Bucket {
                capacity: 6.0,
                per_sec: 1.0 / 6.0,
            },
        }
    }
}

impl Limits {
    /// The class's bucket on one number. OTPs get a reserved quarter, marketing a quarter,
    /// service and utility half: a campaign can fill only its own share.
    pub fn number_bucket(&self, class: TrafficClass) -> Bucket {
        let share = match class {
            TrafficClass::Authentication | TrafficClass::Marketing => 0.25,
            TrafficClass::Service | TrafficClass::Utility => 0.5,
        };
        let rate = (self.per_number_mps * share).max(1.0);
        Bucket {
            capacity: rate,
            per_sec: rate,
        }
    }

    pub fn bucket_name(class: TrafficClass) -> &'static str {
        match class {
            TrafficClass::Authentication => "otp",
            TrafficClass::Marketing => "marketing",
            TrafficClass::Service | TrafficClass::Utility => "conversational",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{ConsentKind, ConsentRecord};

    fn text(body: &str) -> Content {
        Content::Text {
            body: body.into(),
            preview_url: false,
        }
    }
    fn template() -> Content {
        Content::Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components: json!([]),
        }
    }
    fn facts() -> Facts {
        Facts {
            window_open: true,
            last_inbound_at: Some(100),
            address: Some(Address::Phone("+15550109999".into())),
            template_category: Some("UTILITY".into()),
            ..Facts::default()
        }
    }
    fn record(kind: ConsentKind, at: i64) -> ConsentRecord {
        ConsentRecord {
            kind,
            source: "test".into(),
            evidence: "STOP".into(),
            at,
            actor: None,
        }
    }
    fn agent() -> Origin {
        Origin::Agent { name: "ana".into() }
    }

    #[test]
    fn free_form_needs_the_window() {
        assert_eq!(
            check(&agent(), &text("hi"), &facts()),
            Ok(TrafficClass::Service)
        );
        let closed = Facts {
            window_open: false,
            ..facts()
        };
        assert_eq!(
            check(&agent(), &text("hi"), &closed),
            Err(Refusal::WindowClosed)
        );
        assert_eq!(
            check(&agent(), &text(&"x".repeat(4097)), &facts()),
            Err(Refusal::TooLong(4097))
        );
    }

    #[test]
    fn templates_need_opt_in_and_no_opt_out() {
        let mut f = facts();
        assert_eq!(check(&agent(), &template(), &f), Err(Refusal::NoOptIn));
        f.consent = ConsentState::fold(&[record(ConsentKind::OptIn, 10)]);
        assert_eq!(check(&agent(), &template(), &f), Ok(TrafficClass::Utility));
        f.consent = ConsentState::fold(&[
            record(ConsentKind::OptIn, 10),
            record(ConsentKind::OptOut, 20),
        ]);
        assert!(matches!(
            check(&agent(), &template(), &f),
            Err(Refusal::OptedOut { .. })
        ));
        f.template_category = Some("MARKETING".into());
        f.consent = ConsentState::fold(&[
            record(ConsentKind::OptIn, 10),
            record(ConsentKind::MarketingStop, 20),
        ]);
        assert_eq!(
            check(&agent(), &template(), &f),
            Err(Refusal::MarketingStopped)
        );
        f.template_category = Some("UTILITY".into());
        assert!(
            check(&agent(), &template(), &f).is_ok(),
            "a marketing stop leaves utility messages alone"
        );
    }

    #[test]
    fn an_opt_out_silences_replies_until_the_customer_writes_again() {
        let mut f = facts();
        f.consent = ConsentState::fold(&[record(ConsentKind::OptOut, 100)]);
        assert!(matches!(
            check(&agent(), &text("bye"), &f),
            Err(Refusal::OptedOut { .. })
        ));
        f.last_inbound_at = Some(200);
        assert!(check(&agent(), &text("welcome back"), &f).is_ok());
    }

    #[test]
    fn template_problems_and_bsuid_rules() {
        let mut f = facts();
        f.consent = ConsentState::fold(&[record(ConsentKind::OptIn, 10)]);
        f.template_problems = vec![SendProblem {
            code: 132000,
            component: "body".into(),
            message: "expects 2 parameters, got 1".into(),
        }];
        assert!(matches!(
            check(&agent(), &template(), &f),
            Err(Refusal::Template { .. })
        ));
        f.template_problems.clear();
        f.template_category = Some("AUTHENTICATION".into());
        f.address = Some(Address::Bsuid("US.1349".into()));
        assert_eq!(
            check(&agent(), &template(), &f),
            Err(Refusal::BsuidNotSupported("authentication"))
        );
        f.address = None;
        assert_eq!(check(&agent(), &text("x"), &f), Err(Refusal::NoAddress));
    }

    #[test]
    fn the_bot_is_refused_while_muted() {
        let f = Facts {
            bot_muted: true,
            ..facts()
        };
        assert_eq!(check(&Origin::Bot, &text("x"), &f), Err(Refusal::BotMuted));
        assert!(check(&agent(), &text("x"), &f).is_ok());
    }

    #[test]
    fn bodies_use_to_for_phones_and_recipient_for_bsuids() {
        let phone = Address::of(Some("15550109999"), Some("US.1")).unwrap();
        let b = graph_body(&phone, &text("hi"), Some("wamid.X"));
        assert_eq!(b["to"], "+15550109999");
        assert!(b.get("recipient").is_none());
        assert_eq!(b["context"]["message_id"], "wamid.X");
        let bsuid = Address::of(None, Some("US.1349")).unwrap();
        let b = graph_body(&bsuid, &template(), Some("wamid.X"));
        assert_eq!(b["recipient"], "US.1349");
        assert!(b.get("to").is_none());
        assert!(b.get("context").is_none(), "templates are not quoted");
        assert_eq!(b["template"]["language"]["code"], "en_US");
        assert_eq!(Address::of(Some(""), None), None);
    }

    #[test]
    fn meta_errors_map_to_actions() {
        assert_eq!(action_for(131047, 400, 0), ErrorAction::WindowClosed);
        assert_eq!(action_for(131026, 400, 0), ErrorAction::Unreachable);
        assert_eq!(
            action_for(190, 401, 0),
            ErrorAction::TokenExpired { after_secs: 300 }
        );
        assert_eq!(action_for(131050, 400, 0), ErrorAction::MarketingStopped);
        let delays: Vec<u64> = (0..4)
            .map(|a| match action_for(131056, 400, a) {
                ErrorAction::Retry { after_secs, .. } => after_secs,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(delays, vec![1, 4, 16, 64], "4^X seconds");
        assert!(matches!(
            action_for(130429, 400, 3),
            ErrorAction::Retry { after_secs: 8, .. }
        ));
        assert!(matches!(
            action_for(130429, 400, 30),
            ErrorAction::Retry {
                after_secs: MAX_BACKOFF_SECS,
                ..
            }
        ));
        assert_eq!(action_for(132000, 400, 0), ErrorAction::Rejected);
        assert!(matches!(action_for(-1, 503, 0), ErrorAction::Retry { .. }));
    }

    #[test]
    fn buckets_refill_and_report_the_wait() {
        let b = Bucket {
            capacity: 2.0,
            per_sec: 1.0,
        };
        let s = b.take(None, 0).unwrap();
        let s = b.take(Some(s), 0).unwrap();
        assert_eq!(b.take(Some(s), 0), Err(1000));
        assert_eq!(b.take(Some(s), 250), Err(750));
        let s = b.take(Some(s), 1000).unwrap();
        assert!(s.tokens.abs() < 1e-9);
        // Never more than the capacity, however long the pause.
        let s = b.take(Some(s), 1_000_000).unwrap();
        assert!((s.tokens - 1.0).abs() < 1e-9);
    }

    #[test]
    fn shares_never_exceed_the_number_and_otp_has_its_own() {
        let l = Limits::default();
        let total: f64 = ["otp", "marketing", "conversational"]
            .iter()
            .map(|n| match *n {
                "otp" => l.number_bucket(TrafficClass::Authentication).per_sec,
                "marketing" => l.number_bucket(TrafficClass::Marketing).per_sec,
                _ => l.number_bucket(TrafficClass::Service).per_sec,
            })
            .sum();
        assert!((total - 80.0).abs() < 1e-9);
        assert_ne!(
            Limits::bucket_name(TrafficClass::Authentication),
            Limits::bucket_name(TrafficClass::Marketing)
        );
        assert!(TrafficClass::Authentication.is_otp());
    }
}
