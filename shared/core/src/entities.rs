//! Entities an agent needs at a glance when a conversation is handed over: order ids, amounts,
//! dates and e-mail addresses, pulled from the customer's messages. Deliberately conservative:
//! a wrong entity in the context packet costs more than a missing one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entity {
    OrderId { value: String },
    Amount { currency: String, value: String },
    Date { value: String },
    Email { value: String },
}

/// Words that introduce an order number, in the supported languages.
const ORDER_WORDS: &[&str] = &[
    "order",
    "pedido",
    "orden",
    "encomenda",
    "pesanan",
    "ordem",
    "طلب",
    "طلبي",
];

/// Currency markers written before or after an amount.
const CURRENCIES: &[(&str, &str)] = &[
    ("R$", "BRL"),
    ("US$", "USD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("Rp", "IDR"),
    ("Rs", "INR"),
    ("USD", "USD"),
    ("EUR", "EUR"),
    ("BRL", "BRL"),
    ("IDR", "IDR"),
    ("INR", "INR"),
    ("MXN", "MXN"),
    ("SAR", "SAR"),
    ("AED", "AED"),
    ("EGP", "EGP"),
];

fn tokens(text: &str) -> Vec<&str> {
    // Commas separate words but not digits ("R$ 89,90"): trim them from the ends instead.
    text.split(|c: char| c.is_whitespace() || matches!(c, ';' | '(' | ')' | '!' | '?'))
        .map(|t| t.trim_matches(','))
        .filter(|t| !t.is_empty())
        .collect()
}

fn is_number(t: &str) -> bool {
    !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

fn email(t: &str) -> Option<String> {
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    let (local, domain) = t.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && t.chars()
            .all(|c| c.is_alphanumeric() || "@._+-".contains(c));
    ok.then(|| t.to_lowercase())
}

fn date(t: &str) -> Option<String> {
    let t = t.trim_end_matches('.');
    let parts: Vec<&str> = t.split(['/', '-']).collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let nums = nums?;
    match nums.as_slice() {
        // 2026-01-17
        [y, m, d] if *y >= 1900 && (1..=12).contains(m) && (1..=31).contains(d) => {
            Some(format!("{y:04}-{m:02}-{d:02}"))
        }
        // 17/01/2026 or 17/01 (day first, as most of the supported markets write it)
        [d, m, y] if (1..=31).contains(d) && (1..=12).contains(m) && *y >= 1900 => {
            Some(format!("{y:04}-{m:02}-{d:02}"))
        }
        [d, m] if t.contains('/') && (1..=31).contains(d) && (1..=12).contains(m) => {
            Some(format!("--{m:02}-{d:02}"))
        }
        _ => None,
    }
}

/// Entities in one message, in order of appearance, without duplicates.
pub fn extract(text: &str) -> Vec<Entity> {
    let toks = tokens(text);
    let mut out: Vec<Entity> = Vec::new();
    let push = |e: Entity, out: &mut Vec<Entity>| {
        if !out.contains(&e) {
            out.push(e);
        }
    };
    for (i, raw) in toks.iter().enumerate() {
        let t = raw.trim_end_matches(['.', ':']);
        if let Some(e) = email(t) {
            push(Entity::Email { value: e }, &mut out);
            continue;
        }
        if let Some(d) = date(t) {
            push(Entity::Date { value: d }, &mut out);
            continue;
        }
        // #4471, or "order 4471" / "pedido nº 4471".
        if let Some(id) = t
            .strip_prefix('#')
            .filter(|id| id.len() >= 3 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            push(
                Entity::OrderId {
                    value: id.to_string(),
                },
                &mut out,
            );
            continue;
        }
        let prev = i.checked_sub(1).map(|j| toks[j].to_lowercase());
        let prev2 = i.checked_sub(2).map(|j| toks[j].to_lowercase());
        let after_order_word = [prev.as_deref(), prev2.as_deref()]
            .iter()
            .flatten()
            .any(|p| ORDER_WORDS.contains(&p.trim_end_matches([':', '.'])));
        if after_order_word
            && t.len() >= 3
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && t.chars().any(|c| c.is_ascii_digit())
        {
            push(
                Entity::OrderId {
                    value: t.to_string(),
                },
                &mut out,
            );
            continue;
        }
        // Amounts: "R$ 89,90", "$45", "45 USD", "Rp150.000", "₹899".
        for (marker, code) in CURRENCIES {
            if let Some(rest) = t.strip_prefix(marker) {
                let value = if rest.is_empty() {
                    toks.get(i + 1).copied().unwrap_or("")
                } else {
                    rest
                };
                if is_number(value) {
                    push(
                        Entity::Amount {
                            currency: code.to_string(),
                            value: value.to_string(),
                        },
                        &mut out,
                    );
                    break;
                }
            }
            if *t == **marker && i > 0 && is_number(toks[i - 1]) && marker.len() == 3 {
                push(
                    Entity::Amount {
                        currency: code.to_string(),
                        value: toks[i - 1].to_string(),
                    },
                    &mut out,
                );
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_usual_entities() {
        let e = extract("My order #4471 was charged twice: R$ 89,90 on 17/01/2026, email me at Ana.Test@Example.com");
        assert_eq!(
            e,
            [
                Entity::OrderId {
                    value: "4471".into()
                },
                Entity::Amount {
                    currency: "BRL".into(),
                    value: "89,90".into()
                },
                Entity::Date {
                    value: "2026-01-17".into()
                },
                Entity::Email {
                    value: "ana.test@example.com".into()
                },
            ]
        );
        assert_eq!(
            extract("pedido 99812 ainda não chegou")[0],
            Entity::OrderId {
                value: "99812".into()
            }
        );
        assert_eq!(
            extract("pesanan no 7781 belum sampai, sudah bayar Rp150.000")[1],
            Entity::Amount {
                currency: "IDR".into(),
                value: "150.000".into()
            }
        );
        assert_eq!(
            extract("paid 45 USD yesterday")[0],
            Entity::Amount {
                currency: "USD".into(),
                value: "45".into()
            }
        );
        assert_eq!(
            extract("refund ₹899 pls")[0],
            Entity::Amount {
                currency: "INR".into(),
                value: "899".into()
            }
        );
        assert_eq!(
            extract("delivery on 2026-02-03")[0],
            Entity::Date {
                value: "2026-02-03".into()
            }
        );
    }

    #[test]
    fn stays_quiet_when_unsure() {
        assert!(extract("hi, I have 2 questions about my account").is_empty());
        assert!(extract("call me at 3 o'clock @home").is_empty());
        assert!(extract("").is_empty());
        assert_eq!(extract("#4471 #4471").len(), 1, "no duplicates");
    }
}
