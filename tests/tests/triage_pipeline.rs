//! Triage end to end on `switchboard serve`: posted messages show their decision (intent,
//! modality, confidence, tags, queue, rule, versions) in the conversation API, and the routing
//! events reach the in-process bus.

use serde_json::{json, Value};
use switchboard_e2e::{text, ServeEnv};

async fn env() -> ServeEnv {
    ServeEnv::start().await
}

trait Thread {
    async fn thread(&self, from: &str) -> (Value, Vec<Value>);
    async fn bus(&self) -> Vec<(String, Value)>;
}

impl Thread for ServeEnv {
    /// The conversation of `from` and its messages, oldest first.
    async fn thread(&self, from: &str) -> (Value, Vec<Value>) {
        let conv = self
            .conversations("")
            .await
            .into_iter()
            .find(|c| c["contact"]["phone"] == from)
            .expect("conversation");
        let msgs = self
            .get(&format!(
                "/api/conversations/{}/messages",
                conv["id"].as_str().unwrap()
            ))
            .await;
        (conv, msgs["items"].as_array().unwrap().clone())
    }

    async fn bus(&self) -> Vec<(String, Value)> {
        self.server
            .stack
            .bus
            .list("demo", 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| (e.detail_type, e.detail))
            .collect()
    }
}

fn button(from: &str, wamid: &str, ts: i64, id: &str, title: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "interactive",
           "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}}})
}

#[tokio::test]
async fn the_seed_example_goes_to_finance_for_review_with_raised_urgency() {
    let e = env().await;
    e.send(vec![text(
        "15550100001",
        "wamid.T1",
        1_800_000_000,
        "Your app charged me twice and nobody replied",
    )])
    .await;
    let (conv, msgs) = e.thread("15550100001").await;
    let t = &msgs[0]["triage"];
    assert_eq!(t["intent"], "billing_charge", "{t:#}");
    assert_eq!(t["modality"], "nlu");
    assert!(t["confidence"].as_f64().unwrap() > 0.3);
    assert_eq!(t["queue"], "finance");
    assert_eq!(t["approval"], "human_review");
    assert!(
        matches!(t["urgency"].as_str().unwrap(), "priority" | "immediate"),
        "{t:#}"
    );
    assert!(t["rule"].as_str().unwrap().contains("finance"));
    assert!(t["model_version"].as_str().unwrap().len() > 8);
    assert_eq!(t["taxonomy_version"], "2026-11-22.1");
    assert_eq!(t["language"]["lang"], "en");
    assert_eq!(conv["queue"], "finance");
    assert_eq!(
        conv["state"], "awaiting_agent",
        "review means a human's queue"
    );
    assert_eq!(conv["needs_review"], true);
    let bus = e.bus().await;
    let types: Vec<&str> = bus.iter().map(|(t, _)| t.as_str()).collect();
    for expected in [
        "message.triaged",
        "conversation.routed",
        "handoff.requested",
    ] {
        assert!(types.contains(&expected), "{types:?}");
    }
    let routed = bus
        .iter()
        .find(|(t, _)| t == "conversation.routed")
        .unwrap();
    assert_eq!(routed.1["queue"], "finance");
    e.stop().await;
}

#[tokio::test]
async fn quick_replies_are_structured_and_fire_integration_events() {
    let e = env().await;
    e.send(vec![button(
        "15550100002",
        "wamid.B1",
        1_800_000_000,
        "intent:order_status",
        "Track my order",
    )])
    .await;
    let (conv, msgs) = e.thread("15550100002").await;
    let t = &msgs[0]["triage"];
    assert_eq!(
        (
            t["modality"].as_str(),
            t["intent"].as_str(),
            t["confidence"].as_f64()
        ),
        (Some("structured"), Some("order_status"), Some(1.0))
    );
    assert_eq!(conv["modality_counts"]["structured"], 1);
    assert_eq!(conv["state"], "bot", "the bot handles it");
    let bus = e.bus().await;
    let integration = bus
        .iter()
        .find(|(t, _)| t == "intent.integration")
        .expect("integration event");
    assert_eq!(integration.1["event"], "order.status_requested");
    e.stop().await;
}

#[tokio::test]
async fn several_requests_in_one_message_are_triaged_separately() {
    let e = env().await;
    e.send(vec![text(
        "15550100003",
        "wamid.M1",
        1_800_000_000,
        "my order is late, I was charged twice for it, and the app keeps crashing when I log in",
    )])
    .await;
    let (_, msgs) = e.thread("15550100003").await;
    let segments = msgs[0]["triage"]["segments"].as_array().unwrap();
    assert!(segments.len() >= 2, "{segments:#?}");
    let intents: Vec<&str> = segments
        .iter()
        .filter_map(|s| s["intent"].as_str().or(s["candidates"][0][0].as_str()))
        .collect();
    assert!(intents.contains(&"billing_charge"), "{intents:?}");
    e.stop().await;
}

#[tokio::test]
async fn a_greeting_gets_the_menu_in_the_customers_language_through_the_outbound_gate() {
    let e = env().await;
    e.send(vec![text(
        "15550100004",
        "wamid.G1",
        1_800_000_000,
        "hola, buenas tardes!",
    )])
    .await;
    let (_conv, msgs) = e.thread("15550100004").await;
    let inbound = msgs.iter().find(|m| m["direction"] == "inbound").unwrap();
    let t = &inbound["triage"];
    assert_eq!(t["language"]["lang"], "es", "{t:#}");
    assert_eq!(t["intent"], "greeting", "{t:#}");
    // The sender, not triage, called Meta: one interactive list to the customer's number.
    let sent = e.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0]["body"];
    assert_eq!(body["to"], "+15550100004");
    assert_eq!(body["type"], "interactive");
    assert_eq!(body["context"]["message_id"], "wamid.G1");
    let list = &body["interactive"];
    assert_eq!(list["type"], "list");
    let rows = list["action"]["sections"][0]["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["id"] == "intent:talk_to_human"),
        "a human is always offered"
    );
    assert!(rows
        .iter()
        .all(|r| r["title"].as_str().unwrap().chars().count() <= 24));
    // Spanish, not the English fallback.
    assert!(
        list["body"]["text"].as_str().unwrap().starts_with("¡Hola!"),
        "{list:#}"
    );
    assert_eq!(list["action"]["button"], "Elegir");
    // The reply is in the thread, sent by the bot.
    let (_, msgs) = e.thread("15550100004").await;
    let out: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .collect();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["origin"]["kind"], "bot");
    assert_eq!(out[0]["wamid"], sent[0]["wamid"]);
    e.stop().await;
}

#[tokio::test]
async fn risks_route_first_and_noise_is_kept_but_not_routed() {
    let e = env().await;
    e.send(vec![text(
        "15550100005",
        "wamid.R1",
        1_800_000_000,
        "If I don't get my refund I will talk to my lawyer",
    )])
    .await;
    let (conv, msgs) = e.thread("15550100005").await;
    assert_eq!(msgs[0]["triage"]["risks"][0]["tag"], "legal_threat");
    assert_eq!(conv["queue"], "comms");
    let before = e.bus().await.len();
    e.send(vec![text("15550100005", "wamid.R2", 1_800_000_010, "?")])
        .await;
    let (conv, msgs) = e.thread("15550100005").await;
    assert_eq!(msgs.len(), 2, "noise is stored");
    assert_eq!(msgs[1]["triage"]["noise"]["reason"], "punctuation_only");
    assert_eq!(conv["queue"], "comms", "and routes nowhere");
    assert_eq!(conv["modality_counts"]["noise"], 1);
    let after = e.bus().await;
    assert_eq!(after.len(), before + 1, "only message.triaged for noise");
    e.stop().await;
}

#[tokio::test]
async fn the_same_text_from_many_customers_is_a_clustered_wave() {
    let e = env().await;
    let spam = "Congratulations you won a free gift card claim it at this link";
    let msgs: Vec<Value> = (0..6)
        .map(|i| {
            text(
                &format!("155501001{i:02}"),
                &format!("wamid.W{i}"),
                1_800_000_000 + i,
                spam,
            )
        })
        .collect();
    e.send(msgs).await;
    let mut waves = 0;
    let mut clusters = std::collections::HashSet::new();
    for i in 0..6 {
        let (_, m) = e.thread(&format!("155501001{i:02}")).await;
        if m[0]["triage"]["noise"]["reason"] == "wave" {
            waves += 1;
            clusters.insert(
                m[0]["triage"]["noise"]["cluster"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert_eq!(waves, 2, "the 5th and 6th sender complete a wave");
    assert_eq!(clusters.len(), 1, "one cluster");
    e.stop().await;
}
