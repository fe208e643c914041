//! Triage: for every inbound message, what it is about (intent, by quick-reply id or by the NLU),
//! how urgent and risky it is, who should own it, and whether the bot may act on its own.
//!
//! Pure: the classifier is a trait the app layer implements with the NLU model, and everything
//! that needs storage (recent messages, the conversation's owner queue) comes in as input.

pub mod language;
pub mod noise;
pub mod tags;
pub mod taxonomy;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::webhook::InboundMessage;
use language::LanguageGuess;
use noise::{NoiseConfig, NoiseContext, NoiseFinding};
use tags::{Finding, Risk, Tone, Urgency};
use taxonomy::{Approval, Automation, Taxonomy};

/// The front-line queue: it hands conversations over to specialist queues.
pub const FRONT_LINE: &str = "tier1";

/// An intent model: ranked intents with calibrated confidences.
pub trait IntentClassifier: Send + Sync {
    /// Recorded with every decision, so a decision can be traced to the model that made it.
    fn version(&self) -> String;
    /// Intents for `text`, best first, confidences in 0..=1.
    fn rank(&self, text: &str) -> Vec<(String, f32)>;
    /// The separate requests in one message ("order is late, refund not here, email wrong").
    fn split_requests(&self, text: &str) -> Vec<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// A quick-reply id, list-row id or template button payload named the intent.
    Structured,
    /// Free text classified by the NLU model.
    Nlu,
    /// Nothing to classify (media without caption, reaction, location, noise).
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDecision {
    pub text: String,
    pub intent: Option<String>,
    pub confidence: f32,
    /// Below the intent's threshold: the model's best guess is kept for the reviewer.
    pub abstained: bool,
    pub candidates: Vec<(String, f32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub modality: Modality,
    pub intent: Option<String>,
    pub confidence: Option<f32>,
    pub abstained: bool,
    pub segments: Vec<SegmentDecision>,
    pub urgency: Urgency,
    pub urgency_rules: Vec<String>,
    pub risks: Vec<Finding<Risk>>,
    pub tones: Vec<Finding<Tone>>,
    /// Customer context: `vip`, `repeat_contact`, `needs_identity_check`.
    pub customer: Vec<String>,
    pub language: LanguageGuess,
    /// The accountable owner queue after this message.
    pub queue: String,
    /// Other queues that should see this message without owning the conversation.
    pub visibility: Vec<String>,
    /// The routing rule that fired, in words an operator can read.
    pub rule: String,
    pub approval: Approval,
    pub approval_reasons: Vec<String>,
    /// What the bot should do, when it may act (`approval == auto`), else what a human confirms.
    pub automation: Option<Automation>,
    pub noise: Option<NoiseFinding>,
    pub taxonomy_version: String,
    pub model_version: Option<String>,
}

pub struct TriageInput<'a> {
    pub message: &'a InboundMessage,
    /// The conversation's language so far, for short texts.
    pub conversation_lang: Option<&'a str>,
    /// The conversation's owner queue, if it has one.
    pub owner_queue: Option<&'a str>,
    pub repeat_contact: bool,
    pub vip: bool,
    pub noise: NoiseContext<'a>,
}

/// The text the NLU reads: the body, a caption, or an unmatched reply's title.
fn text_of(m: &InboundMessage) -> Option<String> {
    match m.kind.as_str() {
        "text" => m.text.as_ref().map(|t| t.body.clone()),
        "image" | "video" | "document" => m.media().and_then(|x| x.caption.clone()),
        "interactive" => m.interactive.as_ref().and_then(|i| {
            i.button_reply
                .as_ref()
                .or(i.list_reply.as_ref())
                .map(|r| r.title.clone())
        }),
        "button" => m.button.as_ref().and_then(|b| b.text.clone()),
        _ => None,
    }
}

/// The id a structured reply carries: reply-button or list-row id, or template button payload.
pub fn structured_id(m: &InboundMessage) -> Option<&str> {
    match m.kind.as_str() {
        "interactive" => m.interactive.as_ref().and_then(|i| {
            i.button_reply
                .as_ref()
                .or(i.list_reply.as_ref())
                .map(|r| r.id.as_str())
        }),
        "button" => m.button.as_ref().and_then(|b| b.payload.as_deref()),
        _ => None,
    }
}

pub fn triage(
    input: &TriageInput<'_>,
    taxonomy: &Taxonomy,
    classifier: &dyn IntentClassifier,
    noise_cfg: &NoiseConfig,
) -> Decision {
    let m = input.message;
    let text = text_of(m);
    let language = language::detect(
        text.as_deref().unwrap_or(""),
        &taxonomy.languages,
        input.conversation_lang,
    );
    let owner = input.owner_queue;
    let mut d = Decision {
        modality: Modality::None,
        intent: None,
        confidence: None,
        abstained: false,
        segments: Vec::new(),
        urgency: Urgency::Normal,
        urgency_rules: Vec::new(),
        risks: Vec::new(),
        tones: Vec::new(),
        customer: Vec::new(),
        language,
        queue: owner.unwrap_or(FRONT_LINE).to_string(),
        visibility: Vec::new(),
        rule: String::new(),
        approval: Approval::Auto,
        approval_reasons: Vec::new(),
        automation: None,
        noise: None,
        taxonomy_version: taxonomy.version.clone(),
        model_version: None,
    };
    if input.vip {
        d.customer.push("vip".into());
    }
    if input.repeat_contact {
        d.customer.push("repeat_contact".into());
    }

    // 1. Structured: the id names the intent; no model involved.
    if let Some(intent) = structured_id(m).and_then(|id| taxonomy.structured_intent(id)) {
        d.modality = Modality::Structured;
        d.intent = Some(intent.id.clone());
        d.confidence = Some(1.0);
        d.segments.push(SegmentDecision {
            text: text.clone().unwrap_or_default(),
            intent: Some(intent.id.clone()),
            confidence: 1.0,
            abstained: false,
            candidates: vec![(intent.id.clone(), 1.0)],
        });
    } else if let Some(t) = text.as_deref() {
        // 2. Noise never reaches the model, and never routes.
        if m.kind == "text" {
            let cluster =
                |norm: &str| format!("wave_{}", &crate::event::sha256_hex(norm.as_bytes())[..16]);
            if let Some(found) = noise::classify(t, &input.noise, noise_cfg, cluster) {
                d.rule = format!("noise:{} → stays with {}", found.reason.as_str(), d.queue);
                d.noise = Some(found);
                return d;
            }
        }
        // 3. NLU on each request of the message.
        d.modality = Modality::Nlu;
        d.model_version = Some(classifier.version());
        let mut parts = classifier.split_requests(t);
        if parts.is_empty() {
            parts.push(t.to_string());
        }
        for part in parts {
            let ranked = classifier.rank(&part);
            let (best, conf) = ranked.first().cloned().unwrap_or_default();
            let abstained = best.is_empty() || conf < taxonomy.threshold(&best);
            d.segments.push(SegmentDecision {
                text: part,
                intent: (!abstained).then(|| best.clone()),
                confidence: conf,
                abstained,
                candidates: ranked.into_iter().take(3).collect(),
            });
        }
        d.abstained = d.segments.iter().any(|s| s.abstained);
        if let Some(first) = d.segments.iter().find(|s| !s.abstained) {
            d.intent = first.intent.clone();
            d.confidence = Some(first.confidence);
        } else {
            d.confidence = d.segments.first().map(|s| s.confidence);
        }
    }

    // Tags, on the whole text, every message.
    let primary = d.intent.as_deref().and_then(|i| taxonomy.intent(i));
    let base = primary.map(|i| i.urgency).unwrap_or(Urgency::Normal);
    let tagging = tags::tag(text.as_deref().unwrap_or(""), base, input.repeat_contact);
    d.urgency = tagging.urgency;
    d.urgency_rules = tagging.urgency_rules;
    d.risks = tagging.risks;
    d.tones = tagging.tones;
    if input.vip && d.urgency < Urgency::Priority {
        d.urgency = Urgency::Priority;
        d.urgency_rules.push("vip".into());
    }

    // Routing: risk first, then the intent, then the abstain path.
    let intents: Vec<&taxonomy::Intent> = d
        .segments
        .iter()
        .filter_map(|s| s.intent.as_deref())
        .filter_map(|i| taxonomy.intent(i))
        .collect();
    let mut visibility: Vec<String> = Vec::new();
    if let Some(risk) = d.risks.first() {
        let (queue, _) = risk.tag.routing();
        d.rule = format!("risk:{} → {queue}", risk.tag.as_str());
        if let Some(o) = owner.filter(|o| *o != queue) {
            visibility.push(o.to_string());
        }
        d.queue = queue.to_string();
    } else if let Some(first) = intents.first() {
        let claims = owner.is_none_or(|o| o == FRONT_LINE);
        if claims {
            d.rule = format!("intent:{} → {}", first.id, first.queue);
            d.queue = first.queue.clone();
        } else {
            d.rule = format!("intent:{} → owner stays {}", first.id, d.queue);
        }
    } else if d.abstained {
        d.rule = format!("abstain → human review in {}", d.queue);
    } else {
        d.rule = format!("no text to classify → stays with {}", d.queue);
    }
    for i in &intents {
        if i.queue != d.queue && !visibility.contains(&i.queue) {
            visibility.push(i.queue.clone());
        }
    }
    d.visibility = visibility;

    // The approval boundary, per message.
    let mut reasons = Vec::new();
    for i in &intents {
        if i.approval == Approval::HumanReview {
            reasons.push(format!("intent:{} requires review", i.id));
        }
        if i.needs_identity_check {
            if !d.customer.iter().any(|c| c == "needs_identity_check") {
                d.customer.push("needs_identity_check".into());
            }
            reasons.push(format!("intent:{} needs an identity check", i.id));
        }
    }
    for r in &d.risks {
        reasons.push(format!("risk:{}", r.tag.as_str()));
    }
    if d.abstained {
        reasons.push("model abstained".into());
    }
    if !reasons.is_empty() {
        d.approval = Approval::HumanReview;
    }
    d.approval_reasons = reasons;
    d.automation = match (&d.approval, primary) {
        (_, Some(i)) => Some(i.automation.clone()),
        (Approval::HumanReview, None) => Some(Automation::Handoff),
        (Approval::Auto, None) => None,
    };
    d
}
