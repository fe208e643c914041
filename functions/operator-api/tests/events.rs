//! Invokes the operator-api function's router in-process with every events/operator-api fixture
//! (API Gateway HTTP API requests, payload 2.0, with and without the JWT authorizer's claims) and
//! checks the status its name starts with. Identity comes only from the authorizer's claims.

use std::sync::Arc;

use http_body_util::BodyExt;
use serde_json::{json, Value};
use switchboard_app::handoff::HandoffService;
use switchboard_app::onboarding::Onboarding;
use switchboard_app::outbound::Outbound;
use switchboard_app::ports::table::item;
use switchboard_app::ports::Key;
use switchboard_app::ports::{StaticPin, StaticTokens};
use switchboard_app::{SystemClock, Table};
use switchboard_core::sla::SlaPolicies;
use switchboard_graph::{GraphClient, GraphConfig};
use switchboard_http::{Authenticator, ReadApi};
use switchboard_local::{LocalFlow, LocalStack};
use tower::ServiceExt;

fn api(stack: &LocalStack) -> Arc<ReadApi> {
    let clock = Arc::new(SystemClock);
    let sla = Arc::new(SlaPolicies::default_policies());
    let flow = Arc::new(
        LocalFlow::onboarding(
            "local://onboarding",
            stack.table.clone(),
            stack.onboarding.clone(),
            clock.clone(),
        )
        .unwrap(),
    );
    Arc::new(ReadApi {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
        auth: Authenticator::Gateway,
        handoff: Arc::new(HandoffService {
            table: stack.table.clone(),
            bus: stack.bus.clone(),
            clock: clock.clone(),
            sla: sla.clone(),
        }),
        governance: Arc::new(switchboard_app::governance::Governance {
            table: stack.table.clone(),
            clock: clock.clone(),
            queue: stack.templates.clone(),
        }),
        outbound: Arc::new(Outbound {
            table: stack.table.clone(),
            queues: stack.outbound_queues(),
            clock: clock.clone(),
        }),
        onboarding: Arc::new(Onboarding {
            table: stack.table.clone(),
            clock,
            graph: GraphClient::new(GraphConfig::default()).unwrap(),
            tokens: Arc::new(StaticTokens {
                per_tenant: Default::default(),
                fallback: None,
            }),
            pins: Arc::new(StaticPin(None)),
            flow: flow.clone(),
            executions: flow,
        }),
        sla,
        simulator: None,
        dead_letters: None,
    })
}

#[tokio::test]
async fn every_fixture_gets_its_status_with_identity_from_the_authorizer_only() {
    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::open(dir.path(), Arc::new(SystemClock)).unwrap();
    let key = Key::from(switchboard_core::keys::conversation(
        "demo",
        "cv_demo_seeded",
    ));
    stack
        .table
        .put(
            item(
                &key,
                json!({"id": "cv_demo_seeded", "state": "bot", "contact_id": "ct_1",
                       "last_activity": 1_795_338_000}),
            ),
            None,
        )
        .await
        .unwrap();
    let router = operator_api::router(api(&stack));

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/operator-api");
    let mut names: Vec<_> = std::fs::read_dir(fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 8);
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected: u16 = name[..3].parse().unwrap();
        let request =
            lambda_http::request::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, expected, "{name}: {text}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        match name.as_str() {
            "200-session-as-agent.json" => {
                assert_eq!(v["user"], "ana@example.com");
                assert_eq!(v["tenant"], "demo");
                assert_eq!(v["roles"], json!(["agent"]));
                assert_eq!(v["auth"], "cognito");
            }
            "200-conversations-as-lead.json" => assert!(v["items"].is_array(), "{text}"),
            "200-conversation-of-own-tenant.json" => assert_eq!(v["id"], "cv_demo_seeded"),
            "404-conversation-of-another-tenant.json" => {
                assert!(!text.contains("ct_1"));
            }
            "200-openapi-without-token.json" => assert_eq!(v["openapi"], "3.0.3"),
            _ if expected >= 400 => assert!(v["error"]["code"].is_string(), "{name}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_bearer_header_without_authorizer_claims_is_not_trusted() {
    // Someone calling the function URL directly with a self-made token gets nothing: on AWS only
    // the authorizer's verified claims count.
    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::open(dir.path(), Arc::new(SystemClock)).unwrap();
    let router = operator_api::router(api(&stack));
    let token = switchboard_http::DevIssuer::from_app_secret("guess").mint(
        "mallory",
        "demo",
        &switchboard_http::Role::ALL,
        1_795_338_000,
        3600,
    );
    let request = axum::http::Request::get("/api/conversations")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 401);
}
