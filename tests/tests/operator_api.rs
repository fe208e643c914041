//! The operator API's access matrix, over every route of the catalog (the same table that builds
//! the router and the OpenAPI document): no token → 401; each role the route does not list →
//! 403; another tenant's token (all roles) never sees or changes this tenant's data, and cannot
//! take its phone number through onboarding.

use std::collections::HashMap;

use serde_json::{json, Value};
use switchboard_e2e::{operator_token, text, Role, ServeEnv, PNID};
use switchboard_http::catalog::Method;

const CUSTOMER: &str = "15550107777";
const WABA: &str = "109876543210987";

fn url(e: &ServeEnv, path: &str, params: &HashMap<&str, String>) -> String {
    let mut p = path.to_string();
    for (k, v) in params {
        p = p.replace(&format!("{{{k}}}"), v);
    }
    format!("{}{p}", e.base)
}

/// A body each POST route accepts, so the handler really runs for the intruder.
fn body_for(path: &str, conversation: &str) -> Value {
    let template = json!({"name": "intruder_note", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order {{1}} has shipped.",
                        "example": {"body_text": [["A-1"]]}}]});
    match path {
        "/api/conversations/{id}/handoff" => json!({"action": "accept"}),
        "/api/conversations/{id}/reply" => {
            json!({"idempotency_key": "intruder-1", "type": "text", "body": "hello from elsewhere"})
        }
        "/api/conversations/{id}/consent" => {
            json!({"kind": "opt_out", "source": "web_form", "evidence": "forged"})
        }
        "/api/sends" => json!({"conversation_id": conversation, "idempotency_key": "intruder-2",
                               "type": "text", "body": "hello"}),
        "/api/templates/drafts" | "/api/templates/lint" => template,
        "/api/templates/{name}/{lang}/validate-send" => json!([]),
        "/api/onboarding/start" => json!({"phone_number_id": PNID, "waba_id": WABA}),
        "/api/onboarding/{step}/{action}" => json!({"code": "123456"}),
        "/api/demo/customer" => json!({"from": "15550108888", "text": "hi"}),
        _ => json!({}),
    }
}

async fn call(
    e: &ServeEnv,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, String) {
    let mut req = match method {
        Method::Get => e.anon.get(url),
        Method::Post => e.anon.post(url).json(body),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_route_refuses_strangers_wrong_roles_and_other_tenants() {
    let e = ServeEnv::start().await;
    e.send(vec![text(
        CUSTOMER,
        "wamid.M1",
        1_700_000_000,
        "I want to talk to a human",
    )])
    .await;
    let convs = e.conversations("").await;
    let conversation = convs[0]["id"].as_str().unwrap().to_string();
    // The inbox row carries the SLA clock of the handoff the customer asked for.
    assert_eq!(convs[0]["state"], "awaiting_agent", "{:#}", convs[0]);
    assert_eq!(convs[0]["sla"]["deadlines"][0]["clock"], "first_response");
    assert!(convs[0]["sla"]["next_due_at"].is_i64());
    let before = e.get(&format!("/api/conversations/{conversation}")).await;
    let audit_before = e.get("/api/audit").await["entries"]
        .as_array()
        .unwrap()
        .len();

    let params: HashMap<&str, String> = [
        ("id", conversation.clone()),
        ("name", "order_update".into()),
        ("lang", "en_US".into()),
        ("version", "1".into()),
        ("step", "verify_code".into()),
        ("action", "complete".into()),
        ("key", "no-such-send".into()),
        ("from", CUSTOMER.into()),
        ("queue", "events-dlq.fifo".into()),
        ("message_id", "no-such-message".into()),
    ]
    .into_iter()
    .collect();
    let intruder = operator_token("mallory", &Role::ALL, "intruder");
    let routes = switchboard_http::catalog();
    assert!(routes.len() >= 30, "the catalog lists every route");
    for route in &routes {
        let url = url(&e, route.path, &params);
        let body = body_for(route.path, &conversation);
        let what = format!("{} {}", route.method.as_str(), route.path);

        let (st, _) = call(&e, route.method, &url, None, &body).await;
        assert_eq!(st, 401, "{what} without a token");
        let (st, _) = call(&e, route.method, &url, Some("not.a.token"), &body).await;
        assert_eq!(st, 401, "{what} with a bad token");

        for role in Role::ALL {
            if route.roles.contains(&role) {
                continue;
            }
            let token = operator_token("wrong", &[role], "demo");
            let (st, text) = call(&e, route.method, &url, Some(&token), &body).await;
            assert_eq!(st, 403, "{what} as {role:?}: {text}");
            assert!(text.contains("forbidden_role"), "{what}: {text}");
        }

        let (st, text) = call(&e, route.method, &url, Some(&intruder), &body).await;
        assert!(st < 500, "{what} as another tenant: {st} {text}");
        if route.method == Method::Get && route.path.contains("{id}") {
            assert_eq!(st, 404, "{what} as another tenant: {text}");
        }
        for secret in [CUSTOMER, "I want to talk", "Customer 77"] {
            assert!(
                !text.contains(secret),
                "{what} leaked {secret:?} to another tenant: {text}"
            );
        }
    }
    e.settle().await;

    // Nothing of this tenant changed: the conversation, its consent, its audit trail, its number.
    let after = e.get(&format!("/api/conversations/{conversation}")).await;
    assert_eq!(before["state"], after["state"]);
    assert_eq!(before["owner"], after["owner"]);
    let consent = e
        .get(&format!("/api/conversations/{conversation}/consent"))
        .await;
    assert!(!consent.to_string().contains("forged"), "{consent}");
    let audit = e.get("/api/audit").await["entries"].clone();
    assert!(!audit.to_string().contains("mallory"), "{audit}");
    assert_eq!(audit.as_array().unwrap().len(), audit_before);
    for _ in 0..100 {
        e.server.flow.tick(0).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let route = switchboard_app::routes::resolve_tenant(
        e.server.stack.table.as_ref(),
        Some(PNID),
        Some(WABA),
    )
    .await
    .unwrap();
    assert_eq!(
        route, "demo",
        "onboarding by another tenant moved the number"
    );
    // The intruder's own checklist shows why its onboarding stopped.
    let checklist: Value = e
        .anon
        .get(format!("{}/api/onboarding", e.base))
        .bearer_auth(&intruder)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        checklist.to_string().contains("routed to another tenant"),
        "{checklist:#}"
    );
    e.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_needs_no_token() {
    let e = ServeEnv::start().await;
    let res = e
        .anon
        .get(format!("{}/api/openapi.json", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    for route in switchboard_http::catalog() {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} missing", route.path);
    }
    // An unknown API path is a JSON 404 behind authentication, not the console's page.
    let res = e
        .http
        .get(format!("{}/api/nope", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    e.stop().await;
}

#[tokio::test]
async fn polling_with_the_etag_returns_not_modified_until_something_changes() {
    let e = ServeEnv::start().await;
    e.send(vec![text(CUSTOMER, "wamid.E1", 1_700_000_000, "hello")])
        .await;
    let url = format!("{}/api/conversations", e.base);
    let first = e.http.get(&url).send().await.unwrap();
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = e
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    e.send(vec![text("15550106666", "wamid.E2", 1_700_000_100, "hi")])
        .await;
    let changed = e
        .http
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    e.stop().await;
}

#[tokio::test]
async fn the_simulated_customer_goes_through_the_pipeline_and_sees_the_bot_answer() {
    let e = ServeEnv::start().await;
    let (st, v) = e
        .act(
            "/api/demo/customer",
            "ana",
            "agent",
            json!({"from": "15550105555", "name": "Sim", "text": "hi"}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    e.settle().await;
    let convs = e.conversations("").await;
    assert_eq!(convs[0]["contact"]["phone"], "15550105555");
    let phone = e.get("/api/demo/customer/15550105555/messages").await;
    let items = phone["items"].as_array().unwrap();
    assert!(
        !items.is_empty(),
        "the bot answered: {phone} {:#?}",
        e.sent()
    );
    assert!(items.iter().all(|m| m["to"] == "+15550105555"), "{phone}");
    assert_eq!(
        items[0]["type"], "interactive",
        "the greeting menu: {phone}"
    );
    // Quick-reply taps and the sample image take the same road.
    let (st, _) = e
        .act(
            "/api/demo/customer",
            "ana",
            "agent",
            json!({"from": "15550105555", "image": {"caption": "broken"}}),
        )
        .await;
    assert_eq!(st, 202);
    let (st, _) = e
        .act(
            "/api/demo/customer",
            "ana",
            "agent",
            json!({"from": "12", "text": "x"}),
        )
        .await;
    assert_eq!(st, 422);
    e.settle().await;
    let msgs = e
        .get(&format!(
            "/api/conversations/{}/messages",
            convs[0]["id"].as_str().unwrap()
        ))
        .await;
    assert!(msgs.to_string().contains("broken"), "{msgs}");
    e.stop().await;
}

#[tokio::test]
async fn an_operations_admin_redrives_a_dead_letter_through_the_api_and_it_is_stored_once() {
    use switchboard_app::Queue;
    let e = ServeEnv::start().await;
    // A webhook event that exhausted its receives: put straight into the events DLQ.
    let body = switchboard_e2e::webhook(
        PNID,
        vec![text(
            "15550104444",
            "wamid.DL1",
            1_700_000_000,
            "lost and found",
        )],
    );
    let events = switchboard_core::split_webhook(&body, 1_700_000_060);
    let message = switchboard_app::envelope::encode_inline(&events[0]).unwrap();
    let dlq = switchboard_local::SqliteQueue::new(
        e.server.stack.db.clone(),
        switchboard_local::EVENTS_DLQ,
        None,
    );
    dlq.send_batch(&[message]).await.unwrap();

    let overview = e.get("/api/dlq").await;
    let events_dlq = overview["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "events-dlq.fifo")
        .unwrap()
        .clone();
    assert_eq!(events_dlq["depth"], 1, "{overview}");
    let listed = e.get("/api/dlq/events-dlq.fifo").await;
    let id = listed["items"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = e.get(&format!("/api/dlq/events-dlq.fifo/{id}")).await;
    assert!(shown["body"].as_str().unwrap().contains("wamid.DL1"));

    // Another tenant's admin may not touch the deployment's dead letters.
    let intruder = operator_token("mallory", &[Role::Admin], "intruder");
    let res = e
        .anon
        .post(format!("{}/api/dlq/events-dlq.fifo/redrive", e.base))
        .bearer_auth(&intruder)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let (st, v) = e
        .act(
            "/api/dlq/events-dlq.fifo/redrive",
            "root",
            "admin",
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["moved"], 1);
    assert_eq!(v["left"], 0);
    e.settle().await;
    // Redriving again finds nothing; the event is stored exactly once.
    let (_, v) = e
        .act(
            "/api/dlq/events-dlq.fifo/redrive",
            "root",
            "admin",
            json!({}),
        )
        .await;
    assert_eq!(v["moved"], 0);
    let convs = e.conversations("").await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["message_count"], 1);
    let audit = e.get("/api/audit").await;
    assert!(audit.to_string().contains("dlq.redrive"), "{audit}");
    e.stop().await;
}
