//! The ingest hot path against its floor, on the same 2 KB payload:
//! - baseline: HMAC-SHA256 check + a plain JSON parse (what any webhook receiver must do);
//! - ingest: signature check + split into events + encode each as a queue message.
//!
//! The ratio is what our splitting and encoding costs on top of the unavoidable work.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use switchboard_app::envelope::encode_inline;
use switchboard_core::signature::{sign, verify_signature};
use switchboard_core::split_webhook;

const SECRET: &[u8] = b"switchboard-bench-secret";

/// A realistic ~2 KB POST: one change with three inbound messages and a change with three statuses.
fn payload() -> Vec<u8> {
    let msgs: Vec<Value> = (0..3)
        .map(|i| json!({"from": "15550109999", "id": format!("wamid.HBgLMTU1NTAxMDk5OTkVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBM{i}A="),
            "timestamp": "1768471200", "type": "text", "text": {"body": "Hi, is my order #4471 shipped yet? It was due on Monday and the tracking page has shown nothing since Friday, please check."}}))
        .collect();
    let statuses: Vec<Value> = ["sent", "delivered", "read"].iter().enumerate()
        .map(|(i, s)| json!({"id": format!("wamid.HBgLMTU1NTAxMDk5OTkVAgARGBJCVVNJTkVTU01TRzAwMDAxM{i}A="), "status": s,
            "timestamp": "1768474800", "recipient_id": "15550109999",
            "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"}}))
        .collect();
    let meta = json!({"display_phone_number": "15550100001", "phone_number_id": "110000000000001"});
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "109876543210987", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": meta,
            "contacts": [{"profile": {"name": "Ana Test"}, "wa_id": "15550109999"}], "messages": msgs}},
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": meta, "statuses": statuses}}
    ]}]});
    serde_json::to_vec(&body).unwrap()
}

fn bench(c: &mut Criterion) {
    let body = payload();
    let header = sign(SECRET, &body);
    let mut g = c.benchmark_group("ingest_2kb");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("baseline_hmac_plus_json_parse", |b| {
        b.iter(|| {
            verify_signature(SECRET, &body, Some(&header)).unwrap();
            let v: Value = serde_json::from_slice(&body).unwrap();
            std::hint::black_box(v);
        })
    });
    g.bench_function("ingest_verify_split_encode", |b| {
        b.iter(|| {
            verify_signature(SECRET, &body, Some(&header)).unwrap();
            let events = split_webhook(&body, 1_768_500_000);
            let messages: Vec<_> = events.iter().map(|e| encode_inline(e).unwrap()).collect();
            std::hint::black_box(messages);
        })
    });
    g.finish();
    eprintln!("payload bytes: {}", body.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
