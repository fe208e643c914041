//! Onboarding on `switchboard serve --demo`: the state machine file run by the local executor,
//! the Graph fake answering Meta's side, and `GET /api/onboarding` showing each step's status,
//! owner and ETA as it moves — through every wait (business verification, the SMS code, display
//! name review, template approval) to live; and a step that fails, then succeeds on retry.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_app::ports::FixedClock;
use switchboard_app::Queue;
use switchboard_e2e::{sign, ServeEnv};

const T0: i64 = 1_795_400_000;
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/core/tests/fixtures");

/// Waits until the onboarding queue (tasks and Meta's answers) and the pipeline are drained.
async fn drain(e: &ServeEnv) {
    let stack = &e.server.stack;
    let mut quiet = 0;
    for _ in 0..1200 {
        let mut depth = stack.onboarding.depth().await.unwrap();
        for q in [&stack.events, &stack.handoff, &stack.templates] {
            depth += q.depth().await.unwrap();
        }
        quiet = if depth == 0 { quiet + 1 } else { 0 };
        if quiet == 3 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the onboarding queue never drained");
}

async fn steps(e: &ServeEnv) -> Vec<Value> {
    e.get("/api/onboarding").await["steps"]
        .as_array()
        .unwrap()
        .clone()
}

async fn step(e: &ServeEnv, name: &str) -> Value {
    steps(e)
        .await
        .into_iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

async fn webhook(e: &ServeEnv, fixture: &str) {
    let body = std::fs::read(format!("{FIXTURES}/{fixture}")).unwrap();
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    drain(e).await;
}

/// An admin acts on a step (`complete` or `retry`); the pipeline is drained afterwards.
async fn act_on(e: &ServeEnv, step: &str, action: &str, body: Value) -> (u16, Value) {
    let res = e
        .act(
            &format!("/api/onboarding/{step}/{action}"),
            "olga",
            "admin",
            body,
        )
        .await;
    drain(e).await;
    res
}

async fn start(e: &ServeEnv) {
    let (st, v) = e
        .act(
            "/api/onboarding/start",
            "olga",
            "admin",
            json!({"phone_number_id": "110000000000001", "waba_id": "109876543210987",
                   "display_name": "Example Mugs"}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    drain(e).await;
}

#[tokio::test]
async fn a_tenant_goes_from_start_to_live_through_every_checkpoint() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = ServeEnv::start_with(clock.clone(), |_| {}).await;
    // Only leads and admins start onboarding.
    let (st, _) = e
        .act(
            "/api/onboarding/start",
            "ana",
            "agent",
            json!({"phone_number_id": "1", "waba_id": "2"}),
        )
        .await;
    assert_eq!(st, 403);
    start(&e).await;

    let all = steps(&e).await;
    assert_eq!(all.len(), 10);
    assert_eq!(all[0]["step"], "create_tenant");
    assert_eq!(all[0]["status"], "done");
    let bv = &all[1];
    assert_eq!(bv["status"], "waiting_on_business", "{bv:#}");
    assert_eq!(bv["owner"], "business");
    assert!(bv["eta_at"].as_i64().unwrap() > T0);
    assert_eq!(bv["actions"], json!(["complete"]));
    assert!(bv.get("token").is_none(), "task tokens stay server-side");
    assert!(all[2..].iter().all(|s| s["status"] == "pending"));

    let (st, v) = act_on(
        &e,
        "business_verification",
        "complete",
        json!({"evidence": "Meta business verification case 4471"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(step(&e, "request_code").await["status"], "done");
    assert_eq!(
        step(&e, "verify_code").await["status"],
        "waiting_on_business"
    );

    // A wrong code keeps the step waiting, with the reason.
    let (st, _) = act_on(&e, "verify_code", "complete", json!({"code": "000000"})).await;
    assert_eq!(st, 422);
    let verify = step(&e, "verify_code").await;
    assert_eq!(verify["status"], "waiting_on_business");
    assert!(verify["last_error"].as_str().is_some());
    let (st, v) = act_on(&e, "verify_code", "complete", json!({"code": "123456"})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(step(&e, "register").await["status"], "done");
    let review = step(&e, "display_name_review").await;
    assert_eq!(review["status"], "waiting_on_meta", "{review:#}");
    assert_eq!(review["owner"], "meta");

    // Meta approves the display name: the webhook resumes the execution.
    webhook(&e, "30_2_9_phone_number_name_update_display_nam.json").await;
    assert_eq!(step(&e, "display_name_review").await["status"], "done");
    assert_eq!(step(&e, "subscribe_app").await["status"], "done");
    let checks = step(&e, "self_checks").await;
    assert_eq!(checks["status"], "done", "{checks:#}");
    assert_eq!(checks["evidence"]["signed_event_received"], true);
    assert_eq!(checks["evidence"]["quality_rating"], "GREEN");
    assert_eq!(
        step(&e, "first_templates").await["status"],
        "waiting_on_meta"
    );

    // Meta approves the first template.
    webhook(&e, "22_2_5_message_template_status_update.json").await;
    let all = steps(&e).await;
    assert!(
        all.iter().all(|s| s["status"] == "done"),
        "{:#}",
        Value::Array(all.clone())
    );
    let onboarding = e.get("/api/onboarding").await;
    assert_eq!(onboarding["execution"]["execution_status"], "SUCCEEDED");
    assert_eq!(onboarding["execution"]["status"], "live");
    // The Graph fake saw the number verified, registered and the app subscribed.
    let fake = e.server.graph_fake.as_ref().unwrap();
    let phone = fake.phone_state("110000000000001");
    assert_eq!(phone["code_verification_status"], "VERIFIED", "{phone:#}");
    assert_eq!(phone["status"], "CONNECTED");
    e.stop().await;
}

#[tokio::test]
async fn a_failing_step_is_retried_then_parked_and_succeeds_when_an_operator_retries() {
    let clock = Arc::new(FixedClock::new(T0));
    let e = ServeEnv::start_with(clock.clone(), |_| {}).await;
    let fake = e.server.graph_fake.clone().unwrap();
    // Meta is down for register: three answers of 131000 (temporary).
    fake.fail_next("register", 3, 500, 131000);
    start(&e).await;
    act_on(
        &e,
        "business_verification",
        "complete",
        json!({"evidence": "case 1"}),
    )
    .await;
    let (st, _) = act_on(&e, "verify_code", "complete", json!({"code": "123456"})).await;
    assert_eq!(st, 200);
    // The state machine's Retry: after 1 s, then 2 s.
    for _ in 0..2 {
        assert_eq!(step(&e, "register").await["status"], "failed");
        clock.advance(3);
        let now = switchboard_app::Clock::now(clock.as_ref());
        e.server.flow.tick(now).await.unwrap();
        drain(&e).await;
    }
    // Retries exhausted: parked in register_failed, visible with its reason and a retry action.
    let register = step(&e, "register").await;
    assert_eq!(register["status"], "failed", "{register:#}");
    assert!(register["last_error"].as_str().unwrap().contains("131000"));
    assert_eq!(register["actions"], json!(["retry"]));
    assert_eq!(register["attempts"], 3);

    let (st, v) = act_on(&e, "register", "retry", json!({})).await;
    assert_eq!(st, 200, "{v}");
    // A second click finds nothing to retry.
    let (st, _) = act_on(&e, "register", "retry", json!({})).await;
    assert_eq!(st, 409);
    let register = step(&e, "register").await;
    assert_eq!(register["status"], "done", "{register:#}");
    assert_eq!(register["attempts"], 4);
    assert_eq!(
        step(&e, "display_name_review").await["status"],
        "waiting_on_meta"
    );
    e.stop().await;
}
