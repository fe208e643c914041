//! A tenant's taxonomy: its intents, owner queues, automations and approval boundaries.
//! Versioned JSON (config/taxonomy/default.json is the default); checked when loaded, so a bad
//! taxonomy fails at deploy or start-up, never on a customer's message.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::tags::Urgency;

/// Longest quick-reply title WhatsApp shows on a reply button.
pub const MAX_QUICK_REPLY_TITLE: usize = 20;
/// Most rows a WhatsApp list message holds.
pub const MAX_MENU_ROWS: usize = 10;
/// The intent that hands the conversation to a human; every menu offers it.
pub const TALK_TO_HUMAN: &str = "talk_to_human";
/// Queues every taxonomy must have: the routing rules for risks send work there.
pub const REQUIRED_QUEUES: [&str; 5] = ["tier1", "finance", "engineering", "comms", "trust_safety"];

/// The default taxonomy, compiled in so a function needs no file to start.
pub const DEFAULT_JSON: &str = include_str!("../../../../config/taxonomy/default.json");

/// Text in several languages, keyed by language code.
pub type Localised = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Taxonomy {
    pub version: String,
    pub languages: Vec<String>,
    pub default_threshold: f32,
    pub queues: Vec<Queue>,
    pub menu: Menu,
    pub intents: Vec<Intent>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Queue {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Menu {
    pub body: Localised,
    pub button: Localised,
    pub intents: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Intent {
    pub id: String,
    pub description: String,
    pub quick_reply: QuickReply,
    #[serde(default)]
    pub template_payloads: Vec<String>,
    pub queue: String,
    #[serde(default)]
    pub threshold: Option<f32>,
    pub urgency: Urgency,
    #[serde(default)]
    pub needs_identity_check: bool,
    pub automation: Automation,
    pub approval: Approval,
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QuickReply {
    pub id: String,
    pub title: Localised,
}

/// What the bot does for an intent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Automation {
    StaticReply {
        text: Localised,
    },
    QuickReplyMenu {
        text: Localised,
        intents: Vec<String>,
    },
    IntegrationEvent {
        event: String,
    },
    Handoff,
}

/// Whether the bot may act on its own or a human must review first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Auto,
    HumanReview,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid JSON: {0}")]
    Json(String),
    #[error("taxonomy {0}")]
    Invalid(String),
}

impl Taxonomy {
    pub fn from_json(json: &str) -> Result<Self, TaxonomyError> {
        let t: Taxonomy =
            serde_json::from_str(json).map_err(|e| TaxonomyError::Json(e.to_string()))?;
        t.validate()?;
        Ok(t)
    }

    /// The taxonomy shipped with Switchboard (config/taxonomy/default.json).
    pub fn default_taxonomy() -> Self {
        Self::from_json(DEFAULT_JSON).expect("the shipped taxonomy is valid (tested)")
    }

    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    pub fn threshold(&self, intent: &str) -> f32 {
        self.intent(intent)
            .and_then(|i| i.threshold)
            .unwrap_or(self.default_threshold)
    }

    /// The intent a quick-reply id, list-row id or template button payload stands for.
    pub fn structured_intent(&self, id_or_payload: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| {
            i.quick_reply.id == id_or_payload
                || i.template_payloads.iter().any(|p| p == id_or_payload)
        })
    }

    fn validate(&self) -> Result<(), TaxonomyError> {
        let bad = |m: String| Err(TaxonomyError::Invalid(m));
        if self.version.trim().is_empty() {
            return bad("has no version".into());
        }
        if !(0.0..=1.0).contains(&self.default_threshold) {
            return bad("default_threshold must be within 0..=1".into());
        }
        let queues: HashSet<&str> = self.queues.iter().map(|q| q.id.as_str()).collect();
        for q in REQUIRED_QUEUES {
            if !queues.contains(q) {
                return bad(format!("lacks the required queue {q:?}"));
            }
        }
        let mut ids = HashSet::new();
        let mut structured = HashSet::new();
        for i in &self.intents {
            if !ids.insert(i.id.as_str()) {
                return bad(format!("defines intent {:?} twice", i.id));
            }
            if !queues.contains(i.queue.as_str()) {
                return bad(format!(
                    "intent {:?} routes to unknown queue {:?}",
                    i.id, i.queue
                ));
            }
            if i.threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
                return bad(format!("intent {:?} has a threshold outside 0..=1", i.id));
            }
            for (lang, title) in &i.quick_reply.title {
                if title.chars().count() > MAX_QUICK_REPLY_TITLE {
                    return bad(format!(
                        "intent {:?} has a {lang} quick-reply title over {MAX_QUICK_REPLY_TITLE} characters: {title:?}",
                        i.id
                    ));
                }
            }
            for key in std::iter::once(&i.quick_reply.id).chain(&i.template_payloads) {
                if !structured.insert(key.as_str()) {
                    return bad(format!("structured id {key:?} maps to two intents"));
                }
            }
        }
        let known = |id: &String| ids.contains(id.as_str());
        if let Some(missing) = self.menu.intents.iter().find(|i| !known(i)) {
            return bad(format!("menu offers unknown intent {missing:?}"));
        }
        if !self.menu.intents.iter().any(|i| i == TALK_TO_HUMAN) {
            return bad(format!("menu must always offer {TALK_TO_HUMAN:?}"));
        }
        if self.menu.intents.len() > MAX_MENU_ROWS {
            return bad(format!("menu has more than {MAX_MENU_ROWS} rows"));
        }
        for i in &self.intents {
            if let Automation::QuickReplyMenu { intents, .. } = &i.automation {
                if let Some(missing) = intents.iter().find(|x| !known(x)) {
                    return bad(format!(
                        "intent {:?} offers unknown intent {missing:?}",
                        i.id
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_taxonomy_is_valid_and_complete() {
        let t = Taxonomy::from_json(DEFAULT_JSON).unwrap();
        assert_eq!(t.intents.len(), 19);
        for i in &t.intents {
            for lang in &t.languages {
                assert!(
                    i.quick_reply.title.contains_key(lang),
                    "{} lacks a {lang} title",
                    i.id
                );
            }
            if let Automation::StaticReply { text } | Automation::QuickReplyMenu { text, .. } =
                &i.automation
            {
                for lang in &t.languages {
                    assert!(text.contains_key(lang), "{} lacks a {lang} reply", i.id);
                }
            }
        }
        assert_eq!(
            t.structured_intent("intent:talk_to_human").unwrap().id,
            TALK_TO_HUMAN
        );
        assert_eq!(
            t.structured_intent("track_order").unwrap().id,
            "order_status"
        );
    }
}
