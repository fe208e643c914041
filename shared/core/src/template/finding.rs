//! What the linter reports: one finding per broken rule, pointing at a component and, when it can,
//! at the characters to change.

use serde::{Deserialize, Serialize};

use super::catalog::Rule;

/// `Error`: Meta rejects the template (or it breaks Meta's published limits); submission is
/// blocked. `Warning`: a likely rejection, recategorisation or quality problem; advice only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `body.variable_at_edge`; documented in docs/template-rules.md.
    pub rule: &'static str,
    pub severity: Severity,
    /// `name`, `language`, `category`, `parameter_format`, `message_send_ttl_seconds`, `HEADER`,
    /// `BODY`, `FOOTER`, `BUTTONS`, `BUTTONS[i]` (0-based, the label), `BUTTONS[i].url`,
    /// `BUTTONS[i].phone_number`, `COMPONENTS[i]` (a component that is not the first of its kind).
    pub component: Option<String>,
    /// Character (not byte) offsets into the component's text, end-exclusive; see
    /// [`super::Template::text_at`] for which text.
    pub span: Option<(usize, usize)>,
    pub message: String,
    pub suggestion: Option<String>,
}

impl Finding {
    pub(crate) fn new(
        rule: Rule,
        component: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.id,
            severity: rule.severity,
            component: Some(component.into()),
            span: None,
            message: message.into(),
            suggestion: None,
        }
    }

    pub(crate) fn at(mut self, start: usize, end: usize) -> Self {
        self.span = Some((start, end));
        self
    }

    pub(crate) fn span(mut self, span: Option<(usize, usize)>) -> Self {
        self.span = span;
        self
    }

    pub(crate) fn help(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    pub(crate) fn help_opt(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }
}

/// Template-level fields first, then components in reading order (header, body, footer,
/// buttons by index), then the rest; within a component, by position.
fn component_rank(component: Option<&str>) -> (u8, usize) {
    let Some(c) = component else {
        return (u8::MAX, 0);
    };
    let indexed = |prefix: &str| -> Option<usize> {
        let rest = c.strip_prefix(prefix)?;
        rest[..rest.find(']')?].parse().ok()
    };
    match c {
        "name" => (0, 0),
        "language" => (1, 0),
        "category" => (2, 0),
        "parameter_format" => (3, 0),
        "message_send_ttl_seconds" => (4, 0),
        "HEADER" => (10, 0),
        "BODY" => (11, 0),
        "FOOTER" => (12, 0),
        "BUTTONS" => (13, 0),
        _ => {
            if let Some(i) = indexed("BUTTONS[") {
                (14, i)
            } else if let Some(i) = indexed("COMPONENTS[") {
                (20, i)
            } else {
                (30, 0)
            }
        }
    }
}

/// Deterministic order, independent of the order the rules ran in.
pub(crate) fn sort(findings: &mut [Finding]) {
    fn key(f: &Finding) -> ((u8, usize), Option<&str>) {
        (
            component_rank(f.component.as_deref()),
            f.component.as_deref(),
        )
    }
    findings.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then(a.span.cmp(&b.span))
            .then(a.severity.cmp(&b.severity))
            .then(a.rule.cmp(b.rule))
            .then(a.message.cmp(&b.message))
    });
}
