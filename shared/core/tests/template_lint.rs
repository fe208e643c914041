//! The template linter against its corpus: every `tests/templates/NAME.json` lints to exactly the
//! findings in `NAME.expected.json` (rule, severity, component, span; in order). `ok_*` templates
//! must lint clean, every rule must be exercised by some template, and every rule must be
//! documented. Then the things a corpus does not show: spans in characters, odd input.
//!
//! After an intended change, `TEMPLATE_LINT_BLESS=1 cargo test -p switchboard-core --test
//! template_lint` rewrites the expected files; review the diff before keeping it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use switchboard_core::template::{
    lint, lint_json, lint_value, parse_json, ExistingTemplate, Finding, LintContext, LintReport,
    ParseError, Severity, Template, RULES,
};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/templates")
}

/// The WABA's existing templates, for the duplicate rule.
fn context() -> LintContext {
    let raw = fs::read_to_string(corpus_dir().join("existing/waba_templates.json")).unwrap();
    let templates: Vec<Template> = serde_json::from_str(&raw).unwrap();
    LintContext::with_existing(templates.iter().filter_map(ExistingTemplate::from_template))
}

fn corpus() -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.ends_with(".json") && !n.ends_with(".expected.json")
        })
        .map(|p| (p.file_stem().unwrap().to_str().unwrap().to_string(), p))
        .collect();
    files.sort();
    files
}

/// What the expected files pin: not the wording, which may improve freely.
fn essentials(findings: &[Finding]) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                json!({"rule": f.rule, "severity": f.severity, "component": f.component, "span": f.span})
            })
            .collect(),
    )
}

/// One finding per line, in the order the linter sorts them.
fn expected_file(findings: &[Finding]) -> String {
    // Ids and component names hold no commas, so spacing the commas only touches spans.
    let j = |v: Value| v.to_string().replace(',', ", ");
    let lines: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "  {{\"rule\": {}, \"severity\": {}, \"component\": {}, \"span\": {}}}",
                j(json!(f.rule)),
                j(json!(f.severity)),
                j(json!(f.component)),
                j(json!(f.span))
            )
        })
        .collect();
    if lines.is_empty() {
        "[]\n".into()
    } else {
        format!("[\n{}\n]\n", lines.join(",\n"))
    }
}

#[test]
fn corpus_lints_to_exactly_the_expected_findings() {
    let ctx = context();
    let bless = std::env::var_os("TEMPLATE_LINT_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, path) in corpus() {
        let raw = fs::read_to_string(&path).unwrap();
        let findings = lint_json(&raw, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = essentials(&findings);
        let expected_path = path.with_extension("expected.json");
        if bless {
            fs::write(&expected_path, expected_file(&findings)).unwrap();
            continue;
        }
        let expected: Value = serde_json::from_str(
            &fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("{name}: no {}", expected_path.display())),
        )
        .unwrap();
        if got != expected {
            let detail: Vec<String> = findings
                .iter()
                .map(|f| format!("  {} {:?} {:?}: {}", f.rule, f.component, f.span, f.message))
                .collect();
            failures.push(format!(
                "{name}:\n expected {expected}\n got      {got}\n{}",
                detail.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn corpus_is_broad() {
    let files = corpus();
    assert!(files.len() >= 60, "{} templates", files.len());
    let ctx = context();
    let mut exercised = BTreeSet::new();
    let mut languages = BTreeSet::new();
    let mut valid_categories = BTreeSet::new();
    for (name, path) in &files {
        let t = parse_json(&fs::read_to_string(path).unwrap()).unwrap();
        let findings = lint(&t, &ctx);
        if name.starts_with("ok_") {
            assert!(
                findings.is_empty(),
                "{name} should lint clean: {findings:#?}"
            );
            languages.insert(t.language_code().unwrap().to_string());
            valid_categories.insert(t.category().unwrap());
        }
        exercised.extend(findings.iter().map(|f| f.rule));
    }
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !exercised.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules no corpus template breaks: {missing:?}"
    );
    assert_eq!(
        valid_categories.len(),
        3,
        "valid templates in every category"
    );
    for lang in ["en_US", "es", "pt_BR", "id"] {
        assert!(
            languages.contains(lang),
            "no valid {lang} template: {languages:?}"
        );
    }
}

#[test]
fn findings_are_well_formed() {
    let ctx = context();
    for (name, path) in corpus() {
        let t = parse_json(&fs::read_to_string(&path).unwrap()).unwrap();
        for f in lint(&t, &ctx) {
            let rule = RULES
                .iter()
                .find(|r| r.id == f.rule)
                .expect("rule in the catalog");
            assert_eq!(rule.severity, f.severity, "{name}: {}", f.rule);
            assert!(!f.message.is_empty(), "{name}: {}", f.rule);
            assert!(
                f.suggestion.as_deref().is_some_and(|s| !s.is_empty()),
                "{name}: {} has no suggestion",
                f.rule
            );
            if let Some((start, end)) = f.span {
                let component = f.component.as_deref().unwrap();
                let text = t.text_at(component).unwrap_or_else(|| {
                    panic!("{name}: {} spans {component}, which has no text", f.rule)
                });
                let len = text.chars().count();
                assert!(
                    start < end && end <= len,
                    "{name}: {} span {start}..{end} of {len} chars",
                    f.rule
                );
            }
        }
    }
}

#[test]
fn every_rule_is_documented() {
    let doc = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/template-rules.md"),
    )
    .unwrap();
    for r in RULES {
        assert!(
            doc.contains(&format!("`{}`", r.id)),
            "docs/template-rules.md lacks `{}`",
            r.id
        );
    }
}

#[test]
fn rule_ids_are_unique_and_stable_shaped() {
    let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), RULES.len());
    for id in ids {
        assert!(
            id.split('.').count() == 2
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'),
            "{id}"
        );
    }
}

fn utility(body: &str, example: Value) -> Value {
    json!({"name": "t", "language": "pt_BR", "category": "UTILITY",
           "components": [{"type": "BODY", "text": body, "example": {"body_text": [example]}}]})
}

fn spans_of(findings: &[Finding], rule: &str) -> Vec<(usize, usize)> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .filter_map(|f| f.span)
        .collect()
}

#[test]
fn spans_count_characters_not_bytes() {
    let ctx = LintContext::new();
    // "Olá 👋🏽 " is 7 chars and 14 bytes: the variable starts at char 7.
    let body = "Olá 👋🏽 {{1}}{{2}}, seu pedido chegou!!!";
    let findings = lint_value(utility(body, json!(["Ana", "4471"])), &ctx).unwrap();
    assert_eq!(spans_of(&findings, "variable.adjacent"), vec![(7, 17)]);
    let chars: Vec<char> = body.chars().collect();
    let (s, e) = spans_of(&findings, "content.punctuation")[0];
    assert_eq!(chars[s..e].iter().collect::<String>(), "!!!");
    // A body of 1025 multi-byte characters is over the limit by one character, not by bytes.
    let long = format!("Olá {{{{1}}}}, {}.", "ç".repeat(1013));
    assert_eq!(long.chars().count(), 1025);
    let findings = lint_value(utility(&long, json!(["Ana"])), &ctx).unwrap();
    assert_eq!(spans_of(&findings, "body.length"), vec![(1024, 1025)]);
    // Header length over CJK text.
    let header = json!({"name": "t", "language": "zh_CN", "category": "MARKETING", "components": [
        {"type": "HEADER", "format": "TEXT", "text": "订单".repeat(31)},
        {"type": "BODY", "text": "您好，感谢您的订单，我们会尽快发货。"}]});
    let findings = lint_value(header, &ctx).unwrap();
    assert_eq!(spans_of(&findings, "header.length"), vec![(60, 62)]);
}

#[test]
fn leading_and_trailing_variables_ignore_whitespace() {
    let ctx = LintContext::new();
    let findings = lint_value(
        utility(
            "  {{1}} chegou, obrigado por comprar com {{2}}\n",
            json!(["Ana", "Loja"]),
        ),
        &ctx,
    )
    .unwrap();
    assert_eq!(
        spans_of(&findings, "body.variable_at_edge"),
        vec![(2, 7), (41, 46)]
    );
    // A body that is one variable is one finding, not two.
    let findings = lint_value(utility("{{1}}", json!(["Ana"])), &ctx).unwrap();
    assert_eq!(spans_of(&findings, "body.variable_at_edge"), vec![(0, 5)]);
}

#[test]
fn odd_input_is_a_finding_or_a_parse_error_never_a_panic() {
    let ctx = LintContext::new();
    for raw in [
        "",
        "{",
        "[]",
        "null",
        "42",
        "\"x\"",
        "{\"components\": {}}",
        "{\"name\": 5}",
    ] {
        let r = lint_json(raw, &ctx);
        assert!(r.is_err(), "{raw:?} should not parse: {r:?}");
    }
    assert!(matches!(lint_json("{", &ctx), Err(ParseError::Syntax(_))));
    assert!(matches!(lint_json("[]", &ctx), Err(ParseError::Shape(_))));
    let weird = [
        json!({}),
        json!({"components": []}),
        json!({"components": [{}]}),
        json!({"components": [{"type": null, "text": null}]}),
        json!({"category": "AUTHENTICATION", "components": [{"type": "BUTTONS"}, {"type": "FOOTER", "code_expiration_minutes": -5}]}),
        json!({"category": "AUTHENTICATION", "components": [{"type": "BUTTONS", "buttons": [{}, {"type": "OTP", "otp_type": "ZERO_TAP", "supported_apps": [{}]}]}]}),
        json!({"category": "utility", "language": {"code": 7}, "components": [{"type": "body", "text": "{{0}} {{99999999999}} {{}} {{{ }}} }}{{ {", "example": {"body_text": "x"}}]}),
        json!({"components": [{"type": "BODY", "text": "{{1}}", "example": {"body_text": [[null, {"a": 1}]], "body_text_named_params": [1, {"param_name": 2}]}}]}),
        json!({"components": [{"type": "HEADER", "format": "TEXT", "text": "*_~```"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "{{1}}{{2}}"}, {"type": "PHONE_NUMBER", "phone_number": "+"}, {"type": "COPY_CODE", "example": []}]}]}),
        json!({"name": "", "language": "", "category": "", "parameter_format": "", "message_send_ttl_seconds": i64::MIN, "components": [{"type": "CAROUSEL", "cards": []}]}),
        json!({"category": "MARKETING", "message_send_ttl_seconds": i64::MAX, "components": [{"type": "BODY", "text": "\u{200d}\u{fe0f}🏽🇧"}]}),
    ];
    for v in weird {
        let report = LintReport::new(&serde_json::from_value(v.clone()).unwrap(), &ctx);
        assert!(report.errors > 0, "{v}: {report:?}");
    }
}

#[test]
fn every_prefix_of_every_corpus_file_is_safe() {
    // Truncated and mangled drafts (an editor posts on every keystroke) must never panic.
    let ctx = context();
    for (_, path) in corpus().into_iter().take(40) {
        let raw = fs::read_to_string(&path).unwrap();
        let cuts: Vec<usize> = raw.char_indices().map(|(i, _)| i).step_by(7).collect();
        for cut in cuts {
            let _ = lint_json(&raw[..cut], &ctx);
        }
        // Every string value replaced by tricky text.
        let mut v: Value = serde_json::from_str(&raw).unwrap();
        mangle(&mut v);
        let _ = lint_value(v, &ctx);
    }
}

fn mangle(v: &mut Value) {
    match v {
        Value::String(s) => *s = format!("{{{{{s}}} 🇧🇷\u{200d} }}{{ {{{{#}}}}"),
        Value::Array(a) => a.iter_mut().for_each(mangle),
        Value::Object(o) => o.values_mut().for_each(mangle),
        _ => {}
    }
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let raw = json!({"name": "x", "language": "en", "category": "UTILITY", "sub_category": "ORDER_DETAILS",
        "components": [{"type": "BODY", "text": "Hi", "future_field": [1, 2]},
                       {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Open", "flow_id": "123"}]}]});
    let t: Template = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&t).unwrap(), raw);
}

#[test]
fn duplicate_rule_skips_the_template_itself_and_authentication() {
    let existing = ExistingTemplate {
        name: "order_update".into(),
        language: "en_US".into(),
        body: "Hi {{1}}, your order {{2}} is on its way.".into(),
        footer: None,
    };
    let ctx = LintContext::with_existing([existing]);
    let mk = |name: &str, category: &str| {
        json!({"name": name, "language": "en_US", "category": category, "components": [
            {"type": "BODY", "text": "Hi {{1}},  your ORDER {{2}} is on its way.", "example": {"body_text": [["Ana", "4471"]]}}]})
    };
    let rules = |v: Value| -> Vec<&'static str> {
        lint_value(v, &ctx)
            .unwrap()
            .iter()
            .map(|f| f.rule)
            .collect()
    };
    assert!(rules(mk("order_update_v2", "UTILITY")).contains(&"duplicate.body_footer"));
    assert!(!rules(mk("order_update", "UTILITY")).contains(&"duplicate.body_footer"));
    assert!(!rules(mk("order_update_v2", "AUTHENTICATION")).contains(&"duplicate.body_footer"));
}

#[test]
fn report_counts_and_submittable() {
    let ctx = LintContext::new();
    let t: Template =
        serde_json::from_value(utility("Olá {{1}}, seu pedido chegou!!!", json!(["Ana"]))).unwrap();
    let report = LintReport::new(&t, &ctx);
    assert_eq!(report.errors, 0);
    assert!(report.warnings >= 1 && report.submittable);
    assert!(report
        .findings
        .iter()
        .all(|f| f.severity == Severity::Warning));
}
