//! Handoff and the outbound gate on `switchboard serve --demo`, end to end over HTTP: the queue
//! view, single-owner replies through the gate, the muted bot, window-closed refusals with the
//! templates that fit, opt-outs in every supported language, backoff on Meta's throughput error,
//! SLA warning and breach events, and an audit record for every send.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_app::ports::FixedClock;
use switchboard_e2e::{text, ServeEnv};

/// Near the real now, so the demo's system-clock parts (queues) and the fixed clock agree.
const T0: i64 = 1_795_400_000;

async fn env_at(clock: &Arc<FixedClock>) -> ServeEnv {
    ServeEnv::start_with(clock.clone(), |_| {}).await
}

fn billing(from: &str, wamid: &str, ts: i64, n: i64) -> Value {
    text(
        from,
        wamid,
        ts,
        &format!("I was charged twice for order #{n}, please refund the extra charge"),
    )
}

fn button(from: &str, wamid: &str, ts: i64, payload: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "button",
           "button": {"payload": payload, "text": "Stop promotions"}})
}

async fn conversation_of(e: &ServeEnv, phone: &str) -> Value {
    e.conversations("")
        .await
        .into_iter()
        .find(|c| c["contact"]["phone"] == phone)
        .unwrap_or_else(|| panic!("no conversation for {phone}"))
}

async fn id_of(e: &ServeEnv, phone: &str) -> String {
    conversation_of(e, phone).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn handoff(e: &ServeEnv, id: &str, user: &str, role: &str, action: Value) -> u16 {
    e.act(
        &format!("/api/conversations/{id}/handoff"),
        user,
        role,
        action,
    )
    .await
    .0
}

async fn accept(e: &ServeEnv, id: &str) {
    assert_eq!(
        handoff(e, id, "ana", "agent", json!({"action": "accept"})).await,
        200
    );
}

async fn reply_as(e: &ServeEnv, id: &str, user: &str, body: Value) -> (u16, Value) {
    e.act(
        &format!("/api/conversations/{id}/reply"),
        user,
        "agent",
        body,
    )
    .await
}

fn reply(key: &str, body: &str) -> Value {
    json!({"idempotency_key": key, "type": "text", "body": body})
}

/// A UTILITY template, approved by Meta (the demo fake approves on creation).
async fn approved_template(e: &ServeEnv) {
    e.server
        .graph_fake
        .as_ref()
        .unwrap()
        .approve_instantly(true);
    let draft = json!({"name": "order_update", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order {{1}} has an update: {{2}}.",
                        "example": {"body_text": [["4471", "it shipped"]]}},
                       {"type": "FOOTER", "text": "Example Mugs"}]});
    let (st, v) = e
        .act("/api/templates/drafts", "alice", "author", draft)
        .await;
    assert_eq!(st, 201, "{v}");
    for action in ["approve", "submit"] {
        let (st, v) = e
            .act(
                &format!("/api/templates/order_update/en_US/versions/1/{action}"),
                "bob",
                "approver",
                json!({}),
            )
            .await;
        assert!(st < 300, "{action}: {st} {v}");
    }
    for _ in 0..200 {
        let t = e.get("/api/templates/order_update").await;
        if t["languages"][0]["status"] == "APPROVED" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the template was never approved");
}

fn template_send(key: &str) -> Value {
    json!({"idempotency_key": key, "type": "template", "name": "order_update", "language": "en_US",
           "components": [{"type": "body", "parameters": [
               {"type": "text", "text": "4471"}, {"type": "text", "text": "it shipped"}]}]})
}

async fn audit(e: &ServeEnv, conversation: &str) -> Vec<Value> {
    e.get(&format!("/api/audit?conversation_id={conversation}"))
        .await["entries"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_agent_reply_leaves_through_the_gate_once_and_is_audited() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    e.send(vec![billing("15550107001", "wamid.O1", T0 - 30, 4471)])
        .await;
    let conv = conversation_of(&e, "15550107001").await;
    let id = conv["id"].as_str().unwrap().to_string();
    // The handoff function queued it: a human's queue, ordered, with SLA deadlines.
    assert_eq!(conv["state"], "awaiting_agent", "{conv:#}");
    let queues = e.get("/api/queues").await;
    let finance = queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "finance")
        .expect("finance queue");
    assert_eq!(finance["waiting"], 1);
    let row = &finance["conversations"][0];
    assert_eq!(row["conversation_id"], id.as_str());
    let clocks: Vec<&str> = row["sla"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["clock"].as_str().unwrap())
        .collect();
    assert_eq!(clocks, ["first_response", "resolution"]);
    assert!(row["sla"]["next_due_at"].as_i64().unwrap() > T0);

    accept(&e, &id).await;
    // The context packet the agent reads on accepting carries the SLA deadlines.
    let packet = e.get(&format!("/api/conversations/{id}/context")).await;
    assert_eq!(packet["sla"]["deadlines"][0]["clock"], "first_response");
    assert_eq!(packet["sla"]["status"], "ok");
    assert!(packet["handoff_reason"]
        .as_str()
        .unwrap()
        .contains("billing"));
    // Only the owner replies; the refused reply never reaches Meta.
    let (st, v) = reply_as(&e, &id, "bo", reply("bo-1", "I can help")).await;
    assert_eq!(st, 403, "{v}");
    let (st, v) = reply_as(&e, &id, "ana", reply("ana-1", "Refund on its way")).await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["send"]["status"], "queued");
    assert_eq!(v["conversation"]["state"], "awaiting_customer");
    // A double click: same key, nothing new.
    let (st, again) = reply_as(&e, &id, "ana", reply("ana-1", "Refund on its way")).await;
    assert_eq!(st, 202);
    assert_eq!(again["send"]["idempotency_key"], "ana-1");
    e.settle().await;

    let sent = e.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["body"]["to"], "+15550107001");
    assert_eq!(sent[0]["body"]["text"]["body"], "Refund on its way");
    let record = e.get("/api/sends/ana-1").await;
    assert_eq!(record["status"], "sent");
    assert_eq!(record["wamid"], sent[0]["wamid"]);
    let msgs = e.get(&format!("/api/conversations/{id}/messages")).await;
    let out: Vec<&Value> = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .collect();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["origin"], json!({"kind": "agent", "name": "ana"}));

    let entries = audit(&e, &id).await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|a| (a["actor"].as_str().unwrap(), a["action"].as_str().unwrap()))
        .collect();
    for expected in [
        ("system", "handoff.queued"),
        ("agent:ana", "handoff.accepted"),
        ("agent:ana", "message.sent_by_agent"),
        ("agent:ana", "send.sent"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|(_, a)| *a == "send.sent").count(),
        1,
        "one audit record per send"
    );
    e.stop().await;
}

#[tokio::test]
async fn the_bot_is_muted_while_a_human_owns_the_conversation_and_speaks_after_return() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    e.send(vec![billing("15550107002", "wamid.M1", T0 - 60, 4472)])
        .await;
    let id = id_of(&e, "15550107002").await;
    accept(&e, &id).await;
    // A greeting would get the bot's menu; while ana owns the conversation the bot says nothing.
    e.send(vec![text(
        "15550107002",
        "wamid.M2",
        T0 - 50,
        "hello there",
    )])
    .await;
    assert!(e.sent().is_empty(), "{:#?}", e.sent());
    let conv = conversation_of(&e, "15550107002").await;
    assert_eq!(conv["owner"], "ana");

    // Returned to the bot, it answers again.
    assert_eq!(
        handoff(&e, &id, "ana", "agent", json!({"action": "return_to_bot"})).await,
        200
    );
    e.send(vec![text(
        "15550107002",
        "wamid.M3",
        T0 - 40,
        "hello again",
    )])
    .await;
    let sent = e.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["body"]["context"]["message_id"], "wamid.M3");

    // Resolve closes the session; the next message opens a new one with the bot.
    let request = json!({"action": "request", "queue": "tier1", "reason": "follow-up"});
    assert_eq!(handoff(&e, &id, "lee", "lead", request).await, 200);
    accept(&e, &id).await;
    assert_eq!(
        handoff(&e, &id, "ana", "agent", json!({"action": "resolve"})).await,
        200
    );
    assert_eq!(
        conversation_of(&e, "15550107002").await["state"],
        "resolved"
    );
    let metrics = e
        .get(&format!("/api/metrics/handoff?from={}", T0 - 86_400))
        .await;
    assert!(metrics["metrics"]["sessions"].as_i64().unwrap() >= 1);
    assert_eq!(metrics["metrics"]["handed_off"], 1, "{metrics:#}");
    e.stop().await;
}

#[tokio::test]
async fn a_closed_window_refuses_free_text_and_offers_the_approved_templates() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    approved_template(&e).await;
    e.send(vec![billing("15550107003", "wamid.W1", T0 - 60, 4473)])
        .await;
    let id = id_of(&e, "15550107003").await;
    accept(&e, &id).await;
    // A day and an hour later the window is closed.
    clock.advance(25 * 3600);
    let (st, v) = reply_as(&e, &id, "ana", reply("late-1", "Sorry for the wait")).await;
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["error"]["code"], "window_closed");
    assert!(v["error"]["message"].as_str().unwrap().contains("template"));
    let names: Vec<&str> = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["order_update"], "{v}");
    let fits = e.get(&format!("/api/conversations/{id}/templates")).await;
    assert_eq!(fits["window"]["open"], false);
    assert_eq!(fits["templates"][0]["category"], "UTILITY");

    // A template is business-initiated: it needs opt-in on record.
    let (st, v) = reply_as(&e, &id, "ana", template_send("late-2")).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["code"], "no_opt_in");
    let (st, v) = e
        .act(
            &format!("/api/conversations/{id}/consent"),
            "lee",
            "lead",
            json!({"kind": "opt_in", "source": "web_form", "evidence": "form 8812, 2026-11-01"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = reply_as(&e, &id, "ana", template_send("late-3")).await;
    assert_eq!(st, 202, "{v}");
    e.settle().await;
    let sent = e.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["body"]["type"], "template");
    assert_eq!(sent[0]["body"]["template"]["name"], "order_update");
    let entries = audit(&e, &id).await;
    let sends: Vec<&Value> = entries
        .iter()
        .filter(|a| a["action"] == "send.sent")
        .collect();
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0]["detail"]["template"],
        json!({"name": "order_update", "language": "en_US"})
    );
    assert!(entries.iter().any(|a| a["action"] == "consent.opt_in"));
    e.stop().await;
}

#[tokio::test]
async fn opt_outs_in_every_supported_language_are_honoured() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    approved_template(&e).await;
    let words = [
        ("en", "STOP"),
        ("pt", "PARAR"),
        ("es", "darme de baja"),
        ("id", "Berhenti"),
        ("hi", "band karo"),
        ("ar", "إلغاء الاشتراك"),
    ];
    for (i, (lang, word)) in words.iter().enumerate() {
        let phone = format!("155501071{i:02}");
        e.send(vec![text(
            &phone,
            &format!("wamid.S{i}a"),
            T0 - 100,
            "hello",
        )])
        .await;
        let id = id_of(&e, &phone).await;
        let (st, _) = e
            .act(
                &format!("/api/conversations/{id}/consent"),
                "lee",
                "lead",
                json!({"kind": "opt_in", "source": "checkout", "evidence": format!("order {i}")}),
            )
            .await;
        assert_eq!(st, 201);
        // The customer writes after the opt-in was recorded.
        e.send(vec![text(&phone, &format!("wamid.S{i}b"), T0 + 5, word)])
            .await;
        let consent = e.get(&format!("/api/conversations/{id}/consent")).await;
        assert!(
            consent["state"]["opted_in"].is_null(),
            "{lang}: {consent:#}"
        );
        assert_eq!(
            consent["state"]["opted_out"]["source"], "keyword",
            "{lang}: {consent:#}"
        );
        let (st, v) = e
            .act(
                "/api/sends",
                "campaigns",
                "system",
                json!({"conversation_id": id, "idempotency_key": format!("promo-{i}"),
                       "type": "template", "name": "order_update", "language": "en_US",
                       "components": [{"type": "body", "parameters": [
                           {"type": "text", "text": "1"}, {"type": "text", "text": "x"}]}]}),
            )
            .await;
        assert_eq!(st, 422, "{lang}: {v}");
        assert_eq!(v["error"]["code"], "opted_out", "{lang}");
    }
    // The marketing opt-out button stops marketing only.
    e.send(vec![text("15550107199", "wamid.BTa", T0 - 100, "hello")])
        .await;
    e.send(vec![button(
        "15550107199",
        "wamid.BTb",
        T0 - 90,
        "optout_marketing",
    )])
    .await;
    let id = id_of(&e, "15550107199").await;
    let consent = e.get(&format!("/api/conversations/{id}/consent")).await;
    assert_eq!(consent["state"]["marketing_stopped"]["source"], "button");
    assert!(consent["state"]["opted_out"].is_null());
    // Meta's user_preferences webhook (the customer stopped marketing in the WhatsApp client),
    // then a resume.
    e.send(vec![text("15550109999", "wamid.UPa", T0 - 100, "hello")])
        .await;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/core/tests/fixtures/37_2_10_account_level_fields.json"
    );
    let stop = std::fs::read(fixture).unwrap();
    assert_eq!(
        e.post(&stop, Some(switchboard_e2e::sign(&stop))).await.0,
        200
    );
    e.settle().await;
    let id = id_of(&e, "15550109999").await;
    let consent = e.get(&format!("/api/conversations/{id}/consent")).await;
    assert_eq!(
        consent["state"]["marketing_stopped"]["source"], "user_preferences",
        "{consent:#}"
    );
    let resume = String::from_utf8(stop)
        .unwrap()
        .replace("\"stop\"", "\"resume\"")
        .replace("1768471200", "1768471300");
    assert_eq!(
        e.post(
            resume.as_bytes(),
            Some(switchboard_e2e::sign(resume.as_bytes()))
        )
        .await
        .0,
        200
    );
    e.settle().await;
    let consent = e.get(&format!("/api/conversations/{id}/consent")).await;
    assert!(
        consent["state"]["marketing_stopped"].is_null(),
        "{consent:#}"
    );
    assert_eq!(consent["ledger"].as_array().unwrap().len(), 2);
    // Every opt-out is in the audit trail as the customer's act.
    let trail = e.get("/api/audit").await;
    let opt_outs = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["actor"] == "customer" && a["action"] == "consent.opt_out")
        .count();
    assert_eq!(opt_outs, words.len());
    assert!(e.sent().iter().all(|s| s["body"]["type"] != "template"));
    e.stop().await;
}

#[tokio::test]
async fn meta_throughput_errors_back_off_and_the_send_goes_out_once() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    e.send(vec![billing("15550107004", "wamid.B1", T0 - 30, 4474)])
        .await;
    let id = id_of(&e, "15550107004").await;
    accept(&e, &id).await;
    let fake = e.server.graph_fake.clone().unwrap();
    fake.fail_next_sends(1, 400, 130429);
    let (st, _) = reply_as(&e, &id, "ana", reply("busy-1", "One moment")).await;
    assert_eq!(st, 202);
    e.settle().await;
    let sent = fake.sent_messages();
    assert_eq!(sent.len(), 1, "sent once, after the backoff: {sent:#?}");
    let record = e.get("/api/sends/busy-1").await;
    assert_eq!(record["status"], "sent");
    assert_eq!(record["attempts"], 2, "{record:#}");
    assert!(record["last_error"].as_str().unwrap().contains("130429"));
    // Undeliverable numbers fail for good, audited.
    fake.unreachable("+15550107004");
    let (st, _) = reply_as(&e, &id, "ana", reply("busy-2", "Are you there?")).await;
    assert_eq!(st, 202);
    e.settle().await;
    let record = e.get("/api/sends/busy-2").await;
    assert_eq!(record["status"], "failed", "{record:#}");
    assert_eq!(record["action"]["action"], "unreachable");
    let entries = audit(&e, &id).await;
    assert!(entries.iter().any(|a| a["action"] == "send.failed"));
    e.stop().await;
}

#[tokio::test]
async fn sla_warning_and_breach_are_raised_once_each() {
    let clock = Arc::new(FixedClock::new(T0));
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("sla.json");
    std::fs::write(
        &policy,
        json!({"version": "test.1", "timezone": "UTC",
               "default": {"business_hours": {"always_open": true},
                           "policy": {"first_response_secs": 600, "next_response_secs": 600,
                                      "resolution_secs": 7200, "warn_fraction": 0.5}}})
        .to_string(),
    )
    .unwrap();
    let e = ServeEnv::start_with(clock.clone(), |c| c.sla_config = Some(policy.clone())).await;
    e.send(vec![billing("15550107005", "wamid.L1", T0 - 10, 4475)])
        .await;
    let conv = conversation_of(&e, "15550107005").await;
    assert_eq!(conv["state"], "awaiting_agent");
    let sweep = || async { e.server.sweeper.sweep().await.unwrap() };
    assert_eq!(sweep().await.warnings, 0);
    clock.advance(301);
    let r = sweep().await;
    assert_eq!((r.warnings, r.breaches), (1, 0));
    assert_eq!(sweep().await.warnings, 0, "raised once");
    clock.advance(300);
    let r = sweep().await;
    assert_eq!((r.warnings, r.breaches), (0, 1));
    assert_eq!(sweep().await.breaches, 0, "raised once");

    let events = e.get(&format!("/api/sla/events?from={}", T0 - 3600)).await;
    let kinds: Vec<(&str, &str)> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ev| {
            (
                ev["type"].as_str().unwrap(),
                ev["detail"]["clock"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("sla.warning", "first_response"),
            ("sla.breached", "first_response")
        ]
    );
    let queues = e.get("/api/queues?queue=finance").await;
    let row = &queues["queues"][0]["conversations"][0];
    assert_eq!(row["sla"]["status"], "breached", "{queues:#}");
    // Both were published on the bus for other systems.
    let bus = e.server.stack.bus.list("demo", 0, 1000).await.unwrap();
    assert!(bus.iter().any(|(_, ev)| ev.detail_type == "sla.breached"));
    e.stop().await;
}

#[tokio::test]
async fn a_bot_conversation_closes_with_its_window_and_the_next_message_opens_a_session() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    e.send(vec![text(
        "15550107006",
        "wamid.A1",
        T0 - 10,
        "hello there",
    )])
    .await;
    let id = id_of(&e, "15550107006").await;
    assert_eq!(e.server.sweeper.sweep().await.unwrap().auto_closed, 0);
    clock.advance(24 * 3600);
    let r = e.server.sweeper.sweep().await.unwrap();
    assert_eq!(r.auto_closed, 1);
    assert_eq!(r.windows_expired, 0, "the bot answered the greeting");
    assert_eq!(
        conversation_of(&e, "15550107006").await["state"],
        "resolved"
    );
    assert_eq!(
        e.server.sweeper.sweep().await.unwrap().auto_closed,
        0,
        "once"
    );
    let trail = audit(&e, &id).await;
    assert!(trail
        .iter()
        .any(|a| a["action"] == "conversation.auto_closed" && a["actor"] == "system:sweeper"));
    // The customer comes back: a new session with the bot.
    let later = T0 + 24 * 3600 + 60;
    e.send(vec![text("15550107006", "wamid.A2", later, "hello again")])
        .await;
    assert_eq!(conversation_of(&e, "15550107006").await["state"], "bot");
    let bus = e.server.stack.bus.list("demo", 0, 1000).await.unwrap();
    let opened: Vec<bool> = bus
        .iter()
        .filter(|(_, ev)| ev.detail_type == "conversation.opened")
        .map(|(_, ev)| ev.detail["reopened"].as_bool().unwrap())
        .collect();
    assert_eq!(opened, [false, true]);
    e.stop().await;
}

#[tokio::test]
async fn a_window_that_closes_on_an_unanswered_customer_is_counted_once() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = env_at(&clock).await;
    e.send(vec![billing("15550107007", "wamid.X1", T0 - 10, 4477)])
        .await;
    clock.advance(24 * 3600);
    let r = e.server.sweeper.sweep().await.unwrap();
    assert_eq!(r.windows_expired, 1, "nobody answered the billing question");
    assert_eq!(
        e.server.sweeper.sweep().await.unwrap().windows_expired,
        0,
        "once"
    );
    let report = e
        .get(&format!(
            "/api/metrics?from={}&to={}",
            T0 - 3600,
            T0 + 25 * 3600
        ))
        .await;
    assert_eq!(
        report["metrics"]["counters"]["windows_expired"], 1,
        "{report:#}"
    );
    e.stop().await;
}
