//! The contract every adapter of a port must honour. One suite, run against the SQLite backend
//! and against the AWS backend on moto server: if both pass, the domain cannot tell them apart.
//!
//! Each check panics with a message naming the broken rule.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::ports::table::item;
use crate::ports::{
    BlobStore, Clock, Condition, FixedClock, Index, Key, OutgoingMessage, Query, Queue, SkRange,
    StoreError, Table, TxOp, Update,
};

fn k(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

/// Runs every table rule. `clock` must be the clock the table reads for TTL.
pub async fn table_contract(table: Arc<dyn Table>, clock: Arc<FixedClock>) {
    let t = table.as_ref();
    // Unique partitions per run: the suite can share a table with other tests.
    let run = format!(
        "run{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let p = |s: &str| format!("{run}#{s}");
    clock.set(1_800_000_000);

    // Round trip of every JSON shape we store.
    let key = k(&p("A"), "ONE");
    let value = json!({
        "s": "olá 👍", "i": 42, "neg": -7, "f": 12.5, "t": true, "f0": false, "nul": null,
        "list": [1, "two", {"three": 3}], "map": {"nested": {"deep": [true]}}, "empty": ""
    });
    t.put(item(&key, value.clone()), None).await.unwrap();
    let got = t
        .get(&key)
        .await
        .unwrap()
        .expect("put then get returns the item");
    for (a, v) in value.as_object().unwrap() {
        assert_eq!(got.get(a), Some(v), "attribute {a} round-trips");
    }
    assert_eq!(
        t.get(&k(&p("A"), "NONE")).await.unwrap(),
        None,
        "absent item reads None"
    );

    // Conditional put.
    let err = t
        .put(item(&key, json!({})), Some(Condition::ItemNotExists))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed,
        "put if not exists on existing item fails"
    );
    t.put(
        item(&k(&p("A"), "TWO"), json!({"v": 1})),
        Some(Condition::ItemNotExists),
    )
    .await
    .unwrap();

    // Update: upsert, set_if_absent, add, remove, and the returned item.
    let ukey = k(&p("U"), "X");
    let up = Update::default()
        .set("name", "first")
        .set_if_absent("created", 1)
        .add("count", 2)
        .set("gone", "soon");
    let out = t.update(&ukey, up, None).await.unwrap();
    assert_eq!(
        out.get("count"),
        Some(&json!(2)),
        "update creates an absent item"
    );
    let up = Update::default()
        .set("name", "second")
        .set_if_absent("created", 99)
        .add("count", 3)
        .remove("gone");
    let out = t.update(&ukey, up, None).await.unwrap();
    assert_eq!(out.get("name"), Some(&json!("second")));
    assert_eq!(
        out.get("created"),
        Some(&json!(1)),
        "set_if_absent keeps the first value"
    );
    assert_eq!(out.get("count"), Some(&json!(5)), "add increments");
    assert!(!out.contains_key("gone"), "remove deletes the attribute");
    assert_eq!(
        t.get(&ukey).await.unwrap().unwrap(),
        out,
        "returned item equals stored item"
    );

    // Conditions on attributes.
    let cond = Condition::AttrEquals("count".into(), json!(4));
    let err = t
        .update(&ukey, Update::default().set("x", 1), Some(cond))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed,
        "AttrEquals mismatch fails"
    );
    let cond = Condition::AttrEquals("count".into(), json!(5));
    t.update(&ukey, Update::default().set("x", 1), Some(cond))
        .await
        .unwrap();
    let less = Condition::AttrLessThan("count".into(), json!(5));
    assert_eq!(
        t.update(&ukey, Update::default().set("y", 1), Some(less))
            .await
            .unwrap_err(),
        StoreError::ConditionFailed,
        "5 < 5 is false"
    );
    let either = Condition::Or(vec![
        Condition::AttrNotExists("rank".into()),
        Condition::AttrLessThan("rank".into(), json!(3)),
    ]);
    t.update(
        &ukey,
        Update::default().set("rank", 3),
        Some(either.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        t.update(&ukey, Update::default().set("rank", 2), Some(either))
            .await
            .unwrap_err(),
        StoreError::ConditionFailed,
        "rank only moves forward"
    );
    let both = Condition::And(vec![
        Condition::ItemExists,
        Condition::AttrEquals("name".into(), json!("second")),
    ]);
    t.update(&ukey, Update::default().set("z", 1), Some(both))
        .await
        .unwrap();
    assert_eq!(
        t.update(
            &k(&p("U"), "ABSENT"),
            Update::default().set("z", 1),
            Some(Condition::ItemExists)
        )
        .await
        .unwrap_err(),
        StoreError::ConditionFailed,
        "ItemExists on an absent item fails"
    );

    // Delete.
    assert_eq!(
        t.delete(
            &k(&p("A"), "TWO"),
            Some(Condition::AttrEquals("v".into(), json!(2)))
        )
        .await
        .unwrap_err(),
        StoreError::ConditionFailed
    );
    t.delete(&k(&p("A"), "TWO"), None).await.unwrap();
    assert_eq!(t.get(&k(&p("A"), "TWO")).await.unwrap(), None, "deleted");

    // TTL: expired items vanish from reads, but conditions still see them (as DynamoDB does).
    let now = clock.now();
    let tkey = k(&p("TTL"), "WINDOW");
    t.put(item(&tkey, json!({"expires_at": now + 10})), None)
        .await
        .unwrap();
    assert!(t.get(&tkey).await.unwrap().is_some(), "not yet expired");
    clock.advance(10);
    assert_eq!(
        t.get(&tkey).await.unwrap(),
        None,
        "expires_at == now reads as gone"
    );
    let q = Query::partition(Index::Table, p("TTL"));
    assert!(
        t.query(&q).await.unwrap().items.is_empty(),
        "query hides expired items"
    );
    assert_eq!(
        t.put(item(&tkey, json!({})), Some(Condition::ItemNotExists))
            .await
            .unwrap_err(),
        StoreError::ConditionFailed,
        "an expired but undeleted item still exists for conditions"
    );
    clock.set(now);
    assert!(
        t.get(&tkey).await.unwrap().is_some(),
        "reads follow the clock"
    );

    // Query ranges, order, pagination.
    let qp = p("Q");
    for i in 0..25 {
        t.put(item(&k(&qp, &format!("MSG#{i:03}")), json!({"i": i})), None)
            .await
            .unwrap();
    }
    t.put(item(&k(&qp, "META"), json!({})), None).await.unwrap();
    let mut q = Query::partition(Index::Table, qp.clone());
    q.sk = SkRange::BeginsWith("MSG#".into());
    q.limit = 7;
    let mut seen = Vec::new();
    loop {
        let page = t.query(&q).await.unwrap();
        assert!(page.items.len() <= 7, "limit respected");
        seen.extend(page.items.iter().map(|i| i["i"].as_i64().unwrap()));
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..25).collect::<Vec<_>>(),
        "pages cover the range once, ascending"
    );
    let mut q = Query::partition(Index::Table, qp.clone());
    q.sk = SkRange::Between("MSG#005".into(), "MSG#008".into());
    q.forward = false;
    let got: Vec<_> = t
        .query(&q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|i| i["i"].as_i64().unwrap())
        .collect();
    assert_eq!(
        got,
        [8, 7, 6, 5],
        "between is inclusive; backward is descending"
    );

    // GSIs follow their attributes.
    let g = p("G");
    for (id, state, at) in [("c1", "bot", 10), ("c2", "bot", 30), ("c3", "resolved", 20)] {
        t.put(
            item(
                &k(&p(id), "META"),
                json!({"gsi1pk": format!("{g}#{state}"), "gsi1sk": format!("{at:012}#{id}"),
                       "gsi2pk": g.clone(), "gsi2sk": format!("{at:012}#{id}"), "id": id}),
            ),
            None,
        )
        .await
        .unwrap();
    }
    let ids = |items: Vec<crate::ports::Item>| -> Vec<String> {
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mut q = Query::partition(Index::Gsi1, format!("{g}#bot"));
    q.forward = false;
    assert_eq!(
        ids(t.query(&q).await.unwrap().items),
        ["c2", "c1"],
        "GSI1 by state, newest first"
    );
    let mut q2 = Query::partition(Index::Gsi2, g.clone());
    q2.forward = false;
    q2.limit = 2;
    let page = t.query(&q2).await.unwrap();
    assert_eq!(ids(page.items), ["c2", "c3"]);
    q2.cursor = page.cursor;
    assert_eq!(
        ids(t.query(&q2).await.unwrap().items),
        ["c1"],
        "GSI pagination"
    );
    t.update(
        &k(&p("c1"), "META"),
        Update::default().set("gsi1pk", format!("{g}#resolved")),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        ids(t.query(&q).await.unwrap().items),
        ["c2"],
        "moved out of the old GSI partition"
    );

    // Transactions: all or nothing, with the failing op named.
    let tx_ok = vec![
        TxOp::Put {
            item: item(&k(&p("TX"), "1"), json!({"v": 1})),
            condition: Some(Condition::ItemNotExists),
        },
        TxOp::Update {
            key: k(&p("TX"), "2"),
            update: Update::default().add("n", 1),
            condition: None,
        },
        TxOp::Check {
            key: ukey.clone(),
            condition: Condition::ItemExists,
        },
    ];
    t.transact(tx_ok).await.unwrap();
    let tx_bad = vec![
        TxOp::Update {
            key: k(&p("TX"), "2"),
            update: Update::default().add("n", 1),
            condition: None,
        },
        TxOp::Put {
            item: item(&k(&p("TX"), "1"), json!({"v": 2})),
            condition: Some(Condition::ItemNotExists),
        },
        TxOp::Delete {
            key: ukey.clone(),
            condition: None,
        },
    ];
    match t.transact(tx_bad).await.unwrap_err() {
        StoreError::TransactionCancelled { failed } => {
            assert_eq!(failed, [false, true, false], "the failing op is named")
        }
        other => panic!("expected TransactionCancelled, got {other:?}"),
    }
    assert_eq!(
        t.get(&k(&p("TX"), "2")).await.unwrap().unwrap()["n"],
        json!(1),
        "a cancelled transaction applies nothing"
    );
    assert!(
        t.get(&ukey).await.unwrap().is_some(),
        "the delete was rolled back"
    );
    assert_eq!(
        t.get(&k(&p("TX"), "1")).await.unwrap().unwrap()["v"],
        json!(1)
    );
}

/// Runs every queue rule on a fresh FIFO queue and its dead-letter queue. `max_receives` of the
/// queue must be 2.
pub async fn queue_contract(queue: Arc<dyn Queue>, dlq: Arc<dyn Queue>) {
    let q = queue.as_ref();
    let msg = |g: &str, d: &str, b: &str| OutgoingMessage {
        group: g.into(),
        dedup_id: d.into(),
        body: b.into(),
    };

    // Batches larger than one SendMessageBatch, across groups; duplicates dropped.
    let mut out = Vec::new();
    for i in 0..24 {
        let g = format!("g{}", i % 3);
        out.push(msg(&g, &format!("d{i}"), &format!("{g}:{i:02}")));
    }
    q.send_batch(&out).await.unwrap();
    q.send_batch(&out[..5]).await.unwrap();
    q.send_batch(&[msg("g0", "d0", "g0:dup-body")])
        .await
        .unwrap();

    let mut by_group: HashMap<String, Vec<String>> = HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut total = 0;
    while total < 24 && std::time::Instant::now() < deadline {
        let got = q.receive(10, 30).await.unwrap();
        for m in got {
            assert_eq!(m.receive_count, 1);
            by_group
                .entry(m.group.clone())
                .or_default()
                .push(m.body.clone());
            q.ack(&m.receipt).await.unwrap();
            total += 1;
        }
    }
    assert_eq!(
        total, 24,
        "every distinct message delivered once, duplicates dropped"
    );
    for (g, bodies) in &by_group {
        let mut sorted = bodies.clone();
        sorted.sort();
        assert_eq!(bodies, &sorted, "group {g} delivered in order");
        assert_eq!(bodies.len(), 8);
    }
    assert!(
        q.receive(10, 30).await.unwrap().is_empty(),
        "acked messages are gone"
    );

    // Group lock: while a group's message is in flight, its next one waits.
    q.send_batch(&[msg("lock", "l1", "first"), msg("lock", "l2", "second")])
        .await
        .unwrap();
    let first = receive_one(q, 30, "first").await;
    assert!(
        q.receive(10, 30)
            .await
            .unwrap()
            .iter()
            .all(|m| m.body != "second"),
        "the group is locked while a message is in flight"
    );
    // Release makes it visible again, with its receive count.
    q.release(&first.receipt, 0).await.unwrap();
    let again = receive_one(q, 30, "first").await;
    assert_eq!(again.receive_count, 2, "receive count grows");
    q.ack(&again.receipt).await.unwrap();
    let second = receive_one(q, 30, "second").await;
    q.ack(&second.receipt).await.unwrap();

    // Visibility timeout: an unacked message comes back by itself.
    q.send_batch(&[msg("vis", "v1", "comes-back")])
        .await
        .unwrap();
    let m = receive_one(q, 1, "comes-back").await;
    assert!(
        q.receive(10, 1).await.unwrap().is_empty(),
        "hidden while in flight"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let m2 = receive_one(q, 1, "comes-back").await;
    assert_ne!(m.receipt, m2.receipt, "a new receive, a new receipt");
    assert_eq!(m2.receive_count, 2);

    // Dead letter: past max_receives (2) the message moves to the DLQ instead.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut dead = None;
    while dead.is_none() && std::time::Instant::now() < deadline {
        assert!(
            q.receive(10, 1)
                .await
                .unwrap()
                .iter()
                .all(|m| m.body != "comes-back"),
            "not delivered a third time"
        );
        dead = dlq
            .receive(10, 30)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.body == "comes-back");
    }
    let dead = dead.expect("the message reached the dead-letter queue");
    dlq.ack(&dead.receipt).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 0, "nothing left on the queue");
}

async fn receive_one(q: &dyn Queue, vis: u32, body: &str) -> crate::ports::ReceivedMessage {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Some(m) = q.receive(1, vis).await.unwrap().into_iter().next() {
            assert_eq!(m.body, body, "FIFO order");
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("message {body:?} never arrived");
}

/// Blob stores: round trip, absent keys, hostile keys.
pub async fn blob_contract(blobs: Arc<dyn BlobStore>) {
    let b = blobs.as_ref();
    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    b.put("claims/abc.json", data.clone(), "application/json")
        .await
        .unwrap();
    assert_eq!(b.get("claims/abc.json").await.unwrap(), Some(data));
    b.put("claims/abc.json", b"v2".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(
        b.get("claims/abc.json").await.unwrap().as_deref(),
        Some(&b"v2"[..]),
        "overwrite"
    );
    assert_eq!(b.get("claims/missing.json").await.unwrap(), None);
    for bad in ["../etc/passwd", "/abs", "a//b", "a/./b", ""] {
        assert!(
            b.put(bad, vec![], "x").await.is_err(),
            "key {bad:?} rejected"
        );
    }

    // Streams: 9 MiB in 64 KiB chunks crosses one multipart part boundary on S3.
    let chunk = |i: usize| bytes::Bytes::from(vec![(i % 251) as u8; 64 * 1024]);
    let stream = futures_util::stream::iter((0..144).map(move |i| Ok(chunk(i))));
    let size = b
        .put_stream(
            "media/t/big.bin",
            "application/octet-stream",
            Box::pin(stream),
        )
        .await
        .unwrap();
    assert_eq!(size, 144 * 64 * 1024);
    assert_eq!(
        b.head("media/t/big.bin").await.unwrap(),
        Some(size),
        "head reports the size"
    );
    let back = b.get("media/t/big.bin").await.unwrap().unwrap();
    assert_eq!(back.len() as u64, size);
    assert!(
        back.chunks(64 * 1024)
            .enumerate()
            .all(|(i, c)| c.iter().all(|x| *x == (i % 251) as u8)),
        "parts in order"
    );
    let small = futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"tiny"))]);
    assert_eq!(
        b.put_stream("media/t/small.txt", "text/plain", Box::pin(small))
            .await
            .unwrap(),
        4
    );

    // A stream that fails half way leaves nothing behind.
    let failing = futures_util::stream::iter((0..200).map(move |i| {
        if i == 150 {
            Err(crate::ports::BlobError::Source("download broke off".into()))
        } else {
            Ok(chunk(i))
        }
    }));
    let res = b
        .put_stream(
            "media/t/broken.bin",
            "application/octet-stream",
            Box::pin(failing),
        )
        .await;
    assert!(res.is_err());
    assert_eq!(
        b.head("media/t/broken.bin").await.unwrap(),
        None,
        "no partial object"
    );

    b.delete("media/t/small.txt").await.unwrap();
    assert_eq!(b.head("media/t/small.txt").await.unwrap(), None, "deleted");
    b.delete("media/t/small.txt").await.unwrap();
    assert_eq!(b.head("media/t/never.txt").await.unwrap(), None);
}

/// A presigned URL fetches the object without credentials (`fetch` performs a plain GET).
pub async fn presign_contract<F, Fut>(blobs: Arc<dyn BlobStore>, fetch: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Option<Vec<u8>>>,
{
    blobs
        .put("media/t/photo.jpg", b"JPEGDATA".to_vec(), "image/jpeg")
        .await
        .unwrap();
    let url = blobs.presign_get("media/t/photo.jpg", 300).await.unwrap();
    assert!(url.starts_with("http"), "{url}");
    assert_eq!(fetch(url).await.as_deref(), Some(&b"JPEGDATA"[..]));
}

/// Event buses: every published event is observable with its type, tenant, correlation id and
/// data. `observe` returns what reached the bus's subscriber so far as (detail type, envelope).
pub async fn bus_contract<F, Fut>(bus: Arc<dyn crate::ports::EventBus>, observe: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<(String, serde_json::Value)>>,
{
    use crate::ports::BusEvent;
    let events: Vec<BusEvent> = (0..13)
        .map(|i| BusEvent {
            tenant: "acme".into(),
            detail_type: if i % 2 == 0 {
                "message.triaged"
            } else {
                "conversation.routed"
            }
            .into(),
            correlation: format!("msg:wamid.{i}"),
            detail: json!({"n": i, "text": "olá 👍"}),
        })
        .collect();
    bus.publish(&events).await.unwrap();
    bus.publish(&[]).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while seen.len() < events.len() && std::time::Instant::now() < deadline {
        seen.extend(observe().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen.len(),
        events.len(),
        "every event delivered once, batches over 10 included"
    );
    let mut ns: Vec<i64> = seen
        .iter()
        .map(|(_, e)| e["data"]["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    assert_eq!(ns, (0..13).collect::<Vec<_>>());
    for (t, e) in &seen {
        let n = e["data"]["n"].as_i64().unwrap();
        assert_eq!(
            t,
            if n % 2 == 0 {
                "message.triaged"
            } else {
                "conversation.routed"
            }
        );
        assert_eq!(e["tenant"], "acme");
        assert_eq!(e["correlation_id"], format!("msg:wamid.{n}"));
        assert_eq!(e["data"]["text"], "olá 👍");
    }
}
