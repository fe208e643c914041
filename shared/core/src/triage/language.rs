//! Language of a short message, restricted to the tenant's languages. Short texts are where
//! detectors guess: below a confidence bar (or a few words) we keep the conversation's language.

use serde::{Deserialize, Serialize};
use whatlang::{Detector, Lang};

use super::text::for_matching;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// ISO 639-1 code, or `None` when unknown.
    pub lang: Option<String>,
    pub confidence: f32,
    /// `detector`, `script`, `markers`, `weak` (a low-confidence guess, used only when the
    /// conversation has no language yet), `conversation` (fallback) or `none`.
    pub source: String,
}

fn to_whatlang(code: &str) -> Option<Lang> {
    Some(match code {
        "en" => Lang::Eng,
        "es" => Lang::Spa,
        "pt" => Lang::Por,
        "id" => Lang::Ind,
        "hi" => Lang::Hin,
        "ar" => Lang::Ara,
        "fr" => Lang::Fra,
        "de" => Lang::Deu,
        "it" => Lang::Ita,
        "tr" => Lang::Tur,
        "ru" => Lang::Rus,
        "ms" => Lang::Ind,
        _ => return None,
    })
}

fn from_whatlang(lang: Lang, allowed: &[String]) -> Option<String> {
    allowed
        .iter()
        .find(|c| to_whatlang(c) == Some(lang))
        .cloned()
}

/// Words that mark Hindi written in Latin script ("Hinglish"), which detectors read as English.
const HINGLISH: &[&str] = &[
    "hai", "nahi", "nahin", "mera", "meri", "mujhe", "kya", "kab", "kahan", "kyun", "kyu", "aap",
    "bhai", "yaar", "paisa", "paise", "abhi", "tak", "gaya", "hua", "karo", "kar", "raha", "rahi",
    "wala", "bhi", "hoga", "diya", "mila", "chahiye", "krna", "kaise",
];

/// Guesses the language of `text` among `allowed`, falling back to `conversation_lang`.
pub fn detect(text: &str, allowed: &[String], conversation_lang: Option<&str>) -> LanguageGuess {
    let fallback = |confidence: f32| match conversation_lang {
        Some(l) => LanguageGuess {
            lang: Some(l.to_string()),
            confidence,
            source: "conversation".into(),
        },
        None => LanguageGuess {
            lang: None,
            confidence,
            source: "none".into(),
        },
    };
    let norm = for_matching(text);
    let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return fallback(0.0);
    }
    // Arabic script is unambiguous among the supported languages.
    if allowed.iter().any(|l| l == "ar")
        && text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
    {
        return LanguageGuess {
            lang: Some("ar".into()),
            confidence: 1.0,
            source: "script".into(),
        };
    }
    if allowed.iter().any(|l| l == "hi") {
        if text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
            return LanguageGuess {
                lang: Some("hi".into()),
                confidence: 1.0,
                source: "script".into(),
            };
        }
        let markers = words.iter().filter(|w| HINGLISH.contains(w)).count();
        if markers >= 2 || (markers == 1 && words.len() <= 3) {
            let confidence = (markers as f32 / words.len() as f32).min(1.0);
            return LanguageGuess {
                lang: Some("hi".into()),
                confidence,
                source: "markers".into(),
            };
        }
    }
    let list: Vec<Lang> = allowed.iter().filter_map(|c| to_whatlang(c)).collect();
    if list.is_empty() {
        return fallback(0.0);
    }
    let detector = Detector::with_allowlist(list);
    match detector.detect(text) {
        Some(info) if words.len() >= 3 && info.confidence() >= 0.3 => {
            match from_whatlang(info.lang(), allowed) {
                Some(lang) => LanguageGuess {
                    lang: Some(lang),
                    confidence: info.confidence() as f32,
                    source: "detector".into(),
                },
                None => fallback(0.0),
            }
        }
        // A weak guess beats no language when the conversation has none yet.
        Some(info) if conversation_lang.is_none() => match from_whatlang(info.lang(), allowed) {
            Some(lang) => LanguageGuess {
                lang: Some(lang),
                confidence: info.confidence() as f32,
                source: "weak".into(),
            },
            None => fallback(0.0),
        },
        Some(info) => fallback(info.confidence() as f32),
        None => fallback(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        ["en", "es", "pt", "id", "hi", "ar"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn lang(text: &str) -> Option<String> {
        detect(text, &langs(), Some("en")).lang
    }

    #[test]
    fn detects_the_supported_languages() {
        assert_eq!(
            lang("Where is my order, it was supposed to arrive yesterday").as_deref(),
            Some("en")
        );
        assert_eq!(
            lang("¿Dónde está mi pedido? Debería haber llegado ayer").as_deref(),
            Some("es")
        );
        assert_eq!(
            lang("Cadê meu pedido? Era pra ter chegado ontem, não recebi nada").as_deref(),
            Some("pt")
        );
        assert_eq!(
            lang("Pesanan saya belum sampai, tolong dicek kenapa lama sekali").as_deref(),
            Some("id")
        );
        assert_eq!(
            lang("mera order abhi tak nahi aaya bhai").as_deref(),
            Some("hi")
        );
        assert_eq!(lang("وين طلبي؟").as_deref(), Some("ar"));
    }

    #[test]
    fn short_texts_keep_the_conversation_language() {
        let g = detect("ok", &langs(), Some("pt"));
        assert_eq!(
            (g.lang.as_deref(), g.source.as_str()),
            (Some("pt"), "conversation")
        );
        let g = detect("👍", &langs(), None);
        assert_eq!(g.lang, None);
    }
}
