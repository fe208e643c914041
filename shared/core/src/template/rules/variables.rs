//! Variables: placeholder syntax, numbering, named vs positional, position in the body, density,
//! and an example for each (§6.4).

use std::collections::HashSet;

use serde_json::Value;

use super::structure::BODY_MAX;
use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::{scalar_text, Category, Component, ParameterFormat};
use crate::template::placeholder::{is_valid_name, suggest_name, Key, Placeholder};
use crate::template::text::Analysed;

/// Longest text a renumbering suggestion quotes in full.
const QUOTE_MAX: usize = 240;

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    for (component, text) in p.texts() {
        syntax(component, text, out);
    }
    let format = effective_format(p, out);
    let scoped = [
        ("HEADER", p.header_text.as_ref(), p.header),
        ("BODY", p.body_text.as_ref(), p.body),
    ];
    for (component, text, owner) in scoped {
        let Some(text) = text else { continue };
        // When the numbering is broken, examples cannot be matched to variables: the numbering
        // finding is the one to fix first.
        let numbered = match format {
            ParameterFormat::Positional => sequence(component, text, out),
            ParameterFormat::Named => {
                named(component, text, out);
                true
            }
        };
        adjacent(component, text, out);
        examples(component, text, owner, format, numbered, out);
    }
    if let Some(body) = &p.body_text {
        // Meta's own authentication text starts with the code ("{{1}} is your verification
        // code."); the rule is for the bodies authors write.
        if !p.is(Category::Authentication) {
            edges(body, out);
        }
        density(body, out);
        hydrated_length(body, p.body, format, out);
    }
}

fn syntax(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    for m in &text.malformed {
        let help = match &m.fix {
            Some(f) => format!("write {f}"),
            None => "write variables as {{1}} or {{first_name}}, two braces on each side".into(),
        };
        out.push(
            Finding::new(
                VARIABLE_MALFORMED,
                component,
                format!(
                    "“{}”: missing or mismatched braces (§6.4)",
                    text.slice(m.start, m.end)
                ),
            )
            .at(m.start, m.end)
            .help(help),
        );
    }
    for ph in &text.placeholders {
        let written = text.slice(ph.start, ph.end);
        let fixed = match &ph.key {
            Key::Positional(n) => format!("{{{{{n}}}}}"),
            Key::Named(name) => format!(
                "{{{{{}}}}}",
                if is_valid_name(name) {
                    name.clone()
                } else {
                    suggest_name(name)
                }
            ),
            Key::Unusable => {
                out.push(
                    Finding::new(
                        VARIABLE_MALFORMED,
                        component,
                        format!("“{written}” names no variable (§6.4)"),
                    )
                    .at(ph.start, ph.end)
                    .help("write {{1}} (positional) or {{first_name}} (named)"),
                );
                continue;
            }
        };
        if ph.special {
            out.push(
                Finding::new(
                    VARIABLE_SPECIAL_CHARS,
                    component,
                    format!(
                        "“{written}”: placeholders may not contain characters like # $ % (§6.4)"
                    ),
                )
                .at(ph.start, ph.end)
                .help(format!(
                    "write {fixed} and put any symbol outside the braces"
                )),
            );
        } else if ph.whitespace {
            out.push(
                Finding::new(
                    VARIABLE_WHITESPACE,
                    component,
                    format!("“{written}”: no spaces inside a placeholder (§6.4)"),
                )
                .at(ph.start, ph.end)
                .help(format!("write {fixed}")),
            );
        }
    }
}

fn is_named(ph: &Placeholder) -> bool {
    matches!(ph.key, Key::Named(_))
}

fn is_positional(ph: &Placeholder) -> bool {
    matches!(ph.key, Key::Positional(_))
}

/// The format the variables are checked against: the declared one, unless every variable is of
/// the other kind (then the declaration is the one mistake, reported once).
fn effective_format(p: &Parts, out: &mut Vec<Finding>) -> ParameterFormat {
    let all: Vec<(&str, &Placeholder)> = [
        ("HEADER", p.header_text.as_ref()),
        ("BODY", p.body_text.as_ref()),
    ]
    .into_iter()
    .filter_map(|(c, t)| Some((c, t?)))
    .flat_map(|(c, t)| t.placeholders.iter().map(move |ph| (c, ph)))
    .collect();
    let has_positional = all.iter().any(|(_, ph)| is_positional(ph));
    let has_named = all.iter().any(|(_, ph)| is_named(ph));
    let declared = p.declared_format;
    let off_kind = |ph: &Placeholder| match declared {
        ParameterFormat::Positional => is_named(ph),
        ParameterFormat::Named => is_positional(ph),
    };
    let Some(&(component, first_off)) = all.iter().find(|(_, ph)| off_kind(ph)) else {
        return declared;
    };
    if has_positional && has_named {
        out.push(
            Finding::new(
                VARIABLE_MIXED,
                component,
                "named and positional variables are mixed; a template uses one kind (§6.4)",
            )
            .at(first_off.start, first_off.end)
            .help(match declared {
                ParameterFormat::Positional => "use {{1}}, {{2}}, … throughout, or switch every variable to a name and set \"parameter_format\": \"named\"",
                ParameterFormat::Named => "use named variables like {{first_name}} throughout",
            }),
        );
        return declared;
    }
    let (message, help, effective) = match declared {
        ParameterFormat::Positional => (
            if p.template.parameter_format.is_none() {
                "named variables need \"parameter_format\": \"named\"; without it Meta reads the template as positional (§6.4)"
            } else {
                "named variables in a template declared \"parameter_format\": \"positional\" (§6.4)"
            },
            "set \"parameter_format\": \"named\"",
            ParameterFormat::Named,
        ),
        ParameterFormat::Named => (
            "positional variables in a template declared \"parameter_format\": \"named\" (§6.4)",
            "set \"parameter_format\": \"positional\" (or remove it), or name the variables",
            ParameterFormat::Positional,
        ),
    };
    out.push(
        Finding::new(VARIABLE_FORMAT_MISMATCH, component, message)
            .at(first_off.start, first_off.end)
            .help(help),
    );
    effective
}

/// `{{1}}`, `{{2}}`, … in order of first appearance, starting at 1; repeating one is fine.
/// Returns whether the numbering is sound.
fn sequence(component: &str, text: &Analysed, out: &mut Vec<Finding>) -> bool {
    let mut seen: Vec<u32> = Vec::new();
    for ph in &text.placeholders {
        let Key::Positional(n) = ph.key else { continue };
        if seen.contains(&n) {
            continue;
        }
        let expected = seen.len() as u32 + 1;
        if n != expected {
            let renumbered = renumber(text);
            let help = if text.len() <= QUOTE_MAX {
                format!("number the variables in order of appearance: “{renumbered}”")
            } else {
                "number the variables {{1}}, {{2}}, … in order of first appearance".into()
            };
            out.push(
                Finding::new(
                    VARIABLE_SEQUENCE,
                    component,
                    format!("{{{{{n}}}}} where {{{{{expected}}}}} was expected: variables are numbered 1, 2, 3… in order, without gaps (§6.4)"),
                )
                .at(ph.start, ph.end)
                .help(help),
            );
            return false;
        }
        seen.push(n);
    }
    true
}

/// The text with its positional variables renumbered by first appearance.
fn renumber(text: &Analysed) -> String {
    let mut order: Vec<u32> = Vec::new();
    let mut out = String::new();
    let mut at = 0;
    for ph in &text.placeholders {
        out.extend(&text.chars[at..ph.start]);
        match ph.key {
            Key::Positional(n) => {
                let k = order.iter().position(|&o| o == n).unwrap_or_else(|| {
                    order.push(n);
                    order.len() - 1
                });
                out.push_str(&format!("{{{{{}}}}}", k + 1));
            }
            _ => out.extend(&text.chars[ph.start..ph.end]),
        }
        at = ph.end;
    }
    out.extend(&text.chars[at..]);
    out
}

fn named(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    let mut seen: HashSet<&str> = HashSet::new();
    for ph in &text.placeholders {
        let Key::Named(name) = &ph.key else { continue };
        if !ph.special && !is_valid_name(name) {
            let digits = if name.chars().any(|c| c.is_ascii_digit()) {
                " (digits are not allowed: spell the number out)"
            } else {
                ""
            };
            out.push(
                Finding::new(
                    VARIABLE_NAMED_FORMAT,
                    component,
                    format!("“{name}”: variable names are lowercase letters and underscores only (§6.4){digits}"),
                )
                .at(ph.start, ph.end)
                .help(format!("write {{{{{}}}}}", suggest_name(name))),
            );
        }
        if !seen.insert(name) {
            out.push(
                Finding::new(
                    VARIABLE_NAMED_DUPLICATE,
                    component,
                    format!("{{{{{name}}}}} is used twice: named variables must be unique (§6.4)"),
                )
                .at(ph.start, ph.end)
                .help(format!(
                    "rephrase so {{{{{name}}}}} appears once, or give the second a name of its own"
                )),
            );
        }
    }
}

/// `{{1}}{{2}}` or `{{1}} {{2}}`: nothing a reader (or a reviewer) can anchor between them.
fn adjacent(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    for w in text.placeholders.windows(2) {
        let between = &text.chars[w[0].end..w[1].start];
        if between.iter().all(|c| c.is_whitespace()) {
            out.push(
                Finding::new(
                    VARIABLE_ADJACENT,
                    component,
                    "two variables with nothing but spaces between them are rejected (§6.4)",
                )
                .at(w[0].start, w[1].end)
                .help("put words or punctuation between them, e.g. “{{1}}, {{2}}” or “{{1}} at {{2}}”, or merge them into one variable"),
            );
        }
    }
}

/// Error 2388299, "leading or trailing params".
fn edges(body: &Analysed, out: &mut Vec<Finding>) {
    let Some((first, last)) = body.trimmed_bounds() else {
        return;
    };
    let at_start = body.placeholders.first().filter(|ph| ph.start == first);
    let at_end = body.placeholders.last().filter(|ph| ph.end == last);
    if let Some(ph) = at_start {
        out.push(
            Finding::new(
                BODY_VARIABLE_AT_EDGE,
                "BODY",
                "the body starts with a variable; Meta rejects leading or trailing parameters (error 2388299)",
            )
            .at(ph.start, ph.end)
            .help(format!("start with words, e.g. “Hi {}, …”", body.slice(ph.start, ph.end))),
        );
    }
    if let Some(ph) = at_end {
        if at_start.is_none_or(|s| s.start != ph.start) {
            out.push(
                Finding::new(
                    BODY_VARIABLE_AT_EDGE,
                    "BODY",
                    "the body ends with a variable; Meta rejects leading or trailing parameters (error 2388299)",
                )
                .at(ph.start, ph.end)
                .help(format!("end with words or punctuation, e.g. “… {}. Thank you!”", body.slice(ph.start, ph.end))),
            );
        }
    }
}

/// Meta does not publish the ratio behind error 2388293 (§6.4, §9). Heuristic, from the body's
/// words outside placeholders (`w`) and its variables (`v`, every occurrence): fewer words than
/// variables is an error (the body is mostly variables); fewer than `2v + 1` words is a warning.
fn density(body: &Analysed, out: &mut Vec<Finding>) {
    let v = body.placeholders.len();
    if v == 0 {
        return;
    }
    let w = body.word_count();
    if w < v {
        out.push(
            Finding::new(
                BODY_VARIABLE_RATIO,
                "BODY",
                format!("{} and only {}: the body is mostly variables and Meta rejects it (error 2388293)", count(v, "variable"), count(w, "word")),
            )
            .help("write the fixed part of the message out in words and keep variables for the values that change"),
        );
    } else if w < 2 * v + 1 {
        out.push(
            Finding::new(
                BODY_VARIABLE_DENSITY,
                "BODY",
                format!("{} for {}: Meta may reject the body for too many variables for its length (error 2388293); aim for at least {} words", count(v, "variable"), count(w, "word"), 2 * v + 1),
            )
            .help("add context around the variables, or merge variables that always travel together"),
        );
    }
}

/// Example values as Meta's JSON shapes them, with what is wrong with the shape.
struct Examples {
    positional: Option<Vec<String>>,
    named: Option<Vec<(String, String)>>,
    shape: Option<String>,
}

fn example_values(owner: Option<&Component>, header: bool) -> Examples {
    let ex = owner.and_then(|c| c.example.as_ref());
    let (pos, named, pos_key, named_key) = if header {
        (
            ex.and_then(|e| e.header_text.as_ref()),
            ex.and_then(|e| e.header_text_named_params.as_ref()),
            "header_text",
            "header_text_named_params",
        )
    } else {
        (
            ex.and_then(|e| e.body_text.as_ref()),
            ex.and_then(|e| e.body_text_named_params.as_ref()),
            "body_text",
            "body_text_named_params",
        )
    };
    let mut shape = None;
    let scalars = |a: &[Value]| {
        a.iter()
            .map(|v| scalar_text(v).unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let positional = pos.map(|v| match v {
        // Body: one row of values inside an outer array. Header: a flat array.
        Value::Array(rows) if !header && rows.first().is_some_and(Value::is_array) => {
            scalars(rows[0].as_array().map(Vec::as_slice).unwrap_or_default())
        }
        Value::Array(flat) if header && !flat.first().is_some_and(Value::is_array) => scalars(flat),
        Value::Array(a) => {
            shape = Some(if header {
                format!("\"{pos_key}\" is a flat list of values: [\"4471\"]")
            } else {
                format!("\"{pos_key}\" is a list holding one list of values: [[\"Ana\", \"4471\"]]")
            });
            match a.first() {
                Some(Value::Array(inner)) => scalars(inner),
                _ => scalars(a),
            }
        }
        other => {
            shape = Some(format!(
                "\"{pos_key}\" must be a list, not {}",
                kind_of(other)
            ));
            scalar_text(other).into_iter().collect()
        }
    });
    let named = named.map(|v| {
        let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
        let pairs: Vec<(String, String)> = items
            .iter()
            .filter_map(|item| {
                let name = item.get("param_name")?.as_str()?.to_string();
                Some((name, item.get("example").and_then(scalar_text).unwrap_or_default()))
            })
            .collect();
        if !v.is_array() || pairs.len() != items.len() {
            shape = Some(format!(
                "\"{named_key}\" is a list of {{\"param_name\": \"first_name\", \"example\": \"Ana\"}} objects"
            ));
        }
        pairs
    });
    Examples {
        positional,
        named,
        shape,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn examples(
    component: &str,
    text: &Analysed,
    owner: Option<&Component>,
    format: ParameterFormat,
    numbered: bool,
    out: &mut Vec<Finding>,
) {
    let ex = example_values(owner, component == "HEADER");
    // Surplus examples are only worth a warning when every variable is well formed and of the
    // template's kind; otherwise the surplus is the broken variable's example.
    let clean = text.malformed.is_empty()
        && text.placeholders.iter().all(|ph| match format {
            ParameterFormat::Positional => matches!(ph.key, Key::Positional(_)),
            ParameterFormat::Named => matches!(ph.key, Key::Named(_)),
        });
    if let Some(shape) = &ex.shape {
        out.push(
            Finding::new(
                EXAMPLE_SHAPE,
                component,
                format!("the example is in the wrong shape: {shape} (§6.1)"),
            )
            .help(shape.clone()),
        );
    }
    match format {
        ParameterFormat::Positional => {
            positional_examples(component, text, &ex, numbered, clean, out)
        }
        ParameterFormat::Named => named_examples(component, text, &ex, clean, out),
    }
}

fn positional_examples(
    component: &str,
    text: &Analysed,
    ex: &Examples,
    numbered: bool,
    clean: bool,
    out: &mut Vec<Finding>,
) {
    let mut numbers: Vec<(u32, &Placeholder)> = Vec::new();
    for ph in &text.placeholders {
        if let Key::Positional(n) = ph.key {
            if !numbers.iter().any(|(m, _)| *m == n) {
                numbers.push((n, ph));
            }
        }
    }
    numbers.sort_by_key(|(n, _)| *n);
    let values = ex.positional.as_deref().unwrap_or_default();
    let key = if component == "HEADER" {
        "header_text"
    } else {
        "body_text"
    };
    let missing: Vec<&(u32, &Placeholder)> = if numbered {
        numbers
            .iter()
            .filter(|(n, _)| *n as usize > values.len())
            .collect()
    } else {
        Vec::new()
    };
    if let Some((_, first)) = missing.first() {
        let names: Vec<String> = missing
            .iter()
            .map(|(n, _)| format!("{{{{{n}}}}}"))
            .collect();
        let sample: Vec<String> = numbers
            .iter()
            .map(|(n, _)| value_of(values, *n).cloned().unwrap_or_else(|| "…".into()))
            .collect();
        let shaped = if component == "HEADER" {
            format!("[{}]", quote_all(&sample))
        } else {
            format!("[[{}]]", quote_all(&sample))
        };
        out.push(
            Finding::new(
                EXAMPLE_MISSING,
                component,
                format!(
                    "no example value for {}: reviewers need a sample for every variable (§6.4)",
                    names.join(", ")
                ),
            )
            .at(first.start, first.end)
            .help(format!("add \"example\": {{\"{key}\": {shaped}}}")),
        );
    }
    for (n, ph) in &numbers {
        if value_of(values, *n).is_some_and(|v| v.trim().is_empty()) {
            out.push(
                Finding::new(
                    EXAMPLE_EMPTY,
                    component,
                    format!("the example for {{{{{n}}}}} is empty"),
                )
                .at(ph.start, ph.end)
                .help("give a realistic sample value"),
            );
        }
    }
    let used = numbers.len();
    if values.len() > used && numbered && clean {
        out.push(
            Finding::new(
                EXAMPLE_EXTRA,
                component,
                format!(
                    "{} for {}: reviewers match them by position",
                    count(values.len(), "example value"),
                    count(used, "variable")
                ),
            )
            .help(format!("keep {used} value(s), in variable order")),
        );
    }
    if clean && ex.named.as_ref().is_some_and(|n| !n.is_empty()) {
        out.push(
            Finding::new(
                EXAMPLE_EXTRA,
                component,
                "named examples in a positional template are ignored",
            )
            .help("give positional examples, or set \"parameter_format\": \"named\""),
        );
    }
}

fn named_examples(
    component: &str,
    text: &Analysed,
    ex: &Examples,
    clean: bool,
    out: &mut Vec<Finding>,
) {
    let mut names: Vec<(&str, &Placeholder)> = Vec::new();
    for ph in &text.placeholders {
        if let Key::Named(n) = &ph.key {
            if !names.iter().any(|(m, _)| m == n) {
                names.push((n, ph));
            }
        }
    }
    let pairs = ex.named.as_deref().unwrap_or_default();
    let key = if component == "HEADER" {
        "header_text_named_params"
    } else {
        "body_text_named_params"
    };
    let missing: Vec<&(&str, &Placeholder)> = names
        .iter()
        .filter(|(n, _)| !pairs.iter().any(|(p, _)| p == n))
        .collect();
    if let Some((_, first)) = missing.first() {
        let list: Vec<String> = missing
            .iter()
            .map(|(n, _)| format!("{{{{{n}}}}}"))
            .collect();
        let objects: Vec<String> = missing
            .iter()
            .map(|(n, _)| format!("{{\"param_name\": \"{n}\", \"example\": \"…\"}}"))
            .collect();
        out.push(
            Finding::new(
                EXAMPLE_MISSING,
                component,
                format!(
                    "no example value for {}: reviewers need a sample for every variable (§6.4)",
                    list.join(", ")
                ),
            )
            .at(first.start, first.end)
            .help(format!("add to \"{key}\": {}", objects.join(", "))),
        );
    }
    for (n, ph) in &names {
        if pairs.iter().any(|(p, v)| p == n && v.trim().is_empty()) {
            out.push(
                Finding::new(
                    EXAMPLE_EMPTY,
                    component,
                    format!("the example for {{{{{n}}}}} is empty"),
                )
                .at(ph.start, ph.end)
                .help("give a realistic sample value"),
            );
        }
    }
    if !clean {
        return;
    }
    let mut listed: HashSet<&str> = HashSet::new();
    for (p, _) in pairs {
        if !names.iter().any(|(n, _)| n == p) {
            out.push(
                Finding::new(
                    EXAMPLE_EXTRA,
                    component,
                    format!("example for “{p}”, which the text does not use"),
                )
                .help(format!("remove it, or use {{{{{p}}}}} in the text")),
            );
        } else if !listed.insert(p) {
            out.push(
                Finding::new(
                    EXAMPLE_EXTRA,
                    component,
                    format!("“{p}” has more than one example"),
                )
                .help("keep one example per variable"),
            );
        }
    }
    if ex.positional.as_ref().is_some_and(|v| !v.is_empty()) {
        out.push(
            Finding::new(
                EXAMPLE_EXTRA,
                component,
                "positional examples in a named template are ignored",
            )
            .help(format!("give examples in \"{key}\"")),
        );
    }
}

/// "1 word", "3 words".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The example for `{{n}}` (`{{0}}` has none).
fn value_of(values: &[String], n: u32) -> Option<&String> {
    values.get((n as usize).checked_sub(1)?)
}

fn quote_all(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Practitioners report that the body with its values filled in must still fit 1024 characters
/// (🟡 §6.4; error 132005 at send time). Measured with the examples, when they are complete.
fn hydrated_length(
    body: &Analysed,
    owner: Option<&Component>,
    format: ParameterFormat,
    out: &mut Vec<Finding>,
) {
    if body.len() > BODY_MAX || body.placeholders.is_empty() {
        return;
    }
    let ex = example_values(owner, false);
    let mut total = body.len();
    for ph in &body.placeholders {
        let value = match (&ph.key, format) {
            (Key::Positional(n), ParameterFormat::Positional) => {
                ex.positional.as_deref().and_then(|v| value_of(v, *n))
            }
            (Key::Named(name), ParameterFormat::Named) => ex
                .named
                .as_ref()
                .and_then(|v| v.iter().find(|(p, _)| p == name).map(|(_, v)| v)),
            _ => None,
        };
        let Some(value) = value else { return };
        total = total - (ph.end - ph.start) + value.chars().count();
    }
    if total > BODY_MAX {
        out.push(
            Finding::new(
                BODY_HYDRATED_LENGTH,
                "BODY",
                format!("with the example values filled in the body is {total} characters; sends longer than {BODY_MAX} fail (error 132005)"),
            )
            .help(format!("leave room for the values: shorten the text by {} characters", total - BODY_MAX)),
        );
    }
}
