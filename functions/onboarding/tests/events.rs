//! Invokes the onboarding function's handler in-process with every events/onboarding fixture,
//! on the local backend (the same use case; the local executor stands in for Step Functions).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use switchboard_app::onboarding::Onboarding;
use switchboard_app::ports::{FixedClock, Key, StaticPin, StaticTokens, Table};
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};
use switchboard_local::{LocalFlow, LocalStack};

fn fixture(name: &str) -> SqsEvent {
    let path = format!(
        "{}/../../events/onboarding/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn onboarding(dir: &std::path::Path, fake: &GraphFake) -> (Onboarding, LocalStack) {
    let clock = Arc::new(FixedClock::new(1_795_316_400));
    let stack = LocalStack::open(dir, clock.clone()).unwrap();
    let flow = Arc::new(
        LocalFlow::onboarding(
            "local://onboarding",
            stack.table.clone(),
            stack.onboarding.clone(),
            clock.clone(),
        )
        .unwrap(),
    );
    let o = Onboarding {
        table: stack.table.clone(),
        clock,
        graph: GraphClient::new(GraphConfig::for_fake(fake)).unwrap(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some("t".into()),
        }),
        pins: Arc::new(StaticPin(Some("246810".into()))),
        flow: flow.clone(),
        executions: flow,
    };
    (o, stack)
}

fn failed_ids(res: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    res.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn a_task_does_its_step_and_a_stale_token_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let fake = GraphFake::start().await;
    let (o, stack) = onboarding(dir.path(), &fake).await;
    let res = onboarding::handle_batch(&o, fixture("create-tenant-task.json")).await;
    assert!(failed_ids(&res).is_empty());
    // The step's work happened: the number and the WABA now route to the tenant.
    let route = stack
        .table
        .get(&Key::new("PN#110000000000001", "ROUTE"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(route["tenant"], "acme");
    let list = o.checklist("acme").await.unwrap();
    let step = list["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "create_tenant")
        .cloned()
        .unwrap();
    assert_eq!(step["status"], "done");
    assert_eq!(step["evidence"]["waba_id"], "109876543210987");
}

#[tokio::test]
async fn a_signal_with_no_waiting_step_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = GraphFake::start().await;
    let (o, _stack) = onboarding(dir.path(), &fake).await;
    let res = onboarding::handle_batch(&o, fixture("display-name-approved-signal.json")).await;
    assert!(failed_ids(&res).is_empty());
    let list = o.checklist("acme").await.unwrap();
    assert_eq!(list["steps"], Value::Array(vec![]));
}

#[tokio::test]
async fn a_malformed_task_goes_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let fake = GraphFake::start().await;
    let (o, _stack) = onboarding(dir.path(), &fake).await;
    let res = onboarding::handle_batch(&o, fixture("partial-malformed-task.json")).await;
    assert_eq!(failed_ids(&res), ["8f2b6f2e-0004-4c1a-9b1e-000000000004"]);
}
