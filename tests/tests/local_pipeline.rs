//! The whole pipeline on one machine: `switchboard serve` (webhook → SQLite queue → worker →
//! SQLite table → read API), driven over HTTP as Meta and an operator would.

use serde_json::{json, Value};
use switchboard_app::ports::{Key, Queue, Table};
use switchboard_e2e::{sign, statuses, text, webhook, ServeEnv, PNID};

async fn env() -> ServeEnv {
    ServeEnv::start().await
}

#[tokio::test]
async fn a_signed_fixture_becomes_a_conversation() {
    let e = env().await;
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/payloads/text.json"
    ))
    .unwrap();
    let (status, res) = e.post(&body, Some(sign(&body))).await;
    assert_eq!((status, res["events"].as_u64()), (200, Some(1)));
    e.settle().await;
    let convs = e.conversations("&state=bot").await;
    assert_eq!(convs.len(), 1);
    let c = &convs[0];
    assert_eq!(c["contact"]["phone"], "15550109999");
    assert_eq!(c["contact"]["profile_name"], "Ana Test");
    assert_eq!(
        c["last_message_preview"],
        "Hi, is my order #4471 shipped yet?"
    );
    let one = e
        .get(&format!("/api/conversations/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["state"], "bot");
    assert_eq!(one["window"]["expires_at"], 1768471200 + 86400);
    e.stop().await;
}

#[tokio::test]
async fn the_same_payload_three_times_is_one_message() {
    let e = env().await;
    let body = webhook(
        PNID,
        vec![text("15550100001", "wamid.DUP1", 1_800_000_000, "hello")],
    );
    for _ in 0..3 {
        assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    }
    e.settle().await;
    let convs = e.conversations("").await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["message_count"], 1);
    let msgs = e
        .get(&format!(
            "/api/conversations/{}/messages",
            convs[0]["id"].as_str().unwrap()
        ))
        .await;
    let items = msgs["items"].as_array().unwrap();
    let inbound = items.iter().filter(|m| m["direction"] == "inbound").count();
    assert_eq!(inbound, 1);
    // The bot answered the greeting once, through the outbound gate, however often Meta retried.
    let outbound = items
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .count();
    assert!(outbound <= 1, "{items:?}");
    e.stop().await;
}

#[tokio::test]
async fn fifty_messages_from_ten_customers_are_ten_ordered_conversations() {
    let e = env().await;
    let customer = |c: usize| format!("155501{c:05}");
    // Five POSTs of ten messages, one per customer each; the later POSTs are sent first, so
    // arrival order is not Meta's order.
    let mut posts = Vec::new();
    for round in 0..5 {
        let msgs = (0..10)
            .map(|c| {
                text(
                    &customer(c),
                    &format!("wamid.C{c}R{round}"),
                    1_800_000_000 + round as i64 * 60 + c as i64,
                    &format!("customer {c} message {round}"),
                )
            })
            .collect();
        posts.push(webhook(PNID, msgs));
    }
    for body in posts.iter().rev() {
        assert_eq!(e.post(body, Some(sign(body))).await.0, 200);
    }
    e.settle().await;
    let convs = e.conversations("").await;
    assert_eq!(convs.len(), 10, "one conversation per customer");
    let mut total = 0;
    for c in &convs {
        assert_eq!(c["message_count"], 5);
        let msgs = e
            .get(&format!(
                "/api/conversations/{}/messages",
                c["id"].as_str().unwrap()
            ))
            .await;
        let items = msgs["items"].as_array().unwrap();
        let rounds: Vec<String> = items
            .iter()
            .filter(|m| m["direction"] == "inbound")
            .map(|m| {
                m["preview"]
                    .as_str()
                    .unwrap()
                    .rsplit(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            rounds,
            ["0", "1", "2", "3", "4"],
            "oldest first, by Meta's timestamp"
        );
        assert_eq!(
            c["last_message_preview"]
                .as_str()
                .unwrap()
                .rsplit(' ')
                .next(),
            Some("4")
        );
        total += items.iter().filter(|m| m["direction"] == "inbound").count();
    }
    assert_eq!(total, 50);
    // Most recently active first.
    let activity: Vec<i64> = convs
        .iter()
        .map(|c| c["last_activity"].as_i64().unwrap())
        .collect();
    let mut sorted = activity.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(activity, sorted);
    e.stop().await;
}

#[tokio::test]
async fn bad_or_missing_signatures_are_401_and_store_nothing() {
    let e = env().await;
    let body = webhook(
        PNID,
        vec![text("15550100001", "wamid.BAD", 1_800_000_000, "x")],
    );
    let (status, res) = e.post(&body, Some(sign(b"other body"))).await;
    assert_eq!(status, 401);
    assert_eq!(res["error"]["code"], "bad_signature");
    let (status, res) = e.post(&body, None).await;
    assert_eq!(status, 401);
    assert!(res["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing"));
    let (status, _) = e.post(&body, Some("sha256=nothex".into())).await;
    assert_eq!(status, 401);
    assert_eq!(
        e.server.stack.events.depth().await.unwrap(),
        0,
        "nothing enqueued"
    );
    assert!(e.conversations("").await.is_empty());
    e.stop().await;
}

#[tokio::test]
async fn signed_garbage_is_acknowledged_and_kept_as_unparsed() {
    let e = env().await;
    let body = b"{\"not\": \"whatsapp\"".to_vec();
    let (status, res) = e.post(&body, Some(sign(&body))).await;
    assert_eq!((status, res["events"].as_u64()), (200, Some(1)));
    e.settle().await;
    let notices = e.get("/api/notices?field=unparsed&scope=unrouted").await;
    let items = notices["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event"]["body"], "{\"not\": \"whatsapp\"");
    assert!(items[0]["event"]["reason"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
    e.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let e = env().await;
    let body = vec![b' '; 3 * 1024 * 1024 + 10];
    let (status, res) = e.post(&body, Some(sign(&body))).await;
    assert_eq!(status, 413);
    assert_eq!(res["error"]["code"], "payload_too_large");
    e.stop().await;
}

#[tokio::test]
async fn verification_handshake() {
    let e = env().await;
    let url = |token: &str, mode: &str| {
        format!(
            "{}/webhook?hub.mode={mode}&hub.challenge=CH4LL&hub.verify_token={token}",
            e.base
        )
    };
    let ok = e
        .http
        .get(url("switchboard-demo-verify-token", "subscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "CH4LL");
    for (token, mode) in [
        ("wrong", "subscribe"),
        ("switchboard-demo-verify-token", "unsubscribe"),
    ] {
        assert_eq!(
            e.http.get(url(token, mode)).send().await.unwrap().status(),
            403
        );
    }
    assert_eq!(
        e.http
            .get(format!("{}/webhook", e.base))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    e.stop().await;
}

#[tokio::test]
async fn statuses_only_move_forward_and_failed_keeps_its_error() {
    let e = env().await;
    let st = |s: &str, ts: i64| json!({"id": "wamid.OUT1", "status": s, "timestamp": ts.to_string(), "recipient_id": "15550100001"});
    for s in [st("read", 30), st("delivered", 20), st("sent", 10)] {
        let body = statuses(PNID, vec![s]);
        assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    }
    e.settle().await;
    let key = Key::from(switchboard_core::keys::outbound("demo", "wamid.OUT1"));
    let item = e.server.stack.table.get(&key).await.unwrap().unwrap();
    assert_eq!(
        item["status"], "read",
        "late delivered/sent do not move it back"
    );
    assert_eq!(
        (
            item["sent_at"].as_i64(),
            item["delivered_at"].as_i64(),
            item["read_at"].as_i64()
        ),
        (Some(10), Some(20), Some(30))
    );
    let mut failed = st("failed", 40);
    failed["errors"] = json!([{"code": 131047, "title": "Re-engagement message"}]);
    let body = statuses(PNID, vec![failed, st("read", 50)]);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    e.settle().await;
    let item = e.server.stack.table.get(&key).await.unwrap().unwrap();
    assert_eq!(item["status"], "failed", "failed is terminal");
    assert_eq!(item["errors"][0]["code"], 131047);
    e.stop().await;
}

#[tokio::test]
async fn unknown_numbers_are_kept_under_the_unrouted_tenant() {
    let e = env().await;
    // A number and a WABA nobody has claimed (a known WABA would route its numbers' events).
    let body = webhook(
        "999999999999999",
        vec![text("15550100001", "wamid.UNROUTED", 1_800_000_000, "hi")],
    );
    let body = String::from_utf8(body)
        .unwrap()
        .replace("109876543210987", "888888888888888")
        .into_bytes();
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    e.settle().await;
    assert!(
        e.conversations("").await.is_empty(),
        "not shown to the demo tenant"
    );
    let listing = switchboard_app::queries::list_conversations(
        e.server.stack.table.as_ref(),
        &switchboard_app::SystemClock,
        "unrouted",
        None,
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(listing.items.len(), 1, "kept, not dropped");
    e.stop().await;
}

#[tokio::test]
async fn an_event_too_big_for_a_queue_message_travels_by_claim_check() {
    let e = env().await;
    let mut m = text("15550100001", "wamid.HUGE", 1_800_000_000, "see attachment");
    m["future_field"] = json!("z".repeat(400 * 1024));
    let body = webhook(PNID, vec![m]);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    e.settle().await;
    let convs = e.conversations("").await;
    assert_eq!(convs.len(), 1);
    let msgs = e
        .get(&format!(
            "/api/conversations/{}/messages",
            convs[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        msgs["items"][0]["raw"]["future_field"]
            .as_str()
            .unwrap()
            .len(),
        400 * 1024,
        "the unknown field survived whole"
    );
    let claims = std::fs::read_dir(e.server.stack.data_dir.join("blobs/claims"))
        .unwrap()
        .count();
    assert_eq!(claims, 1);
    e.stop().await;
}

#[tokio::test]
async fn api_errors_are_specific() {
    let e = env().await;
    let res = e
        .http
        .get(format!("{}/api/conversations?state=open", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "unknown_state"
    );
    let res = e
        .http
        .get(format!("{}/api/conversations/cv_nope/messages", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let _ = e.server.stack.events.depth().await.unwrap();
    e.stop().await;
}

#[tokio::test]
async fn templates_lint_over_http() {
    let e = env().await;
    let url = format!("{}/api/templates/lint", e.base);
    let template = json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "{{1}}, your order has shipped.", "example": {"body_text": [["Ana"]]}}]});
    let res = e.http.post(&url).json(&template).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["findings"][0]["rule"], "body.variable_at_edge");
    assert_eq!(v["submittable"], false);
    let good = json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your order has shipped and arrives tomorrow.", "example": {"body_text": [["Ana"]]}}]});
    let v: Value = e
        .http
        .post(&url)
        .json(&good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errors"], 0, "{v:#}");
    let bad = e.http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    e.stop().await;
}

#[tokio::test]
async fn template_webhooks_update_status_history_and_rejection_analytics() {
    let e = env().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/core/tests/fixtures");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|f| f.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for n in names.iter().filter(|n| {
        ["22_", "23_", "24_", "25_", "26_", "27_"]
            .iter()
            .any(|p| n.starts_with(p))
    }) {
        let body = std::fs::read(format!("{dir}/{n}")).unwrap();
        assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200, "{n}");
        // Twice: Meta retries; history must not double.
        assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    }
    e.settle().await;
    let rejected = e.get("/api/templates/cart_reminder").await;
    let lang = &rejected["languages"][0];
    assert_eq!(lang["status"], "REJECTED");
    assert_eq!(lang["rejection_reason"], "INVALID_FORMAT");
    assert!(lang["rejection_detail"]
        .as_str()
        .unwrap()
        .contains("parameters placed next to each other"));
    let sale = e.get("/api/templates/winter_sale").await;
    assert_eq!(sale["languages"][0]["status"], "DISABLED");
    assert_eq!(
        sale["history"].as_array().unwrap().len(),
        2,
        "PAUSED then DISABLED, once each"
    );
    let moved = e.get("/api/templates/welcome_back").await;
    assert_eq!(
        moved["languages"][0]["category"], "MARKETING",
        "completed category change"
    );
    assert!(moved["languages"][0]["pending_category"].is_null());

    let a = e.get("/api/templates/analytics?from=0&to=2000000000").await;
    assert_eq!(a["by_category"]["MARKETING"]["rejected"], 1);
    assert_eq!(a["by_category"]["MARKETING"]["rejection_rate"], 1.0);
    assert_eq!(
        a["by_category"]["MARKETING"]["reasons"]["INVALID_FORMAT"],
        1
    );
    assert_eq!(a["by_category"]["UTILITY"]["approved"], 1);
    assert_eq!(a["by_category"]["UTILITY"]["rejection_rate"], 0.0);
    assert_eq!(a["top_reasons"][0][0], "INVALID_FORMAT");
    let empty = e.get("/api/templates/analytics?from=0&to=1").await;
    assert!(empty["by_category"].as_object().unwrap().is_empty());
    let res = e
        .http
        .get(format!("{}/api/templates/nope", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    e.stop().await;
}
