//! Opt-out words. A customer who writes STOP (in any supported language) or taps the marketing
//! opt-out button must not receive business-initiated messages again; the app layer writes the
//! fact to the append-only consent ledger with this evidence.

use serde::{Deserialize, Serialize};

use crate::triage::text::for_matching;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    /// The word or phrase that expressed it.
    pub evidence: String,
    /// `keyword` (free text) or `button` (a quick-reply payload).
    pub source: String,
}

/// Messages that are nothing but an opt-out, normalised (lowercase, accents folded).
const OPT_OUT: &[&str] = &[
    "stop",
    "unsubscribe",
    "stop all",
    "stop messages",
    "opt out",
    "optout",
    "cancel subscription",
    "parar",
    "pare",
    "sair",
    "cancelar inscricao",
    "descadastrar",
    "nao quero mais mensagens",
    "baja",
    "darme de baja",
    "detener",
    "no mas mensajes",
    "cancelar suscripcion",
    "berhenti",
    "stop pesan",
    "jangan kirim lagi",
    "berhenti langganan",
    "band karo",
    "message band karo",
    "mat bhejo",
    "unsubscribe karo",
    "الغاء",
    "إلغاء",
    "الغاء الاشتراك",
    "إلغاء الاشتراك",
    "توقف",
    "قف",
];

/// Template quick-reply payloads that mean "stop marketing" (the opt-out button).
const OPT_OUT_PAYLOADS: &[&str] = &["optout_marketing", "stop_promotions", "unsubscribe", "stop"];

/// Whether free text is an opt-out. Only a message that *is* the opt-out counts: "don't stop
/// sending me updates" is not one.
pub fn opt_out_text(text: &str) -> Option<OptOut> {
    let norm = for_matching(text);
    let norm = norm.trim();
    OPT_OUT
        .iter()
        .find(|w| for_matching(w).trim() == norm)
        .map(|w| OptOut {
            evidence: (*w).to_string(),
            source: "keyword".into(),
        })
}

pub fn opt_out_payload(payload: &str) -> Option<OptOut> {
    let p = payload.trim().to_lowercase();
    OPT_OUT_PAYLOADS.contains(&p.as_str()).then(|| OptOut {
        evidence: p,
        source: "button".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_in_every_supported_language() {
        for w in [
            "STOP",
            "Stop.",
            "unsubscribe",
            "PARAR",
            "Sair",
            "darme de baja",
            "Berhenti",
            "band karo",
            "إلغاء الاشتراك",
            "توقف",
        ] {
            assert!(opt_out_text(w).is_some(), "{w}");
        }
        assert_eq!(
            opt_out_payload("optout_marketing").unwrap().source,
            "button"
        );
    }

    #[test]
    fn sentences_that_mention_stop_are_not_opt_outs() {
        for w in [
            "please don't stop the updates",
            "where is my order, it stopped moving",
            "stop by the store?",
            "",
        ] {
            assert!(opt_out_text(w).is_none(), "{w}");
        }
        assert!(opt_out_payload("track_order").is_none());
    }
}
