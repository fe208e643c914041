//! A scripted day of demo traffic on `switchboard serve`, then the product metrics from the
//! roll-ups (`GET /api/metrics`), the seed's diagnostic (`GET /api/diagnostic`), and a rebuild
//! from the event log that must agree with the incremental counters.

use std::sync::Arc;

use serde_json::json;
use switchboard_app::ports::FixedClock;
use switchboard_e2e::{sign, statuses, text, ServeEnv, PNID};

const T0: i64 = 1_795_400_000;

async fn id_of(e: &ServeEnv, phone: &str) -> String {
    e.conversations("")
        .await
        .into_iter()
        .find(|c| c["contact"]["phone"] == phone)
        .and_then(|c| c["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no conversation for {phone}"))
}

#[tokio::test]
async fn a_scripted_day_gives_the_expected_metrics_and_diagnostic() {
    let clock = Arc::new(FixedClock::new(T0));
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("sla.json");
    std::fs::write(
        &policy,
        json!({"version": "test.1", "timezone": "UTC",
               "default": {"business_hours": {"always_open": true},
                           "policy": {"first_response_secs": 600, "next_response_secs": 600,
                                      "resolution_secs": 7200}}})
        .to_string(),
    )
    .unwrap();
    let e = ServeEnv::start_with(clock.clone(), |c| c.sla_config = Some(policy.clone())).await;

    // Five customers: a greeting (the bot answers), a quick reply, a billing problem (handed
    // to finance), an opt-out after an opt-in, and a thumbs-up (noise).
    e.send(vec![
        text("15550108001", "wamid.D1", T0 - 50, "hello there"),
        json!({"from": "15550108002", "id": "wamid.D2", "timestamp": (T0 - 49).to_string(),
               "type": "button", "button": {"payload": "intent:order_status", "text": "Track my order"}}),
        text(
            "15550108003",
            "wamid.D3",
            T0 - 48,
            "I was charged twice for order #4471, please refund the extra charge",
        ),
        text("15550108004", "wamid.D4", T0 - 47, "hi, I have a question"),
        text("15550108005", "wamid.D5", T0 - 46, "👍"),
    ])
    .await;
    let billing = id_of(&e, "15550108003").await;
    assert_eq!(
        e.act(
            &format!("/api/conversations/{billing}/handoff"),
            "ana",
            "agent",
            json!({"action": "accept"})
        )
        .await
        .0,
        200
    );
    // Five minutes later, ana answers: a first response of 300 business seconds, within SLA.
    clock.advance(300);
    let (st, v) = e
        .act(
            &format!("/api/conversations/{billing}/reply"),
            "ana",
            "agent",
            json!({"idempotency_key": "d-1", "type": "text", "body": "Refund issued"}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    let opt = id_of(&e, "15550108004").await;
    e.act(
        &format!("/api/conversations/{opt}/consent"),
        "lee",
        "lead",
        json!({"kind": "opt_in", "source": "checkout", "evidence": "order 88"}),
    )
    .await;
    e.send(vec![text("15550108004", "wamid.D6", T0 + 400, "STOP")])
        .await;
    e.settle().await;

    // Meta reports delivery for everything we sent, and reads for the first two.
    let sent = e.sent();
    assert!(sent.len() >= 2, "{sent:#?}");
    let mut st = Vec::new();
    for (i, s) in sent.iter().enumerate() {
        let wamid = s["wamid"].as_str().unwrap();
        st.push(json!({"id": wamid, "status": "delivered", "timestamp": (T0 + 500).to_string(), "recipient_id": "1"}));
        if i < 2 {
            st.push(json!({"id": wamid, "status": "read", "timestamp": (T0 + 600).to_string(), "recipient_id": "1"}));
        }
    }
    // A duplicate delivery report changes nothing.
    st.push(st[0].clone());
    let body = statuses(PNID, st);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    e.settle().await;

    let report = e
        .get(&format!("/api/metrics?from={}&to={}", T0 - 3600, T0 + 3600))
        .await;
    let m = &report["metrics"];
    let c = &m["counters"];
    assert_eq!(c["sessions_opened"], 5, "{report:#}");
    assert_eq!(c["inbound_messages"], 6);
    assert_eq!(c["noise_filtered"], 1, "the thumbs-up");
    assert_eq!(c["structured"], 1, "the quick reply");
    // The billing problem goes to finance; the vague question the NLU abstains on goes to a
    // human too (tier1): two handoffs.
    assert_eq!(c["nlu_abstained"], 1);
    assert_eq!(c["handoffs"], 2);
    assert_eq!(
        report["escalation_mix"],
        json!({"finance": 0.5, "tier1": 0.5})
    );
    assert_eq!(c["agent_replies"], 1);
    assert_eq!(c["first_response_count"], 1);
    assert_eq!(m["avg_first_response_secs"], 300.0);
    assert_eq!(m["first_response_sla_adherence"], 1.0);
    assert_eq!(c["consent_opt_out"], 1);
    assert_eq!(m["opt_out_rate"], 0.2);
    // The bot's menu and ana's reply.
    assert_eq!(c["sent"], sent.len() as i64);
    assert_eq!(
        (c["sent_by_bot"].as_i64(), c["sent_by_agent"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        c["status_delivered"],
        sent.len() as i64,
        "each message once"
    );
    assert_eq!(m["delivery_rate"], 1.0);
    assert_eq!(c["status_read"], 2);
    assert_eq!(m["structured_share"], 0.2);
    assert_eq!(m["coverage_warning"], "below_70");
    let hd = &report["handoff_deflection"];
    assert_eq!(hd["sessions"], 5);
    assert_eq!(hd["handed_off"], 2);
    assert_eq!(hd["handoff_rate"], 0.4);
    // The finance queue's own view.
    let finance = e
        .get(&format!(
            "/api/metrics?from={}&to={}&queue=finance",
            T0 - 3600,
            T0 + 3600
        ))
        .await;
    assert_eq!(finance["metrics"]["counters"]["handoffs"], 1);
    assert_eq!(finance["metrics"]["avg_first_response_secs"], 300.0);

    // The incremental counters agree with a rebuild from the event log.
    let days = switchboard_app::metrics::rebuild(
        e.server.stack.table.as_ref(),
        "demo",
        T0 - 86_400,
        T0 + 86_400,
        false,
        |_, _| {},
    )
    .await
    .unwrap();
    for d in &days {
        assert!(d.differences.is_empty(), "{}: {:?}", d.day, d.differences);
    }
    assert!(days.iter().map(|d| d.events).sum::<usize>() > 10);

    let diagnostic = e.get("/api/diagnostic").await;
    assert_eq!(diagnostic["out_of"], 7);
    assert_eq!(diagnostic["score"], 0, "{diagnostic:#}");
    assert_eq!(diagnostic["band"], "healthy");
    let handoff = diagnostic["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "handoff_rate_band")
        .unwrap();
    assert_eq!(handoff["answer"], "40.0%");
    e.stop().await;
}
