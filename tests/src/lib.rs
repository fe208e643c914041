//! Helpers for the end-to-end suites: payload builders in Meta's shape.

use serde_json::{json, Value};
pub use switchboard_http::Role;

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

/// A token the demo server accepts, minted by its dev issuer.
pub fn operator_token(user: &str, roles: &[Role], tenant: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    // Valid across test clocks that jump days ahead.
    switchboard_http::DevIssuer::from_app_secret(DEMO_SECRET).mint(
        user,
        tenant,
        roles,
        now - 86_400,
        400 * 86_400,
    )
}

/// The token of the suites' role names: `author` writes templates (an agent), `system` is a
/// business system sending notifications (an admin).
pub fn token_for_role(user: &str, role: &str) -> String {
    let roles = match role {
        "author" => vec![Role::Agent],
        "system" => vec![Role::Admin],
        other => vec![Role::parse(other).unwrap_or_else(|| panic!("no role {other:?}"))],
    };
    operator_token(user, &roles, "demo")
}

/// `switchboard serve` on a free port and a temporary data dir, with an HTTP client: the
/// harness of the local end-to-end suites.
pub struct ServeEnv {
    pub server: switchboard::serve::Server,
    pub base: String,
    /// Sends a token of an operator holding every role unless the request sets its own.
    pub http: reqwest::Client,
    /// Sends no token.
    pub anon: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl ServeEnv {
    pub async fn start() -> Self {
        Self::start_with(std::sync::Arc::new(switchboard_app::SystemClock), |_| {}).await
    }

    /// With a clock the test moves (TTL, windows, SLA deadlines) and configuration changes.
    pub async fn start_with(
        clock: std::sync::Arc<dyn switchboard_app::Clock>,
        tweak: impl FnOnce(&mut switchboard::config::ServeConfig),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = switchboard::config::ServeConfig::for_test(dir.path().to_path_buf());
        tweak(&mut config);
        let server = switchboard::serve::start_with_clock(&config, clock)
            .await
            .expect("server starts");
        let base = format!("http://{}", server.addr);
        Self {
            server,
            base,
            http: reqwest::Client::builder()
                .default_headers(
                    [(
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {}", operator_token("tester", &Role::ALL, "demo"))
                            .parse()
                            .expect("header value"),
                    )]
                    .into_iter()
                    .collect(),
                )
                .build()
                .expect("client"),
            anon: reqwest::Client::new(),
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

    /// Waits until the workers have drained every queue the pipeline feeds (events, handoff
    /// requests, sends): tests assert on state, never on time.
    pub async fn settle(&self) {
        use switchboard_app::Queue;
        let stack = &self.server.stack;
        let mut quiet = 0;
        for _ in 0..1200 {
            let mut depth = 0;
            for q in [&stack.events, &stack.handoff, &stack.outbound, &stack.otp] {
                depth += q.depth().await.expect("depth");
            }
            // Twice empty in a row: one queue's worker may be about to feed another.
            quiet = if depth == 0 { quiet + 1 } else { 0 };
            if quiet == 2 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let mut depths = Vec::new();
        for (name, q) in [
            ("events", &stack.events),
            ("handoff", &stack.handoff),
            ("outbound", &stack.outbound),
            ("otp", &stack.otp),
        ] {
            depths.push((name, q.depth().await.unwrap_or(usize::MAX)));
        }
        panic!("queues never drained: {depths:?}");
    }

    /// What the demo's fake Graph API was asked to send, oldest first.
    pub fn sent(&self) -> Vec<Value> {
        self.server
            .graph_fake
            .as_ref()
            .expect("serve --demo runs the Graph fake")
            .sent_messages()
    }

    /// POSTs JSON as an operator with `role`: (status, JSON body).
    pub async fn act(&self, path: &str, user: &str, role: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token_for_role(user, role))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
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

/// The sender's two FIFO queues (conversational and OTP), each with its DLQ, on the emulator.
pub async fn aws_outbound_queues(
    conf: &aws_config::SdkConfig,
) -> switchboard_app::outbound::OutboundQueues {
    use switchboard_aws::provision;
    let sqs = aws_sdk_sqs::Client::new(conf);
    let mut urls = Vec::new();
    for name in ["outbound", "otp"] {
        let (url, _dlq) = provision::create_fifo_with_dlq(&sqs, &provision::unique_name(name), 100)
            .await
            .expect("create outbound queue");
        urls.push(url);
    }
    switchboard_app::outbound::OutboundQueues {
        conversational: std::sync::Arc::new(switchboard_aws::SqsQueue::new(
            sqs.clone(),
            urls[0].clone(),
        )),
        otp: std::sync::Arc::new(switchboard_aws::SqsQueue::new(sqs, urls[1].clone())),
    }
}
