//! Which components there are, and the limits of the header, body and footer (§6.1, §6.3).

use std::collections::HashSet;

use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::Category;
use crate::template::text::Analysed;

const HEADER_MAX: usize = 60;
pub(super) const BODY_MAX: usize = 1024;
const FOOTER_MAX: usize = 60;
const MEDIA_FORMATS: &[&str] = &["IMAGE", "VIDEO", "DOCUMENT", "GIF"];
/// Components Meta has that this linter does not check (yet): not unknown, not linted.
const UNCHECKED: &[&str] = &["CAROUSEL", "LIMITED_TIME_OFFER", "CALL_PERMISSION_REQUEST"];

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    components(p, out);
    header(p, out);
    body(p, out);
    footer(p, out);
}

fn components(p: &Parts, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for (i, c) in p.template.components.iter().enumerate() {
        let name = format!("COMPONENTS[{i}]");
        match c.kind() {
            None if c
                .kind
                .as_deref()
                .is_some_and(|k| UNCHECKED.contains(&k.trim().to_ascii_uppercase().as_str())) => {}
            None => {
                let written = c.kind.as_deref().unwrap_or("(none)");
                out.push(
                    Finding::new(
                        COMPONENT_UNKNOWN_TYPE,
                        name,
                        format!("component type “{written}” is not HEADER, BODY, FOOTER or BUTTONS; Meta rejects the template"),
                    )
                    .help("set \"type\" to HEADER, BODY, FOOTER or BUTTONS, or remove the component"),
                );
            }
            Some(kind) if !seen.insert(kind) => {
                out.push(
                    Finding::new(
                        COMPONENT_DUPLICATE,
                        name,
                        format!("a template has at most one {} (§6.3)", kind.as_str()),
                    )
                    .help(format!("merge it into the first {}", kind.as_str())),
                );
            }
            Some(_) => {}
        }
    }
}

fn header(p: &Parts, out: &mut Vec<Finding>) {
    let Some(h) = p.header else { return };
    let format = p.header_format.as_deref();
    match format {
        None => out.push(
            Finding::new(HEADER_FORMAT, "HEADER", "the header has no format").help(
                "add \"format\": \"TEXT\" with a text, or IMAGE, VIDEO, DOCUMENT or LOCATION",
            ),
        ),
        Some("TEXT") => {
            if h.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                out.push(
                    Finding::new(HEADER_FORMAT, "HEADER", "a TEXT header needs a text")
                        .help("write the header text, or remove the header"),
                );
            }
        }
        Some(f) if MEDIA_FORMATS.contains(&f) => {
            let has_handle = h
                .example
                .as_ref()
                .and_then(|e| e.header_handle.as_ref())
                .is_some_and(|v| match v {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .any(|x| x.as_str().is_some_and(|s| !s.trim().is_empty())),
                    serde_json::Value::String(s) => !s.trim().is_empty(),
                    _ => false,
                });
            // Authentication templates cannot have media at all; that rule says so.
            if !has_handle && !p.is(Category::Authentication) {
                out.push(
                    Finding::new(
                        HEADER_MEDIA_EXAMPLE,
                        "HEADER",
                        format!("{f} headers need a sample uploaded with the resumable-upload API (§6.1)"),
                    )
                    .help("add \"example\": {\"header_handle\": [\"4::…\"]} with the handle of an uploaded sample"),
                );
            }
            if f == "GIF" {
                out.push(
                    Finding::new(
                        HEADER_GIF,
                        "HEADER",
                        "GIF headers are available only to MARKETING templates sent through the Marketing Messages API (§6.1)",
                    )
                    .help("use an IMAGE or VIDEO header unless this template is sent through the Marketing Messages API"),
                );
            }
        }
        Some("LOCATION") => {}
        Some(f) => out.push(
            Finding::new(
                HEADER_FORMAT,
                "HEADER",
                format!("header format “{f}” is not TEXT, IMAGE, VIDEO, DOCUMENT, GIF or LOCATION"),
            )
            .help("use one of TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION"),
        ),
    }
    if let Some(text) = &p.header_text {
        header_text(text, out);
    }
}

fn header_text(text: &Analysed, out: &mut Vec<Finding>) {
    if text.len() > HEADER_MAX {
        out.push(
            Finding::new(
                HEADER_LENGTH,
                "HEADER",
                format!(
                    "the header is {} characters; Meta's limit is {HEADER_MAX} (§6.3)",
                    text.len()
                ),
            )
            .at(HEADER_MAX, text.len())
            .help(format!(
                "shorten the header by {} characters, or move detail into the body",
                text.len() - HEADER_MAX
            )),
        );
    }
    if let (Some(second), Some(last)) = (text.placeholders.get(1), text.placeholders.last()) {
        out.push(
            Finding::new(
                HEADER_VARIABLE_COUNT,
                "HEADER",
                format!(
                    "the header has {} variables; Meta allows at most 1 (§6.3)",
                    text.placeholders.len()
                ),
            )
            .at(second.start, last.end)
            .help("keep one variable in the header and move the others into the body"),
        );
    }
    for (start, end) in markdown(text) {
        out.push(
            Finding::new(
                HEADER_MARKDOWN,
                "HEADER",
                "formatting markup (*bold*, _italic_, ~strike~, ```mono```) is not allowed in a header (§6.3)",
            )
            .at(start, end)
            .help(format!("write the words without the markup: “{}”", strip_markers(&text.slice(start, end)))),
        );
    }
}

/// `*bold*`, `_italic_`, `~strike~` and ```` ```mono``` ```` outside placeholders: a marker, a
/// non-space character, …, a non-space character, the same marker.
fn markdown(text: &Analysed) -> Vec<(usize, usize)> {
    let chars = &text.chars;
    let inside = |i: usize| text.placeholders.iter().any(|p| p.start <= i && i < p.end);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' && chars[i..].starts_with(&['`', '`', '`']) {
            let close = (i + 3..chars.len().saturating_sub(2))
                .find(|&j| chars[j..].starts_with(&['`', '`', '`']));
            let end = close.map_or(i + 3, |j| j + 3);
            out.push((i, end));
            i = end;
            continue;
        }
        if matches!(c, '*' | '_' | '~') && !inside(i) {
            let opens = chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != c);
            if opens {
                if let Some(j) = (i + 2..chars.len())
                    .find(|&j| chars[j] == c && !chars[j - 1].is_whitespace() && !inside(j))
                {
                    out.push((i, j + 1));
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

fn strip_markers(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '*' | '_' | '~' | '`'))
        .collect()
}

fn body(p: &Parts, out: &mut Vec<Finding>) {
    let Some(body) = p.body else {
        out.push(
            Finding::new(
                BODY_MISSING,
                "BODY",
                "the template has no BODY component; every template needs one (§6.3)",
            )
            .help("add {\"type\": \"BODY\", \"text\": \"…\"}"),
        );
        return;
    };
    // Authentication bodies are Meta's preset text: no text of their own.
    if !p.is(Category::Authentication) && body.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        out.push(
            Finding::new(BODY_MISSING, "BODY", "the body has no text (§6.3)")
                .help("write the message in the body's \"text\""),
        );
    }
    if let Some(text) = &p.body_text {
        if text.len() > BODY_MAX {
            out.push(
                Finding::new(
                    BODY_LENGTH,
                    "BODY",
                    format!(
                        "the body is {} characters; Meta's limit is {BODY_MAX} (§6.3)",
                        text.len()
                    ),
                )
                .at(BODY_MAX, text.len())
                .help(format!(
                    "shorten the body by {} characters",
                    text.len() - BODY_MAX
                )),
            );
        }
    }
}

fn footer(p: &Parts, out: &mut Vec<Finding>) {
    let Some(text) = &p.footer_text else { return };
    if text.len() > FOOTER_MAX {
        out.push(
            Finding::new(
                FOOTER_LENGTH,
                "FOOTER",
                format!(
                    "the footer is {} characters; Meta's limit is {FOOTER_MAX} (§6.3)",
                    text.len()
                ),
            )
            .at(FOOTER_MAX, text.len())
            .help(format!(
                "shorten the footer by {} characters",
                text.len() - FOOTER_MAX
            )),
        );
    }
    for ph in &text.placeholders {
        out.push(
            Finding::new(
                FOOTER_VARIABLE,
                "FOOTER",
                "the footer is fixed text: it cannot hold variables (§6.3)",
            )
            .at(ph.start, ph.end)
            .help("move the variable into the body, or write the value out"),
        );
    }
}
