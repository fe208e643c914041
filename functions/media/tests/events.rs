//! Invokes the media function's handler in-process with every events/media-function fixture,
//! against the fake Graph API holding the demo media, and checks the records it leaves.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use switchboard_app::media::{media_key, MediaFetcher};
use switchboard_app::ports::{StaticTokens, Table};
use switchboard_app::SystemClock;
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};
use switchboard_local::LocalStack;

fn fixture(name: &str) -> SqsEvent {
    let path = format!(
        "{}/../../events/media-function/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn status_of(stack: &LocalStack, event: &SqsEvent, i: usize) -> String {
    let body: serde_json::Value =
        serde_json::from_str(event.records[i].body.as_deref().unwrap()).unwrap();
    let job = serde_json::from_value(body["detail"]["data"].clone()).unwrap();
    let it = stack.table.get(&media_key(&job)).await.unwrap().unwrap();
    it["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_fixture_leaves_the_record_its_name_says() {
    let fake = GraphFake::start().await;
    fake.add_token("t");
    fake.add_media(
        "900000000000001",
        include_bytes!("../../../events/media/demo-image.jpg").to_vec(),
        "image/jpeg",
    );
    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::open(dir.path(), Arc::new(SystemClock)).unwrap();
    let fetcher = MediaFetcher {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        bus: stack.bus.clone(),
        clock: Arc::new(SystemClock),
        graph: GraphClient::new(GraphConfig::for_fake(&fake)).unwrap(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some("t".into()),
        }),
    };

    let ev = fixture("stored-demo-image.json");
    let res = media::handle_batch(&fetcher, ev.clone()).await;
    assert!(res.batch_item_failures.is_empty());
    assert_eq!(status_of(&stack, &ev, 0).await, "stored");
    // Delivered again (SQS is at least once): nothing changes.
    assert!(media::handle_batch(&fetcher, ev.clone())
        .await
        .batch_item_failures
        .is_empty());

    let ev = fixture("unrecoverable-old-image.json");
    assert!(media::handle_batch(&fetcher, ev.clone())
        .await
        .batch_item_failures
        .is_empty());
    assert_eq!(status_of(&stack, &ev, 0).await, "unrecoverable");

    let ev = fixture("partial-corrupt-job.json");
    let res = media::handle_batch(&fetcher, ev.clone()).await;
    let failed: Vec<_> = res
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        [ev.records[0].message_id.clone().unwrap()],
        "only the corrupt record fails"
    );
    assert_eq!(status_of(&stack, &ev, 1).await, "stored");
    fake.stop().await;
}
