//! Prediction latency: `cargo bench -p switchboard-nlu --bench predict`.
//!
//! With `SWITCHBOARD_NLU_BENCH_MODEL=path/to/model` the bench measures that model (the
//! benchmark script passes the CLINC150 model: 150 intents); otherwise it trains a synthetic
//! model of the same shape (150 intents), or a tiny one under `--test` so the test suite's
//! compile-and-run-once pass stays fast in debug builds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use switchboard_nlu::{split_requests, train, Example, IntentModel, TrainConfig};

const SHORT: &str = "hey where is my order?? it was supposed to arrive yesterday";
const LONG: &str = "Hello, I ordered a pair of running shoes two weeks ago and the tracking page still says \
    the parcel is at the warehouse. I have written twice already and nobody answered. Can you tell me \
    when it will arrive, or refund me if it is lost? Also my email address on the account is wrong.";

fn model() -> IntentModel {
    if let Ok(path) = std::env::var("SWITCHBOARD_NLU_BENCH_MODEL") {
        return IntentModel::load(path.as_ref())
            .expect("SWITCHBOARD_NLU_BENCH_MODEL is a model file");
    }
    let test_mode = std::env::args().any(|a| a == "--test");
    let (intents, per_intent) = if test_mode { (8, 6) } else { (150, 40) };
    let config = TrainConfig {
        min_df: 1,
        ..TrainConfig::default()
    };
    train(&synthetic(intents, per_intent), None, &config, &|_| {})
        .expect("synthetic data trains")
        .0
}

/// Deterministic pseudo-sentences: each intent has its own keywords among shared filler words.
fn synthetic(intents: usize, per_intent: usize) -> Vec<Example> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let syllables = [
        "ka", "lo", "mi", "ret", "sun", "dor", "pa", "vel", "is", "or", "te", "ban",
    ];
    let mut word =
        |len: usize| -> String { (0..len).map(|_| syllables[next(syllables.len())]).collect() };
    let fillers: Vec<String> = (0..300).map(|_| word(2)).collect();
    let keywords: Vec<Vec<String>> = (0..intents)
        .map(|_| (0..8).map(|_| word(3)).collect())
        .collect();
    let mut rng = 0x9e37_79b9u64;
    let mut pick = move |n: usize| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((rng >> 33) % n as u64) as usize
    };
    let mut out = Vec::new();
    for (i, keys) in keywords.iter().enumerate() {
        for _ in 0..per_intent {
            let mut words: Vec<&str> = (0..3).map(|_| keys[pick(keys.len())].as_str()).collect();
            words.extend((0..6).map(|_| fillers[pick(fillers.len())].as_str()));
            out.push(Example::new(words.join(" "), format!("intent_{i}")));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let model = model();
    let bytes = model.to_bytes();
    let mut group = c.benchmark_group(format!(
        "nlu ({} intents, {} features)",
        model.labels().len(),
        model.vocabulary_size()
    ));
    group.bench_function("predict short message", |b| {
        b.iter(|| black_box(model.predict(black_box(SHORT))))
    });
    group.bench_function("predict long message", |b| {
        b.iter(|| black_box(model.predict(black_box(LONG))))
    });
    group.bench_function("decide short message", |b| {
        b.iter(|| black_box(model.decide(black_box(SHORT))))
    });
    group.bench_function("split long message", |b| {
        b.iter(|| black_box(split_requests(black_box(LONG))))
    });
    group.bench_function("load model file", |b| {
        b.iter(|| black_box(IntentModel::from_bytes(black_box(&bytes))))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}

criterion_main!(benches);
