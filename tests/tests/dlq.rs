//! Dead letters: an event that keeps failing moves to the dead-letter queue after its receive
//! budget; `dlq::list` shows it without consuming it, `dlq::redrive` moves it back, and the fixed
//! processor then stores it exactly once. On the local adapters, and on SQS under moto (skipped
//! without `SWITCHBOARD_MOTO_URL`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use switchboard_app::ports::{FixedClock, OutgoingMessage};
use switchboard_app::process::Processor;
use switchboard_app::worker::{drain_once, Handler, Retry};
use switchboard_app::{dlq, envelope, queries, routes, Clock, Queue, SystemClock, Table};
use switchboard_aws::{provision, DynamoTable, S3BlobStore, SqsQueue};
use switchboard_core::split_webhook;
use switchboard_e2e::{text, webhook, PNID};
use switchboard_local::{LocalStack, MAX_RECEIVES};

const T0: i64 = 1_800_000_000;

/// A consumer whose downstream is down: every message goes back to the queue at once.
struct Failing;

// What `#[async_trait]` expands to (this crate does not depend on async-trait).
impl Handler for Failing {
    fn handle_message<'a, 'b, 'f>(
        &'a self,
        _body: &'b str,
        _receive_count: u32,
    ) -> Pin<Box<dyn Future<Output = Result<(), Retry>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        Box::pin(async { Err(Retry::after("downstream unavailable".into(), 0)) })
    }
}

/// The queue message for the one event of a one-message webhook.
fn event_message(wamid: &str) -> OutgoingMessage {
    let body = webhook(
        PNID,
        vec![text("15550100001", wamid, T0, "where is my order?")],
    );
    let events = split_webhook(&body, T0 + 60);
    assert_eq!(events.len(), 1);
    envelope::encode_inline(&events[0]).unwrap()
}

async fn drain(queue: &dyn Queue, handler: &dyn Handler) {
    for _ in 0..50 {
        drain_once(queue, handler, 10).await;
        if queue.depth().await.unwrap() == 0 {
            return;
        }
    }
    panic!("queue never drained");
}

async fn assert_one_message(table: &dyn Table, clock: &dyn Clock) {
    let convs = queries::list_conversations(table, clock, "acme", None, 10, None)
        .await
        .unwrap()
        .items;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].message_count, 1);
}

#[tokio::test]
async fn a_dead_letter_is_listed_redriven_and_stored_once_locally() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(T0 + 60));
    let stack = LocalStack::open(dir.path(), clock.clone()).unwrap();
    routes::set_phone_route(stack.table.as_ref(), PNID, "acme")
        .await
        .unwrap();
    let p = Processor {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
        bus: stack.bus.clone(),
        triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
        outbound: stack.outbound_queues(),
    };
    let message = event_message("wamid.DLQ1");
    stack
        .events
        .send_batch(std::slice::from_ref(&message))
        .await
        .unwrap();

    // Five failed receives; the sixth receive moves it to the DLQ.
    let mut receives = 0;
    while stack.events_dlq.depth().await.unwrap() == 0 {
        receives += drain_once(stack.events.as_ref(), &Failing, 10).await;
        assert!(receives <= MAX_RECEIVES as usize, "never dead-lettered");
    }
    assert_eq!(receives, MAX_RECEIVES as usize);
    assert_eq!(stack.events.depth().await.unwrap(), 0);

    // Listing peeks: the same letter twice, still there afterwards.
    let dlq_queue = stack.events_dlq.as_ref();
    let listed = dlq::list(dlq_queue, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    let letter = &listed[0];
    assert_eq!(letter.group, message.group);
    assert_eq!(letter.size, message.body.len());
    assert!(message.body.starts_with(&letter.body_preview));
    assert!(letter.body_preview.chars().count() <= dlq::PREVIEW_CHARS);
    assert_eq!(
        dlq::list(dlq_queue, 10).await.unwrap()[0].message_id,
        letter.message_id
    );
    let shown = dlq::find(dlq_queue, &letter.message_id, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.body, message.body);
    assert_eq!(dlq_queue.depth().await.unwrap(), 1);

    // A redrive that died after sending but before deleting from the DLQ...
    let taken = dlq_queue.receive(10, 60).await.unwrap();
    assert_eq!(taken.len(), 1);
    stack
        .events
        .send_batch(&[OutgoingMessage {
            group: taken[0].group.clone(),
            dedup_id: taken[0].message_id.clone(),
            body: taken[0].body.clone(),
        }])
        .await
        .unwrap();
    dlq_queue.release(&taken[0].receipt, 0).await.unwrap();
    // ...and is run again: the second send is deduplicated, the DLQ emptied.
    let mut progress = Vec::new();
    let moved = dlq::redrive(dlq_queue, stack.events.as_ref(), 100, |n| progress.push(n))
        .await
        .unwrap();
    assert_eq!((moved, progress), (1, vec![1]));
    assert_eq!(dlq_queue.depth().await.unwrap(), 0);
    assert_eq!(stack.events.depth().await.unwrap(), 1);

    // The fixed consumer stores it once; a second redrive finds nothing.
    drain(stack.events.as_ref(), &p).await;
    assert_one_message(stack.table.as_ref(), clock.as_ref()).await;
    let again = dlq::redrive(dlq_queue, stack.events.as_ref(), 100, |_| {})
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert!(dlq::list(dlq_queue, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dead_letter_is_redriven_and_stored_once_on_sqs() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let max_receives = 2;
    let (url, dlq_url) =
        provision::create_fifo_with_dlq(&sqs, &provision::unique_name("events"), max_receives)
            .await
            .unwrap();
    let source = SqsQueue::new(sqs.clone(), url);
    let dead = SqsQueue::new(sqs, dlq_url);

    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let table_name = provision::unique_name("switchboard");
    provision::create_table(&ddb, &table_name).await.unwrap();
    let s3 = S3BlobStore::client(&conf);
    let bucket = provision::unique_name("claims");
    provision::create_bucket(&s3, &bucket).await.unwrap();
    let (bus_name, _tap) = provision::create_bus_with_tap(
        &aws_sdk_eventbridge::Client::new(&conf),
        &aws_sdk_sqs::Client::new(&conf),
        &provision::unique_name("bus"),
    )
    .await
    .unwrap();
    let clock = Arc::new(SystemClock);
    let table = Arc::new(DynamoTable::new(ddb, table_name, clock.clone()));
    routes::set_phone_route(table.as_ref(), PNID, "acme")
        .await
        .unwrap();
    let p = Processor {
        table: table.clone(),
        blobs: Arc::new(S3BlobStore::new(s3, bucket)),
        clock: clock.clone(),
        bus: Arc::new(switchboard_aws::EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&conf),
            bus_name,
        )),
        triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
        outbound: switchboard_e2e::aws_outbound_queues(&conf).await,
    };

    let message = event_message("wamid.DLQSQS1");
    source
        .send_batch(std::slice::from_ref(&message))
        .await
        .unwrap();
    // Received and never acked until SQS's redrive policy moves it.
    for attempt in 0.. {
        assert!(attempt < 20, "SQS never dead-lettered the message");
        if dead.depth().await.unwrap() == 1 {
            break;
        }
        drain_once(&source, &Failing, 10).await;
    }
    assert_eq!(source.depth().await.unwrap(), 0);

    let listed = dlq::list(&dead, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].group, message.group);
    assert_eq!(listed[0].size, message.body.len());
    assert_eq!(dead.depth().await.unwrap(), 1);

    let moved = dlq::redrive(&dead, &source, 100, |_| {}).await.unwrap();
    assert_eq!(moved, 1);
    assert_eq!(dead.depth().await.unwrap(), 0);
    drain(&source, &p).await;
    assert_one_message(table.as_ref(), clock.as_ref()).await;
    assert_eq!(dlq::redrive(&dead, &source, 100, |_| {}).await.unwrap(), 0);
}
