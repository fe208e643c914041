//! The 24-hour window: an item whose `expires_at` has passed reads as closed even while the
//! store still holds it (DynamoDB's TTL deletes hours or days later).

use std::sync::Arc;

use switchboard_app::ports::{FixedClock, Key, Table};
use switchboard_app::process::Processor;
use switchboard_app::{queries, routes};
use switchboard_core::{keys, split_webhook};
use switchboard_e2e::{text, webhook, PNID};
use switchboard_local::LocalStack;

#[tokio::test]
async fn window_closes_at_meta_time_plus_24h_whatever_ttl_has_done() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_800_000_000;
    let clock = Arc::new(FixedClock::new(t0 + 60));
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

    // The message's own timestamp (Meta's), not our arrival time, opens the window.
    let body = webhook(PNID, vec![text("15550100001", "wamid.W1", t0, "hi")]);
    for e in split_webhook(&body, t0 + 60) {
        p.process(&e).await.unwrap();
    }
    let conv =
        &queries::list_conversations(stack.table.as_ref(), clock.as_ref(), "acme", None, 10, None)
            .await
            .unwrap()
            .items[0];
    assert!(conv.window.open);
    assert_eq!(conv.window.expires_at, Some(t0 + 86_400));
    assert_eq!(conv.window.seconds_left, 86_400 - 60);
    let win_key = Key::from(keys::window("acme", &conv.contact_id));
    assert!(stack.table.get(&win_key).await.unwrap().is_some());

    // An older message arriving late does not move the window back.
    let late = webhook(
        PNID,
        vec![text("15550100001", "wamid.W0", t0 - 3_600, "earlier")],
    );
    for e in split_webhook(&late, t0 + 120) {
        p.process(&e).await.unwrap();
    }
    let conv = queries::get_conversation(stack.table.as_ref(), clock.as_ref(), "acme", &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.window.expires_at, Some(t0 + 86_400));
    assert_eq!(conv.message_count, 2);

    // 24 h after Meta's timestamp: closed, though nothing was deleted.
    clock.set(t0 + 86_400);
    let conv = queries::get_conversation(stack.table.as_ref(), clock.as_ref(), "acme", &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!conv.window.open);
    assert_eq!(conv.window.seconds_left, 0);
    assert_eq!(
        stack.table.get(&win_key).await.unwrap(),
        None,
        "expired window item reads as gone"
    );

    // A new customer message reopens it.
    let again = webhook(
        PNID,
        vec![text("15550100001", "wamid.W2", t0 + 90_000, "back")],
    );
    for e in split_webhook(&again, t0 + 90_000) {
        p.process(&e).await.unwrap();
    }
    clock.set(t0 + 90_001);
    let conv = queries::get_conversation(stack.table.as_ref(), clock.as_ref(), "acme", &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert!(conv.window.open);
    assert_eq!(
        stack.table.get(&win_key).await.unwrap().unwrap()["expires_at"],
        t0 + 90_000 + 86_400
    );
}

#[tokio::test]
async fn a_resolved_conversation_reopens_with_the_bot_and_a_number_change_keeps_the_contact() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(1_800_000_000));
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
    let first = webhook(
        PNID,
        vec![text("15550100001", "wamid.R1", 1_800_000_000, "hi")],
    );
    for e in split_webhook(&first, 0) {
        p.process(&e).await.unwrap();
    }
    let id =
        queries::list_conversations(stack.table.as_ref(), clock.as_ref(), "acme", None, 1, None)
            .await
            .unwrap()
            .items[0]
            .id
            .clone();
    // An operator resolves it (the operator API arrives later; the state lives in the table).
    let key = Key::from(keys::conversation("acme", &id));
    stack
        .table
        .update(
            &key,
            switchboard_app::ports::Update::default()
                .set("state", "resolved")
                .set("gsi1pk", keys::conversations_by_state("acme", "resolved")),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        queries::list_conversations(
            stack.table.as_ref(),
            clock.as_ref(),
            "acme",
            Some("resolved"),
            10,
            None
        )
        .await
        .unwrap()
        .items
        .len(),
        1
    );

    // The customer changes number, then writes from the new one.
    let change = serde_json::json!({"from": "15550100001", "id": "wamid.SYS", "timestamp": "1800000100", "type": "system",
        "system": {"body": "changed", "wa_id": "15550100002", "type": "user_changed_number"}});
    let body = webhook(
        PNID,
        vec![
            change,
            text("15550100002", "wamid.R2", 1_800_000_200, "new phone"),
        ],
    );
    for e in split_webhook(&body, 0) {
        p.process(&e).await.unwrap();
    }
    let all =
        queries::list_conversations(stack.table.as_ref(), clock.as_ref(), "acme", None, 10, None)
            .await
            .unwrap();
    assert_eq!(all.items.len(), 1, "same contact, same conversation");
    let c = &all.items[0];
    // Reopened with the bot; when triage says the message needs review, a handoff request is
    // published for the handoff function (which queues it for a human).
    assert_eq!(
        c.state, "bot",
        "a customer message reopens a resolved conversation"
    );
    let events = stack.bus.list("acme", 0, 500).await.unwrap();
    let asked = events
        .iter()
        .any(|(_, e)| e.detail_type == "handoff.requested" && e.detail["wamid"] == "wamid.R2");
    assert_eq!(asked, c.needs_review, "{events:?}");
    let reopened = events
        .iter()
        .filter(|(_, e)| e.detail_type == "conversation.opened")
        .count();
    assert_eq!(
        reopened, 2,
        "the first message and the reopening each open a session"
    );
    assert_eq!(c.contact.phone.as_deref(), Some("15550100002"));
    assert_eq!(c.message_count, 3);
    assert!(queries::list_conversations(
        stack.table.as_ref(),
        clock.as_ref(),
        "acme",
        Some("resolved"),
        10,
        None
    )
    .await
    .unwrap()
    .items
    .is_empty());
}
