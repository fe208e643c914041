//! Template linter: checks a WhatsApp message template against Meta's rules (reference §6) before
//! it is submitted, so a rejection that would come back a day later is caught while the author is
//! still typing.
//!
//! Rules are bound to the category chosen first (UTILITY, MARKETING, AUTHENTICATION): promotional
//! language is a problem only in UTILITY, the preset format only in AUTHENTICATION, and so on.
//! Every rule, its severity and Meta's reason are in docs/template-rules.md.
//!
//! Pure and total: any JSON object lints without panicking; an unknown component is a finding.
//!
//! ```
//! use switchboard_core::template::{lint_json, LintContext, Severity};
//! let json = r#"{"name": "order_shipped", "language": "en_US", "category": "UTILITY",
//!   "components": [{"type": "BODY", "text": "{{1}}, your order has shipped.",
//!                   "example": {"body_text": [["Ana"]]}}]}"#;
//! let findings = lint_json(json, &LintContext::new()).unwrap();
//! assert_eq!(findings[0].rule, "body.variable_at_edge");
//! assert_eq!(findings[0].severity, Severity::Error);
//! assert_eq!(findings[0].span, Some((0, 5)));
//! ```

mod catalog;
mod context;
mod finding;
pub mod model;
mod placeholder;
mod rules;
pub mod send;
mod text;
mod words;

use serde::Serialize;
use serde_json::Value;

pub use catalog::{rule, Rule, RULES};
pub use context::{ExistingTemplate, LintContext};
pub use finding::{Finding, Severity};
pub use model::{Category, Template};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all.
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// JSON, but not a template object (an array, a string, a field of the wrong type).
    #[error("not a template: {0}")]
    Shape(String),
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => Self::Shape(e.to_string()),
            _ => Self::Syntax(e.to_string()),
        }
    }
}

/// All findings for one template, sorted (template fields, then header, body, footer, buttons,
/// each by position).
pub fn lint(template: &Template, ctx: &LintContext) -> Vec<Finding> {
    rules::run(template, ctx)
}

/// Parses one template object and lints it.
pub fn lint_json(json: &str, ctx: &LintContext) -> Result<Vec<Finding>, ParseError> {
    Ok(lint(&parse_json(json)?, ctx))
}

/// For callers that already hold a JSON value (the HTTP handler, the CLI's YAML reader).
pub fn lint_value(value: Value, ctx: &LintContext) -> Result<Vec<Finding>, ParseError> {
    Ok(lint(&from_value(value)?, ctx))
}

pub fn parse_json(json: &str) -> Result<Template, ParseError> {
    // Straight into the model (no intermediate `Value`: half the cost); on a shape error, say
    // what the document is instead of serde's "invalid type: sequence".
    serde_json::from_str(json).or_else(|e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => match serde_json::from_str::<Value>(json) {
            Ok(v) if !v.is_object() => from_value(v),
            _ => Err(e.into()),
        },
        _ => Err(e.into()),
    })
}

pub fn from_value(value: Value) -> Result<Template, ParseError> {
    if !value.is_object() {
        let what = match value {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(ParseError::Shape(format!(
            "a template is a JSON object, not {what}"
        )));
    }
    Ok(serde_json::from_value(value)?)
}

/// Whether any finding blocks submission to Meta.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// The lint result as the API answers it: findings plus the counts an editor shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    pub name: Option<String>,
    pub category: Option<Category>,
    pub errors: usize,
    pub warnings: usize,
    /// No error-severity finding: the template may be submitted.
    pub submittable: bool,
    pub findings: Vec<Finding>,
}

impl LintReport {
    pub fn new(template: &Template, ctx: &LintContext) -> Self {
        let findings = lint(template, ctx);
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Self {
            name: template.name.clone(),
            category: template.category(),
            errors,
            warnings: findings.len() - errors,
            submittable: errors == 0,
            findings,
        }
    }
}
