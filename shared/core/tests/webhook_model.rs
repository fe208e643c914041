//! The webhook model against every fixture of the reference (§2), plus hostile and unknown shapes.

use serde_json::{json, Value};
use switchboard_core::event::{split_webhook, EventKind};
use switchboard_core::webhook::{InboundMessage, Status};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 38, "fixtures missing: {}", out.len());
    out
}

#[test]
fn every_reference_fixture_splits_without_loss() {
    for (name, body) in fixtures() {
        let events = split_webhook(&body, 1_768_500_000);
        assert!(!events.is_empty(), "{name}: no events");
        let root: Value = serde_json::from_slice(&body).unwrap();
        let mut expected_items = 0;
        for entry in root["entry"].as_array().unwrap() {
            for change in entry["changes"].as_array().unwrap() {
                let v = &change["value"];
                let n: usize = ["messages", "statuses", "errors", "user_preferences"]
                    .iter()
                    .map(|k| v.get(*k).and_then(Value::as_array).map_or(0, Vec::len))
                    .sum();
                expected_items += n.max(1);
            }
        }
        assert_eq!(events.len(), expected_items, "{name}");
        for e in &events {
            assert!(
                !matches!(e.kind, EventKind::Unparsed { .. }),
                "{name}: unparsed"
            );
            // Every event survives the queue: JSON out and back in unchanged.
            let wire = serde_json::to_string(e).unwrap();
            let back: switchboard_core::Event = serde_json::from_str(&wire).unwrap();
            assert_eq!(&back, e, "{name}");
            // Typed views read the item and re-serialise to the same JSON: no field dropped.
            match &e.kind {
                EventKind::Message { message, .. } => {
                    let (m, _) = e.message().unwrap().unwrap();
                    assert!(m.is_known_type(), "{name}: {}", m.kind);
                    assert_eq!(&serde_json::to_value(&m).unwrap(), message, "{name}");
                    assert!(m.preview().is_some(), "{name}");
                }
                EventKind::Status { status } => {
                    let s = e.status().unwrap().unwrap();
                    assert_eq!(&serde_json::to_value(&s).unwrap(), status, "{name}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn the_batch_fixture_yields_three_statuses_and_one_message_with_distinct_keys() {
    let body = fixtures()
        .into_iter()
        .find(|(n, _)| n.starts_with("19_"))
        .unwrap()
        .1;
    let events = split_webhook(&body, 0);
    let kinds: Vec<_> = events.iter().map(|e| e.kind_name()).collect();
    assert_eq!(kinds, ["status", "status", "status", "message"]);
    let keys: std::collections::HashSet<_> = events.iter().map(|e| e.dedup_id()).collect();
    assert_eq!(keys.len(), 4);
    assert_eq!(
        events[0].key,
        "status:wamid.HBgLMTU1NTAxMDk5OTkVAgARGBJCVVNJTkVTU01TRzAwMDAxMAA=:sent"
    );
    let s: Status = events[1].status().unwrap().unwrap();
    assert_eq!(
        s.pricing.unwrap().kind.as_deref(),
        Some("free_customer_service")
    );
    // Same customer, same number: one FIFO group for statuses and messages alike.
    assert!(events.iter().all(|e| e.group == events[0].group));
}

#[test]
fn template_events_key_on_id_event_and_time() {
    let body = fixtures()
        .into_iter()
        .find(|(n, _)| n.starts_with("23_"))
        .unwrap()
        .1;
    let events = split_webhook(&body, 0);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].key,
        "template:1700000000000002:REJECTED:1768471260"
    );
    assert_eq!(events[0].field, "message_template_status_update");
}

#[test]
fn bsuid_only_messages_have_identity_and_group() {
    let body = fixtures()
        .into_iter()
        .find(|(n, _)| n.starts_with("38_"))
        .unwrap()
        .1;
    let events = split_webhook(&body, 0);
    let (m, c) = events[0].message().unwrap().unwrap();
    assert_eq!(m.from, None);
    let id = switchboard_core::conversation::Identity::of_message(&m, c.as_ref());
    assert_eq!(id.bsuid.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(id.wa_id, None);
    assert_eq!(id.username.as_deref(), Some("cai.test"));
    assert_eq!(id.identifiers(), ["bsuid:US.13491208655302741918"]);
    assert_eq!(
        events[0].group, events[1].group,
        "status groups with its customer"
    );
}

#[test]
fn different_customers_get_different_groups_and_no_phone_number_in_them() {
    let mk = |from: &str| {
        json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
            "metadata":{"phone_number_id":"110000000000001"},
            "messages":[{"from":from,"id":format!("wamid.{from}"),"timestamp":"1","type":"text","text":{"body":"x"}}]}}]}]})
        .to_string()
    };
    let a = split_webhook(mk("15550100011").as_bytes(), 0);
    let b = split_webhook(mk("15550100022").as_bytes(), 0);
    assert_ne!(a[0].group, b[0].group);
    assert!(!a[0].group.contains("15550100011"));
    assert!(a[0].group.len() <= 128);
}

#[test]
fn unknown_types_and_fields_are_kept_verbatim() {
    let message = json!({
        "from": "15550109999", "id": "wamid.NEWTYPE", "timestamp": 1768471200,
        "type": "poll_v9", "poll_v9": {"question": "?", "options": [1, 2]},
        "brand_new_field": {"nested": true}
    });
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[message.clone()],
          "calls":[{"id":"call.1"}]}},
        {"field":"brand_new_field","value":{"anything":1}},
        {"field":"messages","value":"not an object"}
    ]}]});
    let events = split_webhook(body.to_string().as_bytes(), 0);
    let kinds: Vec<_> = events.iter().map(|e| e.kind_name()).collect();
    // The message, the `calls` leftovers kept whole, the unknown field, the odd value.
    assert_eq!(kinds, ["message", "change", "change", "change"]);
    let (m, _): (InboundMessage, _) = events[0].message().unwrap().unwrap();
    assert!(!m.is_known_type());
    assert_eq!(
        m.timestamp().unwrap().0,
        1768471200,
        "numeric timestamps are read too"
    );
    assert_eq!(serde_json::to_value(&m).unwrap(), message);
    assert_eq!(m.preview().as_deref(), Some("[poll_v9]"));
    match &events[1].kind {
        EventKind::Change { value } => assert_eq!(value["calls"][0]["id"], "call.1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn signed_garbage_is_one_unparsed_event() {
    for body in [
        &b"not json at all \xff"[..],
        br#"{"object":"page","entry":[]}"#,
        br#"{"object":"whatsapp_business_account"}"#,
        b"[1,2,3]",
    ] {
        let events = split_webhook(body, 7);
        assert_eq!(events.len(), 1);
        match &events[0].kind {
            EventKind::Unparsed { body: kept, reason } => {
                assert_eq!(kept.as_bytes(), String::from_utf8_lossy(body).as_bytes());
                assert!(!reason.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(events[0].received_at, 7);
        // The same garbage twice is the same event.
        assert_eq!(split_webhook(body, 8)[0].key, events[0].key);
    }
}

#[test]
fn odd_shapes_never_panic() {
    let cases = [
        json!({"object":"whatsapp_business_account","entry":[null, 1, "x", {"changes": null}, {"changes":[null, {"value": {"messages": [null, 5, {"id": 7}]}}]}]}),
        json!({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"interactive"}],"statuses":[{"status":"sent"}]}}]}]}),
    ];
    for c in cases {
        let events = split_webhook(c.to_string().as_bytes(), 0);
        assert!(!events.is_empty());
        for e in &events {
            let _ = e.message();
            let _ = e.status();
            assert!(e.dedup_id().len() <= 128);
        }
    }
}

#[test]
fn long_or_unprintable_keys_become_hashes_for_sqs() {
    let id = "wamid.".to_string() + &"A".repeat(200);
    let body = json!({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
        "messages":[{"id": id, "from":"1", "type":"text", "text":{"body":"x"}}]}}]}]});
    let e = &split_webhook(body.to_string().as_bytes(), 0)[0];
    assert_eq!(e.dedup_id().len(), 64);
    assert!(
        e.key.ends_with(&"A".repeat(200)),
        "the stored key stays exact"
    );
}

#[test]
fn template_and_account_changes_have_typed_views_that_keep_every_field() {
    use switchboard_core::event::ChangeView;
    let mut seen = std::collections::BTreeMap::new();
    for (name, body) in fixtures() {
        for e in split_webhook(&body, 0) {
            let Some(view) = e.change() else { continue };
            let view = view.unwrap_or_else(|err| panic!("{name}: {err}"));
            let EventKind::Change { value } = &e.kind else {
                unreachable!()
            };
            let back = match &view {
                ChangeView::TemplateStatus(t) => serde_json::to_value(t).unwrap(),
                ChangeView::TemplateCategory(t) => serde_json::to_value(t).unwrap(),
                ChangeView::TemplateQuality(t) => serde_json::to_value(t).unwrap(),
                ChangeView::Account(a) => serde_json::to_value(a).unwrap(),
                ChangeView::Other => value.clone(),
            };
            assert_eq!(&back, value, "{name}: typed view round-trips");
            *seen
                .entry(format!("{view:?}").split('(').next().unwrap().to_string())
                .or_insert(0) += 1;
            if let ChangeView::TemplateStatus(t) = &view {
                assert!(!t.event.is_empty());
                assert!(!switchboard_core::webhook::template_id(&t.message_template_id).is_empty());
            }
        }
    }
    assert_eq!(seen.get("TemplateStatus"), Some(&4));
    assert_eq!(seen.get("TemplateCategory"), Some(&2));
    assert_eq!(seen.get("TemplateQuality"), Some(&1));
    assert_eq!(
        seen.get("Account"),
        Some(&8),
        "2 phone-number and 6 account-level fixtures"
    );
    assert_eq!(seen.get("Other"), None, "every reference field is modelled");
}

#[test]
fn mutated_payloads_never_panic() {
    // A small deterministic fuzz: flip, drop and duplicate bytes of every fixture.
    let mut state: u64 = 0x9E3779B97F4A7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (_, body) in fixtures() {
        for _ in 0..150 {
            let mut b = body.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = (next() % 256) as u8,
                    1 => {
                        b.remove(i);
                    }
                    _ => {
                        let c = b[i];
                        b.insert(i, c);
                    }
                }
            }
            for e in split_webhook(&b, 0) {
                let _ = e.message();
                let _ = e.status();
                let _ = e.change();
                let _ = e.dedup_id();
                let _ = serde_json::to_string(&e).unwrap();
            }
        }
    }
}
