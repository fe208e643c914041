//! End-to-end tests on a tiny synthetic multilingual set (debug builds stay fast).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::*;

fn toy() -> Vec<Example> {
    let rows: &[(&str, &[&str])] = &[
        (
            "order_status",
            &[
                "where is my order",
                "my order has not arrived",
                "when will my package arrive",
                "track my order please",
                "dónde está mi pedido",
                "mi pedido no ha llegado",
                "onde está meu pedido",
                "mera order kahan hai",
            ],
        ),
        (
            "refund",
            &[
                "i want a refund",
                "give me my money back",
                "refund my payment",
                "i was charged twice refund please",
                "quiero un reembolso",
                "devuélvanme el dinero",
                "quero meu dinheiro de volta",
                "أريد استرداد المبلغ",
            ],
        ),
        (
            "change_address",
            &[
                "change my delivery address",
                "update the shipping address",
                "i moved, new address",
                "wrong address on my order",
                "cambiar mi dirección",
                "mudar o endereço de entrega",
                "alamat saya salah",
                "पता बदलना है",
            ],
        ),
        (
            "greeting",
            &[
                "hi",
                "hello",
                "good morning",
                "hey there",
                "hola",
                "olá",
                "مرحبا",
                "namaste 🙏",
            ],
        ),
        (
            "thanks",
            &[
                "thank you",
                "thanks a lot",
                "thx 👍",
                "gracias",
                "obrigado",
                "شكرا",
                "dhanyavad",
                "terima kasih",
            ],
        ),
    ];
    rows.iter()
        .flat_map(|(label, texts)| texts.iter().map(move |t| Example::new(*t, *label)))
        .collect()
}

fn quiet(_: Progress) {}

fn trained() -> (IntentModel, TrainReport) {
    let config = TrainConfig {
        min_df: 1,
        threads: 2,
        ..TrainConfig::default()
    };
    train(&toy(), None, &config, &quiet).expect("toy set trains")
}

#[test]
fn toy_model_is_perfect_on_its_training_data() {
    let (model, report) = trained();
    assert_eq!(report.intents, 5);
    assert_eq!(report.holdout_source, "split");
    for e in toy() {
        let p = model.predict(&e.text);
        assert_eq!(
            p.best().map(|b| b.label),
            Some(e.label.as_str()),
            "{:?}",
            e.text
        );
        let sum: f32 = p.ranked.iter().map(|s| s.confidence).sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert!(p
            .ranked
            .windows(2)
            .all(|w| w[0].confidence >= w[1].confidence));
    }
    // Typos and elongation still land thanks to character n-grams.
    assert_eq!(
        model.predict("wheeere is my ordr").best().unwrap().label,
        "order_status"
    );
}

#[test]
fn training_reports_progress_and_is_deterministic() {
    let phases = Mutex::new(Vec::new());
    let calls = AtomicUsize::new(0);
    let record = |p: Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
        phases.lock().unwrap().push(p.phase);
    };
    let config = TrainConfig {
        min_df: 1,
        ..TrainConfig::default()
    };
    let (a, _) = train(&toy(), None, &config, &record).unwrap();
    let phases = phases.into_inner().unwrap();
    for phase in [
        Phase::Featurising,
        Phase::TrainingHoldoutModel,
        Phase::Calibrating,
        Phase::TrainingFinalModel,
    ] {
        assert!(phases.contains(&phase), "{phase:?} missing");
    }
    let (b, _) = train(&toy(), None, &config, &quiet).unwrap();
    assert_eq!(a.version(), b.version());
    assert_eq!(a.to_bytes(), b.to_bytes());
}

#[test]
fn a_dev_set_is_used_for_calibration() {
    let dev = vec![
        Example::new("where is the order", "order_status"),
        Example::new("refund me", "refund"),
        Example::new("x", "never_seen"),
    ];
    let config = TrainConfig {
        min_df: 1,
        ..TrainConfig::default()
    };
    let (model, report) = train(&toy(), Some(&dev), &config, &quiet).unwrap();
    assert_eq!(report.holdout_source, "dev");
    assert_eq!(report.holdout_examples, 2);
    assert_eq!(report.holdout_unknown_ignored, 1);
    assert_eq!(model.info().training_examples, toy().len() + 2);
}

#[test]
fn training_rejects_bad_input() {
    let one = vec![Example::new("a", "x"), Example::new("b", "x")];
    assert_eq!(
        train(&one, None, &TrainConfig::default(), &quiet).unwrap_err(),
        TrainError::TooFewIntents(1)
    );
    let empty_label = vec![Example::new("a", "x"), Example::new("b", " ")];
    assert_eq!(
        train(&empty_label, None, &TrainConfig::default(), &quiet).unwrap_err(),
        TrainError::EmptyLabel(1)
    );
    let bad_c = TrainConfig {
        c: -1.0,
        ..TrainConfig::default()
    };
    assert!(matches!(
        train(&toy(), None, &bad_c, &quiet),
        Err(TrainError::InvalidConfig(_))
    ));
}

#[test]
fn hostile_text_never_panics_and_unrecognisable_text_abstains() {
    let (model, _) = trained();
    for text in [
        "",
        " ",
        "???",
        "\u{0}\u{FEFF}",
        "ᚠᛇᚻ᛫ᛒᛦᚦ",
        &"x".repeat(2_000_000),
        &"🙂".repeat(10_000),
    ] {
        let p = model.predict(text);
        assert_eq!(p.ranked.len(), 5);
        assert!(p.ranked.iter().all(|s| s.confidence.is_finite()));
    }
    assert!(matches!(model.decide(""), Decision::Abstain { .. }));
    assert!(matches!(model.decide("ᚠᛇᚻ"), Decision::Abstain { .. }));
}

#[test]
fn thresholds_turn_low_confidence_into_abstentions() {
    let (model, _) = trained();
    let p = model.predict("where is my order");
    let best = *p.best().unwrap();
    let mut strict = Thresholds::uniform(0.0);
    strict
        .per_intent
        .insert("order_status".into(), best.confidence + 0.01);
    assert_eq!(
        strict.decide(&p),
        Decision::Abstain {
            best_label: Some("order_status".into()),
            confidence: best.confidence
        }
    );
    let lenient = Thresholds::uniform(best.confidence);
    assert_eq!(
        lenient.decide(&p),
        Decision::Intent {
            label: "order_status".into(),
            confidence: best.confidence
        }
    );
    // Tuned thresholds are probabilities.
    let tuned = model.thresholds();
    assert!((0.0..=1.0).contains(&tuned.default));
    assert!(tuned.per_intent.values().all(|t| (0.0..=1.0).contains(t)));
}

#[test]
fn model_file_round_trips() {
    let (model, _) = trained();
    let bytes = model.to_bytes();
    let loaded = IntentModel::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.version(), model.version());
    assert!(model.version().starts_with(&format!("v{FORMAT_VERSION}-")));
    assert_eq!(model.version().len(), 3 + 12);
    for e in toy() {
        assert_eq!(loaded.predict(&e.text), model.predict(&e.text));
    }
    let dir = std::env::temp_dir().join(format!("switchboard-nlu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("toy.sbnlu");
    model.save(&path).unwrap();
    assert_eq!(IntentModel::load(&path).unwrap(), model);
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(
        IntentModel::load(&dir.join("missing")),
        Err(ModelFileError::Io { .. })
    ));
}

#[test]
fn changing_thresholds_changes_the_version() {
    let (mut model, _) = trained();
    let before = model.version().to_string();
    model.set_thresholds(Thresholds::uniform(0.5));
    assert_ne!(model.version(), before);
    assert_eq!(
        IntentModel::from_bytes(&model.to_bytes())
            .unwrap()
            .version(),
        model.version()
    );
}

#[test]
fn corrupt_model_files_fail_with_clear_errors() {
    let (model, _) = trained();
    let bytes = model.to_bytes();
    assert!(matches!(
        IntentModel::from_bytes(b""),
        Err(ModelFileError::NotAModel)
    ));
    assert!(matches!(
        IntentModel::from_bytes(b"{\"json\": true}"),
        Err(ModelFileError::NotAModel)
    ));
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&99u32.to_le_bytes());
    assert!(matches!(
        IntentModel::from_bytes(&newer),
        Err(ModelFileError::UnsupportedVersion {
            found: 99,
            supported: 1
        })
    ));
    for cut in [10, 30, 52, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                IntentModel::from_bytes(&bytes[..cut]),
                Err(ModelFileError::Truncated { .. })
            ),
            "cut at {cut}"
        );
    }
    let mut flipped = bytes.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 0x40;
    assert!(matches!(
        IntentModel::from_bytes(&flipped),
        Err(ModelFileError::ChecksumMismatch)
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        IntentModel::from_bytes(&longer),
        Err(ModelFileError::Invalid(_))
    ));
    // Errors explain themselves.
    let message = IntentModel::from_bytes(&bytes[..100])
        .unwrap_err()
        .to_string();
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn evaluation_reports_open_set_rejection() {
    let (model, _) = trained();
    let mut test = toy();
    test.push(Example::new(
        "what is the weather tomorrow in paris",
        "weather",
    ));
    test.push(Example::new("ᚠᛇᚻ᛫ᛒᛦᚦ", "weather"));
    let report = evaluate(&model, &test, Some(model.thresholds()), "tuned");
    assert_eq!(report.examples, toy().len() + 2);
    assert_eq!(report.closed_set.examples, toy().len());
    assert_eq!(report.closed_set.accuracy, 1.0);
    let open = report.open_set.expect("unknown intents present");
    assert_eq!(open.unknown_examples, 2);
    assert!(
        open.unknown_rejection_rate >= 0.5,
        "the unreadable one is always rejected"
    );
    let closed = evaluate(&model, &toy(), None, "none");
    assert!(closed.abstention.is_none() && closed.open_set.is_none());
    assert_eq!(closed.closed_set.per_intent.len(), 5);
}
