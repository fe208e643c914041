//! Invokes the templates function's handler in-process with every events/templates-function
//! fixture: an approved version is created with the (fake) Graph API and recorded.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::json;
use switchboard_app::governance::{Actor, Governance, Role, Submitter};
use switchboard_app::ports::StaticTokens;
use switchboard_app::{routes, SystemClock};
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};
use switchboard_local::LocalStack;

fn fixture(name: &str) -> SqsEvent {
    let path = format!(
        "{}/../../events/templates-function/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn fixtures_submit_the_approved_version_once() {
    let fake = GraphFake::start().await;
    fake.add_token("t");
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SystemClock);
    let stack = LocalStack::open(dir.path(), clock.clone()).unwrap();
    routes::set_waba_route(stack.table.as_ref(), "109876543210987", "demo")
        .await
        .unwrap();
    let gov = Governance {
        table: stack.table.clone(),
        clock: clock.clone(),
        queue: stack.templates.clone(),
    };
    let author = Actor {
        user: "alice".into(),
        role: Role::Author,
    };
    let approver = Actor {
        user: "bob".into(),
        role: Role::Approver,
    };
    let t = json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} left our warehouse today.",
                        "example": {"body_text": [["Ana", "4471"]]}}]});
    gov.save_draft("demo", &author, t).await.unwrap();
    gov.approve("demo", &approver, "order_shipped", "en_US", 1)
        .await
        .unwrap();
    gov.submit("demo", &author, "order_shipped", "en_US", 1)
        .await
        .unwrap();

    let submitter = Submitter {
        table: stack.table.clone(),
        clock,
        graph: GraphClient::new(GraphConfig::for_fake(&fake)).unwrap(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some("t".into()),
        }),
    };
    let res = templates::handle_batch(&submitter, fixture("submit-approved-version.json")).await;
    assert!(res.batch_item_failures.is_empty());
    assert_eq!(fake.templates().len(), 1);
    let ev = fixture("partial-corrupt-job.json");
    let res = templates::handle_batch(&submitter, ev.clone()).await;
    let failed: Vec<_> = res
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [ev.records[0].message_id.clone().unwrap()]);
    assert_eq!(
        fake.templates().len(),
        1,
        "a redelivered job does not create the template twice"
    );
    fake.stop().await;
}
