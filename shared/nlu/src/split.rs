//! Splitting one WhatsApp message into the separate requests it contains.
//!
//! Customers write "order is late, refund not here, email wrong" as one message; routing it as one
//! intent loses two of the three problems. The splitter is deliberately simple and deterministic
//! (the same text always gives the same parts, so a decision can be replayed):
//!
//! 1. **Candidate boundaries**: line breaks; a word ending in sentence punctuation
//!    (`. ! ? ؟ । ॥ ۔ 。 ！ ？ …`) or a list separator (`, ; ، ؛`), also when glued between two
//!    letters ("late,refund"); and connector phrases, which are dropped at the boundary:
//!    "and also", "and then", "y también", "y además", "e também", "e além disso", "et aussi",
//!    "und auch", "dan juga", "serta", "aur", "और", "तथा", "وأيضا"/"و أيضا", "ve ayrıca".
//!    Plain "and"/"y"/"e" is not a connector: "cancel and refund" is one request.
//! 2. **Only request-sized parts survive**: a part is request-sized when it has at least
//!    [`MIN_REQUEST_WORDS`] words and [`MIN_REQUEST_LETTERS`] letters or digits. A shorter segment
//!    is joined to the segment after it (a leading "hi," belongs to the request it greets), or, at
//!    the end of the message, to the part before it (a trailing "thanks!").
//!    So "hi, thanks" stays one part, and so does any message without a request-sized piece.
//!
//! Parts are slices of the original text (trimmed, list separators at their edges removed), so
//! the caller classifies and shows exactly what the customer wrote. Only the first
//! [`crate::MAX_INPUT_CHARS`] characters are split; an empty or blank message gives no parts.

use crate::normalise::MAX_INPUT_CHARS;

/// Words a part needs to stand as a request on its own.
pub const MIN_REQUEST_WORDS: usize = 2;
/// Letters (or digits) a part needs: "email wrong" (10) and "طلبي متأخر" (9) pass, "bye now" (6)
/// does not. Arabic writes few vowels, hence not more.
pub const MIN_REQUEST_LETTERS: usize = 8;

/// Connector phrases, as lowercase words; longer phrases are tried first.
const CONNECTORS: &[&[&str]] = &[
    &["e", "além", "disso"],
    &["e", "alem", "disso"],
    &["and", "also"],
    &["and", "then"],
    &["y", "también"],
    &["y", "tambien"],
    &["y", "además"],
    &["y", "ademas"],
    &["e", "também"],
    &["e", "tambem"],
    &["et", "aussi"],
    &["und", "auch"],
    &["dan", "juga"],
    &["ve", "ayrıca"],
    &["و", "أيضا"],
    &["و", "ايضا"],
    &["و", "أيضاً"],
    &["وأيضا"],
    &["وايضا"],
    &["وأيضاً"],
    &["serta"],
    &["aur"],
    &["और"],
    &["तथा"],
];

/// Splits `text` into requests (see the module docs for the rules).
pub fn split_requests(text: &str) -> Vec<String> {
    let text = match text.char_indices().nth(MAX_INPUT_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let tokens = tokens(text);
    let segments = segments(text, &tokens);
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut pending: Option<(usize, usize)> = None;
    for seg in segments {
        let seg = match pending.take() {
            Some(p) => (p.0, seg.1),
            None => seg,
        };
        if is_request_sized(&text[seg.0..seg.1]) {
            parts.push(seg);
        } else {
            pending = Some(seg);
        }
    }
    if let Some(p) = pending {
        match parts.last_mut() {
            Some(last) => last.1 = p.1,
            None => parts.push(p),
        }
    }
    parts
        .into_iter()
        .map(|(s, e)| clean(&text[s..e]).to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// A whitespace-separated word, as a byte range of the text.
struct Token {
    start: usize,
    end: usize,
    newline_before: bool,
}

fn is_list_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '،' | '؛')
}

fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '؟' | '।' | '॥' | '۔' | '。' | '！' | '？' | '…'
    )
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut newline = false;
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(Token {
                    start: s,
                    end: i,
                    newline_before: newline,
                });
                newline = false;
            }
            if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                newline = true;
            }
        } else {
            let s = *start.get_or_insert(i);
            // "late,refund" / "late?refund": a separator glued between two letters ends the word.
            let glued = (is_list_separator(c) || matches!(c, '!' | '?' | '؟'))
                && prev.is_some_and(char::is_alphabetic)
                && chars.peek().is_some_and(|&(_, n)| n.is_alphabetic());
            if glued {
                out.push(Token {
                    start: s,
                    end: i + c.len_utf8(),
                    newline_before: newline,
                });
                newline = false;
                start = None;
            }
        }
        prev = Some(c);
    }
    if let Some(s) = start {
        out.push(Token {
            start: s,
            end: text.len(),
            newline_before: newline,
        });
    }
    out
}

/// Byte ranges between candidate boundaries (connectors excluded).
fn segments(text: &str, tokens: &[Token]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut seg_start: Option<usize> = None;
    let close = |out: &mut Vec<(usize, usize)>, seg_start: &mut Option<usize>, end_token: usize| {
        if let Some(s) = seg_start.take() {
            if end_token > s {
                out.push((tokens[s].start, tokens[end_token - 1].end));
            }
        }
    };
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].newline_before {
            close(&mut out, &mut seg_start, i);
        }
        if let Some(len) = connector_at(text, tokens, i) {
            if i + len < tokens.len() {
                close(&mut out, &mut seg_start, i);
                i += len;
                continue;
            }
        }
        seg_start.get_or_insert(i);
        let word = &text[tokens[i].start..tokens[i].end];
        if word
            .chars()
            .next_back()
            .is_some_and(|c| is_sentence_end(c) || is_list_separator(c))
        {
            close(&mut out, &mut seg_start, i + 1);
        }
        i += 1;
    }
    close(&mut out, &mut seg_start, tokens.len());
    out
}

/// The number of tokens of a connector phrase starting at token `i`, if one does.
fn connector_at(text: &str, tokens: &[Token], i: usize) -> Option<usize> {
    CONNECTORS.iter().find_map(|phrase| {
        let words = tokens.get(i..i + phrase.len())?;
        let matches = words
            .iter()
            .zip(phrase.iter())
            .enumerate()
            .all(|(j, (t, want))| {
                let word = &text[t.start..t.end];
                // Only the last word of a phrase may carry trailing punctuation ("and also,").
                let word = if j + 1 == phrase.len() {
                    word.trim_end_matches(|c: char| !c.is_alphanumeric())
                } else {
                    word
                };
                word.to_lowercase() == *want
            });
        matches.then_some(phrase.len())
    })
}

fn is_request_sized(part: &str) -> bool {
    let words = part
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    let letters = part.chars().filter(|c| c.is_alphanumeric()).count();
    words >= MIN_REQUEST_WORDS && letters >= MIN_REQUEST_LETTERS
}

fn clean(part: &str) -> &str {
    part.trim_matches(|c: char| c.is_whitespace() || is_list_separator(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(t: &str) -> Vec<String> {
        split_requests(t)
    }

    #[test]
    fn splits_a_list_of_complaints() {
        assert_eq!(
            split("order is late, refund not here, email wrong"),
            ["order is late", "refund not here", "email wrong"]
        );
        assert_eq!(
            split("order is late,refund not here"),
            ["order is late", "refund not here"]
        );
    }

    #[test]
    fn short_pieces_stay_with_their_neighbours() {
        assert_eq!(split("hi, thanks"), ["hi, thanks"]);
        assert_eq!(split("Hi! My order is late."), ["Hi! My order is late."]);
        assert_eq!(
            split("my order is late, thanks"),
            ["my order is late, thanks"]
        );
        assert_eq!(split("ok"), ["ok"]);
        assert_eq!(
            split("cancel and refund my order"),
            ["cancel and refund my order"]
        );
    }

    #[test]
    fn splits_on_sentences_and_lines() {
        assert_eq!(
            split("Where is my order? I also need an invoice."),
            ["Where is my order?", "I also need an invoice."]
        );
        assert_eq!(
            split("change my address\nand cancel the subscription"),
            ["change my address", "and cancel the subscription"]
        );
    }

    #[test]
    fn splits_on_connectors_in_several_languages() {
        assert_eq!(
            split("I want to cancel my order and also get a refund"),
            ["I want to cancel my order", "get a refund"]
        );
        assert_eq!(
            split("mi pedido no llegó y también quiero cambiar mi dirección"),
            ["mi pedido no llegó", "quiero cambiar mi dirección"]
        );
        assert_eq!(
            split("meu pedido atrasou e também o cartão foi cobrado duas vezes"),
            ["meu pedido atrasou", "o cartão foi cobrado duas vezes"]
        );
        assert_eq!(
            split("pesanan saya belum sampai dan juga saya mau ganti alamat"),
            ["pesanan saya belum sampai", "saya mau ganti alamat"]
        );
        assert_eq!(
            split("mera order late hai aur refund bhi nahi mila"),
            ["mera order late hai", "refund bhi nahi mila"]
        );
        assert_eq!(
            split("मेरा ऑर्डर नहीं आया और रिफंड भी नहीं मिला"),
            ["मेरा ऑर्डर नहीं आया", "रिफंड भी नहीं मिला"]
        );
        assert_eq!(
            split("طلبي متأخر، وأيضا أريد استرداد المبلغ"),
            ["طلبي متأخر", "أريد استرداد المبلغ"]
        );
    }

    #[test]
    fn a_connector_without_a_request_after_it_is_kept() {
        assert_eq!(split("refund please and also"), ["refund please and also"]);
    }

    #[test]
    fn hostile_input_never_panics() {
        assert!(split("").is_empty());
        assert!(split("  \n\n ,,, ").is_empty());
        assert_eq!(split(",,,hello there friend,,,"), ["hello there friend"]);
        let huge = "order is late, ".repeat(100_000);
        let parts = split(&huge);
        assert!(!parts.is_empty() && parts.len() <= MAX_INPUT_CHARS);
        let odd = "\u{0}\u{200D}🙂,🙂;🙂\r\n؟؟".repeat(50);
        let _ = split(&odd);
    }
}
