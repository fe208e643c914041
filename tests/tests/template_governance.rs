//! Template governance and submission on `switchboard serve --demo`: drafts with versions, an
//! approver who is not the author, lint and localisation gates, submission through the templates
//! queue to the (fake) Graph API, then Meta's status webhooks and the analytics.

use serde_json::{json, Value};
use switchboard_e2e::{sign, ServeEnv};

fn template(lang: &str, body: &str, example: Value) -> Value {
    json!({"name": "order_shipped", "language": lang, "category": "UTILITY",
           "components": [{"type": "BODY", "text": body, "example": {"body_text": [example]}},
                          {"type": "FOOTER", "text": "Example Mugs"}]})
}

async fn call(
    e: &ServeEnv,
    path: &str,
    user: &str,
    role: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let req = e
        .http
        .post(format!("{}{path}", e.base))
        .bearer_auth(switchboard_e2e::token_for_role(user, role));
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn wait_status(e: &ServeEnv, name: &str, lang: &str, want: &str) -> Value {
    for _ in 0..200 {
        let t = e.get(&format!("/api/templates/{name}")).await;
        if let Some(l) = t["languages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["language"] == lang)
        {
            if l["status"] == want {
                return t;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{name} ({lang}) never reached {want}: {:#}",
        e.get(&format!("/api/templates/{name}")).await
    );
}

#[tokio::test]
async fn drafts_are_approved_by_someone_else_then_submitted_and_followed() {
    let e = ServeEnv::start().await;
    let fake = e.server.graph_fake.clone().unwrap();
    let en = template(
        "en_US",
        "Hi {{1}}, your order {{2}} left our warehouse today.",
        json!(["Ana", "4471"]),
    );

    // A draft with a lint error is stored, but cannot be approved.
    let broken = template(
        "en_US",
        "{{1}}, your order {{2}} shipped.",
        json!(["Ana", "4471"]),
    );
    let (st, v) = call(&e, "/api/templates/drafts", "alice", "author", Some(broken)).await;
    assert_eq!(st, 201, "{v:#}");
    assert_eq!(v["version"], 1);
    assert!(v["lint"]["errors"].as_u64().unwrap() > 0);
    let (st, _) = call(
        &e,
        "/api/templates/order_shipped/en_US/versions/1/approve",
        "bob",
        "approver",
        None,
    )
    .await;
    assert_eq!(st, 422, "lint errors block approval");

    // Version 2 fixes it; the author cannot approve their own, an approver can.
    let (st, v) = call(
        &e,
        "/api/templates/drafts",
        "alice",
        "author",
        Some(en.clone()),
    )
    .await;
    assert_eq!((st, v["version"].as_i64()), (201, Some(2)));
    assert_eq!(
        call(
            &e,
            "/api/templates/order_shipped/en_US/versions/2/approve",
            "alice",
            "author",
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/order_shipped/en_US/versions/2/approve",
            "alice",
            "admin",
            None
        )
        .await
        .0,
        403,
        "not the author, even as admin"
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/drafts",
            "bob",
            "approver",
            Some(en.clone())
        )
        .await
        .0,
        403,
        "approvers do not author"
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/order_shipped/en_US/versions/2/submit",
            "alice",
            "author",
            None
        )
        .await
        .0,
        409,
        "not approved yet"
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/order_shipped/en_US/versions/2/approve",
            "bob",
            "approver",
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        e.anon
            .post(format!(
                "{}/api/templates/order_shipped/en_US/versions/2/approve",
                e.base
            ))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // A Spanish version with other variables breaks the localisation set.
    let es_bad = template("es", "Hola {{1}}, tu pedido salió hoy.", json!(["Ana"]));
    assert_eq!(
        call(&e, "/api/templates/drafts", "carla", "author", Some(es_bad))
            .await
            .0,
        201
    );
    let (st, v) = call(
        &e,
        "/api/templates/order_shipped/en_US/versions/2/submit",
        "alice",
        "author",
        None,
    )
    .await;
    assert_eq!(st, 422, "{v:#}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("localisation"));
    let es = template(
        "es",
        "Hola {{1}}, tu pedido {{2}} salió de nuestro almacén hoy.",
        json!(["Ana", "4471"]),
    );
    assert_eq!(
        call(&e, "/api/templates/drafts", "carla", "author", Some(es))
            .await
            .0,
        201
    );

    // Submitted through the queue to the Graph API: PENDING with Meta's id.
    let (st, v) = call(
        &e,
        "/api/templates/order_shipped/en_US/versions/2/submit",
        "alice",
        "author",
        None,
    )
    .await;
    assert_eq!(st, 202, "{v:#}");
    let t = wait_status(&e, "order_shipped", "en_US", "PENDING").await;
    let lang = t["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["language"] == "en_US")
        .unwrap();
    assert!(lang["template_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert_eq!(fake.templates().len(), 1);
    assert_eq!(
        fake.templates()[0]["components"][0]["text"],
        en["components"][0]["text"]
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/order_shipped/en_US/versions/2/submit",
            "alice",
            "author",
            None
        )
        .await
        .0,
        409,
        "once"
    );

    // Meta's webhook approves it (reference fixture: order_shipped, en_US, APPROVED).
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/core/tests/fixtures/22_2_5_message_template_status_update.json"
    ))
    .unwrap();
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    let t = wait_status(&e, "order_shipped", "en_US", "APPROVED").await;
    let events: Vec<&str> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["event"].as_str())
        .collect();
    assert!(
        events.contains(&"SUBMITTED") && events.contains(&"APPROVED"),
        "{events:?}"
    );
    let a = e.get("/api/templates/analytics?from=0&to=2000000000").await;
    assert_eq!(a["by_category"]["UTILITY"]["approved"], 1);

    // Send-time validation against the approved definition.
    let check = |lang: &'static str, components: Value| {
        let e = &e;
        async move {
            let url = format!(
                "{}/api/templates/order_shipped/{lang}/validate-send",
                e.base
            );
            e.http
                .post(url)
                .json(&components)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let good = json!([{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "4471"}]}]);
    assert_eq!(check("en_US", good).await["ok"], true);
    let short = json!([{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]);
    let v = check("en_US", short).await;
    assert_eq!(v["problems"][0]["code"], 132000, "{v:#}");
    let v = check("es", json!([])).await;
    assert_eq!(
        v["problems"][0]["code"], 132001,
        "the Spanish version was never submitted"
    );

    // An A/B variant is its own Meta template linked to its base.
    let mut b = en.clone();
    b["variant"] = json!("b");
    let (st, v) = call(
        &e,
        "/api/templates/drafts",
        "alice",
        "author",
        Some(b.clone()),
    )
    .await;
    assert_eq!(st, 201, "{v:#}");
    assert_eq!(
        (v["name"].as_str(), v["variant_of"].as_str()),
        (Some("order_shipped_b"), Some("order_shipped"))
    );
    b["variant"] = json!("Not Valid!");
    assert_eq!(
        call(&e, "/api/templates/drafts", "alice", "author", Some(b))
            .await
            .0,
        422
    );
    e.stop().await;
}

#[tokio::test]
async fn a_refusal_at_creation_is_recorded_with_its_reason() {
    let e = ServeEnv::start().await;
    let fake = e.server.graph_fake.clone().unwrap();
    let mut t = template(
        "en_US",
        "Hi {{1}}, your order {{2}} left our warehouse today.",
        json!(["Ana", "4471"]),
    );
    t["name"] = json!("promo_refused");
    assert_eq!(
        call(&e, "/api/templates/drafts", "alice", "author", Some(t))
            .await
            .0,
        201
    );
    assert_eq!(
        call(
            &e,
            "/api/templates/promo_refused/en_US/versions/1/approve",
            "bob",
            "approver",
            None
        )
        .await
        .0,
        200
    );
    fake.reject_next_template(2388293, "Too many variables for the message length");
    assert_eq!(
        call(
            &e,
            "/api/templates/promo_refused/en_US/versions/1/submit",
            "alice",
            "author",
            None
        )
        .await
        .0,
        202
    );
    for _ in 0..200 {
        let t = e.get("/api/templates/promo_refused").await;
        if let Some(h) = t["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["event"] == "SUBMISSION_REFUSED")
        {
            assert!(h["reason"].as_str().unwrap().contains("2388293"), "{h:#}");
            e.stop().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no refusal recorded");
}
