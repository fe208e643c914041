//! The outbound gate's cost against the call it guards, on the local backend:
//! - baseline: the bare Graph call, `POST /{phone-number-id}/messages` to the fake over loopback
//!   HTTP (what any sender must pay);
//! - gate: `Sender::deliver` of a fresh send — conversation, window, consent and send-record reads,
//!   the gate's rules, two token-bucket updates, the same Graph call, then one transaction with
//!   the message, status item, audit entry, outbox and event log, and the outbox flush.
//!
//! Limits are lifted (huge buckets): this measures the work per send, not the throttle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use switchboard_app::outbound::{MessageApi, SendOutcome, Sender};
use switchboard_app::ports::table::item;
use switchboard_app::ports::{StaticTokens, Table};
use switchboard_app::SystemClock;
use switchboard_core::keys;
use switchboard_core::outbound::{Bucket, Content, Limits, Origin, SendRequest};
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};
use switchboard_local::LocalStack;

const TOKEN: &str = "bench-token";
const PNID: &str = "110000000000001";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (fake, stack, graph) = rt.block_on(async {
        let fake = GraphFake::start().await;
        fake.add_token(TOKEN);
        let stack = LocalStack::open(dir.path(), Arc::new(SystemClock)).unwrap();
        let graph = Arc::new(GraphClient::new(GraphConfig::for_fake(&fake)).unwrap());
        let conv = keys::conversation("acme", "cv_bench");
        stack
            .table
            .put(
                item(
                    &conv.into(),
                    json!({"kind": "conversation", "id": "cv_bench", "contact_id": "c_bench",
                       "state": "assigned", "owner": "ana", "phone_number_id": PNID,
                       "wa_id": "15550109999", "version": 1, "last_activity": 1}),
                ),
                None,
            )
            .await
            .unwrap();
        stack
            .table
            .put(
                item(
                    &keys::window("acme", "c_bench").into(),
                    json!({"kind": "window", keys::ATTR_EXPIRES_AT: i64::MAX / 2}),
                ),
                None,
            )
            .await
            .unwrap();
        (fake, stack, graph)
    });
    let unlimited = Bucket {
        capacity: 1e12,
        per_sec: 1e12,
    };
    let sender = Sender {
        table: stack.table.clone(),
        bus: stack.bus.clone(),
        clock: Arc::new(SystemClock),
        api: graph.clone(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some(TOKEN.into()),
        }),
        limits: Limits {
            per_number_mps: 1e12,
            pair: unlimited,
        },
    };
    let body = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                      "to": "+15550109999", "type": "text", "text": {"body": "Your refund is on its way"}});
    let n = AtomicU64::new(0);

    let mut g = c.benchmark_group("send_one_message");
    g.bench_function("baseline_graph_call_only", |b| {
        b.iter(|| {
            rt.block_on(async {
                std::hint::black_box(graph.send(TOKEN, PNID, &body).await.unwrap());
            })
        })
    });
    g.bench_function("through_the_gate", |b| {
        b.iter(|| {
            let key = format!("bench-{}", n.fetch_add(1, Ordering::Relaxed));
            let req = SendRequest {
                tenant: "acme".into(),
                conversation_id: "cv_bench".into(),
                idempotency_key: key,
                origin: Origin::Agent { name: "ana".into() },
                content: Content::Text {
                    body: "Your refund is on its way".into(),
                    preview_url: false,
                },
                in_reply_to: None,
                requested_at: 0,
            };
            let body = serde_json::to_string(&req).unwrap();
            rt.block_on(async {
                let outcome = sender.deliver(&body, 1).await.unwrap();
                assert!(matches!(outcome, SendOutcome::Sent { .. }));
            })
        })
    });
    g.finish();
    drop(fake);
}

criterion_group!(benches, bench);
criterion_main!(benches);
