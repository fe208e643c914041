//! Urgency, risk and tone from the words of a message, in every supported language.
//!
//! Rules are lexicons matched on normalised text (`text::for_matching`): readable, testable and
//! auditable — every tag records the rule and the phrase that set it. They run on every message,
//! so the approval boundary is decided per message, not per conversation.

use serde::{Deserialize, Serialize};

use super::text::{contains_any, for_matching};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    Priority,
    Immediate,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::Priority => "priority",
            Self::Immediate => "immediate",
        }
    }

    pub fn raised(self) -> Self {
        match self {
            Self::Low => Self::Normal,
            Self::Normal => Self::Priority,
            Self::Priority | Self::Immediate => Self::Immediate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    LegalThreat,
    FraudSignal,
    MediaRisk,
    PossibleOutage,
    Abuse,
    SelfHarm,
}

impl Risk {
    pub const ALL: [Risk; 6] = [
        Risk::SelfHarm,
        Risk::FraudSignal,
        Risk::LegalThreat,
        Risk::MediaRisk,
        Risk::PossibleOutage,
        Risk::Abuse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegalThreat => "legal_threat",
            Self::FraudSignal => "fraud_signal",
            Self::MediaRisk => "media_risk",
            Self::PossibleOutage => "possible_outage",
            Self::Abuse => "abuse",
            Self::SelfHarm => "self_harm",
        }
    }

    /// The queue that owns a conversation carrying this risk, and the least urgency it has.
    pub fn routing(self) -> (&'static str, Urgency) {
        match self {
            Self::SelfHarm => ("trust_safety", Urgency::Immediate),
            Self::FraudSignal => ("trust_safety", Urgency::Immediate),
            Self::Abuse => ("trust_safety", Urgency::Priority),
            Self::LegalThreat => ("comms", Urgency::Priority),
            Self::MediaRisk => ("comms", Urgency::Priority),
            Self::PossibleOutage => ("engineering", Urgency::Priority),
        }
    }

    fn lexicon(self) -> &'static [&'static str] {
        match self {
            Self::LegalThreat => &[
                "lawyer",
                "attorney",
                "sue",
                "sue you",
                "lawsuit",
                "legal action",
                "court",
                "consumer protection",
                "small claims",
                "abogado",
                "demanda",
                "demandar",
                "denuncia",
                "profeco",
                "advogado",
                "processar",
                "processo",
                "procon",
                "justica",
                "pengacara",
                "somasi",
                "tuntut",
                "lapor polisi",
                "ylki",
                "vakeel",
                "case karunga",
                "court me",
                "consumer court",
                "محامي",
                "قضية",
                "المحكمة",
                "شكوى رسمية",
            ],
            Self::FraudSignal => &[
                "scam",
                "scammer",
                "fraud",
                "fraudulent",
                "phishing",
                "hacked",
                "stolen card",
                "unauthorized",
                "unauthorised",
                "didn t make this purchase",
                "not my purchase",
                "impersonating",
                "fake account",
                "estafa",
                "fraude",
                "robo",
                "hackearon",
                "no reconozco",
                "golpe",
                "golpista",
                "clonaram",
                "nao reconheco",
                "penipuan",
                "penipu",
                "dibobol",
                "diretas",
                "tidak kenal transaksi",
                "dhokha",
                "fraud hua",
                "hack ho gaya",
                "احتيال",
                "نصب",
                "اختراق",
                "سرقة",
            ],
            Self::MediaRisk => &[
                "journalist",
                "reporter",
                "the press",
                "press release",
                "newspaper",
                "going viral",
                "post on twitter",
                "tweet about",
                "tiktok",
                "on social media",
                "tell everyone",
                "periodista",
                "prensa",
                "redes sociales",
                "jornalista",
                "imprensa",
                "reclame aqui",
                "vou expor",
                "wartawan",
                "media sosial",
                "viral",
                "patrakar",
                "صحفي",
                "الإعلام",
                "سوشيال ميديا",
            ],
            Self::PossibleOutage => &[
                "is down",
                "went down",
                "app down",
                "site down",
                "not working for everyone",
                "outage",
                "cannot connect",
                "can t connect",
                "server error",
                "500 error",
                "nobody can",
                "all users",
                "no funciona nada",
                "caido",
                "caida",
                "servidor",
                "fora do ar",
                "caiu",
                "nao funciona nada",
                "down semua",
                "error semua",
                "gangguan",
                "server down",
                "band hai",
                "nahi chal raha",
                "العطل",
                "متوقف",
                "السيرفر",
            ],
            Self::Abuse => &[
                "idiot", "stupid", "moron", "shut up", "f ck", "fuck", "fucking", "bitch",
                "asshole", "idiota", "estupido", "pendejo", "mierda", "puta", "imbecil", "otario",
                "porra", "caralho", "bodoh", "goblok", "anjing", "bangsat", "tolol", "bakwas",
                "chutiya", "gadha", "kameena", "غبي", "حمار", "كلب", "تافه",
            ],
            Self::SelfHarm => &[
                "kill myself",
                "end my life",
                "suicide",
                "want to die",
                "hurt myself",
                "matarme",
                "suicidarme",
                "quiero morir",
                "me matar",
                "suicidio",
                "quero morrer",
                "bunuh diri",
                "ingin mati",
                "mau mati",
                "marna chahta",
                "khudkushi",
                "مرا جانا",
                "انتحار",
                "أقتل نفسي",
                "ابي اموت",
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Distressed,
    Abusive,
}

/// A tag with the rule and phrase that set it, for the operator's "why".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding<T> {
    pub tag: T,
    pub rule: String,
    pub evidence: String,
}

const URGENT: &[&str] = &[
    "urgent",
    "urgently",
    "asap",
    "emergency",
    "right now",
    "immediately",
    "urgente",
    "emergencia",
    "ya mismo",
    "ahora mismo",
    "agora mesmo",
    "imediatamente",
    "segera",
    "darurat",
    "sekarang juga",
    "jaldi",
    "turant",
    "عاجل",
    "ضروري",
    "فورا",
    "بسرعة",
];

/// Follow-ups that say an earlier contact went unanswered.
const UNANSWERED: &[&str] = &[
    "nobody replied",
    "no one replied",
    "nobody answered",
    "no one answered",
    "no reply",
    "no response",
    "still waiting",
    "third time",
    "second time",
    "nadie responde",
    "nadie me responde",
    "sin respuesta",
    "sigo esperando",
    "ninguem responde",
    "ninguem respondeu",
    "sem resposta",
    "ainda esperando",
    "tidak ada yang balas",
    "gak ada yang bales",
    "ga dibales",
    "masih nunggu",
    "koi reply nahi",
    "koi jawab nahi",
    "abhi tak",
    "لا أحد يرد",
    "محد رد",
    "ما حد رد",
];

const DISTRESSED: &[&str] = &[
    "please help",
    "pls help",
    "help me",
    "desperate",
    "i m begging",
    "crying",
    "scared",
    "worried sick",
    "ayuda",
    "ayudenme",
    "por favor ayuda",
    "desesperado",
    "desesperada",
    "socorro",
    "me ajuda",
    "me ajudem",
    "tolong",
    "tolong banget",
    "mohon bantu",
    "panik",
    "madad",
    "please madad",
    "pareshan",
    "ساعدوني",
    "أرجوكم",
    "تكفون",
];

const DISTRESS_EMOJI: &[char] = &['😭', '😢', '😰', '😱', '🙏', '😥', '😩'];

pub struct Tagging {
    pub urgency: Urgency,
    pub urgency_rules: Vec<String>,
    pub risks: Vec<Finding<Risk>>,
    pub tones: Vec<Finding<Tone>>,
}

/// Tags one message. `base` is the intent's urgency; `repeat_contact` raises it one level.
pub fn tag(text: &str, base: Urgency, repeat_contact: bool) -> Tagging {
    let norm = for_matching(text);
    let mut risks = Vec::new();
    for r in Risk::ALL {
        if let Some(p) = contains_any(&norm, r.lexicon()) {
            risks.push(Finding {
                tag: r,
                rule: format!("lexicon:{}", r.as_str()),
                evidence: p.to_string(),
            });
        }
    }
    let mut tones = Vec::new();
    let distress_emoji = text.chars().filter(|c| DISTRESS_EMOJI.contains(c)).count();
    if let Some(p) = contains_any(&norm, DISTRESSED) {
        tones.push(Finding {
            tag: Tone::Distressed,
            rule: "lexicon:distressed".into(),
            evidence: p.into(),
        });
    } else if distress_emoji >= 2 {
        tones.push(Finding {
            tag: Tone::Distressed,
            rule: "emoji:distressed".into(),
            evidence: format!("{distress_emoji} distress emoji"),
        });
    }
    if let Some(f) = risks.iter().find(|f| f.tag == Risk::Abuse) {
        tones.push(Finding {
            tag: Tone::Abusive,
            rule: f.rule.clone(),
            evidence: f.evidence.clone(),
        });
    }

    let mut urgency = base;
    let mut rules = vec![format!("base:{}", base.as_str())];
    for f in &risks {
        let (_, floor) = f.tag.routing();
        if floor > urgency {
            urgency = floor;
            rules.push(format!("risk:{}", f.tag.as_str()));
        }
    }
    if let Some(p) = contains_any(&norm, URGENT) {
        if urgency < Urgency::Priority {
            urgency = Urgency::Priority;
        }
        rules.push(format!("urgent_words:{p}"));
    }
    // Shouting: most letters upper-case in a message long enough to tell.
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    let shouting = letters.len() >= 12 && upper * 10 >= letters.len() * 8;
    // Each of these raises the urgency one level.
    let raisers = [
        contains_any(&norm, UNANSWERED).map(|p| format!("unanswered:{p}")),
        repeat_contact.then(|| "repeat_contact".to_string()),
        tones
            .iter()
            .any(|t| t.tag == Tone::Distressed)
            .then(|| "tone:distressed".to_string()),
        shouting.then(|| "shouting".to_string()),
    ];
    for rule in raisers.into_iter().flatten() {
        urgency = urgency.raised();
        rules.push(rule);
    }
    Tagging {
        urgency,
        urgency_rules: rules,
        risks,
        tones,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risks(text: &str) -> Vec<Risk> {
        tag(text, Urgency::Normal, false)
            .risks
            .iter()
            .map(|f| f.tag)
            .collect()
    }

    #[test]
    fn each_risk_fires_in_several_languages() {
        assert_eq!(risks("I'll talk to my lawyer"), [Risk::LegalThreat]);
        assert_eq!(risks("vou no PROCON amanhã"), [Risk::LegalThreat]);
        assert_eq!(risks("this is a SCAM"), [Risk::FraudSignal]);
        assert_eq!(risks("ini penipuan ya?"), [Risk::FraudSignal]);
        assert_eq!(risks("I'm a journalist at the Daily"), [Risk::MediaRisk]);
        assert_eq!(risks("vou expor vocês no reclame aqui"), [Risk::MediaRisk]);
        assert_eq!(
            risks("the app is down for everyone"),
            [Risk::PossibleOutage]
        );
        assert_eq!(risks("el servidor está caído"), [Risk::PossibleOutage]);
        assert_eq!(risks("you stupid people"), [Risk::Abuse]);
        assert_eq!(risks("dasar goblok"), [Risk::Abuse]);
        assert_eq!(risks("I want to end my life"), [Risk::SelfHarm]);
        assert_eq!(risks("أريد انتحار"), [Risk::SelfHarm]);
        assert!(risks("where is my order").is_empty());
        assert!(risks("pursue a refund").is_empty(), "whole words only");
    }

    #[test]
    fn urgency_rules_raise_and_record_why() {
        let t = tag(
            "Your app charged me twice and nobody replied",
            Urgency::Normal,
            false,
        );
        assert_eq!(t.urgency, Urgency::Priority);
        assert!(t
            .urgency_rules
            .iter()
            .any(|r| r == "unanswered:nobody replied"));
        let t = tag("charged twice", Urgency::Normal, true);
        assert_eq!(t.urgency, Urgency::Priority, "repeat contact raises");
        assert!(t.urgency_rules.contains(&"repeat_contact".to_string()));
        assert_eq!(
            tag("urgente por favor", Urgency::Low, false).urgency,
            Urgency::Priority
        );
        assert_eq!(
            tag("WHERE IS MY ORDER I PAID LAST WEEK", Urgency::Normal, false).urgency,
            Urgency::Priority
        );
        assert_eq!(
            tag("this is fraud", Urgency::Low, false).urgency,
            Urgency::Immediate
        );
        assert_eq!(tag("thanks", Urgency::Low, false).urgency, Urgency::Low);
        assert_eq!(Urgency::Immediate.raised(), Urgency::Immediate);
    }

    #[test]
    fn tone() {
        let t = tag("tolong bantu saya", Urgency::Normal, false);
        assert_eq!(t.tones[0].tag, Tone::Distressed);
        assert_eq!(t.urgency, Urgency::Priority);
        assert_eq!(
            tag("where is it 😭😭", Urgency::Normal, false).tones[0].tag,
            Tone::Distressed
        );
        let t = tag("you idiota", Urgency::Normal, false);
        assert!(t.tones.iter().any(|f| f.tag == Tone::Abusive));
    }
}
