//! `POST /{version}/{waba_id}/message_templates` against the fake (reference §6.1).

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard_graph::GraphError;

const WABA_ID: &str = "102290129340398";

fn order_shipped() -> Value {
    json!({
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "positional",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} left our warehouse.",
                "example": { "body_text": [["Ana", "4471"]] }
            },
            { "type": "FOOTER", "text": "Example Mugs" }
        ]
    })
}

fn templates_posted(fake: &switchboard_graph::GraphFake) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.ends_with("/message_templates"))
        .count()
}

#[tokio::test]
async fn create_returns_id_status_category_and_fake_records_body() {
    let fake = fake().await;
    let client = client(&fake);
    let template = order_shipped();

    let created = client
        .create_template(TOKEN, WABA_ID, &template)
        .await
        .unwrap();
    assert_eq!(created.id.len(), 16, "{}", created.id);
    assert!(created.id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(created.status, "PENDING");
    assert_eq!(created.category.as_deref(), Some("UTILITY"));
    assert_eq!(fake.templates(), vec![template]);
    assert_eq!(
        fake.requests(),
        vec![format!("POST /v23.0/{WABA_ID}/message_templates")]
    );

    // Another language of the same name is a separate template.
    let mut spanish = order_shipped();
    spanish["language"] = json!("es_ES");
    let second = client
        .create_template(TOKEN, WABA_ID, &spanish)
        .await
        .unwrap();
    assert_ne!(second.id, created.id);
    assert_eq!(fake.templates().len(), 2);
}

#[tokio::test]
async fn approve_instantly_answers_approved() {
    let fake = fake().await;
    fake.approve_instantly(true);
    let client = client(&fake);
    let created = client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap();
    assert_eq!(created.status, "APPROVED");

    fake.approve_instantly(false);
    let mut other = order_shipped();
    other["name"] = json!("order_delayed");
    let created = client
        .create_template(TOKEN, WABA_ID, &other)
        .await
        .unwrap();
    assert_eq!(created.status, "PENDING");
}

#[tokio::test]
async fn bad_token_is_token_expired() {
    let fake = fake().await;
    let client = client(&fake);
    for token in ["EAAG-wrong", ""] {
        let err = client
            .create_template(token, WABA_ID, &order_shipped())
            .await
            .unwrap_err();
        match &err {
            GraphError::TokenExpired { code, message } => {
                assert_eq!(*code, 190);
                assert!(message.contains("Session has expired"), "{message}");
            }
            other => panic!("{token:?}: unexpected {other:?}"),
        }
        assert!(err.is_token_problem());
        assert!(!err.to_string().contains(TOKEN));
    }
    // Unauthorised bodies are not recorded as received templates.
    assert!(fake.templates().is_empty());
    assert_eq!(templates_posted(&fake), 2);
}

#[tokio::test]
async fn missing_fields_are_invalid_parameter() {
    let fake = fake().await;
    let client = client(&fake);
    let mut template = order_shipped();
    let object = template.as_object_mut().unwrap();
    object.remove("category");
    object.remove("components");

    let err = client
        .create_template(TOKEN, WABA_ID, &template)
        .await
        .unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            message,
            details,
            fbtrace_id,
        } => {
            assert_eq!((*status, *code), (400, 100));
            assert_eq!(message, "Invalid parameter");
            let details = details.as_deref().unwrap_or_default();
            assert!(
                details.contains("category") && details.contains("components"),
                "{details}"
            );
            assert!(!details.contains("name"), "{details}");
            assert!(fbtrace_id.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(!err.is_token_problem());

    // Not JSON objects at all.
    for body in [json!([]), json!("order_shipped"), json!(null)] {
        let err = client
            .create_template(TOKEN, WABA_ID, &body)
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::Api { code: 100, .. }),
            "{body}: {err:?}"
        );
    }
    // A refused template does not block a correct one with the same name.
    client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap();
}

#[tokio::test]
async fn same_name_and_language_twice_is_duplicate() {
    let fake = fake().await;
    let client = client(&fake);
    client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap();
    let err = client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            details,
            ..
        } => {
            assert_eq!((*status, *code), (400, 100));
            assert_eq!(
                details.as_deref(),
                Some("Content in this language already exists")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
    // Both bodies were received.
    assert_eq!(fake.templates().len(), 2);
}

#[tokio::test]
async fn fake_duplicate_envelope_carries_metas_subcode() {
    let fake = fake().await;
    let url = format!("{}/v23.0/{WABA_ID}/message_templates", fake.base_url());
    let post = || {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&order_shipped())
            .send()
    };
    assert_eq!(post().await.unwrap().status().as_u16(), 200);
    let response = post().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["error_subcode"], 2388024);
    assert_eq!(
        body["error"]["error_data"]["details"],
        "Content in this language already exists"
    );
}

#[tokio::test]
async fn injected_rejection_is_api_error_with_that_code_once() {
    let fake = fake().await;
    let client = client(&fake);
    fake.reject_next_template(
        2388299,
        "Variables can't be at the start or end of the template.",
    );

    let err = client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((*status, *code), (400, 2388299));
            assert!(message.contains("start or end"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());

    // Only the next create is rejected; the refused one left no duplicate.
    let created = client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap();
    assert_eq!(created.status, "PENDING");
    assert_eq!(fake.templates().len(), 2);
}

#[tokio::test]
async fn injected_rate_limit_is_retryable() {
    let fake = fake().await;
    let client = client(&fake);
    fake.reject_next_template(80007, "(#80007) Rate limit issues");
    let err = client
        .create_template(TOKEN, WABA_ID, &order_shipped())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Api { code: 80007, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn non_digit_waba_id_is_refused_before_any_request() {
    let fake = fake().await;
    let client = client(&fake);
    for waba_id in ["", "abc", "1234x", "../me", "123/456", "123?fields=x", "me"] {
        let err = client
            .create_template(TOKEN, waba_id, &order_shipped())
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidInput(_)),
            "{waba_id:?}: {err:?}"
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(fake.templates().is_empty());
}
