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

/// `switchboard serve` on a free port and a temporary data dir, with an HTTP client: the
/// harness of the local end-to-end suites.
pub struct ServeEnv {
    pub server: switchboard::serve::Server,
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl ServeEnv {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = switchboard::config::ServeConfig::for_test(dir.path().to_path_buf());
        let server = switchboard::serve::start(&config)
            .await
            .expect("server starts");
        let base = format!("http://{}", server.addr);
        Self {
            server,
            base,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// POSTs a webhook body with an optional signature header: (status, JSON body).
    pub async fn post(&self, body: &[u8], signature: Option<String>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/webhook", self.base))
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("x-hub-signature-256", s);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// POSTs signed messages and waits until they are processed.
    pub async fn send(&self, messages: Vec<Value>) {
        let body = webhook(PNID, messages);
        assert_eq!(self.post(&body, Some(sign(&body))).await.0, 200);
        self.settle().await;
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// Waits until the worker has drained the queue (tests assert on state, never on time).
    pub async fn settle(&self) {
        use switchboard_app::Queue;
        for _ in 0..400 {
            if self.server.stack.events.depth().await.expect("depth") == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("queue never drained");
    }

    pub async fn conversations(&self, query: &str) -> Vec<Value> {
        self.get(&format!("/api/conversations?limit=200{query}"))
            .await["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}
