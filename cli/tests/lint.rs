//! `switchboard lint` as a user and CI run it: the real binary on the core crate's template
//! corpus, checking the output formats and the exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/core/tests/templates")
        .join(name)
}

fn lint(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("lint")
        .args(args)
        .args(files)
        .env("RUST_LOG", "off")
        .output()
        .expect("run switchboard lint")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A scratch directory of its own per test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-lint-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn errors_print_like_a_compiler_and_fail() {
    let out = lint(&[], &[corpus("bad_body_variable_at_edge_start.json")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let expected = [
        "error[body.variable_at_edge]: the body starts with a variable",
        "(order_packed) BODY:1:1",
        " 1 | {{1}}, your order {{2}} has been packed",
        "   | ^^^^^\n",
        "   = help: start with words, e.g. “Hi {{1}}, …”",
        "1 template: 1 error, 0 warnings",
    ];
    for e in expected {
        assert!(text.contains(e), "missing {e:?} in:\n{text}");
    }
}

#[test]
fn carets_sit_under_the_span_after_wide_characters() {
    let out = lint(&[], &[corpus("multibyte_spans_pt.json")]);
    let text = stdout(&out);
    // "Olá 👋🏽 " is 7 terminal columns (the emoji is 2 wide, its skin tone 0).
    assert!(
        text.contains(" 1 | Olá 👋🏽 {{1}}{{2}}, seu pedido chegou!!!\n   |        ^^^^^^^^^^\n"),
        "{text}"
    );
}

#[test]
fn clean_templates_pass() {
    let files: Vec<PathBuf> = [
        "ok_utility_order_shipped_en_us.json",
        "ok_marketing_promocao_pt_br.json",
        "ok_auth_zero_tap_es.json",
    ]
    .iter()
    .map(|f| corpus(f))
    .collect();
    let out = lint(&[], &files);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("3 templates: 0 errors, 0 warnings"));
}

#[test]
fn warnings_pass_unless_denied() {
    let file = [corpus("warn_punctuation.json")];
    let out = lint(&[], &file);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("warning[content.punctuation]"));
    assert_eq!(lint(&["--deny-warnings"], &file).status.code(), Some(1));
}

#[test]
fn json_format_for_ci() {
    let files = [
        corpus("bad_variable_adjacent.json"),
        corpus("ok_utility_named_es.json"),
    ];
    let out = lint(&["--format", "json"], &files);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = report.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("bad_variable_adjacent.json"));
    assert_eq!(items[0]["template"], "order_packed");
    assert_eq!(items[0]["errors"], 1);
    let finding = &items[0]["findings"][0];
    assert_eq!(finding["rule"], "variable.adjacent");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["component"], "BODY");
    assert_eq!(finding["span"], serde_json::json!([21, 31]));
    assert!(finding["suggestion"]
        .as_str()
        .unwrap()
        .contains("{{1}}, {{2}}"));
    assert_eq!(items[1]["template"], "pedido_en_camino");
    assert_eq!(items[1]["findings"], serde_json::json!([]));
}

#[test]
fn yaml_files_with_several_templates() {
    let dir = scratch("yaml");
    let file = dir.join("templates.yaml");
    std::fs::write(
        &file,
        r#"
- name: order_shipped
  language: en_US
  category: UTILITY
  components:
    - type: BODY
      text: "Hi {{1}}, your order {{2}} is on its way and arrives on {{3}}."
      example:
        body_text: [["Ana", "4471", "Friday"]]
- name: Flash Sale
  language: en_US
  category: UTILITY
  components:
    - type: BODY
      text: "{{1}}, FLASH sale today only!!!"
      example:
        body_text: [["Ana"]]
"#,
    )
    .unwrap();
    let out = lint(&["--format", "json"], &[file]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["index"], 0);
    assert_eq!(report[0]["findings"], serde_json::json!([]));
    assert_eq!(report[1]["index"], 1);
    let rules: Vec<&str> = report[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "name.format",
        "body.variable_at_edge",
        "content.shouting",
        "content.promotional",
        "content.punctuation",
    ] {
        assert!(rules.contains(&rule), "{rule} not in {rules:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn existing_templates_enable_the_duplicate_rule() {
    let file = [corpus("bad_duplicate_body_footer.json")];
    let without = lint(&[], &file);
    assert_eq!(without.status.code(), Some(0), "{}", stdout(&without));
    let existing = corpus("existing/waba_templates.json");
    let with = lint(&["--existing", existing.to_str().unwrap()], &file);
    assert_eq!(with.status.code(), Some(1));
    assert!(
        stdout(&with).contains("error[duplicate.body_footer]"),
        "{}",
        stdout(&with)
    );
}

#[test]
fn unreadable_files_fail_without_stopping_the_run() {
    let dir = scratch("broken");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"name\": ").unwrap();
    let out = lint(
        &[],
        &[
            broken,
            dir.join("missing.json"),
            corpus("ok_auth_copy_code_id.json"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("broken.json: invalid JSON"), "{text}");
    assert!(text.contains("missing.json"), "{text}");
    assert!(
        text.contains("3 templates: 0 errors, 0 warnings, 2 unreadable"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_directory_stands_for_its_template_files() {
    let dir = scratch("dir");
    for name in ["ok_utility_payment_id.json", "warn_emoji.json"] {
        std::fs::copy(corpus(name), dir.join(name)).unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not a template").unwrap();
    let out = lint(&["--format", "json"], std::slice::from_ref(&dir));
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["template"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["pembayaran_diterima", "party_invite"]);
    std::fs::remove_dir_all(dir).unwrap();
}
