//! What the words say: promotional language in UTILITY, pressure, shouting, punctuation, emoji,
//! link shorteners, requests for sensitive identifiers, passcodes outside AUTHENTICATION, and
//! UTILITY templates with nothing specific to the user (§6.5, §6.7).

use super::buttons::{is_shortener, shortener};
use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::Category;
use crate::template::text::{emoji_spans, urls, Analysed};
use crate::template::words::{Class, Lexicon, Match};

/// Shouting starts at this many letters: "OK", "ID", "PIN", "OTP" are ordinary.
const SHOUT_MIN_LETTERS: usize = 4;
/// Uppercase words that are not shouting: acronyms, and the reply keywords opt-out instructions
/// conventionally write in capitals ("Reply STOP to opt out").
const ACRONYMS: &[&str] = &[
    "STOP",
    "BAJA",
    "SAIR",
    "PARAR",
    "CANCELAR",
    "BERHENTI",
    "UNSUBSCRIBE",
    "HELP",
    "AYUDA",
    "AJUDA",
    "BANTUAN",
    "HTTP",
    "HTTPS",
    "HTML",
    "JSON",
    "IBAN",
    "SWIFT",
    "COVID",
    "WIFI",
    "NASA",
    "CURP",
    "BPJS",
    "NPWP",
    "UNESCO",
    "UNICEF",
    "FIFA",
    "GMAIL",
    "ASAP",
    "LTDA",
    "SAS",
    "MSISDN",
    "ICCID",
];
/// Emoji limits per text: more than this many, or more than one per `EMOJI_WORDS` words once
/// there are at least `EMOJI_MIN` of them.
const EMOJI_MAX: usize = 10;
const EMOJI_MIN: usize = 3;
const EMOJI_WORDS: usize = 4;

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    let lexicon = Lexicon::for_lang(p.lang);
    let auth = p.is(Category::Authentication);
    for (component, text) in p.all_texts() {
        let matches = lexicon.find(text);
        if p.is(Category::Utility) {
            promotional(&component, text, &matches, out);
        }
        pressure(&component, text, &matches, out);
        shouting(&component, text, out);
        punctuation(&component, text, out);
        if !auth {
            emoji(&component, text, out);
        }
        let is_label = component.starts_with("BUTTONS");
        if !is_label {
            // Authentication templates may not carry any URL; that rule reports them.
            if !auth {
                for (s, e, host) in urls(&text.chars) {
                    if is_shortener(&host) {
                        out.push(shortener(&component, s, e, &host));
                    }
                }
            }
            sensitive(&component, text, &matches, out);
            if matches!(p.category, Some(Category::Utility | Category::Marketing)) {
                otp_outside_auth(&component, text, &matches, p.category, out);
            }
        }
    }
    user_context(p, out);
}

fn span(text: &Analysed, m: &Match) -> (usize, usize) {
    (text.tokens[m.first].start, text.tokens[m.last].end)
}

fn promotional(component: &str, text: &Analysed, matches: &[Match], out: &mut Vec<Finding>) {
    for m in matches.iter().filter(|m| m.class == Class::Promotional) {
        let (s, e) = span(text, m);
        out.push(
            Finding::new(
                CONTENT_PROMOTIONAL,
                component,
                format!(
                    "“{}” is promotional: Meta approves a UTILITY template with promotional content as MARKETING (since 2025-04-09), billed and paced as marketing (§6.5)",
                    text.slice(s, e)
                ),
            )
            .at(s, e)
            .help("keep the utility message about the user's order, account or request, and send offers in a separate MARKETING template"),
        );
    }
}

fn pressure(component: &str, text: &Analysed, matches: &[Match], out: &mut Vec<Finding>) {
    let excused = |m: &Match| {
        matches
            .iter()
            .any(|x| x.class == Class::NotPressure && x.first <= m.last && m.first <= x.last)
    };
    for m in matches
        .iter()
        .filter(|m| m.class == Class::Pressure && !excused(m))
    {
        let (s, e) = span(text, m);
        out.push(
            Finding::new(
                CONTENT_PRESSURE,
                component,
                format!(
                    "“{}” pressures the reader: urgency wording draws reviewers' scrutiny and users' blocks and reports, which lower the template's quality rating",
                    text.slice(s, e)
                ),
            )
            .at(s, e)
            .help("state the fact instead (a date, a time, what happens next)"),
        );
    }
}

fn shouting(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    for t in &text.tokens {
        if !t.all_caps || t.letters < SHOUT_MIN_LETTERS {
            continue;
        }
        let word = text.slice(t.start, t.end);
        // Letters with digits are a code ("SUMMER20", "INV2207"), which is written as issued.
        if ACRONYMS.contains(&word.as_str()) || word.chars().any(|c| c.is_numeric()) {
            continue;
        }
        let mut calm = String::new();
        for (i, c) in word.chars().enumerate() {
            if i == 0 {
                calm.push(c);
            } else {
                calm.extend(c.to_lowercase());
            }
        }
        out.push(
            Finding::new(
                CONTENT_SHOUTING,
                component,
                format!("“{word}” is in capitals: shouting reads as spam to reviewers and users"),
            )
            .at(t.start, t.end)
            .help(format!(
                "write “{calm}”; for emphasis use *bold* in the body"
            )),
        );
    }
}

fn punctuation(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    let chars = &text.chars;
    let mut i = 0;
    while i < chars.len() {
        if !matches!(chars[i], '!' | '?' | '¡' | '¿') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && matches!(chars[i], '!' | '?' | '¡' | '¿') {
            i += 1;
        }
        if i - start >= 3 {
            let run = text.slice(start, i);
            let one = if run.contains('?') { "?" } else { "!" };
            out.push(
                Finding::new(
                    CONTENT_PUNCTUATION,
                    component,
                    format!("“{run}”: repeated punctuation reads as spam"),
                )
                .at(start, i)
                .help(format!("use a single “{one}”")),
            );
        }
    }
}

fn emoji(component: &str, text: &Analysed, out: &mut Vec<Finding>) {
    let spans = emoji_spans(&text.chars);
    let n = spans.len();
    let words = text.word_count();
    let too_many = n > EMOJI_MAX;
    let too_dense = n >= EMOJI_MIN && n * EMOJI_WORDS > words;
    if !(too_many || too_dense) {
        return;
    }
    let (s, e) = (spans[0].0, spans[n - 1].1);
    let why = if too_many {
        format!("{n} emoji (more than {EMOJI_MAX})")
    } else {
        format!("{n} emoji for {words} words (more than one per {EMOJI_WORDS} words)")
    };
    out.push(
        Finding::new(
            CONTENT_EMOJI,
            component,
            format!("{why}: templates heavy with emoji are rejected for exceeding emoji limits or read as spam (§6.7)"),
        )
        .at(s, e)
        .help("keep one or two emoji that add meaning"),
    );
}

/// Asking for a full card, bank account or national id number (or any password, PIN or CVV) is a
/// common rejection (§6.7). Fires when a sentence has a request verb and an identifier and no
/// negation ("we will never ask for your password"); a partial identifier ("last 4 digits") is fine
/// except for secrets.
fn sensitive(component: &str, text: &Analysed, matches: &[Match], out: &mut Vec<Finding>) {
    let sentence = |m: &Match| text.tokens[m.first].sentence;
    let in_sentence =
        |class: Class, s: u32| matches.iter().any(|m| m.class == class && sentence(m) == s);
    for m in matches
        .iter()
        .filter(|m| matches!(m.class, Class::Identifier | Class::Secret))
    {
        let s = sentence(m);
        if !in_sentence(Class::Request, s) || in_sentence(Class::Negation, s) {
            continue;
        }
        if m.class == Class::Identifier && in_sentence(Class::Partial, s) {
            continue;
        }
        let (start, end) = span(text, m);
        let what = text.slice(start, end);
        let (message, help) = if m.class == Class::Secret {
            (
                format!("asks the user for “{what}”: templates may not request passwords, PINs or card security codes (§6.7)"),
                "never ask for secrets over WhatsApp; send the user to your app or website to authenticate",
            )
        } else {
            (
                format!("asks the user for “{what}”: Meta rejects templates that request full card, bank account or national id numbers (§6.7)"),
                "ask for a partial value only (e.g. the last 4 digits), or collect it in your app or website",
            )
        };
        out.push(
            Finding::new(CONTENT_SENSITIVE_REQUEST, component, message)
                .at(start, end)
                .help(help),
        );
    }
}

/// Only authentication templates may carry one-time passcodes; UTILITY or MARKETING OTP templates
/// are rejected as INCORRECT_CATEGORY at the start of the next month (§6.5). A passcode phrase in
/// the same sentence as a variable is what an OTP message looks like ("Your code is {{1}}").
fn otp_outside_auth(
    component: &str,
    text: &Analysed,
    matches: &[Match],
    category: Option<Category>,
    out: &mut Vec<Finding>,
) {
    let hit = matches.iter().find(|m| {
        m.class == Class::Otp
            && text
                .placeholder_sentence
                .iter()
                .any(|&s| s == text.tokens[m.first].sentence)
    });
    if let Some(m) = hit {
        let (s, e) = span(text, m);
        out.push(
            Finding::new(
                CATEGORY_OTP_OUTSIDE_AUTH,
                component,
                format!(
                    "this looks like a one-time passcode (“{}”): only AUTHENTICATION templates may carry OTPs; {} OTP templates are rejected as INCORRECT_CATEGORY (§6.5)",
                    text.slice(s, e),
                    category.map_or("other", Category::as_str)
                ),
            )
            .at(s, e)
            .help("submit it as an AUTHENTICATION template with Meta's preset text and an OTP button"),
        );
    }
}

/// A UTILITY message must be specific to the user (§6.5); with no variable at all it reads as a
/// broadcast, which Meta categorises as MARKETING.
fn user_context(p: &Parts, out: &mut Vec<Finding>) {
    if !p.is(Category::Utility) {
        return;
    }
    let Some(body) = &p.body_text else { return };
    // A broken placeholder is still a variable the author meant; that finding comes first.
    let has_variable = !body.placeholders.is_empty()
        || !body.malformed.is_empty()
        || p.header_text
            .as_ref()
            .is_some_and(|h| !h.placeholders.is_empty());
    if !has_variable && !body.chars.iter().all(|c| c.is_whitespace()) {
        out.push(
            Finding::new(
                UTILITY_USER_CONTEXT,
                "BODY",
                "nothing in this UTILITY template is specific to the user: utility messages must be about the user's own order, account or request, or Meta approves them as MARKETING (§6.5)",
            )
            .help("add the detail that makes it the user's message, e.g. “Hi {{1}}, your order {{2}} …”"),
        );
    }
}
