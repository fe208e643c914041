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

impl OptOut {
    /// STOP words end all business-initiated messages; the marketing button only marketing.
    pub fn kind(&self) -> ConsentKind {
        if self.source == "button" {
            ConsentKind::MarketingStop
        } else {
            ConsentKind::OptOut
        }
    }
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

/// The opt-out a customer message expresses, if any: STOP words as text, or the opt-out button.
pub fn opt_out_of_message(m: &crate::webhook::InboundMessage) -> Option<OptOut> {
    if let Some(id) = crate::triage::structured_id(m) {
        return opt_out_payload(id);
    }
    match (m.kind.as_str(), &m.text) {
        ("text", Some(t)) => opt_out_text(&t.body),
        _ => None,
    }
}

/// A `user_preferences` entry (`{"category":"marketing_messages","value":"stop"|"resume"}`).
pub fn of_user_preference(preference: &serde_json::Value) -> Option<ConsentKind> {
    let category = preference.get("category").and_then(|v| v.as_str())?;
    if category != "marketing_messages" {
        return None;
    }
    match preference.get("value").and_then(|v| v.as_str())? {
        "stop" => Some(ConsentKind::MarketingStop),
        "resume" => Some(ConsentKind::MarketingResume),
        _ => None,
    }
}

pub fn opt_out_payload(payload: &str) -> Option<OptOut> {
    let p = payload.trim().to_lowercase();
    OPT_OUT_PAYLOADS.contains(&p.as_str()).then(|| OptOut {
        evidence: p,
        source: "button".into(),
    })
}

/// One entry of the append-only consent ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Permission to send business-initiated messages (recorded by an operator or a system).
    OptIn,
    /// STOP: no business-initiated messages at all.
    OptOut,
    /// Marketing only: the opt-out button, Meta's `user_preferences` stop, or error 131050.
    MarketingStop,
    MarketingResume,
}

impl ConsentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::OptIn => "opt_in",
            ConsentKind::OptOut => "opt_out",
            ConsentKind::MarketingStop => "marketing_stop",
            ConsentKind::MarketingResume => "marketing_resume",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub kind: ConsentKind,
    /// `keyword`, `button`, `user_preferences`, `meta_error`, `operator`, `api`, …
    pub source: String,
    /// What proves it: the word, the payload, the form id, the wamid.
    pub evidence: String,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// The ledger folded into what the gate needs. Entries apply in time order; an opt-out cancels an
/// earlier opt-in (a new opt-in is needed), and an opt-in after an opt-out restores consent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsentState {
    pub opted_in: Option<ConsentRecord>,
    pub opted_out: Option<ConsentRecord>,
    pub marketing_stopped: Option<ConsentRecord>,
}

impl ConsentState {
    pub fn fold(records: &[ConsentRecord]) -> Self {
        let mut sorted: Vec<&ConsentRecord> = records.iter().collect();
        sorted.sort_by_key(|r| r.at);
        let mut s = ConsentState::default();
        for r in sorted {
            match r.kind {
                ConsentKind::OptIn => {
                    s.opted_in = Some(r.clone());
                    s.opted_out = None;
                }
                ConsentKind::OptOut => {
                    s.opted_out = Some(r.clone());
                    s.opted_in = None;
                }
                ConsentKind::MarketingStop => s.marketing_stopped = Some(r.clone()),
                ConsentKind::MarketingResume => s.marketing_stopped = None,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: ConsentKind, at: i64) -> ConsentRecord {
        ConsentRecord {
            kind,
            source: "test".into(),
            evidence: String::new(),
            at,
            actor: None,
        }
    }

    #[test]
    fn the_ledger_folds_in_time_order() {
        use ConsentKind::*;
        let s = ConsentState::fold(&[rec(OptOut, 20), rec(OptIn, 10)]);
        assert!(s.opted_in.is_none() && s.opted_out.is_some());
        let s = ConsentState::fold(&[rec(OptIn, 10), rec(OptOut, 20), rec(OptIn, 30)]);
        assert!(s.opted_in.is_some() && s.opted_out.is_none());
        let s = ConsentState::fold(&[rec(MarketingStop, 5), rec(OptIn, 10)]);
        assert!(s.marketing_stopped.is_some());
        let s = ConsentState::fold(&[rec(MarketingStop, 5), rec(MarketingResume, 6)]);
        assert!(s.marketing_stopped.is_none());
    }

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
