//! Helpers for the end-to-end suites: payload builders in Meta's shape.

use serde_json::{json, Value};

pub const DEMO_SECRET: &str = "switchboard-demo-app-secret";
pub const PNID: &str = "110000000000001";

/// One inbound text message as Meta's `messages` array item.
pub fn text(from: &str, wamid: &str, ts: i64, body: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": body}})
}

/// A webhook POST body carrying `messages` (and their senders' contacts) for one phone number.
pub fn webhook(phone_number_id: &str, messages: Vec<Value>) -> Vec<u8> {
    let contacts: Vec<Value> = messages
        .iter()
        .filter_map(|m| m.get("from").and_then(Value::as_str))
        .map(|from| json!({"profile": {"name": format!("Customer {}", &from[from.len() - 2..])}, "wa_id": from}))
        .collect();
    webhook_value(
        phone_number_id,
        json!({"contacts": contacts, "messages": messages}),
    )
}

/// A webhook POST body with statuses.
pub fn statuses(phone_number_id: &str, statuses: Vec<Value>) -> Vec<u8> {
    webhook_value(phone_number_id, json!({"statuses": statuses}))
}

fn webhook_value(phone_number_id: &str, mut value: Value) -> Vec<u8> {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550100001", "phone_number_id": phone_number_id});
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "109876543210987", "changes": [{"field": "messages", "value": value}]}]
    }))
    .expect("JSON")
}

pub fn sign(body: &[u8]) -> String {
    switchboard_core::signature::sign(DEMO_SECRET.as_bytes(), body)
}
