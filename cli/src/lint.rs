//! `switchboard lint FILE...`: check message templates against Meta's rules before submitting
//! them, with compiler-style output (or JSON for CI). Exit code 1 when any template has an
//! error-severity finding (or a warning, with `--deny-warnings`) or a file cannot be read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Value};
use switchboard_core::template::{
    from_value, lint, ExistingTemplate, Finding, LintContext, Severity, Template,
};

#[derive(Debug, Clone, clap::Args)]
pub struct LintArgs {
    /// Template files, JSON or YAML (by extension: .yaml/.yml), each one template or a list; a
    /// directory stands for its .json, .yaml and .yml files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// `human`: compiler-style diagnostics; `json`: one array of results, for CI.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// The WABA's existing templates (same file formats, e.g. a saved
    /// `GET /{WABA_ID}/message_templates` `data` array), for the duplicate rule.
    #[arg(long, value_name = "FILE")]
    pub existing: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// One template of one file, linted (or the reason it could not be).
struct Outcome {
    file: String,
    /// Position in the file when the file holds a list.
    index: Option<usize>,
    template: Option<Template>,
    findings: Vec<Finding>,
    error: Option<String>,
}

impl Outcome {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    fn name(&self) -> Option<&str> {
        self.template.as_ref()?.name.as_deref()
    }

    fn location(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.file),
            None => self.file.clone(),
        }
    }
}

/// Reads a file as JSON or YAML into JSON values: one per template.
fn read_templates(path: &Path) -> anyhow::Result<Vec<(Option<usize>, Value)>> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let value: Value = if ext == "yaml" || ext == "yml" {
        serde_yaml_ng::from_str(&raw)
            .with_context(|| format!("{}: invalid YAML", path.display()))?
    } else {
        serde_json::from_str(&raw).with_context(|| format!("{}: invalid JSON", path.display()))?
    };
    Ok(match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Some(i), v))
            .collect(),
        other => vec![(None, other)],
    })
}

fn context(files: &[PathBuf]) -> anyhow::Result<LintContext> {
    let mut ctx = LintContext::new();
    for path in files {
        for (_, value) in read_templates(path)? {
            // A listing answer keeps its templates under "data".
            let items = match value {
                Value::Object(mut o) if o.get("data").is_some_and(Value::is_array) => {
                    match o.remove("data") {
                        Some(Value::Array(a)) => a,
                        _ => Vec::new(),
                    }
                }
                other => vec![other],
            };
            for item in items {
                if let Some(existing) = from_value(item)
                    .ok()
                    .as_ref()
                    .and_then(ExistingTemplate::from_template)
                {
                    ctx.add_existing(existing);
                }
            }
        }
    }
    Ok(ctx)
}

/// The files to lint: the arguments, with each directory replaced by its template files (sorted,
/// not recursive).
fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| Some(e.ok()?.path()))
                    .filter(|p| {
                        p.is_file()
                            && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                                matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml")
                            })
                    })
                    .collect();
                files.sort();
                out.extend(files);
            }
            // Not a directory (or unreadable): reading it reports the problem.
            Err(_) => out.push(path.clone()),
        }
    }
    out
}

fn lint_files(args: &LintArgs, ctx: &LintContext) -> Vec<Outcome> {
    let mut out = Vec::new();
    for path in &expand(&args.files) {
        let file = path.display().to_string();
        match read_templates(path) {
            Err(e) => out.push(Outcome {
                file,
                index: None,
                template: None,
                findings: Vec::new(),
                error: Some(format!("{e:#}")),
            }),
            Ok(values) => {
                for (index, value) in values {
                    match from_value(value) {
                        Ok(t) => {
                            let findings = lint(&t, ctx);
                            out.push(Outcome {
                                file: file.clone(),
                                index,
                                template: Some(t),
                                findings,
                                error: None,
                            });
                        }
                        Err(e) => out.push(Outcome {
                            file: file.clone(),
                            index,
                            template: None,
                            findings: Vec::new(),
                            error: Some(e.to_string()),
                        }),
                    }
                }
            }
        }
    }
    out
}

/// Runs the command; returns whether it failed.
pub fn run(args: LintArgs) -> anyhow::Result<bool> {
    let ctx = context(&args.existing)?;
    let outcomes = lint_files(&args, &ctx);
    let errors: usize = outcomes.iter().map(|o| o.count(Severity::Error)).sum();
    let warnings: usize = outcomes.iter().map(|o| o.count(Severity::Warning)).sum();
    let unreadable = outcomes.iter().filter(|o| o.error.is_some()).count();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json_report(&outcomes))?),
        Format::Human => {
            for o in &outcomes {
                print!("{}", render(o));
            }
            println!("{}", summary(outcomes.len(), errors, warnings, unreadable));
        }
    }
    Ok(errors > 0 || unreadable > 0 || (args.deny_warnings && warnings > 0))
}

fn json_report(outcomes: &[Outcome]) -> Value {
    Value::Array(
        outcomes
            .iter()
            .map(|o| {
                let mut v = json!({
                    "file": o.file,
                    "index": o.index,
                    "template": o.name(),
                    "errors": o.count(Severity::Error),
                    "warnings": o.count(Severity::Warning),
                    "findings": o.findings,
                });
                if let Some(e) = &o.error {
                    v["error"] = json!(e);
                }
                v
            })
            .collect(),
    )
}

fn summary(templates: usize, errors: usize, warnings: usize, unreadable: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut s = format!(
        "{}: {}, {}",
        plural(templates, "template"),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if unreadable > 0 {
        let _ = write!(s, ", {} unreadable", unreadable);
    }
    s
}

/// Compiler-style diagnostics for one template.
fn render(o: &Outcome) -> String {
    let mut s = String::new();
    if let Some(e) = &o.error {
        let _ = writeln!(s, "error: {}: {e}\n", o.location());
        return s;
    }
    let Some(t) = &o.template else { return s };
    for f in &o.findings {
        let _ = writeln!(s, "{}[{}]: {}", f.severity.as_str(), f.rule, f.message);
        let component = f.component.as_deref().unwrap_or("template");
        let name = shorten(o.name().unwrap_or("unnamed"));
        let text = f.component.as_deref().and_then(|c| t.text_at(c));
        match (f.span, text) {
            (Some(span), Some(text)) => {
                let snippet = Snippet::new(text, span);
                let _ = writeln!(
                    s,
                    "  --> {} ({name}) {component}:{}:{}",
                    o.location(),
                    snippet.line,
                    snippet.column
                );
                let gutter = " ".repeat(snippet.line.to_string().len());
                let _ = writeln!(s, " {gutter} |");
                let _ = writeln!(s, " {} | {}", snippet.line, snippet.text);
                let _ = writeln!(
                    s,
                    " {gutter} | {}{}",
                    " ".repeat(snippet.pad),
                    "^".repeat(snippet.carets)
                );
            }
            _ => {
                let _ = writeln!(s, "  --> {} ({name}) {component}", o.location());
            }
        }
        if let Some(help) = &f.suggestion {
            let _ = writeln!(s, "   = help: {help}");
        }
        s.push('\n');
    }
    s
}

/// The line of a component's text that a span starts on, cut to a readable window, and where the
/// carets go (in terminal columns: emoji and CJK take two, combining marks none).
struct Snippet {
    line: usize,
    column: usize,
    text: String,
    pad: usize,
    carets: usize,
}

/// Characters shown around a span on a long line.
const CONTEXT: usize = 40;

impl Snippet {
    fn new(text: &str, (start, end): (usize, usize)) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let start = start.min(chars.len());
        let end = end.clamp(start, chars.len());
        let line_start = chars[..start]
            .iter()
            .rposition(|&c| c == '\n')
            .map_or(0, |i| i + 1);
        let line_end = chars[start..]
            .iter()
            .position(|&c| c == '\n')
            .map_or(chars.len(), |i| start + i);
        let line = chars[..start].iter().filter(|&&c| c == '\n').count() + 1;
        let column = start - line_start + 1;
        let span_end = end.min(line_end).max(start);
        let from = if start - line_start > CONTEXT {
            start - CONTEXT
        } else {
            line_start
        };
        let to = (span_end + CONTEXT).min(line_end);
        let mut shown = String::new();
        if from > line_start {
            shown.push('…');
        }
        let before: String = chars[from..start].iter().collect();
        let marked: String = chars[start..span_end].iter().collect();
        shown.push_str(&before);
        shown.push_str(&chars[start..to].iter().collect::<String>());
        if to < line_end {
            shown.push('…');
        }
        let pad = usize::from(from > line_start) + width(&before);
        Self {
            line,
            column,
            text: shown.replace('\t', " "),
            pad,
            carets: width(&marked).max(1),
        }
    }
}

/// A template name as the location line shows it.
fn shorten(name: &str) -> String {
    if name.chars().count() <= CONTEXT {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(CONTEXT).collect::<String>())
    }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    match c as u32 {
        0x0300..=0x036F
        | 0x0900..=0x0903
        | 0x093A..=0x094F
        | 0x0962..=0x0963
        | 0x200B..=0x200F
        | 0xFE00..=0xFE0F
        | 0x1F3FB..=0x1F3FF
        | 0x20E3 => 0,
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x1F680..=0x1F6FF
        | 0x1FA70..=0x1FAFF
        | 0x2600..=0x27BF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_the_span_on_its_line() {
        let s = Snippet::new("first line\nHi {{1}}{{2}} there", (14, 24));
        assert_eq!((s.line, s.column), (2, 4));
        assert_eq!(s.text, "Hi {{1}}{{2}} there");
        assert_eq!((s.pad, s.carets), (3, 10));
    }

    #[test]
    fn snippet_counts_wide_characters() {
        let s = Snippet::new("Olá 👋 {{1}}", (6, 11));
        assert_eq!((s.pad, s.carets), (7, 5));
    }

    #[test]
    fn snippet_windows_long_lines() {
        let text = format!("{}ERR{}", "a".repeat(100), "b".repeat(100));
        let s = Snippet::new(&text, (100, 103));
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.text.chars().nth(s.pad).unwrap(), 'E');
        assert_eq!(s.carets, 3);
    }
}
