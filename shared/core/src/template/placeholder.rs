//! Finding `{{1}}` / `{{first_name}}` placeholders in a text, and the broken ones Meta rejects
//! (§6.4: missing or mismatched braces, `#$%` inside, whitespace).
//!
//! A broken placeholder is still classified when its intent is clear (`{{ 1 }}` is variable 1,
//! `{{#1}}` too), so one typo is one finding and not also a numbering and an example finding.

/// What a placeholder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Positional(u32),
    Named(String),
    /// Nothing usable inside (`{{}}`, `{{#}}`).
    Unusable,
}

#[derive(Debug, Clone)]
pub(crate) struct Placeholder {
    /// Char offsets of the whole `{{…}}`, end-exclusive.
    pub start: usize,
    pub end: usize,
    pub key: Key,
    /// Whitespace around or inside the name.
    pub whitespace: bool,
    /// Characters other than letters, digits and underscores (after whitespace).
    pub special: bool,
}

/// Braces that do not form a placeholder: `{{1}`, `{1}}`, `{{{1}}}`, a lone `{{` or `}}`.
#[derive(Debug, Clone)]
pub(crate) struct Malformed {
    pub start: usize,
    pub end: usize,
    /// The intended placeholder, when it can be told (`{{1}` → `{{1}}`).
    pub fix: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub placeholders: Vec<Placeholder>,
    pub malformed: Vec<Malformed>,
}

/// Longest placeholder body considered; past it, `{{` is an unclosed brace, not a variable.
const MAX_INNER: usize = 64;

fn run_of(chars: &[char], from: usize, c: char) -> usize {
    chars[from..].iter().take_while(|&&x| x == c).count()
}

/// The inner text up to the next brace or line break, bounded by `MAX_INNER`.
fn inner_end(chars: &[char], from: usize) -> usize {
    let mut k = from;
    while k < chars.len() && k - from <= MAX_INNER && !matches!(chars[k], '{' | '}' | '\n') {
        k += 1;
    }
    k
}

fn looks_like_name(inner: &str) -> bool {
    let t = inner.trim();
    !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')
}

pub(crate) fn scan(chars: &[char]) -> Scan {
    let mut out = Scan::default();
    let n = chars.len();
    let mut i = 0;
    while i < n {
        match chars[i] {
            '{' => {
                let run = run_of(chars, i, '{');
                let k = inner_end(chars, i + run);
                let inner: String = chars[i + run..k].iter().collect();
                let closing = if k < n { run_of(chars, k, '}') } else { 0 };
                if run == 2 && closing == 2 {
                    out.placeholders.push(classify(i, k + 2, &inner));
                    i = k + 2;
                } else if run == 1 && closing == 0 {
                    // A lone brace in prose ("{" in a code sample): not a variable attempt.
                    i += 1;
                } else if run == 1 && (!looks_like_name(&inner) || inner.trim() != inner) {
                    // `{ or }` is prose; `{1}` / `{name}}` is a variable with a brace missing.
                    i += 1;
                } else {
                    let end = if closing > 0 { k + closing } else { i + run };
                    let fix = looks_like_name(&inner).then(|| format!("{{{{{}}}}}", inner.trim()));
                    out.malformed.push(Malformed { start: i, end, fix });
                    i = end;
                }
            }
            '}' => {
                let run = run_of(chars, i, '}');
                if run >= 2 {
                    // Closing braces with no opening: `1}}`; take the name before them into
                    // the span so the caret shows what was meant.
                    let mut s = i;
                    while s > 0 && (chars[s - 1].is_alphanumeric() || chars[s - 1] == '_') {
                        s -= 1;
                    }
                    let name: String = chars[s..i].iter().collect();
                    let fix = (!name.is_empty()).then(|| format!("{{{{{name}}}}}"));
                    out.malformed.push(Malformed {
                        start: s,
                        end: i + run,
                        fix,
                    });
                }
                i += run;
            }
            _ => i += 1,
        }
    }
    out
}

fn classify(start: usize, end: usize, inner: &str) -> Placeholder {
    let whitespace = inner.chars().any(char::is_whitespace);
    let compact: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let special = compact.chars().any(|c| !(c.is_alphanumeric() || c == '_'));
    let cleaned: String = compact
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let key = if cleaned.is_empty() {
        Key::Unusable
    } else if cleaned.chars().all(|c| c.is_ascii_digit()) {
        // Absurd numbers saturate; the sequence rule reports them.
        Key::Positional(cleaned.parse().unwrap_or(u32::MAX))
    } else {
        Key::Named(cleaned)
    };
    Placeholder {
        start,
        end,
        key,
        whitespace,
        special,
    }
}

/// Named placeholders: lowercase ASCII letters and underscores (§6.4).
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// `firstName` / `First-Name` / `first name` → `first_name`, the closest valid name. Digits have
/// no valid spelling, so they are dropped and the message says so.
pub(crate) fn suggest_name(raw: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in raw.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_lowercase() {
            out.push(c);
            prev_lower = true;
        } else if !out.is_empty() && !out.ends_with('_') && !c.is_ascii_digit() {
            out.push('_');
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_').to_string();
    if trimmed.is_empty() {
        "value".into()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(s: &str) -> Scan {
        scan(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn finds_positional_and_named() {
        let s = scan_str("Hi {{1}}, order {{order_id}} ok");
        assert_eq!(s.placeholders.len(), 2);
        assert_eq!(s.placeholders[0].key, Key::Positional(1));
        assert_eq!((s.placeholders[0].start, s.placeholders[0].end), (3, 8));
        assert_eq!(s.placeholders[1].key, Key::Named("order_id".into()));
        assert!(s.malformed.is_empty());
    }

    #[test]
    fn broken_braces() {
        let s = scan_str("a {{1} b {2}} c {{{3}}} d 5}} e {{6 f");
        let spans: Vec<_> = s.malformed.iter().map(|m| (m.start, m.end)).collect();
        assert_eq!(spans, vec![(2, 6), (9, 13), (16, 23), (26, 29), (32, 34)]);
        let fixes: Vec<_> = s.malformed.iter().map(|m| m.fix.as_deref()).collect();
        assert_eq!(
            fixes,
            vec![
                Some("{{1}}"),
                Some("{{2}}"),
                Some("{{3}}"),
                Some("{{5}}"),
                None
            ]
        );
        assert!(s.placeholders.is_empty());
    }

    #[test]
    fn whitespace_and_special() {
        let s = scan_str("{{ 1 }} {{#2}} {{$amount}} {{}}");
        let p = &s.placeholders;
        assert!(p[0].whitespace && !p[0].special && p[0].key == Key::Positional(1));
        assert!(p[1].special && p[1].key == Key::Positional(2));
        assert!(p[2].special && p[2].key == Key::Named("amount".into()));
        assert_eq!(p[3].key, Key::Unusable);
    }

    #[test]
    fn lone_braces_in_prose_are_ignored() {
        let s = scan_str("use {curly} style { or }");
        assert!(s.placeholders.is_empty());
        // `{curly}` looks like a one-brace variable attempt.
        assert_eq!(s.malformed.len(), 1);
    }

    #[test]
    fn suggests_snake_case() {
        assert_eq!(suggest_name("firstName"), "first_name");
        assert_eq!(suggest_name("First-Name"), "first_name");
        assert_eq!(suggest_name("address2"), "address");
        assert_eq!(suggest_name("9"), "value");
    }
}
