//! The template submission path on the AWS adapters (DynamoDB, SQS FIFO on moto) with the fake
//! Graph API: draft → approval → submission job → templates function → PENDING; then Meta's
//! APPROVED and REJECTED webhooks through the conversation pipeline update status, history and
//! the rejection analytics.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{json, Value};
use switchboard_app::governance::{Actor, Governance, Role, Submitter};
use switchboard_app::ports::{Queue, StaticTokens};
use switchboard_app::process::Processor;
use switchboard_app::{routes, templates, SystemClock};
use switchboard_aws::{provision, DynamoTable, EventBridgeBus, S3BlobStore, SqsQueue};
use switchboard_core::split_webhook;
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};

#[tokio::test]
async fn submission_and_status_on_aws() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let table_name = provision::unique_name("tpl");
    provision::create_table(&ddb, &table_name).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let (url, _dlq) =
        provision::create_fifo_with_dlq(&sqs, &provision::unique_name("templates"), 5)
            .await
            .unwrap();
    let clock = Arc::new(SystemClock);
    let table = Arc::new(DynamoTable::new(ddb, table_name, clock.clone()));
    let queue = Arc::new(SqsQueue::new(sqs, url));
    routes::set_waba_route(table.as_ref(), "109876543210987", "acme")
        .await
        .unwrap();
    let fake = GraphFake::start().await;
    fake.add_token("tok");

    let gov = Governance {
        table: table.clone(),
        clock: clock.clone(),
        queue: queue.clone(),
    };
    let author = Actor {
        user: "alice".into(),
        role: Role::Author,
    };
    let approver = Actor {
        user: "bob".into(),
        role: Role::Approver,
    };
    for (name, category) in [("order_shipped", "UTILITY"), ("cart_reminder", "MARKETING")] {
        // Different bodies: the duplicate rule sees the tenant's other templates.
        let text = if name == "order_shipped" {
            "Hi {{1}}, your order {{2}} left our warehouse today."
        } else {
            "Hi {{1}}, you left {{2}} in your cart. Reply here if you have questions about it."
        };
        let t = json!({"name": name, "language": if name == "order_shipped" { "en_US" } else { "en" }, "category": category,
            "components": [{"type": "BODY", "text": text, "example": {"body_text": [["Ana", "a mug"]]}}]});
        let lang = t["language"].as_str().unwrap().to_string();
        gov.save_draft("acme", &author, t).await.unwrap();
        gov.approve("acme", &approver, name, &lang, 1)
            .await
            .unwrap();
        gov.submit("acme", &author, name, &lang, 1).await.unwrap();
    }

    // The templates function, fed by what SQS delivers.
    let submitter = Submitter {
        table: table.clone(),
        clock: clock.clone(),
        graph: GraphClient::new(GraphConfig::for_fake(&fake)).unwrap(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some("tok".into()),
        }),
    };
    let mut submitted = 0;
    for _ in 0..20 {
        let msgs = queue.receive(10, 30).await.unwrap();
        if msgs.is_empty() && submitted == 2 {
            break;
        }
        let records: Vec<Value> = msgs.iter().map(|m| json!({"messageId": m.message_id, "body": m.body, "attributes": {}, "messageAttributes": {}})).collect();
        let event: SqsEvent = serde_json::from_value(json!({"Records": records})).unwrap();
        assert!(::templates::handle_batch(&submitter, event)
            .await
            .batch_item_failures
            .is_empty());
        for m in &msgs {
            queue.ack(&m.receipt).await.unwrap();
        }
        submitted += msgs.len();
    }
    assert_eq!(fake.templates().len(), 2);
    let current = |items: Vec<switchboard_app::ports::Item>| {
        items.into_iter().find(|i| i["kind"] == "template").unwrap()
    };
    let t = current(
        templates::template_history(table.as_ref(), "acme", "order_shipped")
            .await
            .unwrap(),
    );
    assert_eq!(t["status"], "PENDING");

    // Meta decides: the reference fixtures approve order_shipped (en_US) and reject cart_reminder (en).
    let processor = Processor {
        table: table.clone(),
        blobs: Arc::new(S3BlobStore::new(S3BlobStore::client(&conf), "unused")),
        clock,
        bus: Arc::new(EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&conf),
            "default",
        )),
        triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
        outbound: switchboard_e2e::aws_outbound_queues(&conf).await,
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/core/tests/fixtures");
    for f in [
        "22_2_5_message_template_status_update.json",
        "23_2_5_message_template_status_update.json",
    ] {
        let body = std::fs::read(format!("{dir}/{f}")).unwrap();
        for e in split_webhook(&body, 0) {
            processor.process(&e).await.unwrap();
        }
    }
    let t = current(
        templates::template_history(table.as_ref(), "acme", "order_shipped")
            .await
            .unwrap(),
    );
    assert_eq!(t["status"], "APPROVED");
    let r = current(
        templates::template_history(table.as_ref(), "acme", "cart_reminder")
            .await
            .unwrap(),
    );
    assert_eq!(r["status"], "REJECTED");
    assert_eq!(r["rejection_reason"], "INVALID_FORMAT");
    let a = templates::rejection_analytics(table.as_ref(), "acme", 0, 2_000_000_000)
        .await
        .unwrap();
    assert_eq!(a.by_category["MARKETING"].rejected, 1);
    assert_eq!(a.by_category["UTILITY"].approved, 1);
    fake.stop().await;
}
