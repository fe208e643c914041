//! Meta rejects a template whose body and footer repeat an existing template's (§6.7); it does not
//! check AUTHENTICATION templates, whose text is Meta's preset.

use super::Parts;
use crate::template::catalog::DUPLICATE_BODY_FOOTER;
use crate::template::context::{duplicate_key, LintContext};
use crate::template::finding::Finding;
use crate::template::model::Category;

pub(super) fn check(p: &Parts, ctx: &LintContext, out: &mut Vec<Finding>) {
    if p.is(Category::Authentication) || ctx.is_empty() {
        return;
    }
    let Some(body) = p.template.body_text().filter(|b| !b.trim().is_empty()) else {
        return;
    };
    let key = duplicate_key(body, p.template.footer_text());
    let name = p.template.name.as_deref().unwrap_or_default();
    let language = p.template.language_code().unwrap_or_default();
    if let Some(existing) = ctx.find(&key, name, language) {
        out.push(
            Finding::new(
                DUPLICATE_BODY_FOOTER,
                "BODY",
                format!(
                    "the body and footer are the same as the existing template “{}” ({}): Meta rejects duplicates (§6.7)",
                    existing.name, existing.language
                ),
            )
            .help(format!("reuse “{}”, or change the wording", existing.name)),
        );
    }
}
