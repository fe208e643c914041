//! Word lists in English, Spanish, Portuguese and Indonesian (Malay uses the Indonesian list), and
//! a phrase matcher over [`Analysed`] tokens.
//!
//! Lists are per language because words collide across them: Spanish "sale" means "leaves" ("su
//! pedido sale hoy"), so "sale" is promotional only in English. A template in another language is
//! checked against every list. Phrases are written with accents; they are normalised (lowercase,
//! accents folded, split into words) once, on first use, into a map keyed by first word, so a
//! text is matched in one pass over its words whatever the size of the lists.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::text::{fold, Analysed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    /// Sales language: makes a UTILITY template MARKETING (§6.5).
    Promotional,
    /// Urgency and pressure.
    Pressure,
    /// A phrase that contains a pressure word but is not pressure ("akan segera" = "will soon").
    NotPressure,
    /// Identifiers Meta forbids asking for in full (§6.7); a partial ("last 4 digits") is fine.
    Identifier,
    /// Secrets that may not be asked for at all, even partially.
    Secret,
    /// Verbs that ask the user to give something.
    Request,
    /// "last 4 digits", "ending in": the identifier is partial.
    Partial,
    Negation,
    /// One-time passcode wording.
    Otp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
    Pt,
    Id,
    /// Any other language: every list applies.
    All,
}

impl Lang {
    pub fn from_code(code: Option<&str>) -> Self {
        let code = code.unwrap_or_default().to_ascii_lowercase();
        match code.split(['_', '-']).next().unwrap_or_default() {
            "en" => Self::En,
            "es" => Self::Es,
            "pt" => Self::Pt,
            "id" | "ms" => Self::Id,
            _ => Self::All,
        }
    }
}

type List = (Class, &'static [&'static str]);

/// In every language's list: brand-like marketing words used untranslated.
const UNIVERSAL: &[List] = &[
    (
        Class::Promotional,
        &[
            "promo",
            "black friday",
            "cyber monday",
            "cashback",
            "flash sale",
            "% off",
            "voucher",
        ],
    ),
    (Class::Otp, &["otp", "2fa"]),
    (
        Class::Identifier,
        &["iban", "cvu", "cbu", "clabe", "swift code"],
    ),
    (Class::Secret, &["cvv", "cvc", "cvv2", "mpin"]),
];

const ENGLISH: &[List] = &[
    (
        Class::Promotional,
        &[
            "sale",
            "on sale",
            "discount",
            "discounts",
            "discounted",
            "limited offer",
            "special offer",
            "exclusive offer",
            "offer",
            "offers",
            "deal",
            "deals",
            "coupon",
            "coupons",
            "promo code",
            "promotion",
            "promotions",
            "buy now",
            "shop now",
            "order now",
            "free shipping",
            "free gift",
            "for free",
            "free trial",
            "save up to",
            "best price",
            "lowest price",
            "new arrivals",
            "new collection",
            "clearance",
            "bogo",
            "buy one get one",
            "bestseller",
            "best seller",
            "giveaway",
            "win a",
            "upgrade now",
            "subscribe now",
        ],
    ),
    (
        Class::Pressure,
        &[
            "act now",
            "last chance",
            "hurry",
            "hurry up",
            "only today",
            "today only",
            "don't miss",
            "don't miss out",
            "do not miss",
            "limited time",
            "while stocks last",
            "while supplies last",
            "before it's too late",
            "ends tonight",
            "ends today",
            "final hours",
            "last day",
            "urgent",
            "now or never",
            "running out",
            "selling fast",
            "before it's gone",
            "last few",
        ],
    ),
    (
        Class::Identifier,
        &[
            "card number",
            "credit card",
            "credit card number",
            "debit card",
            "debit card number",
            "card details",
            "full card number",
            "bank account",
            "bank account number",
            "account number",
            "routing number",
            "sort code",
            "ssn",
            "social security",
            "social security number",
            "national id",
            "national id number",
            "passport number",
            "aadhaar",
            "aadhar",
            "aadhaar number",
            "pan number",
            "tax id",
            "driver's license number",
            "nin",
        ],
    ),
    (
        Class::Secret,
        &[
            "password",
            "pin code",
            "pin number",
            "security code",
            "card security code",
        ],
    ),
    (
        Class::Request,
        &[
            "send",
            "send us",
            "share",
            "provide",
            "reply with",
            "enter",
            "type",
            "give us",
            "tell us",
            "submit",
            "fill in",
            "confirm",
            "text us",
            "reply",
        ],
    ),
    (
        Class::Partial,
        &[
            "last 4",
            "last four",
            "last 4 digits",
            "last digits",
            "last two",
            "last 2",
            "ending in",
            "ending with",
            "ends in",
            "final digits",
            "first 6",
        ],
    ),
    (
        Class::Negation,
        &[
            "never", "not", "don't", "do not", "won't", "will not", "no one", "nobody",
        ],
    ),
    (
        Class::Otp,
        &[
            "verification code",
            "one-time password",
            "one time password",
            "one-time code",
            "one time code",
            "passcode",
            "login code",
            "sign-in code",
            "security code",
            "authentication code",
            "confirmation code",
        ],
    ),
];

const SPANISH: &[List] = &[
    (
        Class::Promotional,
        &[
            "oferta",
            "ofertas",
            "descuento",
            "descuentos",
            "% de descuento",
            "% dto",
            "rebaja",
            "rebajas",
            "promoción",
            "promociones",
            "cupón",
            "cupones",
            "gratis",
            "envío gratis",
            "2x1",
            "compra ahora",
            "compra ya",
            "liquidación",
            "precio especial",
            "código promocional",
            "aprovecha",
            "nueva colección",
            "regalo",
            "sorteo",
        ],
    ),
    (
        Class::Pressure,
        &[
            "última oportunidad",
            "solo hoy",
            "sólo hoy",
            "date prisa",
            "apúrate",
            "no te lo pierdas",
            "por tiempo limitado",
            "tiempo limitado",
            "actúa ahora",
            "actúa ya",
            "últimas horas",
            "últimas unidades",
            "hasta agotar existencias",
            "antes de que se acabe",
            "urgente",
            "corre",
        ],
    ),
    (
        Class::NotPressure,
        &["corre por nuestra cuenta", "corre a cargo"],
    ),
    (
        Class::Identifier,
        &[
            "número de tarjeta",
            "tarjeta de crédito",
            "tarjeta de débito",
            "datos de la tarjeta",
            "cuenta bancaria",
            "número de cuenta",
            "dni",
            "curp",
            "rfc",
            "nie",
            "nif",
            "rut",
            "cuit",
            "cuil",
            "cédula",
            "número de documento",
            "número de identificación",
            "número de pasaporte",
        ],
    ),
    (
        Class::Secret,
        &["contraseña", "clave", "código de seguridad"],
    ),
    (
        Class::Request,
        &[
            "envía",
            "envíanos",
            "enviar",
            "comparte",
            "compártenos",
            "proporciona",
            "proporciónanos",
            "indica",
            "indícanos",
            "escribe",
            "responde",
            "confirma",
            "ingresa",
            "introduce",
            "danos",
            "facilita",
            "facilítanos",
            "manda",
            "mándanos",
        ],
    ),
    (
        Class::Partial,
        &[
            "últimos 4",
            "últimos cuatro",
            "últimos dígitos",
            "terminada en",
            "que termina en",
            "terminación",
        ],
    ),
    (Class::Negation, &["nunca", "jamás", "no", "nadie"]),
    (
        Class::Otp,
        &[
            "código de verificación",
            "código de acceso",
            "código de seguridad",
            "código de confirmación",
            "clave temporal",
            "contraseña de un solo uso",
            "código de un solo uso",
        ],
    ),
];

const PORTUGUESE: &[List] = &[
    (
        Class::Promotional,
        &[
            "oferta",
            "ofertas",
            "promoção",
            "promoções",
            "desconto",
            "descontos",
            "% de desconto",
            "cupom",
            "cupons",
            "grátis",
            "frete grátis",
            "liquidação",
            "compre agora",
            "compre já",
            "queima de estoque",
            "preço especial",
            "código promocional",
            "imperdível",
            "brinde",
            "sorteio",
            "cashback",
        ],
    ),
    (
        Class::Pressure,
        &[
            "última chance",
            "última oportunidade",
            "corra",
            "aproveite",
            "aproveite já",
            "só hoje",
            "somente hoje",
            "apenas hoje",
            "não perca",
            "por tempo limitado",
            "tempo limitado",
            "últimas horas",
            "últimas unidades",
            "enquanto durarem os estoques",
            "urgente",
        ],
    ),
    // "Aproveite seu produto!" closes many delivery notices: "enjoy", not "hurry".
    (
        Class::NotPressure,
        &[
            "aproveite seu",
            "aproveite sua",
            "aproveite o seu",
            "aproveite a sua",
        ],
    ),
    (
        Class::Identifier,
        &[
            "número do cartão",
            "cartão de crédito",
            "cartão de débito",
            "dados do cartão",
            "conta bancária",
            "número da conta",
            "dados bancários",
            "cpf",
            "rg",
            "cnh",
            "número do documento",
            "número do passaporte",
        ],
    ),
    (Class::Secret, &["senha", "código de segurança"]),
    (
        Class::Request,
        &[
            "envie",
            "enviar",
            "envia",
            "mande",
            "manda",
            "informe",
            "informar",
            "compartilhe",
            "digite",
            "responda",
            "confirme",
            "passe",
            "forneça",
            "nos envie",
            "nos informe",
        ],
    ),
    (
        Class::Partial,
        &[
            "últimos 4",
            "últimos quatro",
            "últimos dígitos",
            "final",
            "terminado em",
            "com final",
            "terminação",
        ],
    ),
    (
        Class::Negation,
        &["nunca", "jamais", "não", "ninguém", "nenhum"],
    ),
    (
        Class::Otp,
        &[
            "código de verificação",
            "código de acesso",
            "código de segurança",
            "código de confirmação",
            "senha temporária",
            "senha de uso único",
            "código de uso único",
        ],
    ),
];

const INDONESIAN: &[List] = &[
    (
        Class::Promotional,
        &[
            "diskon",
            "potongan harga",
            "gratis",
            "gratis ongkir",
            "kupon",
            "beli sekarang",
            "belanja sekarang",
            "harga spesial",
            "harga khusus",
            "obral",
            "penawaran",
            "penawaran spesial",
            "penawaran terbatas",
            "hemat",
            "beli 1 gratis 1",
            "cuci gudang",
            "hadiah",
        ],
    ),
    (
        Class::Pressure,
        &[
            "buruan",
            "segera",
            "hanya hari ini",
            "kesempatan terakhir",
            "jangan sampai ketinggalan",
            "jangan lewatkan",
            "waktu terbatas",
            "stok terbatas",
            "sekarang juga",
            "hari terakhir",
            "cepat",
            "mendesak",
        ],
    ),
    // "akan segera dikirim" = "will be sent soon": a delivery notice, not pressure.
    (
        Class::NotPressure,
        &[
            "akan segera",
            "segera dikirim",
            "segera diproses",
            "segera menghubungi",
            "segera kami",
        ],
    ),
    (
        Class::Identifier,
        &[
            "nomor kartu",
            "kartu kredit",
            "kartu debit",
            "data kartu",
            "rekening",
            "nomor rekening",
            "rekening bank",
            "nik",
            "ktp",
            "nomor ktp",
            "nomor induk kependudukan",
            "npwp",
            "nomor paspor",
        ],
    ),
    (Class::Secret, &["kata sandi", "sandi", "pin"]),
    (
        Class::Request,
        &[
            "kirim",
            "kirimkan",
            "berikan",
            "bagikan",
            "masukkan",
            "balas",
            "sebutkan",
            "konfirmasi",
            "isi",
            "ketik",
            "informasikan",
        ],
    ),
    (
        Class::Partial,
        &[
            "4 digit terakhir",
            "empat digit terakhir",
            "digit terakhir",
            "angka terakhir",
            "berakhiran",
        ],
    ),
    (
        Class::Negation,
        &["jangan", "tidak", "tidak pernah", "bukan"],
    ),
    (
        Class::Otp,
        &[
            "kode otp",
            "kode verifikasi",
            "kode keamanan",
            "kode akses",
            "kata sandi sekali pakai",
        ],
    ),
];

/// A phrase as its normalised words.
#[derive(Debug)]
struct Phrase {
    class: Class,
    words: Vec<String>,
}

/// Phrases keyed by their first word.
#[derive(Debug, Default)]
pub(crate) struct Lexicon {
    by_first: HashMap<String, Vec<Phrase>>,
}

/// One phrase found in a text: token indices `first..=last`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match {
    pub class: Class,
    pub first: usize,
    pub last: usize,
}

/// The same normalisation as [`Analysed`]: lowercase, folded, letters/digits runs and `%`.
fn phrase_words(phrase: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in phrase.chars() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase().map(fold));
        } else {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            if c == '%' {
                words.push("%".into());
            }
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

impl Lexicon {
    fn build(lists: &[&[List]]) -> Self {
        let mut lex = Self::default();
        for list in lists {
            for &(class, phrases) in *list {
                for &text in phrases {
                    let words = phrase_words(text);
                    let Some(first) = words.first().cloned() else {
                        continue;
                    };
                    let entry = lex.by_first.entry(first).or_default();
                    if !entry.iter().any(|p| p.class == class && p.words == words) {
                        entry.push(Phrase { class, words });
                    }
                }
            }
        }
        // Longest first, so "last 4 digits" wins over "last 4" at the same word.
        for v in lex.by_first.values_mut() {
            v.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        }
        lex
    }

    pub fn for_lang(lang: Lang) -> &'static Self {
        static LEXICONS: LazyLock<[Lexicon; 5]> = LazyLock::new(|| {
            [
                Lexicon::build(&[UNIVERSAL, ENGLISH]),
                Lexicon::build(&[UNIVERSAL, SPANISH]),
                Lexicon::build(&[UNIVERSAL, PORTUGUESE]),
                Lexicon::build(&[UNIVERSAL, INDONESIAN]),
                Lexicon::build(&[UNIVERSAL, ENGLISH, SPANISH, PORTUGUESE, INDONESIAN]),
            ]
        });
        let i = match lang {
            Lang::En => 0,
            Lang::Es => 1,
            Lang::Pt => 2,
            Lang::Id => 3,
            Lang::All => 4,
        };
        &LEXICONS[i]
    }

    /// Every phrase of every class found in the text; for each class, the longest match at a
    /// position, and none inside a longer match of the same class.
    pub fn find(&self, text: &Analysed) -> Vec<Match> {
        let mut out: Vec<Match> = Vec::new();
        for (i, t) in text.tokens.iter().enumerate() {
            let Some(candidates) = self.by_first.get(text.norm(t)) else {
                continue;
            };
            for p in candidates {
                let last = i + p.words.len() - 1;
                if last >= text.tokens.len() {
                    continue;
                }
                let matches = p.words[1..]
                    .iter()
                    .zip(&text.tokens[i + 1..=last])
                    .all(|(w, tok)| text.norm(tok) == w);
                let covered = out
                    .iter()
                    .any(|m| m.class == p.class && m.first <= i && last <= m.last);
                if matches && !covered {
                    out.push(Match {
                        class: p.class,
                        first: i,
                        last,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each match's class and the text it covers.
    fn classes(lang: Lang, text: &str) -> Vec<(Class, String)> {
        let a = Analysed::new(text);
        Lexicon::for_lang(lang)
            .find(&a)
            .into_iter()
            .map(|m| {
                (
                    m.class,
                    a.slice(a.tokens[m.first].start, a.tokens[m.last].end),
                )
            })
            .collect()
    }

    #[test]
    fn longest_phrase_wins_and_accents_fold() {
        assert_eq!(
            classes(Lang::Pt, "PROMOCAO com frete gratis"),
            vec![
                (Class::Promotional, "PROMOCAO".into()),
                (Class::Promotional, "frete gratis".into())
            ]
        );
    }

    #[test]
    fn percent_off() {
        assert_eq!(
            classes(Lang::En, "Get 20% off today"),
            vec![(Class::Promotional, "% off".into())]
        );
    }

    #[test]
    fn per_language_lists() {
        assert!(classes(Lang::Es, "Su pedido sale hoy").is_empty());
        assert_eq!(
            classes(Lang::En, "Summer sale"),
            vec![(Class::Promotional, "sale".into())]
        );
        assert_eq!(
            classes(Lang::All, "Summer sale").len(),
            1,
            "unknown languages use every list"
        );
    }

    #[test]
    fn apostrophes() {
        assert_eq!(
            classes(Lang::En, "Don’t miss out!"),
            vec![
                (Class::Pressure, "Don’t miss out".into()),
                (Class::Negation, "Don’t".into())
            ]
        );
    }
}
