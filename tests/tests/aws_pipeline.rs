//! The same pipeline on the AWS adapters against moto server: the ingest function's router on
//! SQS FIFO + S3, the conversation function's handler on DynamoDB, fed from what SQS delivers.
//! Skips without `SWITCHBOARD_MOTO_URL` unless `SWITCHBOARD_REQUIRE_MOTO=1`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use switchboard_app::ingest::{Ingest, WebhookSecrets};
use switchboard_app::process::Processor;
use switchboard_app::{queries, routes, Queue, SystemClock};
use switchboard_aws::{provision, DynamoTable, S3BlobStore, SqsQueue};
use switchboard_e2e::{sign, text, webhook, DEMO_SECRET, PNID};
use tower::ServiceExt;

/// An API Gateway v2 POST /webhook event around `body`.
fn apigw_post(body: &[u8], signature: &str) -> lambda_http::Request {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/ingest/200-signed-text.json"
    ))
    .unwrap();
    let mut ev: Value = serde_json::from_str(&template).unwrap();
    ev["body"] = json!(String::from_utf8(body.to_vec()).unwrap());
    ev["headers"]["x-hub-signature-256"] = json!(signature);
    lambda_http::request::from_str(&ev.to_string()).unwrap()
}

struct Aws {
    ingest: Arc<Ingest>,
    queue: Arc<SqsQueue>,
    processor: Processor,
    table: Arc<DynamoTable>,
    /// An SQS queue receiving everything published on the EventBridge bus.
    tap: String,
}

async fn aws(conf: &aws_config::SdkConfig) -> Aws {
    let sqs = aws_sdk_sqs::Client::new(conf);
    let (url, _dlq) = provision::create_fifo_with_dlq(&sqs, &provision::unique_name("events"), 5)
        .await
        .unwrap();
    let ddb = aws_sdk_dynamodb::Client::new(conf);
    let table_name = provision::unique_name("switchboard");
    provision::create_table(&ddb, &table_name).await.unwrap();
    let s3 = S3BlobStore::client(conf);
    let bucket = provision::unique_name("claims");
    provision::create_bucket(&s3, &bucket).await.unwrap();
    let (bus_name, tap) = provision::create_bus_with_tap(
        &aws_sdk_eventbridge::Client::new(conf),
        &sqs,
        &provision::unique_name("bus"),
    )
    .await
    .unwrap();
    let clock = Arc::new(SystemClock);
    let queue = Arc::new(SqsQueue::new(sqs, url));
    let blobs = Arc::new(S3BlobStore::new(s3, bucket));
    let table = Arc::new(DynamoTable::new(ddb, table_name, clock.clone()));
    routes::set_phone_route(table.as_ref(), PNID, "acme")
        .await
        .unwrap();
    Aws {
        ingest: Arc::new(Ingest {
            secrets: WebhookSecrets {
                app_secret: DEMO_SECRET.into(),
                verify_token: "t".into(),
            },
            queue: queue.clone(),
            blobs: blobs.clone(),
            clock: clock.clone(),
        }),
        queue,
        processor: Processor {
            table: table.clone(),
            blobs,
            clock,
            bus: Arc::new(switchboard_aws::EventBridgeBus::new(
                aws_sdk_eventbridge::Client::new(conf),
                bus_name,
            )),
            triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
            outbound: switchboard_e2e::aws_outbound_queues(conf).await,
        },
        tap,
        table,
    }
}

impl Aws {
    async fn post(&self, body: &[u8]) -> u16 {
        let router = switchboard_http::webhook_router(self.ingest.clone());
        let res = router.oneshot(apigw_post(body, &sign(body))).await.unwrap();
        let status = res.status().as_u16();
        let _ = res.into_body().collect().await;
        status
    }

    /// Delivers what SQS holds to the conversation handler as Lambda's event source mapping
    /// would: batches of up to 10 records, acking what the handler did not report as failed.
    async fn drain(&self) {
        for _ in 0..50 {
            let msgs = self.queue.receive(10, 30).await.unwrap();
            if msgs.is_empty() {
                if self.queue.depth().await.unwrap() == 0 {
                    return;
                }
                continue;
            }
            let records: Vec<Value> = msgs
                .iter()
                .map(|m| json!({"messageId": m.message_id, "receiptHandle": m.receipt, "body": m.body,
                    "attributes": {"MessageGroupId": m.group, "ApproximateReceiveCount": m.receive_count.to_string()},
                    "messageAttributes": {}, "eventSource": "aws:sqs"}))
                .collect();
            let event: SqsEvent = serde_json::from_value(json!({"Records": records})).unwrap();
            let res = conversation::handle_batch(&self.processor, event).await;
            assert!(
                res.batch_item_failures.is_empty(),
                "{:?}",
                res.batch_item_failures
            );
            for m in msgs {
                self.queue.ack(&m.receipt).await.unwrap();
            }
        }
        panic!("queue never drained");
    }
}

#[tokio::test]
async fn webhook_to_dynamodb_through_sqs_fifo_and_s3() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let a = aws(&conf).await;

    // Three customers, two messages each, one POST repeated: six messages, three conversations.
    let msgs = (0..6)
        .map(|i| {
            text(
                &format!("1555010000{}", i % 3),
                &format!("wamid.AWS{i}"),
                1_800_000_000 + i,
                &format!("m{i}"),
            )
        })
        .collect();
    let body = webhook(PNID, msgs);
    assert_eq!(a.post(&body).await, 200);
    assert_eq!(a.post(&body).await, 200);
    // A claim-checked event: bigger than an SQS message.
    let mut huge = text("15550100009", "wamid.AWSHUGE", 1_800_000_100, "big");
    huge["future_field"] = json!("z".repeat(300 * 1024));
    assert_eq!(a.post(&webhook(PNID, vec![huge])).await, 200);
    a.drain().await;

    let list = queries::list_conversations(a.table.as_ref(), &SystemClock, "acme", None, 50, None)
        .await
        .unwrap();
    assert_eq!(list.items.len(), 4);
    let total: i64 = list.items.iter().map(|c| c.message_count).sum();
    assert_eq!(total, 7, "duplicates deduplicated, the big one stored");
    for c in &list.items {
        let msgs = queries::list_messages(a.table.as_ref(), "acme", &c.id, 50, None)
            .await
            .unwrap()
            .unwrap();
        let ts: Vec<i64> = msgs.items.iter().map(|m| m.timestamp).collect();
        let mut sorted = ts.clone();
        sorted.sort();
        assert_eq!(ts, sorted, "oldest first");
    }
}

#[tokio::test]
async fn triage_routes_and_publishes_visibility_events_on_eventbridge() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let a = aws(&conf).await;
    // A billing message, then (same customer) an app crash: finance owns, engineering sees it.
    let first = webhook(
        PNID,
        vec![text(
            "15550100042",
            "wamid.TRI1",
            1_800_000_000,
            "I was charged twice for my last order",
        )],
    );
    assert_eq!(a.post(&first).await, 200);
    a.drain().await;
    let second = webhook(
        PNID,
        vec![text(
            "15550100042",
            "wamid.TRI2",
            1_800_000_060,
            "also the app keeps crashing when I open it",
        )],
    );
    assert_eq!(a.post(&second).await, 200);
    a.drain().await;

    let list = queries::list_conversations(a.table.as_ref(), &SystemClock, "acme", None, 10, None)
        .await
        .unwrap();
    let conv = &list.items[0];
    assert_eq!(
        conv.queue.as_deref(),
        Some("finance"),
        "{:?}",
        conv.last_triage
    );
    let msgs = queries::list_messages(a.table.as_ref(), "acme", &conv.id, 10, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msgs.items[0].triage.as_ref().unwrap()["intent"],
        "billing_charge"
    );

    let sqs = aws_sdk_sqs::Client::new(&conf);
    let mut seen: Vec<Value> = Vec::new();
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(&a.tap)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            seen.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(&a.tap)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    let of = |t: &str| {
        seen.iter()
            .filter(|e| e["detail-type"] == t)
            .collect::<Vec<_>>()
    };
    assert_eq!(of("message.triaged").len(), 2, "{seen:#?}");
    let routed = of("conversation.routed");
    assert_eq!(routed[0]["detail"]["data"]["queue"], "finance");
    assert_eq!(routed[0]["detail"]["tenant"], "acme");
    let visibility = of("conversation.visibility");
    assert_eq!(visibility.len(), 1, "{seen:#?}");
    assert_eq!(visibility[0]["detail"]["data"]["queue"], "engineering");
    assert_eq!(visibility[0]["detail"]["data"]["owner_queue"], "finance");
    assert_eq!(visibility[0]["detail"]["correlation_id"], "msg:wamid.TRI2");
}

#[tokio::test]
async fn an_unavailable_queue_is_a_503_so_meta_retries() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let missing = format!(
        "{}/123456789012/does-not-exist.fifo",
        std::env::var("SWITCHBOARD_MOTO_URL").unwrap()
    );
    let s3 = S3BlobStore::client(&conf);
    let ingest = Arc::new(Ingest {
        secrets: WebhookSecrets {
            app_secret: DEMO_SECRET.into(),
            verify_token: "t".into(),
        },
        queue: Arc::new(SqsQueue::new(sqs, missing)),
        blobs: Arc::new(S3BlobStore::new(s3, "no-bucket")),
        clock: Arc::new(SystemClock),
    });
    let body = webhook(PNID, vec![text("15550100001", "wamid.X", 1, "x")]);
    let res = switchboard_http::webhook_router(ingest)
        .oneshot(apigw_post(&body, &sign(&body)))
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["error"]["code"], "enqueue_failed");
}
