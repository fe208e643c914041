//! Invokes the conversation function's handler in-process with every events/conversation
//! fixture and checks the partial-batch response and what was stored.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use switchboard_app::process::Processor;
use switchboard_app::{queries, routes, SystemClock};
use switchboard_local::LocalStack;

fn fixture(name: &str) -> SqsEvent {
    let path = format!(
        "{}/../../events/conversation/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn processor(dir: &std::path::Path) -> (Processor, LocalStack) {
    let clock = Arc::new(SystemClock);
    let stack = LocalStack::open(dir, clock.clone()).unwrap();
    routes::set_phone_route(stack.table.as_ref(), "110000000000001", "acme")
        .await
        .unwrap();
    let p = Processor {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        clock,
        bus: stack.bus.clone(),
        triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
        outbound: stack.outbound_queues(),
    };
    (p, stack)
}

#[tokio::test]
async fn every_fixture_is_answered_as_its_name_says() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _stack) = processor(dir.path()).await;
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/conversation"
    ))
    .unwrap();
    let mut n = 0;
    for f in files {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        let event = fixture(&name);
        let ids: Vec<_> = event
            .records
            .iter()
            .map(|r| r.message_id.clone().unwrap())
            .collect();
        let res = conversation::handle_batch(&p, event).await;
        let failed: Vec<_> = res
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        if name.starts_with("partial-") {
            // The corrupt second record and everything after it go back to the queue, in order.
            assert_eq!(failed, ids[1..].to_vec(), "{name}");
        } else {
            assert!(failed.is_empty(), "{name}: {failed:?}");
        }
        n += 1;
    }
    assert!(n >= 4);
}

#[tokio::test]
async fn a_text_event_stores_one_conversation_however_often_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let (p, stack) = processor(dir.path()).await;
    for _ in 0..3 {
        let res = conversation::handle_batch(&p, fixture("text-message.json")).await;
        assert!(res.batch_item_failures.is_empty());
    }
    let clock = SystemClock;
    let list = queries::list_conversations(stack.table.as_ref(), &clock, "acme", None, 10, None)
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let c = &list.items[0];
    assert_eq!(c.message_count, 1, "duplicates change nothing");
    assert_eq!(c.state, "bot");
    assert_eq!(c.contact.phone.as_deref(), Some("15550109999"));
    let msgs = queries::list_messages(stack.table.as_ref(), "acme", &c.id, 10, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msgs.items.len(), 1);
    assert_eq!(
        msgs.items[0].preview.as_deref(),
        Some("Hi, is my order #4471 shipped yet?")
    );
}

#[tokio::test]
async fn bsuid_only_customers_get_a_conversation_without_a_phone_number() {
    let dir = tempfile::tempdir().unwrap();
    let (p, stack) = processor(dir.path()).await;
    let res = conversation::handle_batch(&p, fixture("bsuid-only.json")).await;
    assert!(res.batch_item_failures.is_empty());
    let list =
        queries::list_conversations(stack.table.as_ref(), &SystemClock, "acme", None, 10, None)
            .await
            .unwrap();
    assert_eq!(list.items.len(), 1);
    let c = &list.items[0].contact;
    assert_eq!(c.phone, None);
    assert_eq!(c.bsuid.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(c.username.as_deref(), Some("cai.test"));
}
