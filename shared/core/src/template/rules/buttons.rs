//! Buttons: counts per type, grouping, labels, URLs, phone numbers, copy-code examples (§6.3).

use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::{scalar_text, Button, Category, ComponentKind};
use crate::template::text::Analysed;

const LABEL_MAX: usize = 25;
const URL_MAX: usize = 2000;
const PHONE_MAX: usize = 20;
pub(super) const COPY_CODE_MAX: usize = 15;
const BUTTONS_MAX: usize = 10;

/// Button types Meta documents; others are reported as unknown but not blocked.
const KNOWN: &[&str] = &[
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "COPY_CODE",
    "OTP",
    "FLOW",
    "MPM",
    "CATALOG",
    "SPM",
    "VOICE_CALL",
    "APP",
];
/// Types whose label the author writes (COPY_CODE and OTP labels are Meta's or optional).
const NEEDS_LABEL: &[&str] = &[
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "FLOW",
    "MPM",
    "CATALOG",
    "VOICE_CALL",
];
/// Per-type maxima (§6.3).
const TYPE_MAX: &[(&str, usize)] = &[
    ("QUICK_REPLY", 10),
    ("URL", 2),
    ("PHONE_NUMBER", 1),
    ("COPY_CODE", 1),
];

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    let Some(component) = p.template.component(ComponentKind::Buttons) else {
        return;
    };
    if component.buttons.as_ref().is_none_or(|b| b.is_empty()) {
        out.push(
            Finding::new(
                BUTTONS_EMPTY,
                "BUTTONS",
                "the BUTTONS component has no buttons",
            )
            .help("add buttons to \"buttons\", or remove the component"),
        );
        return;
    }
    let kinds: Vec<String> = p.buttons.iter().map(Button::kind_upper).collect();
    counts(&kinds, out);
    // Authentication templates take exactly one OTP button; that module says what is wrong.
    if !p.is(Category::Authentication) {
        grouping(&kinds, out);
    }
    for (i, (button, kind)) in p.buttons.iter().zip(&kinds).enumerate() {
        one(p, i, button, kind, out);
    }
}

fn counts(kinds: &[String], out: &mut Vec<Finding>) {
    if kinds.len() > BUTTONS_MAX {
        out.push(
            Finding::new(
                BUTTONS_COUNT,
                "BUTTONS",
                format!(
                    "{} buttons; Meta allows at most {BUTTONS_MAX} (§6.3)",
                    kinds.len()
                ),
            )
            .help(format!("remove {} button(s)", kinds.len() - BUTTONS_MAX)),
        );
    }
    for (kind, max) in TYPE_MAX {
        if let Some(i) = kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| k == kind)
            .map(|(i, _)| i)
            .nth(*max)
        {
            let total = kinds.iter().filter(|k| k == kind).count();
            out.push(
                Finding::new(
                    BUTTONS_TYPE_COUNT,
                    format!("BUTTONS[{i}]"),
                    format!("{total} {kind} buttons; Meta allows at most {max} (§6.3)"),
                )
                .help(format!("remove {} {kind} button(s)", total - max)),
            );
        }
    }
}

/// Quick replies must form one block: QR, QR, URL ✓ / QR, URL, QR ✗ (§6.3).
fn grouping(kinds: &[String], out: &mut Vec<Finding>) {
    let qr: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| *k == "QUICK_REPLY")
        .map(|(i, _)| i)
        .collect();
    if let Some(w) = qr.windows(2).find(|w| w[1] != w[0] + 1) {
        out.push(
            Finding::new(
                BUTTONS_QUICK_REPLY_GROUPING,
                format!("BUTTONS[{}]", w[1]),
                "quick-reply buttons must be grouped together, not split by other buttons (§6.3)",
            )
            .help("move all quick-reply buttons next to each other, before or after the other buttons"),
        );
    }
}

fn one(p: &Parts, i: usize, b: &Button, kind: &str, out: &mut Vec<Finding>) {
    let name = format!("BUTTONS[{i}]");
    if !KNOWN.contains(&kind) {
        let written = b.kind.as_deref().unwrap_or("(none)");
        out.push(
            Finding::new(
                BUTTON_UNKNOWN_TYPE,
                name.clone(),
                format!("button type “{written}” is not one this linter knows; Meta may reject it"),
            )
            .help("use QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, FLOW or (authentication) OTP"),
        );
    }
    if kind == "OTP" && matches!(p.category, Some(Category::Utility | Category::Marketing)) {
        out.push(
            Finding::new(
                CATEGORY_OTP_OUTSIDE_AUTH,
                name.clone(),
                "OTP buttons exist only in AUTHENTICATION templates; only authentication templates may carry one-time passcodes (§6.5)",
            )
            .help("submit this template as AUTHENTICATION, or remove the OTP button"),
        );
    }
    label(p.labels.get(i).and_then(Option::as_ref), &name, kind, out);
    match kind {
        "URL" => url(b, &name, out),
        "PHONE_NUMBER" => phone(b, &name, out),
        "COPY_CODE" => copy_code(b, &name, out),
        _ => {}
    }
}

fn label(text: Option<&Analysed>, name: &str, kind: &str, out: &mut Vec<Finding>) {
    let empty = text.is_none_or(|t| t.chars.iter().all(|c| c.is_whitespace()));
    if empty {
        if NEEDS_LABEL.contains(&kind) {
            out.push(
                Finding::new(
                    BUTTON_LABEL_MISSING,
                    name,
                    format!("the {kind} button has no label"),
                )
                .help("add \"text\" with a label of at most 25 characters"),
            );
        }
        return;
    }
    let Some(t) = text else { return };
    if t.len() > LABEL_MAX {
        out.push(
            Finding::new(
                BUTTON_LABEL_LENGTH,
                name,
                format!(
                    "the label is {} characters; Meta's limit is {LABEL_MAX} (§6.3)",
                    t.len()
                ),
            )
            .at(LABEL_MAX, t.len())
            .help(format!(
                "shorten the label to at most {LABEL_MAX} characters"
            )),
        );
    }
}

fn url(b: &Button, name: &str, out: &mut Vec<Finding>) {
    let field = format!("{name}.url");
    let Some(url) = b.url.as_deref().filter(|u| !u.trim().is_empty()) else {
        out.push(
            Finding::new(BUTTON_URL_FORMAT, name, "the URL button has no \"url\"")
                .help("add \"url\": \"https://…\""),
        );
        return;
    };
    let text = Analysed::new(url);
    let lower = url.trim_start().to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || url.trim().chars().any(char::is_whitespace)
    {
        out.push(
            Finding::new(
                BUTTON_URL_FORMAT,
                field.clone(),
                "a URL button needs a full http:// or https:// address without spaces",
            )
            .at(0, text.len())
            .help(format!(
                "write the full address, e.g. \"https://{}\"",
                url.trim().trim_start_matches("www.")
            )),
        );
    }
    if text.len() > URL_MAX {
        out.push(
            Finding::new(
                BUTTON_URL_LENGTH,
                field.clone(),
                format!(
                    "the URL is {} characters; Meta's limit is {URL_MAX} (§6.3)",
                    text.len()
                ),
            )
            .at(URL_MAX, text.len())
            .help("shorten the URL (on your own domain: shorteners are rejected)"),
        );
    }
    for m in &text.malformed {
        out.push(
            Finding::new(
                VARIABLE_MALFORMED,
                field.clone(),
                "broken placeholder braces in the URL (§6.4)",
            )
            .at(m.start, m.end)
            .help(
                m.fix
                    .clone()
                    .map_or("write the variable as {{1}}".into(), |f| {
                        format!("write {f}")
                    }),
            ),
        );
    }
    let trimmed_end = text.trimmed_bounds().map_or(0, |(_, e)| e);
    for (k, ph) in text.placeholders.iter().enumerate() {
        if k > 0 {
            out.push(
                Finding::new(
                    BUTTON_URL_VARIABLE,
                    field.clone(),
                    "a URL button takes one variable; this is an extra one (§6.3)",
                )
                .at(ph.start, ph.end)
                .help("keep a single {{1}} at the end of the URL and build the rest of the path on your server"),
            );
        } else if ph.end != trimmed_end {
            let mut fixed: String = text.chars[..ph.start].iter().collect();
            fixed.push_str("{{1}}");
            out.push(
                Finding::new(
                    BUTTON_URL_VARIABLE,
                    field.clone(),
                    "the URL variable must be at the very end of the URL (§6.3)",
                )
                .at(ph.start, ph.end)
                .help(format!("end the URL with the variable: \"{fixed}\" and resolve the rest on your server")),
            );
        } else if ph.key != crate::template::placeholder::Key::Positional(1) {
            out.push(
                Finding::new(
                    BUTTON_URL_VARIABLE,
                    field.clone(),
                    "the URL variable must be {{1}}",
                )
                .at(ph.start, ph.end)
                .help("write {{1}}"),
            );
        }
    }
    if !text.placeholders.is_empty() {
        let has_example = match &b.example {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(scalar_text)
                .any(|s| !s.trim().is_empty()),
            Some(v) => scalar_text(v).is_some_and(|s| !s.trim().is_empty()),
            None => false,
        };
        if !has_example {
            let sample: String = text.chars[..text.placeholders[0].start].iter().collect();
            out.push(
                Finding::new(
                    BUTTON_URL_EXAMPLE,
                    name,
                    "the URL has a variable but no example: reviewers need a sample URL (§6.4)",
                )
                .help(format!("add \"example\": [\"{sample}4471\"]")),
            );
        }
    }
    for (s, e, host) in crate::template::text::urls(&text.chars) {
        if is_shortener(&host) {
            out.push(shortener(&field, s, e, &host));
        }
    }
}

fn phone(b: &Button, name: &str, out: &mut Vec<Finding>) {
    let raw = b.phone_number.as_deref().unwrap_or_default();
    let field = format!("{name}.phone_number");
    let len = raw.chars().count();
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let allowed = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let plus_ok = raw.trim_start().chars().skip(1).all(|c| c != '+');
    let problem = if raw.trim().is_empty() {
        Some("the phone button has no \"phone_number\"".to_string())
    } else if len > PHONE_MAX {
        Some(format!(
            "the phone number is {len} characters; Meta's limit is {PHONE_MAX} (§6.3)"
        ))
    } else if !allowed || !plus_ok {
        Some("a phone number holds digits, an optional leading +, spaces and dashes only".into())
    } else if !(7..=15).contains(&digits.len()) {
        Some(format!(
            "{} digits is not an international (E.164) number: 7–15 digits with the country code",
            digits.len()
        ))
    } else if digits.starts_with('0') {
        Some(
            "the number starts with 0: write it in international format, with the country code"
                .into(),
        )
    } else {
        None
    };
    if let Some(message) = problem {
        let (component, span) = if raw.is_empty() {
            (name.to_string(), None)
        } else {
            (field, Some((0, len)))
        };
        let help = if (7..=15).contains(&digits.len()) && !digits.starts_with('0') {
            format!("write \"+{digits}\"")
        } else {
            "write the number as + country code + number, e.g. \"+15550100123\"".into()
        };
        out.push(
            Finding::new(BUTTON_PHONE_FORMAT, component, message)
                .span(span)
                .help(help),
        );
    }
}

fn copy_code(b: &Button, name: &str, out: &mut Vec<Finding>) {
    let example = match &b.example {
        Some(serde_json::Value::Array(a)) => a.first().and_then(scalar_text),
        Some(v) => scalar_text(v),
        None => None,
    };
    match example.filter(|e| !e.trim().is_empty()) {
        None => out.push(
            Finding::new(
                BUTTON_COPY_CODE_EXAMPLE,
                name,
                "a COPY_CODE button needs an example code (§6.3)",
            )
            .help("add \"example\": \"SAVE30\" (at most 15 characters)"),
        ),
        Some(e) if e.chars().count() > COPY_CODE_MAX => out.push(
            Finding::new(
                BUTTON_COPY_CODE_EXAMPLE,
                name,
                format!("the copy-code example “{e}” is {} characters; Meta's limit is {COPY_CODE_MAX} (§6.3)", e.chars().count()),
            )
            .help(format!("use a code of at most {COPY_CODE_MAX} characters")),
        ),
        Some(_) => {}
    }
}

/// Link shorteners: Meta's reviewers reject links whose destination they cannot see.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "cutt.ly",
    "rebrand.ly",
    "wa.link",
    "shorturl.at",
    "tiny.cc",
    "t.ly",
    "rb.gy",
    "s.id",
    "bit.do",
    "v.gd",
    "lnkd.in",
    "short.io",
    "shorte.st",
    "adf.ly",
    "tr.im",
    "bl.ink",
    "soo.gd",
    "u.to",
    "x.gd",
    "qrco.de",
];

pub(super) fn is_shortener(host: &str) -> bool {
    SHORTENERS.contains(&host)
}

pub(super) fn shortener(component: &str, start: usize, end: usize, host: &str) -> Finding {
    Finding::new(
        CONTENT_URL_SHORTENER,
        component,
        format!("{host} is a link shortener: reviewers reject links that hide their destination"),
    )
    .at(start, end)
    .help("link to the full address on your own domain")
}
