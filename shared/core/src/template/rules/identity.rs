//! Name, language, category, parameter format and time-to-live (§6.2, §6.9).

use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::{Category, ParameterFormat};
use crate::template::text::fold;

const NAME_MAX: usize = 512;

/// Meta's supported template languages (WhatsApp Manager's list, 2025). A code outside it is a
/// warning, not an error: Meta adds languages, and this list can lag.
const LANGUAGES: &[&str] = &[
    "af", "sq", "ar", "ar_EG", "ar_AE", "ar_LB", "ar_MA", "ar_QA", "az", "be_BY", "bn", "bn_IN",
    "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "prs_AF", "nl", "nl_BE", "en",
    "en_GB", "en_US", "en_AE", "en_AU", "en_CA", "en_GH", "en_IE", "en_IN", "en_JM", "en_MY",
    "en_NZ", "en_QA", "en_SG", "en_UG", "en_ZA", "et", "fil", "fi", "fr", "fr_BE", "fr_CA",
    "fr_CH", "fr_CI", "fr_MA", "ka", "de", "de_AT", "de_CH", "el", "gu", "ha", "he", "hi", "hu",
    "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk", "ms", "ml",
    "mr", "nb", "ps_AF", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "si_LK", "sk", "sl",
    "es", "es_AR", "es_CL", "es_CO", "es_CR", "es_DO", "es_EC", "es_HN", "es_MX", "es_PA", "es_PE",
    "es_ES", "es_UY", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu",
];

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    name(p, out);
    language(p, out);
    category(p, out);
    parameter_format(p, out);
    ttl(p, out);
}

/// `Order Shipped!` → `order_shipped`: the closest valid name.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase).map(fold) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let s = s.trim_matches('_');
    s.chars().take(NAME_MAX).collect()
}

fn name(p: &Parts, out: &mut Vec<Finding>) {
    let Some(name) = p.template.name.as_deref().filter(|n| !n.trim().is_empty()) else {
        out.push(
            Finding::new(NAME_MISSING, "name", "the template has no name").help(
                "add a name of lowercase letters, digits and underscores, e.g. \"order_shipped\"",
            ),
        );
        return;
    };
    let chars: Vec<char> = name.chars().collect();
    let bad = |c: &char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_');
    if let (Some(first), Some(last)) = (chars.iter().position(bad), chars.iter().rposition(bad)) {
        let mut offending: Vec<String> = Vec::new();
        for c in chars.iter().filter(|c| bad(c)) {
            let shown = match c {
                ' ' => "space".to_string(),
                c if c.is_uppercase() => "uppercase letters".to_string(),
                c => format!("“{c}”"),
            };
            if !offending.contains(&shown) {
                offending.push(shown);
            }
        }
        let suggestion = slug(name);
        out.push(
            Finding::new(
                NAME_FORMAT,
                "name",
                format!(
                    "the name has {}: Meta accepts only lowercase letters, digits and underscores (§6.2)",
                    offending.join(", ")
                ),
            )
            .at(first, last + 1)
            .help_opt((!suggestion.is_empty()).then(|| format!("rename to \"{suggestion}\""))),
        );
    }
    if chars.len() > NAME_MAX {
        out.push(
            Finding::new(
                NAME_LENGTH,
                "name",
                format!(
                    "the name is {} characters; Meta's limit is {NAME_MAX} (§6.2)",
                    chars.len()
                ),
            )
            .at(NAME_MAX, chars.len())
            .help(format!("shorten the name to at most {NAME_MAX} characters")),
        );
    }
}

/// `en`, `fil`, `en_US`, `prs_AF`.
fn well_formed(code: &str) -> bool {
    let (lang, region) = match code.split_once('_') {
        Some((l, r)) => (l, Some(r)),
        None => (code, None),
    };
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
}

/// `en-us` → `en_US`, `PT_br` → `pt_BR`.
fn normalise_language(code: &str) -> String {
    let mut parts = code.trim().split(['_', '-']);
    let lang = parts.next().unwrap_or_default().to_ascii_lowercase();
    match parts.next() {
        Some(r) if !r.is_empty() => format!("{lang}_{}", r.to_ascii_uppercase()),
        _ => lang,
    }
}

fn language(p: &Parts, out: &mut Vec<Finding>) {
    let Some(code) = p.template.language_code().filter(|c| !c.trim().is_empty()) else {
        out.push(
            Finding::new(
                LANGUAGE_MISSING,
                "language",
                "the template has no language: Meta requires one at creation and does not translate (§6.2)",
            )
            .help("add a language code, e.g. \"language\": \"en_US\""),
        );
        return;
    };
    let len = code.chars().count();
    if !well_formed(code) {
        let fixed = normalise_language(code);
        out.push(
            Finding::new(
                LANGUAGE_FORMAT,
                "language",
                format!("“{code}” is not a language code like en, en_US or pt_BR (§6.2)"),
            )
            .at(0, len)
            .help_opt((well_formed(&fixed) && fixed != code).then(|| format!("write \"{fixed}\""))),
        );
        return;
    }
    if !LANGUAGES.contains(&code) {
        let variants: Vec<&str> = LANGUAGES
            .iter()
            .copied()
            .filter(|l| l.split('_').next() == code.split('_').next())
            .collect();
        out.push(
            Finding::new(
                LANGUAGE_UNSUPPORTED,
                "language",
                format!("“{code}” is not in Meta's list of template languages"),
            )
            .at(0, len)
            .help_opt(
                (!variants.is_empty()).then(|| format!("use one of {}", variants.join(", "))),
            ),
        );
    }
}

/// Legacy and colloquial category names, mapped to the current three.
fn guess_category(raw: &str) -> Option<Category> {
    let r = raw.trim().to_ascii_lowercase();
    match r.as_str() {
        "otp" | "auth" | "authentication_otp" | "verification" => Some(Category::Authentication),
        "promotional" | "promotion" | "marketing_optin" => Some(Category::Marketing),
        "transactional"
        | "account_update"
        | "alert_update"
        | "appointment_update"
        | "auto_reply"
        | "issue_resolution"
        | "payment_update"
        | "personal_finance_update"
        | "reservation_update"
        | "shipping_update"
        | "ticket_update"
        | "transportation_update"
        | "service" => Some(Category::Utility),
        _ => None,
    }
}

fn category(p: &Parts, out: &mut Vec<Finding>) {
    let raw = p.template.category.as_deref().unwrap_or_default();
    if raw.trim().is_empty() {
        out.push(
            Finding::new(
                CATEGORY_MISSING,
                "category",
                "the template has no category; the rules that apply depend on it (§6.5)",
            )
            .help("choose UTILITY, MARKETING or AUTHENTICATION before writing the content"),
        );
    } else if p.category.is_none() {
        let help = match guess_category(raw) {
            Some(c) => format!("use \"{}\"", c.as_str()),
            None => "use UTILITY, MARKETING or AUTHENTICATION".into(),
        };
        out.push(
            Finding::new(
                CATEGORY_UNKNOWN,
                "category",
                format!("“{raw}” is not a template category: Meta has UTILITY, MARKETING and AUTHENTICATION (§6.5)"),
            )
            .help(help),
        );
    }
}

fn parameter_format(p: &Parts, out: &mut Vec<Finding>) {
    if let Some(raw) = p.template.parameter_format.as_deref() {
        if ParameterFormat::parse(raw).is_none() {
            out.push(
                Finding::new(
                    PARAMETER_FORMAT_UNKNOWN,
                    "parameter_format",
                    format!("“{raw}” is not a parameter format: Meta accepts \"positional\" ({{{{1}}}}) and \"named\" ({{{{first_name}}}}) (§6.4)"),
                )
                .help("use \"positional\" or \"named\", or leave it out for positional"),
            );
        }
    }
}

/// §6.9: custom TTL ranges; `-1` means 30 days where Meta allows it.
fn ttl(p: &Parts, out: &mut Vec<Finding>) {
    let (Some(ttl), Some(category)) = (p.template.message_send_ttl_seconds, p.category) else {
        return;
    };
    let (min, max, minus_one, note) = match category {
        Category::Authentication => (30, 900, true, ""),
        Category::Utility => (30, 43_200, true, ""),
        Category::Marketing => (
            43_200,
            2_592_000,
            false,
            "; a marketing TTL applies only when sent through the Marketing Messages Lite API",
        ),
    };
    if (ttl == -1 && minus_one) || (min..=max).contains(&ttl) {
        return;
    }
    let allowed = if minus_one {
        format!("{min}–{max} s (or -1 for 30 days)")
    } else {
        format!("{min}–{max} s")
    };
    out.push(
        Finding::new(
            TTL_RANGE,
            "message_send_ttl_seconds",
            format!(
                "for {} templates message_send_ttl_seconds must be {allowed}; got {ttl} (§6.9){note}",
                category.as_str()
            ),
        )
        .help(format!("set message_send_ttl_seconds to {}", ttl.clamp(min, max))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_language_codes() {
        assert_eq!(slug("Order Shipped! (v2)"), "order_shipped_v2");
        assert_eq!(slug("Promoção Verão"), "promocao_verao");
        assert!(well_formed("en") && well_formed("en_US") && well_formed("fil"));
        assert!(!well_formed("en-US") && !well_formed("EN") && !well_formed("pt_br"));
        assert_eq!(normalise_language("en-us"), "en_US");
        assert_eq!(normalise_language("PT_br"), "pt_BR");
    }
}
