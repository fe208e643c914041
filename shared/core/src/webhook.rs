//! Serde model of Meta's WhatsApp webhook notifications (reference §2).
//!
//! Two rules shape every type here:
//! - Nothing is dropped. Every struct keeps the fields it does not name in `extra`, so a payload
//!   re-serialises to the same JSON it came from, and a field Meta adds tomorrow is still stored.
//! - Everything optional is optional. `from`/`wa_id` may be absent (BSUID era, §2.2), timestamps
//!   may arrive as strings or numbers, objects may be missing for their declared type.
//!
//! Splitting works on `serde_json::Value` (see `event`), so one odd item can never fail the batch;
//! these types are the typed view of one item at a time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Extra = Map<String, Value>;

/// Top-level POST body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Webhook {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `value.contacts[]`: the sender's profile. BSUID-first: `user_id` may be the only id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One inbound message. The per-type object sits in the field named after `type`; types we do not
/// know keep their object in `extra` under their own name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InboundMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_parent_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Kept as sent (string or number); read it with `timestamp()`.
    #[serde(default, rename = "timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp_raw: Option<Value>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<MessageContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ApiError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<SharedContact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<Button>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Unix seconds. Meta sends strings in messages and statuses, integers elsewhere; we take both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A timestamp from a JSON value: `"1768471200"`, `1768471200` or anything else (→ `None`).
pub fn parse_ts(v: &Value) -> Option<Timestamp> {
    match v {
        Value::String(s) => s.trim().parse().ok().map(Timestamp),
        Value::Number(n) => n.as_i64().map(Timestamp),
        _ => None,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MessageContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequently_forwarded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Text {
    #[serde(default)]
    pub body: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// image, video, audio, document, sticker.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Media {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A contact card the customer shared. Sub-objects vary by device; kept as JSON beyond the name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SharedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Reaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Missing or empty means the reaction was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Interactive {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_reply: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_reply: Option<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfm_reply: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Reply {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Template quick-reply tap.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Button {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Order {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<ProductItem>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProductItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_retailer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct System {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The customer's new id after `user_changed_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Errors appear in `value.errors[]`, `messages[].errors[]` and `statuses[].errors[]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ApiError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `value.statuses[]`: delivery status of a message we sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    /// Kept as sent (string or number); read it with `timestamp()`.
    #[serde(default, rename = "timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp_raw: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ApiError>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Pricing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `message_template_status_update`. Template ids are integers here and strings elsewhere; we keep
/// the JSON value and read it as a string (`template_id`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateStatusUpdate {
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub message_template_id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_info: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `template_category_update`: impending (`correct_category`) or completed (`previous_category`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateCategoryUpdate {
    #[serde(default)]
    pub message_template_id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_update_timestamp: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `message_template_quality_update`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateQualityUpdate {
    #[serde(default)]
    pub message_template_id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_quality_score: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_quality_score: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `phone_number_quality_update`, `phone_number_name_update`, `account_update`,
/// `account_review_update`, `account_alerts`, `business_capability_update`: account-level notices.
/// Their enums change often (reference §2.8), so values stay strings and the rest stays JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccountNotice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `user_preferences[]`: the customer stopped or resumed marketing messages in the WhatsApp client.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserPreference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Kept as sent (string or number); read it with `timestamp()`.
    #[serde(default, rename = "timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp_raw: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The id of a template as a string, whether Meta sent a number or a string.
pub fn template_id(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl InboundMessage {
    /// A short, body-free summary of what the message is, for listings and logs.
    pub fn preview(&self) -> Option<String> {
        match self.kind.as_str() {
            "text" => self.text.as_ref().map(|t| t.body.clone()),
            "image" | "video" | "document" | "audio" | "sticker" => {
                let media = self.media()?;
                media
                    .caption
                    .clone()
                    .or_else(|| media.filename.clone())
                    .or_else(|| Some(format!("[{}]", self.kind)))
            }
            "interactive" => self.interactive.as_ref().and_then(|i| {
                i.button_reply
                    .as_ref()
                    .or(i.list_reply.as_ref())
                    .map(|r| r.title.clone())
            }),
            "button" => self.button.as_ref().and_then(|b| b.text.clone()),
            "reaction" => self
                .reaction
                .as_ref()
                .map(|r| r.emoji.clone().unwrap_or_default()),
            "location" => self
                .location
                .as_ref()
                .map(|l| l.name.clone().unwrap_or_else(|| "[location]".to_string())),
            "order" => Some("[order]".to_string()),
            "contacts" => Some("[contacts]".to_string()),
            other => Some(format!("[{other}]")),
        }
    }

    pub fn media(&self) -> Option<&Media> {
        match self.kind.as_str() {
            "image" => self.image.as_ref(),
            "video" => self.video.as_ref(),
            "audio" => self.audio.as_ref(),
            "document" => self.document.as_ref(),
            "sticker" => self.sticker.as_ref(),
            _ => None,
        }
    }

    /// Types the documented reference lists; anything else is stored as-is and flagged.
    pub fn is_known_type(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "text"
                | "image"
                | "video"
                | "audio"
                | "document"
                | "sticker"
                | "location"
                | "contacts"
                | "reaction"
                | "interactive"
                | "button"
                | "order"
                | "system"
                | "unsupported"
        )
    }
}

macro_rules! timestamped {
    ($($t:ty),*) => {$(
        impl $t {
            /// Meta's timestamp in unix seconds, whether sent as a string or a number.
            pub fn timestamp(&self) -> Option<Timestamp> {
                self.timestamp_raw.as_ref().and_then(parse_ts)
            }
        }
    )*};
}
timestamped!(InboundMessage, Status, UserPreference);
