//! Triage rules with a small taxonomy and a scripted classifier: the structured path, the NLU
//! path with thresholds and abstain, multi-request messages, risk routing, owner vs visibility,
//! the approval boundary and noise. The real model is exercised in the app's tests.

use serde_json::json;
use switchboard_core::triage::noise::{NoiseConfig, NoiseContext, NoiseReason, Recent};
use switchboard_core::triage::tags::{Risk, Urgency};
use switchboard_core::triage::taxonomy::{Approval, Automation, Taxonomy};
use switchboard_core::triage::{triage, Decision, IntentClassifier, Modality, TriageInput};
use switchboard_core::webhook::InboundMessage;

fn taxonomy() -> Taxonomy {
    let intent = |id: &str,
                  queue: &str,
                  urgency: &str,
                  approval: &str,
                  automation: serde_json::Value| {
        json!({"id": id, "description": id, "quick_reply": {"id": format!("intent:{id}"), "title": {"en": id.chars().take(20).collect::<String>()}},
               "template_payloads": if id == "order_status" { json!(["track_order"]) } else { json!([]) },
               "queue": queue, "threshold": 0.6, "urgency": urgency, "needs_identity_check": id == "change_contact_details",
               "automation": automation, "approval": approval, "examples": []})
    };
    let queues: Vec<_> = ["tier1", "finance", "engineering", "comms", "trust_safety"]
        .iter()
        .map(|q| json!({"id": q, "name": q}))
        .collect();
    let t = json!({
        "version": "test.1", "languages": ["en", "es", "pt"], "default_threshold": 0.5,
        "queues": queues,
        "menu": {"body": {"en": "How can we help?"}, "button": {"en": "Menu"}, "intents": ["order_status", "talk_to_human"]},
        "intents": [
            intent("greeting", "tier1", "low", "auto", json!({"kind": "quick_reply_menu", "text": {"en": "Hi!"}, "intents": ["order_status", "talk_to_human"]})),
            intent("talk_to_human", "tier1", "normal", "auto", json!({"kind": "handoff"})),
            intent("order_status", "tier1", "normal", "auto", json!({"kind": "integration_event", "event": "order.status_requested"})),
            intent("billing_charge", "finance", "normal", "human_review", json!({"kind": "handoff"})),
            intent("app_bug", "engineering", "normal", "auto", json!({"kind": "handoff"})),
            intent("change_contact_details", "tier1", "normal", "auto", json!({"kind": "handoff"})),
        ]
    });
    Taxonomy::from_json(&t.to_string()).unwrap()
}

/// A scripted classifier: keyword → (intent, confidence); splits on commas.
struct Scripted;

impl IntentClassifier for Scripted {
    fn version(&self) -> String {
        "scripted-1".into()
    }
    fn rank(&self, text: &str) -> Vec<(String, f32)> {
        let t = text.to_lowercase();
        let table = [
            ("charged", "billing_charge", 0.9),
            ("order", "order_status", 0.8),
            ("crash", "app_bug", 0.85),
            ("email", "change_contact_details", 0.7),
            ("hello", "greeting", 0.95),
            ("hmm", "app_bug", 0.3),
        ];
        table
            .iter()
            .filter(|(k, ..)| t.contains(k))
            .map(|(_, i, c)| (i.to_string(), *c))
            .take(1)
            .chain(std::iter::once(("greeting".to_string(), 0.01)))
            .collect()
    }
    fn split_requests(&self, text: &str) -> Vec<String> {
        text.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn msg(v: serde_json::Value) -> InboundMessage {
    serde_json::from_value(v).unwrap()
}

fn text(body: &str) -> InboundMessage {
    msg(
        json!({"id": "wamid.1", "from": "1", "timestamp": "100", "type": "text", "text": {"body": body}}),
    )
}

fn run_with(
    m: &InboundMessage,
    owner: Option<&str>,
    recent: &[Recent],
    senders: usize,
    repeat: bool,
) -> Decision {
    let input = TriageInput {
        message: m,
        conversation_lang: Some("en"),
        owner_queue: owner,
        repeat_contact: repeat,
        vip: false,
        noise: NoiseContext {
            now: 100,
            recent,
            same_text_senders: senders,
        },
    };
    triage(&input, &taxonomy(), &Scripted, &NoiseConfig::default())
}

fn run(m: &InboundMessage) -> Decision {
    run_with(m, None, &[], 0, false)
}

#[test]
fn structured_ids_and_payloads_map_straight_to_intents() {
    let button = msg(
        json!({"id": "w", "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "intent:order_status", "title": "Track"}}}),
    );
    let d = run(&button);
    assert_eq!(
        (d.modality, d.intent.as_deref(), d.confidence),
        (Modality::Structured, Some("order_status"), Some(1.0))
    );
    assert_eq!(d.model_version, None, "no model involved");
    let list = msg(
        json!({"id": "w", "type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "intent:talk_to_human", "title": "Agent"}}}),
    );
    assert_eq!(run(&list).intent.as_deref(), Some("talk_to_human"));
    assert_eq!(run(&list).automation, Some(Automation::Handoff));
    let template = msg(
        json!({"id": "w", "type": "button", "button": {"payload": "track_order", "text": "Track it"}}),
    );
    assert_eq!(run(&template).modality, Modality::Structured);
    // An id the taxonomy does not know falls back to reading the title.
    let unknown = msg(
        json!({"id": "w", "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "x", "title": "my order?"}}}),
    );
    let d = run(&unknown);
    assert_eq!(
        (d.modality, d.intent.as_deref()),
        (Modality::Nlu, Some("order_status"))
    );
}

#[test]
fn nlu_path_thresholds_and_abstain() {
    let d = run(&text("where is my order"));
    assert_eq!(
        (d.modality, d.intent.as_deref(), d.abstained),
        (Modality::Nlu, Some("order_status"), false)
    );
    assert_eq!(d.model_version.as_deref(), Some("scripted-1"));
    assert_eq!(d.approval, Approval::Auto);
    assert_eq!(
        d.automation,
        Some(Automation::IntegrationEvent {
            event: "order.status_requested".into()
        })
    );
    // 0.3 is under app_bug's 0.6 threshold: abstain, keep the guess, human review.
    let d = run(&text("hmm something weird"));
    assert!(d.abstained);
    assert_eq!(d.intent, None);
    assert_eq!(d.segments[0].candidates[0], ("app_bug".to_string(), 0.3));
    assert_eq!(d.approval, Approval::HumanReview);
    assert!(d.approval_reasons.contains(&"model abstained".to_string()));
    assert!(d.rule.starts_with("abstain"));
    assert_eq!(d.automation, Some(Automation::Handoff));
}

#[test]
fn multi_request_messages_are_split_and_each_part_triaged() {
    let d = run(&text("order is late, charged twice, app crash on login"));
    let intents: Vec<_> = d
        .segments
        .iter()
        .map(|s| s.intent.clone().unwrap())
        .collect();
    assert_eq!(intents, ["order_status", "billing_charge", "app_bug"]);
    assert_eq!(d.queue, "tier1", "the first request routes");
    assert_eq!(
        d.visibility,
        ["finance", "engineering"],
        "the others are made visible"
    );
    assert_eq!(
        d.approval,
        Approval::HumanReview,
        "billing in any part needs review"
    );
}

#[test]
fn risk_routes_first_and_raises_urgency() {
    let d = run(&text("I was charged twice, this is a scam"));
    assert_eq!(d.risks[0].tag, Risk::FraudSignal);
    assert_eq!(d.queue, "trust_safety");
    assert_eq!(d.urgency, Urgency::Immediate);
    assert!(d.rule.starts_with("risk:fraud_signal"));
    assert!(d.visibility.contains(&"finance".to_string()));
    let d = run_with(
        &text("the app is down for everyone"),
        Some("finance"),
        &[],
        0,
        false,
    );
    assert_eq!(
        (d.queue.as_str(), d.visibility.clone()),
        ("engineering", vec!["finance".to_string()])
    );
}

#[test]
fn owner_queue_is_single_and_specialists_keep_it() {
    // The front line hands over to a specialist…
    let d = run_with(&text("charged twice"), Some("tier1"), &[], 0, false);
    assert_eq!(d.queue, "finance");
    // …but a specialist keeps ownership; the other team only gets visibility.
    let d = run_with(&text("app crash"), Some("finance"), &[], 0, false);
    assert_eq!(d.queue, "finance");
    assert_eq!(d.visibility, ["engineering"]);
    assert!(d.rule.contains("owner stays finance"));
}

#[test]
fn the_seed_example_billing_raised_urgency_finance_review() {
    let d = run_with(
        &text("Your app charged me twice and nobody replied"),
        None,
        &[],
        0,
        true,
    );
    assert_eq!(d.intent.as_deref(), Some("billing_charge"));
    assert_eq!(d.queue, "finance");
    assert_eq!(d.approval, Approval::HumanReview);
    assert!(d.urgency >= Urgency::Priority, "{:?}", d.urgency_rules);
    assert!(d.customer.contains(&"repeat_contact".to_string()));
}

#[test]
fn identity_checks_force_review() {
    let d = run(&text("please change my email"));
    assert!(d.customer.contains(&"needs_identity_check".to_string()));
    assert_eq!(d.approval, Approval::HumanReview);
}

#[test]
fn noise_is_recorded_not_routed() {
    let recent = [Recent {
        ts: 90,
        text: "where is my order".into(),
    }];
    let cases: [(InboundMessage, &[Recent], usize, NoiseReason); 4] = [
        (text("?"), &[], 0, NoiseReason::PunctuationOnly),
        (text("🙏🙏"), &[], 0, NoiseReason::EmojiOnly),
        (
            text("Where is my order!"),
            &recent,
            0,
            NoiseReason::Duplicate,
        ),
        (
            text("win a free iphone click this link"),
            &[],
            7,
            NoiseReason::Wave,
        ),
    ];
    for (m, recent, senders, reason) in cases {
        let d = run_with(&m, Some("finance"), recent, senders, false);
        assert_eq!(d.noise.as_ref().unwrap().reason, reason);
        assert_eq!(d.modality, Modality::None);
        assert_eq!(d.queue, "finance", "noise leaves the owner as it is");
        assert!(d.visibility.is_empty() && d.automation.is_none());
        assert!(d.rule.starts_with("noise:"));
    }
}

#[test]
fn media_without_caption_is_not_classified() {
    let img =
        msg(json!({"id": "w", "type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}));
    let d = run(&img);
    assert_eq!(d.modality, Modality::None);
    assert!(d.rule.starts_with("no text"));
    let captioned = msg(
        json!({"id": "w", "type": "image", "image": {"id": "1", "caption": "charged twice, see receipt"}}),
    );
    assert_eq!(run(&captioned).intent.as_deref(), Some("billing_charge"));
}

#[test]
fn bad_taxonomies_are_refused_with_reasons() {
    let mut t = serde_json::to_value(taxonomy()).unwrap();
    t["menu"]["intents"] = json!(["order_status"]);
    let err = Taxonomy::from_json(&t.to_string()).unwrap_err().to_string();
    assert!(err.contains("talk_to_human"), "{err}");
    let mut t = serde_json::to_value(taxonomy()).unwrap();
    t["intents"][0]["quick_reply"]["title"]["en"] = json!("a title far longer than twenty");
    assert!(Taxonomy::from_json(&t.to_string())
        .unwrap_err()
        .to_string()
        .contains("20"));
    let mut t = serde_json::to_value(taxonomy()).unwrap();
    t["intents"][0]["queue"] = json!("sales");
    assert!(Taxonomy::from_json(&t.to_string())
        .unwrap_err()
        .to_string()
        .contains("unknown queue"));
    let mut t = serde_json::to_value(taxonomy()).unwrap();
    t["queues"] = json!([{"id": "tier1", "name": "x"}]);
    assert!(Taxonomy::from_json(&t.to_string())
        .unwrap_err()
        .to_string()
        .contains("required queue"));
}
