//! One pass over a component's text that every rule shares: characters (spans are in chars),
//! placeholders, and the words outside them, lowercased and accent-folded for the word lists.

use std::ops::Range;

use super::placeholder::{self, Malformed, Placeholder};

#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// Char offsets in the original text, end-exclusive.
    pub start: usize,
    pub end: usize,
    /// Byte range of the normalised form in [`Analysed::norm`].
    pub norm: Range<usize>,
    /// Sentence number: rules that relate two words (a request and an identifier) stay inside one.
    pub sentence: u32,
    /// At least one letter and every letter uppercase.
    pub all_caps: bool,
    pub letters: usize,
    /// A run of letters/digits (a word), as opposed to a `%` sign.
    pub word: bool,
}

#[derive(Debug)]
pub(crate) struct Analysed {
    pub chars: Vec<char>,
    pub placeholders: Vec<Placeholder>,
    pub malformed: Vec<Malformed>,
    /// Sentence number of each placeholder.
    pub placeholder_sentence: Vec<u32>,
    pub tokens: Vec<Token>,
    norm: String,
}

fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '\n' | ';' | '¡' | '¿' | '。' | '！' | '？'
    )
}

/// Folds the accents the supported languages use, so "promoção" matches "promocao".
pub(crate) fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

impl Analysed {
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let scan = placeholder::scan(&chars);
        // Ranges the word scan skips: placeholder names are not words of the message.
        let mut skips: Vec<(usize, usize)> = scan
            .placeholders
            .iter()
            .map(|p| (p.start, p.end))
            .chain(scan.malformed.iter().map(|m| (m.start, m.end)))
            .collect();
        skips.sort_unstable();
        let mut placeholder_sentence = Vec::with_capacity(scan.placeholders.len());
        let mut tokens = Vec::new();
        let mut norm = String::with_capacity(text.len());
        let mut sentence = 0u32;
        let mut skip = skips.iter().peekable();
        let mut ph = scan.placeholders.iter().peekable();
        let mut current: Option<Token> = None;
        let mut i = 0;
        while i < chars.len() {
            if let Some(&&(s, e)) = skip.peek() {
                if s == i {
                    if let Some(t) = current.take() {
                        tokens.push(t);
                    }
                    if ph.peek().is_some_and(|p| p.start == i) {
                        ph.next();
                        placeholder_sentence.push(sentence);
                    }
                    skip.next();
                    i = e.max(i + 1);
                    continue;
                }
            }
            let c = chars[i];
            if c.is_alphanumeric() {
                let t = current.get_or_insert(Token {
                    start: i,
                    end: i,
                    norm: norm.len()..norm.len(),
                    sentence,
                    all_caps: true,
                    letters: 0,
                    word: true,
                });
                t.end = i + 1;
                if c.is_alphabetic() {
                    t.letters += 1;
                    t.all_caps &= c.is_uppercase();
                }
                for l in c.to_lowercase() {
                    norm.push(fold(l));
                }
                t.norm.end = norm.len();
            } else {
                if let Some(t) = current.take() {
                    tokens.push(t);
                }
                if c == '%' {
                    // "20% off": the sign is a word of the promotional phrases.
                    let start = norm.len();
                    norm.push('%');
                    tokens.push(Token {
                        start: i,
                        end: i + 1,
                        norm: start..norm.len(),
                        sentence,
                        all_caps: false,
                        letters: 0,
                        word: false,
                    });
                } else if ends_sentence(c) {
                    sentence += 1;
                }
            }
            i += 1;
        }
        if let Some(t) = current.take() {
            tokens.push(t);
        }
        for t in &mut tokens {
            t.all_caps &= t.letters > 0;
        }
        Self {
            chars,
            placeholders: scan.placeholders,
            malformed: scan.malformed,
            placeholder_sentence,
            tokens,
            norm,
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn norm(&self, t: &Token) -> &str {
        &self.norm[t.norm.clone()]
    }

    pub fn slice(&self, start: usize, end: usize) -> String {
        self.chars[start.min(self.len())..end.min(self.len())]
            .iter()
            .collect()
    }

    /// Words of the message (placeholders and `%` signs excluded).
    pub fn word_count(&self) -> usize {
        self.tokens.iter().filter(|t| t.word).count()
    }

    /// Char span of the first and last non-whitespace characters.
    pub fn trimmed_bounds(&self) -> Option<(usize, usize)> {
        let first = self.chars.iter().position(|c| !c.is_whitespace())?;
        let last = self.chars.iter().rposition(|c| !c.is_whitespace())?;
        Some((first, last + 1))
    }
}

/// Emoji and pictographs. Narrower than "any symbol": arrows, `©`, `™` and box drawing are
/// ordinary typography in a template, not emoji.
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1F3FA | 0x1F400..=0x1FAFF | 0x2600..=0x27BF
        | 0x2B50 | 0x2B55 | 0x2B1B | 0x2B1C | 0x231A | 0x231B | 0x23E9..=0x23FA
        | 0x2934 | 0x2935 | 0x3030 | 0x303D | 0x3297 | 0x3299)
}

/// Emoji as people see them: a ZWJ sequence (👩‍💻), a flag (two regional indicators) or an emoji
/// with a skin-tone modifier counts once. Returns the char span of each.
pub(crate) fn emoji_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !is_emoji(c) {
            i += 1;
            continue;
        }
        let start = i;
        let regional = (0x1F1E6..=0x1F1FF).contains(&(c as u32));
        i += 1;
        if regional && i < chars.len() && (0x1F1E6..=0x1F1FF).contains(&(chars[i] as u32)) {
            i += 1;
        }
        // Modifiers, variation selectors, keycaps, and ZWJ-joined parts belong to this emoji.
        loop {
            match chars.get(i).map(|&c| c as u32) {
                Some(0x1F3FB..=0x1F3FF | 0xFE0E | 0xFE0F | 0x20E3) => i += 1,
                Some(0x200D) if chars.get(i + 1).is_some_and(|&n| is_emoji(n)) => i += 2,
                _ => break,
            }
        }
        out.push((start, i));
    }
    out
}

/// Whitespace-separated chunks that look like a URL or a bare domain, with their char spans and
/// their lowercased host (no scheme, no `www.`, no path).
pub(crate) fn urls(chars: &[char]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        // Trailing punctuation belongs to the sentence, not the URL.
        let mut end = i;
        while end > start && matches!(chars[end - 1], '.' | ',' | '!' | '?' | ')' | ';' | ':') {
            end -= 1;
        }
        // Leading punctuation too: "(bit.ly/x)".
        let mut s = start;
        while s < end && matches!(chars[s], '(' | '"' | '\'' | '[' | '<') {
            s += 1;
        }
        // Every URL or domain has a dot; most words do not, and skip the allocation.
        if !chars[s..end].contains(&'.') {
            continue;
        }
        let chunk: String = chars[s..end].iter().collect::<String>().to_lowercase();
        if let Some(host) = url_host(&chunk) {
            out.push((s, end, host));
        }
    }
    out
}

/// Common top-level domains, for telling `example.com/x` (a URL) from `4.5` or `e.g.` (not).
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "co", "app", "link", "ly", "gl", "gd", "at", "me", "info", "biz",
    "br", "id", "es", "mx", "ar", "cl", "pe", "in", "uk", "us", "de", "fr", "it", "pt", "my", "sg",
    "ph", "shop", "store", "online", "site", "xyz", "to", "cc", "be", "lk", "su", "tv", "ws",
];

fn url_host(chunk: &str) -> Option<String> {
    let (rest, explicit) = if let Some(r) = chunk.strip_prefix("https://") {
        (r, true)
    } else if let Some(r) = chunk.strip_prefix("http://") {
        (r, true)
    } else {
        (chunk, false)
    };
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    if !host.contains('.') || host.starts_with('.') || host.ends_with('.') {
        return None;
    }
    let valid = host
        .chars()
        .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let tld = host.rsplit('.').next().unwrap_or_default();
    if valid && (explicit || chunk.starts_with("www.") || TLDS.contains(&tld)) {
        Some(host.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_skip_placeholders_and_fold() {
        let a = Analysed::new("¡PROMOÇÃO {{first_name}}! 20% off.");
        let words: Vec<_> = a.tokens.iter().map(|t| a.norm(t)).collect();
        assert_eq!(words, vec!["promocao", "20", "%", "off"]);
        assert!(a.tokens[0].all_caps);
        assert_eq!((a.tokens[0].start, a.tokens[0].end), (1, 9));
        assert_eq!(a.placeholders.len(), 1);
        assert_eq!(a.word_count(), 3);
        // "¡" opens a sentence, "!" closes one.
        assert_eq!(a.tokens[0].sentence, 1);
        assert_eq!(a.placeholder_sentence, vec![1]);
        assert_eq!(a.tokens[1].sentence, 2);
    }

    #[test]
    fn emoji_grapheme_counting() {
        let chars: Vec<char> = "a 👩‍💻 🇧🇷 👍🏽 1️⃣ ✅ → ©".chars().collect();
        assert_eq!(emoji_spans(&chars).len(), 4, "{:?}", emoji_spans(&chars));
    }

    #[test]
    fn finds_urls() {
        let chars: Vec<char> =
            "Go to https://Bit.ly/x1, or www.example.com. Rated 4.5 e.g. ok (tinyurl.com/a)"
                .chars()
                .collect();
        let hosts: Vec<_> = urls(&chars).into_iter().map(|u| u.2).collect();
        assert_eq!(hosts, vec!["bit.ly", "example.com", "tinyurl.com"]);
    }
}
