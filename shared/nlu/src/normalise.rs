//! Text normalisation: the one place that decides which differences between two messages matter.
//!
//! WhatsApp text is short, noisy and multilingual, so the classifier sees a canonical form:
//! - lowercase (Unicode-aware: `char::to_lowercase`, so "ÉTAT" and "État" meet);
//! - runs of three or more identical letters or symbols collapse to two ("pleeeease" → "pleease",
//!   "!!!!" is punctuation and dropped anyway, "😂😂😂😂" → two 😂 tokens): elongation is emphasis,
//!   not a new word, and keeping two still separates "pleease" from "please" a little;
//! - Latin accents fold ("reembolsó" → "reembolso"): customers type without them as often as with;
//! - Arabic: tatweel and harakat are dropped and alef/yeh/teh-marbuta variants unified, the
//!   spelling variation Arabic keyboards produce; Devanagari keeps its vowel signs and virama;
//! - every digit (ASCII, Arabic-Indic, Devanagari) becomes `0`: order numbers and times carry the
//!   shape "a long number" but their value never names an intent;
//! - apostrophes join ("don't" → "dont", the way it is often typed anyway);
//! - emoji and currency signs become tokens of their own (👍, ❤, €) because they carry intent;
//! - everything else (punctuation, controls, zero-width joiners, variation selectors, skin-tone
//!   modifiers) separates tokens.
//!
//! Input is capped at [`MAX_INPUT_CHARS`] characters so that a hostile multi-megabyte message costs
//! bounded time; WhatsApp itself caps a text message at 4,096 characters.

/// Characters of a message that normalisation looks at; the rest is ignored.
pub const MAX_INPUT_CHARS: usize = 4096;

/// What one input character contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CharClass {
    /// Part of a word: letters, digits, combining marks of Indic scripts.
    Word,
    /// A token on its own: emoji, pictographs, currency signs.
    Symbol,
    /// Dropped without breaking a word (apostrophes, tatweel, harakat, joiners).
    Ignore,
    /// Ends the current word (whitespace, punctuation, controls).
    Break,
}

/// Normalises `text` into space-separated tokens (see the module docs for the rules).
///
/// The result never starts or ends with a space and never contains two spaces in a row, so
/// `normalise(t).split(' ')` yields the tokens (or one empty string for an empty result).
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_INPUT_CHARS * 4));
    // Whether the last thing emitted was a word character (a new word needs a space first).
    let mut in_word = false;
    let mut last: Option<char> = None;
    let mut run = 0usize;
    for raw in text.chars().take(MAX_INPUT_CHARS) {
        for lower in raw.to_lowercase() {
            for c in fold(lower) {
                match classify(c) {
                    CharClass::Ignore => {}
                    CharClass::Break => {
                        in_word = false;
                        last = None;
                        run = 0;
                    }
                    class @ (CharClass::Word | CharClass::Symbol) => {
                        if Some(c) == last {
                            run += 1;
                            if run > 2 && c != '0' {
                                continue;
                            }
                        } else {
                            last = Some(c);
                            run = 1;
                        }
                        let starts_token = class == CharClass::Symbol || !in_word;
                        if starts_token && !out.is_empty() {
                            out.push(' ');
                        }
                        out.push(c);
                        in_word = class == CharClass::Word;
                    }
                }
            }
        }
    }
    out
}

/// The tokens of an already normalised string.
pub(crate) fn tokens(normalised: &str) -> impl Iterator<Item = &str> {
    normalised.split(' ').filter(|t| !t.is_empty())
}

/// Maps one lowercase character to its canonical form: zero, one or two characters.
fn fold(c: char) -> Folded {
    let one = |c| Folded([Some(c), None]);
    match c {
        // Latin accents (precomposed; decomposed input loses its combining marks in `classify`).
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => one('a'),
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => one('c'),
        'ď' | 'đ' => one('d'),
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => one('e'),
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => one('g'),
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => one('i'),
        'ł' => one('l'),
        'ñ' | 'ń' | 'ņ' | 'ň' => one('n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => one('o'),
        'ś' | 'ŝ' | 'ş' | 'š' => one('s'),
        'ţ' | 'ť' => one('t'),
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => one('u'),
        'ý' | 'ÿ' => one('y'),
        'ź' | 'ż' | 'ž' => one('z'),
        'ß' => Folded([Some('s'), Some('s')]),
        // Arabic letter variants that keyboards and writers use interchangeably.
        'أ' | 'إ' | 'آ' | 'ٱ' => one('ا'),
        'ى' | 'ی' => one('ي'),
        'ة' => one('ه'),
        'ک' => one('ك'),
        // Digits of the scripts we serve.
        '0'..='9' | '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' | '\u{0966}'..='\u{096F}' => {
            one('0')
        }
        _ => one(c),
    }
}

/// Up to two characters, without allocating.
struct Folded([Option<char>; 2]);

impl Iterator for Folded {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let c = self.0[0].take()?;
        self.0[0] = self.0[1].take();
        Some(c)
    }
}

fn classify(c: char) -> CharClass {
    let u = c as u32;
    match u {
        // Apostrophes join the two halves of "don't"/"l'adresse".
        0x27 | 0x60 | 0x2BC | 0x2019 => CharClass::Ignore,
        // Arabic tatweel, harakat and superscript alef: decoration, not spelling.
        0x640 | 0x64B..=0x65F | 0x670 => CharClass::Ignore,
        // Latin combining accents (decomposed input): folded away like precomposed ones.
        0x300..=0x36F => CharClass::Ignore,
        // Zero-width characters, joiners, direction marks, soft hyphen, BOM, variation
        // selectors, emoji skin-tone modifiers and tag characters.
        0xAD | 0x200B..=0x200F | 0x2060..=0x2064 | 0xFEFF | 0xFE00..=0xFE0F => CharClass::Ignore,
        0x1F3FB..=0x1F3FF | 0xE0000..=0xE007F => CharClass::Ignore,
        // Devanagari and the other Indic blocks: every sign is part of the word except the dandas.
        0x964 | 0x965 => CharClass::Break,
        0x900..=0xDFF => CharClass::Word,
        _ if c.is_alphanumeric() => CharClass::Word,
        _ if is_symbol(u) => CharClass::Symbol,
        _ => CharClass::Break,
    }
}

/// Emoji, pictographs and currency signs: the non-letter characters that carry meaning.
fn is_symbol(u: u32) -> bool {
    matches!(u,
        0x24 | 0xA2..=0xA5 | 0xA9 | 0xAE // $ ¢ £ ¤ ¥ © ®
        | 0x20A0..=0x20CF // currency signs (€, ₹, ₺, …)
        | 0x2122 | 0x2190..=0x21FF | 0x2300..=0x23FF | 0x25A0..=0x27BF
        | 0x2900..=0x297F | 0x2B00..=0x2BFF | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x1F000..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_collapses_elongation() {
        assert_eq!(normalise("PLEEEEASE help!!!"), "pleease help");
        assert_eq!(normalise("sooo good"), "soo good");
        assert_eq!(normalise("Cool"), "cool");
    }

    #[test]
    fn digits_become_zero_and_keep_their_length() {
        assert_eq!(normalise("order #12345"), "order 00000");
        assert_eq!(normalise("طلب ١٢٣"), "طلب 000");
    }

    #[test]
    fn emoji_are_tokens_and_modifiers_drop() {
        assert_eq!(normalise("thanks👍🏽👍"), "thanks 👍 👍");
        assert_eq!(normalise("😂😂😂😂"), "😂 😂");
        assert_eq!(normalise("I ❤️ it"), "i ❤ it");
        assert_eq!(normalise("pay €20"), "pay € 00");
    }

    #[test]
    fn accents_and_apostrophes_fold() {
        assert_eq!(
            normalise("¿Dónde está mi reembolso?"),
            "donde esta mi reembolso"
        );
        assert_eq!(normalise("don't"), "dont");
        assert_eq!(normalise("Straße"), "strasse");
        // Decomposed "é" (e + combining acute) folds like the precomposed one.
        assert_eq!(normalise("cafe\u{301}"), "cafe");
    }

    #[test]
    fn arabic_and_devanagari_keep_their_letters() {
        // Tatweel and harakat drop; alef with hamza becomes bare alef.
        assert_eq!(normalise("أيـــن طَلَبي"), "اين طلبي");
        // Devanagari vowel signs and virama stay inside the word; the danda separates.
        assert_eq!(normalise("मेरा ऑर्डर कहाँ है।"), "मेरा ऑर्डर कहाँ है");
    }

    #[test]
    fn hostile_input_is_bounded_and_never_panics() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("   \n\t "), "");
        assert_eq!(normalise("\u{0}\u{200D}\u{FEFF}"), "");
        let huge = "a".repeat(1_000_000);
        assert_eq!(normalise(&huge), "aa");
        let words = "word ".repeat(100_000);
        assert!(normalise(&words).len() <= MAX_INPUT_CHARS);
        // Lowercasing that expands ('İ' → "i̇") stays well-formed.
        assert_eq!(normalise("İstanbul"), "istanbul");
    }
}
