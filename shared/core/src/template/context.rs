//! What the linter needs to know besides the template: the WABA's existing templates, for the
//! duplicate rule. Built once per request (or per CLI run) and shared by every lint.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{Category, Template};

/// An existing template of the same WhatsApp Business Account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingTemplate {
    pub name: String,
    pub language: String,
    pub body: String,
    #[serde(default)]
    pub footer: Option<String>,
}

impl ExistingTemplate {
    /// From a template as Meta lists it (`GET /{WABA_ID}/message_templates`); `None` for
    /// templates without body text (authentication presets), which Meta does not compare.
    pub fn from_template(t: &Template) -> Option<Self> {
        if t.category() == Some(Category::Authentication) {
            return None;
        }
        Some(Self {
            name: t.name.clone().unwrap_or_default(),
            language: t.language_code().unwrap_or_default().to_string(),
            body: t.body_text().filter(|b| !b.trim().is_empty())?.to_string(),
            footer: t.footer_text().map(str::to_string),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct LintContext {
    /// Normalised body + footer → the templates that have it.
    existing: HashMap<String, Vec<ExistingTemplate>>,
}

/// Case and whitespace do not make a template different to a reviewer.
pub(crate) fn duplicate_key(body: &str, footer: Option<&str>) -> String {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    format!("{}\u{1f}{}", norm(body), norm(footer.unwrap_or_default()))
}

impl LintContext {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_existing(existing: impl IntoIterator<Item = ExistingTemplate>) -> Self {
        let mut ctx = Self::default();
        for e in existing {
            ctx.add_existing(e);
        }
        ctx
    }

    pub fn add_existing(&mut self, existing: ExistingTemplate) {
        let key = duplicate_key(&existing.body, existing.footer.as_deref());
        self.existing.entry(key).or_default().push(existing);
    }

    pub fn is_empty(&self) -> bool {
        self.existing.is_empty()
    }

    /// An existing template with this body + footer, other than the template itself (same name
    /// and language: an edit of an approved template is not a duplicate of it).
    pub(crate) fn find(&self, key: &str, name: &str, language: &str) -> Option<&ExistingTemplate> {
        self.existing
            .get(key)?
            .iter()
            .find(|e| !(e.name == name && e.language == language))
    }
}
