//! Triage of one message against its parts, on the shipped taxonomy and model:
//! - baseline: the NLU prediction alone (features + linear model + calibration);
//! - triage: split, classify each request, tags, language, noise, routing and approval.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use switchboard_core::triage::noise::{NoiseConfig, NoiseContext};
use switchboard_core::triage::{triage, TriageInput};
use switchboard_core::webhook::InboundMessage;

fn bench(c: &mut Criterion) {
    let triager = switchboard_app::nlu::triager(None, None).unwrap();
    let texts = [
        "Your app charged me twice and nobody replied",
        "hola, dónde está mi pedido #4471? ya pasaron 5 días",
        "mera refund abhi tak nahi aaya, order cancel kiya tha",
        "my order is late, refund not here, and my email is wrong",
    ];
    let messages: Vec<InboundMessage> = texts
        .iter()
        .map(|t| serde_json::from_value(json!({"id": "wamid.B", "from": "1", "timestamp": "1", "type": "text", "text": {"body": t}})).unwrap())
        .collect();
    let mut g = c.benchmark_group("triage_one_message");
    g.bench_function("baseline_nlu_rank_only", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % texts.len();
            std::hint::black_box(triager.classifier.rank(texts[i]));
        })
    });
    g.bench_function("full_triage", |b| {
        let mut i = 0;
        let noise = NoiseConfig::default();
        b.iter(|| {
            i = (i + 1) % messages.len();
            let input = TriageInput {
                message: &messages[i],
                conversation_lang: Some("en"),
                owner_queue: Some("tier1"),
                repeat_contact: false,
                vip: false,
                noise: NoiseContext {
                    now: 1,
                    recent: &[],
                    same_text_senders: 0,
                },
            };
            std::hint::black_box(triage(
                &input,
                &triager.taxonomy,
                triager.classifier.as_ref(),
                &noise,
            ));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
