//! The demo's customer simulator: messages written on the console's phone panel become webhooks
//! signed with the app secret and go through ingest like Meta's; the business's answers are read
//! from the Graph fake's record of what it received.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_app::ingest::Ingest;
use switchboard_app::Clock;
use switchboard_graph::GraphFake;
use switchboard_http::demo::{CustomerContent, CustomerMessage, Simulator};

/// The demo image's media id (events/media/demo-image.jpg, held by the fake).
const SAMPLE_IMAGE_ID: &str = "900000000000001";

pub struct DemoSimulator {
    pub ingest: Arc<Ingest>,
    pub app_secret: String,
    pub tenant: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub fake: Arc<GraphFake>,
    pub clock: Arc<dyn Clock>,
    pub seq: AtomicU64,
}

impl DemoSimulator {
    fn wamid(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("wamid.SIM.{}.{n}", self.clock.now_millis())
    }

    /// The webhook Meta would send for this message.
    pub fn webhook(&self, msg: &CustomerMessage, wamid: &str) -> Value {
        let mut m = json!({"from": msg.from, "id": wamid,
            "timestamp": self.clock.now().to_string()});
        match &msg.content {
            CustomerContent::Text(body) => {
                m["type"] = json!("text");
                m["text"] = json!({"body": body});
            }
            CustomerContent::Reply { id, title } => {
                m["type"] = json!("interactive");
                m["interactive"] =
                    json!({"type": "button_reply", "button_reply": {"id": id, "title": title}});
            }
            CustomerContent::Image { caption } => {
                m["type"] = json!("image");
                let mut image = json!({"id": SAMPLE_IMAGE_ID, "mime_type": "image/jpeg"});
                if let Some(c) = caption.as_deref().filter(|c| !c.is_empty()) {
                    image["caption"] = json!(c);
                }
                m["image"] = image;
            }
        }
        let name = msg
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("Customer {}", &msg.from[msg.from.len() - 4..]));
        json!({"object": "whatsapp_business_account", "entry": [{"id": self.waba_id, "changes": [{
            "field": "messages",
            "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550100001", "phone_number_id": self.phone_number_id},
                "contacts": [{"profile": {"name": name}, "wa_id": msg.from}],
                "messages": [m]}}]}]})
    }
}

#[async_trait::async_trait]
impl Simulator for DemoSimulator {
    fn tenant(&self) -> &str {
        &self.tenant
    }

    async fn customer_message(&self, msg: &CustomerMessage) -> Result<String, String> {
        let wamid = self.wamid();
        let body = serde_json::to_vec(&self.webhook(msg, &wamid)).map_err(|e| e.to_string())?;
        let signature = switchboard_core::signature::sign(self.app_secret.as_bytes(), &body);
        self.ingest
            .accept(&body, Some(&signature))
            .await
            .map_err(|e| e.to_string())?;
        Ok(wamid)
    }

    fn sent_to(&self, wa_id: &str) -> Vec<Value> {
        self.fake
            .sent_messages()
            .into_iter()
            .filter(|s| s["phone_number_id"] == self.phone_number_id)
            .filter(|s| {
                let to = s["body"]["to"].as_str().or(s["body"]["recipient"].as_str());
                to.is_some_and(|to| to.trim_start_matches('+') == wa_id)
            })
            .map(|mut s| {
                let mut body = s["body"].take();
                body["wamid"] = s["wamid"].take();
                body["at"] = s["at"].take();
                body
            })
            .collect()
    }
}
