//! Text normalisation for rule matching: lowercase, Latin accents folded, punctuation to spaces,
//! so "¡URGENTE!" and "urgente" match the same rule and a phrase matches on word boundaries.

/// Folds the accents of Latin letters that the supported languages use.
fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        other => other,
    }
}

/// Lowercased, accent-folded words joined by single spaces, with a space at both ends so that
/// `contains(" word ")` is a whole-word match. Letters, digits and `#` survive; everything else
/// (punctuation, emoji) separates words.
pub fn for_matching(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut last_space = true;
    for c in text.chars().flat_map(char::to_lowercase).map(fold) {
        if c.is_alphanumeric() || c == '#' {
            out.push(c);
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if !last_space {
        out.push(' ');
    }
    out
}

/// The first phrase of `phrases` that `normalised` (from `for_matching`) contains as whole words.
pub fn contains_any(normalised: &str, phrases: &[&'static str]) -> Option<&'static str> {
    phrases.iter().copied().find(|p| {
        normalised.match_indices(p).any(|(i, _)| {
            normalised[..i].ends_with(' ') && normalised[i + p.len()..].starts_with(' ')
        })
    })
}

/// Emoji and pictographs (the ranges WhatsApp users send), plus joiners and variation selectors.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF
        | 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0x2190..=0x21FF | 0x2300..=0x23FF)
}

/// Letters, digits and marks of any script: what makes a message say something.
pub fn word_chars(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_accents_and_punctuation() {
        assert_eq!(
            for_matching("¡URGENTE! Não   recebi..."),
            " urgente nao recebi "
        );
        assert_eq!(for_matching("order #4471?"), " order #4471 ");
        assert_eq!(for_matching("مرحبا، وين طلبي"), " مرحبا وين طلبي ");
        assert_eq!(for_matching(""), " ");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let t = for_matching("I will sue you");
        assert_eq!(contains_any(&t, &["sue"]), Some("sue"));
        assert_eq!(contains_any(&for_matching("pursue it"), &["sue"]), None);
    }

    #[test]
    fn emoji_detection() {
        assert!("😭🙏🏽".chars().all(is_emoji));
        assert!(!"a".chars().all(is_emoji));
    }
}
