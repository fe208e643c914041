//! The rules, grouped by what they read. Each group is a function from [`Parts`] (the template with
//! its texts analysed once) to findings; the category decides which groups and which word lists
//! apply, as the editor asks for the category first.

mod authentication;
mod buttons;
mod content;
mod duplicate;
mod identity;
mod structure;
mod variables;

use super::context::LintContext;
use super::finding::{sort, Finding};
use super::model::{Button, Category, Component, ComponentKind, ParameterFormat, Template};
use super::text::Analysed;
use super::words::Lang;

/// A template with its components located and its texts analysed.
pub(crate) struct Parts<'a> {
    pub template: &'a Template,
    pub category: Option<Category>,
    pub lang: Lang,
    /// As declared (positional when absent or unknown).
    pub declared_format: ParameterFormat,
    pub header: Option<&'a Component>,
    /// Uppercased header format; TEXT when a header has text and no format.
    pub header_format: Option<String>,
    /// The header text, when the header is a text header.
    pub header_text: Option<Analysed>,
    pub body: Option<&'a Component>,
    pub body_text: Option<Analysed>,
    pub footer: Option<&'a Component>,
    pub footer_text: Option<Analysed>,
    pub buttons: &'a [Button],
    /// Each button's label.
    pub labels: Vec<Option<Analysed>>,
}

impl<'a> Parts<'a> {
    fn new(template: &'a Template) -> Self {
        let header = template.component(ComponentKind::Header);
        let header_format = header.and_then(|h| {
            h.format
                .as_deref()
                .map(|f| f.trim().to_ascii_uppercase())
                .or_else(|| h.text.as_ref().map(|_| "TEXT".to_string()))
        });
        let header_text = match (header, header_format.as_deref()) {
            (Some(h), Some("TEXT")) => h.text.as_deref().map(Analysed::new),
            _ => None,
        };
        let body = template.component(ComponentKind::Body);
        let footer = template.component(ComponentKind::Footer);
        let buttons = template.buttons();
        Self {
            template,
            category: template.category(),
            lang: Lang::from_code(template.language_code()),
            declared_format: template.parameter_format(),
            header,
            header_format,
            header_text,
            body,
            body_text: body.and_then(|b| b.text.as_deref()).map(Analysed::new),
            footer,
            footer_text: footer.and_then(|f| f.text.as_deref()).map(Analysed::new),
            buttons,
            labels: buttons
                .iter()
                .map(|b| b.text.as_deref().map(Analysed::new))
                .collect(),
        }
    }

    /// Header, body and footer texts with their component names.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &Analysed)> {
        [
            ("HEADER", self.header_text.as_ref()),
            ("BODY", self.body_text.as_ref()),
            ("FOOTER", self.footer_text.as_ref()),
        ]
        .into_iter()
        .filter_map(|(c, t)| Some((c, t?)))
    }

    /// Header, body and footer texts and the button labels (`BUTTONS[i]`).
    pub fn all_texts(&self) -> Vec<(String, &Analysed)> {
        let mut out: Vec<(String, &Analysed)> =
            self.texts().map(|(c, t)| (c.to_string(), t)).collect();
        for (i, label) in self.labels.iter().enumerate() {
            if let Some(l) = label {
                out.push((format!("BUTTONS[{i}]"), l));
            }
        }
        out
    }

    pub fn is(&self, category: Category) -> bool {
        self.category == Some(category)
    }
}

pub(crate) fn run(template: &Template, ctx: &LintContext) -> Vec<Finding> {
    let parts = Parts::new(template);
    let mut out = Vec::new();
    identity::check(&parts, &mut out);
    structure::check(&parts, &mut out);
    buttons::check(&parts, &mut out);
    variables::check(&parts, &mut out);
    content::check(&parts, &mut out);
    if parts.is(Category::Authentication) {
        authentication::check(&parts, &mut out);
    }
    duplicate::check(&parts, ctx, &mut out);
    sort(&mut out);
    out
}
