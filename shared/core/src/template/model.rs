//! Meta's template create payload (`POST /{WABA_ID}/message_templates`, reference §6.1) as serde
//! types.
//!
//! Lenient on purpose: the linter's input is a draft from an editor, so every field is optional
//! (a missing name is a finding, not a parse failure), component and button types are kept as the
//! strings the author wrote (an unknown type is a finding), example values stay JSON values
//! (their shape is checked by a rule that can say what is wrong), and fields this model does not
//! name are kept in `extra` so a template survives a round trip unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One template, as submitted to Meta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Template {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `"en_US"` in the create payload; the send payload's `{"code": "en_US"}` is accepted too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `"positional"` (Meta's default when absent) or `"named"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_send_ttl_seconds: Option<i64>,
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A HEADER, BODY, FOOTER or BUTTONS component (or anything else the author wrote).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// HEADER only: TEXT, IMAGE, VIDEO, DOCUMENT, GIF or LOCATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Example>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<Button>>,
    /// AUTHENTICATION BODY: append Meta's "do not share this code" disclaimer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_security_recommendation: Option<bool>,
    /// AUTHENTICATION FOOTER: "This code expires in N minutes", 1–90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_expiration_minutes: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Example values Meta's reviewers see in place of the variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Positional header: `["4471"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_text: Option<Value>,
    /// Positional body: one row of values, `[["Ana", "4471"]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<Value>,
    /// Media header: the resumable-upload handle, `["4::aW..."]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_handle: Option<Value>,
    /// Named header: `[{"param_name": "order_id", "example": "4471"}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_text_named_params: Option<Value>,
    /// Named body: `[{"param_name": "first_name", "example": "Ana"}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text_named_params: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One button of a BUTTONS component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Button {
    /// QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// URL button: `["https://…/4471"]`; COPY_CODE: `"SAVE30"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    /// OTP button: COPY_CODE, ONE_TAP or ZERO_TAP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autofill_text: Option<String>,
    /// One-tap / zero-tap: the Android apps allowed to receive the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_apps: Option<Vec<SupportedApp>>,
    /// Older one-tap form: a single app given on the button itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_tap_terms_accepted: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportedApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_hash: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    Utility,
    Marketing,
    Authentication,
}

impl Category {
    /// Case-insensitive: Meta's examples write `UTILITY`, editors often send `utility`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Utility, Self::Marketing, Self::Authentication]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utility => "UTILITY",
            Self::Marketing => "MARKETING",
            Self::Authentication => "AUTHENTICATION",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    Header,
    Body,
    Footer,
    Buttons,
}

impl ComponentKind {
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Header, Self::Body, Self::Footer, Self::Buttons]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The name findings use for the (first) component of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Header => "HEADER",
            Self::Body => "BODY",
            Self::Footer => "FOOTER",
            Self::Buttons => "BUTTONS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterFormat {
    Positional,
    Named,
}

impl ParameterFormat {
    pub fn parse(s: &str) -> Option<Self> {
        if s.trim().eq_ignore_ascii_case("positional") {
            Some(Self::Positional)
        } else if s.trim().eq_ignore_ascii_case("named") {
            Some(Self::Named)
        } else {
            None
        }
    }
}

impl Template {
    pub fn category(&self) -> Option<Category> {
        self.category.as_deref().and_then(Category::parse)
    }

    /// The language code, from `"en_US"` or `{"code": "en_US"}`.
    pub fn language_code(&self) -> Option<&str> {
        match self.language.as_ref()? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("code").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The declared format; Meta's default is positional (§6.4).
    pub fn parameter_format(&self) -> ParameterFormat {
        self.parameter_format
            .as_deref()
            .and_then(ParameterFormat::parse)
            .unwrap_or(ParameterFormat::Positional)
    }

    /// The first component of a kind (a second one is itself a finding).
    pub fn component(&self, kind: ComponentKind) -> Option<&Component> {
        self.components.iter().find(|c| c.kind() == Some(kind))
    }

    pub fn body_text(&self) -> Option<&str> {
        self.component(ComponentKind::Body)?.text.as_deref()
    }

    pub fn footer_text(&self) -> Option<&str> {
        self.component(ComponentKind::Footer)?.text.as_deref()
    }

    pub fn buttons(&self) -> &[Button] {
        self.component(ComponentKind::Buttons)
            .and_then(|c| c.buttons.as_deref())
            .unwrap_or(&[])
    }

    /// The text a finding's `component` and `span` point into: `name`, `language`, `HEADER`,
    /// `BODY`, `FOOTER`, `BUTTONS[i]` (the label), `BUTTONS[i].url`, `BUTTONS[i].phone_number`,
    /// `COMPONENTS[i]`. `None` when the finding has no text to point at.
    pub fn text_at(&self, component: &str) -> Option<&str> {
        match component {
            "name" => return self.name.as_deref(),
            "language" => return self.language_code(),
            _ => {}
        }
        if let Some(kind) = ComponentKind::parse(component) {
            return self.component(kind)?.text.as_deref();
        }
        if let Some(rest) = component.strip_prefix("COMPONENTS[") {
            let i: usize = rest.strip_suffix(']')?.parse().ok()?;
            return self.components.get(i)?.text.as_deref();
        }
        let rest = component.strip_prefix("BUTTONS[")?;
        let (index, field) = rest.split_once(']')?;
        let button = self.buttons().get(index.parse::<usize>().ok()?)?;
        match field {
            "" => button.text.as_deref(),
            ".url" => button.url.as_deref(),
            ".phone_number" => button.phone_number.as_deref(),
            _ => None,
        }
    }
}

impl Component {
    pub fn kind(&self) -> Option<ComponentKind> {
        self.kind.as_deref().and_then(ComponentKind::parse)
    }
}

impl Button {
    /// The type, uppercased (`quick_reply` and `QUICK_REPLY` are the same button).
    pub fn kind_upper(&self) -> String {
        self.kind
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase()
    }
}

/// A JSON scalar as example text: reviewers see `4471` and `"4471"` alike.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
