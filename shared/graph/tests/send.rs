//! `POST /{version}/{phone_number_id}/messages` against the fake (reference §2.2, §4).

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard_graph::{GraphError, GraphFake};

const PHONE_NUMBER_ID: &str = "106540352242922";
const TO: &str = "+15550109999";
const BSUID: &str = "US.13491208655302741918";

fn text(to: &str, body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "preview_url": false, "body": body }
    })
}

fn template(to: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": { "code": "en_US" },
            "components": [
                { "type": "body", "parameters": [
                    { "type": "text", "text": "Ana" },
                    { "type": "text", "text": "4471" } ] }
            ]
        }
    })
}

fn sends_posted(fake: &GraphFake) -> usize {
    fake.requests()
        .iter()
        .filter(|r| *r == &format!("POST /v23.0/{PHONE_NUMBER_ID}/messages"))
        .count()
}

#[tokio::test]
async fn text_send_returns_wamid_and_is_recorded() {
    let fake = fake().await;
    let client = client(&fake);
    let body = text(TO, "Your order #4471 ships today.");

    let sent = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &body)
        .await
        .unwrap();
    assert!(sent.wamid.starts_with("wamid.HBgL"), "{}", sent.wamid);
    assert_eq!(sent.input.as_deref(), Some(TO));
    assert_eq!(sent.wa_id.as_deref(), Some("15550109999"));
    assert_eq!(sent.message_status, None);

    let recorded = fake.sent_messages();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(recorded[0]["wamid"], sent.wamid.as_str());
    assert_eq!(recorded[0]["body"], body);
    assert!(recorded[0]["at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(
        fake.requests(),
        vec![format!("POST /v23.0/{PHONE_NUMBER_ID}/messages")]
    );

    // wamids are unique.
    let again = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &body)
        .await
        .unwrap();
    assert_ne!(again.wamid, sent.wamid);
    assert_eq!(fake.sent_messages().len(), 2);
}

#[tokio::test]
async fn bsuid_recipient_is_accepted_without_wa_id() {
    let fake = fake().await;
    let client = client(&fake);
    let mut body = text("", "Hi!");
    let object = body.as_object_mut().unwrap();
    object.remove("to");
    object.insert("recipient".into(), json!(BSUID));

    let sent = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &body)
        .await
        .unwrap();
    assert_eq!(sent.input.as_deref(), Some(BSUID));
    assert_eq!(sent.wa_id, None);
    assert_eq!(fake.sent_messages()[0]["body"]["recipient"], BSUID);

    // Both given: `to` wins.
    let mut both = text(TO, "Hi!");
    both["recipient"] = json!(BSUID);
    let sent = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &both)
        .await
        .unwrap();
    assert_eq!(sent.input.as_deref(), Some(TO));
    assert_eq!(sent.wa_id.as_deref(), Some("15550109999"));
}

#[tokio::test]
async fn template_send_is_accepted_under_pacing() {
    let fake = fake().await;
    let client = client(&fake);
    let sent = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &template(TO))
        .await
        .unwrap();
    assert_eq!(sent.message_status.as_deref(), Some("accepted"));
    assert_eq!(sent.wa_id.as_deref(), Some("15550109999"));
}

#[tokio::test]
async fn bad_token_is_token_expired_and_not_recorded() {
    let fake = fake().await;
    let client = client(&fake);
    for token in ["EAAG-wrong", ""] {
        let err = client
            .send_message(token, PHONE_NUMBER_ID, &text(TO, "hi"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::TokenExpired { code: 190, .. }),
            "{token:?}: {err:?}"
        );
        assert_eq!(err.code(), Some(190));
        assert!(err.is_token_problem());
    }
    // Without any Authorization header at all.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v23.0/{PHONE_NUMBER_ID}/messages",
            fake.base_url()
        ))
        .json(&text(TO, "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 190);

    assert!(fake.sent_messages().is_empty());
    assert_eq!(sends_posted(&fake), 3);
}

#[tokio::test]
async fn text_over_4096_chars_is_invalid_parameter() {
    let fake = fake().await;
    let client = client(&fake);
    // 4096 characters (multi-byte) are fine; 4097 are not.
    let ok = "é".repeat(4096);
    client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, &ok))
        .await
        .unwrap();
    let err = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, &"a".repeat(4097)))
        .await
        .unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            message,
            details,
            ..
        } => {
            assert_eq!((*status, *code), (400, 100));
            assert_eq!(message, "(#100) Invalid parameter");
            assert!(details.as_deref().unwrap_or_default().contains("4096"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), Some(100));
    assert!(!err.is_retryable());
    assert_eq!(fake.sent_messages().len(), 1);
}

#[tokio::test]
async fn malformed_bodies_are_100_or_131008() {
    let fake = fake().await;
    let client = client(&fake);
    let without = |field: &str| {
        let mut body = text(TO, "hi");
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let mut no_template_name = template(TO);
    no_template_name["template"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let mut no_language_code = template(TO);
    no_language_code["template"]["language"] = json!({});
    let cases = [
        (without("to"), 131008),
        (without("messaging_product"), 131008),
        (without("type"), 131008),
        (without("text"), 131008),
        (no_template_name, 131008),
        (no_language_code, 131008),
        (
            json!({"messaging_product":"whatsapp","to":TO,"type":"image","image":{}}),
            131008,
        ),
        (
            json!({"messaging_product":"messenger","to":TO,"type":"text","text":{"body":"x"}}),
            100,
        ),
        (
            json!({"messaging_product":"whatsapp","to":TO,"type":"carousel","carousel":{}}),
            100,
        ),
        (
            json!({"messaging_product":"whatsapp","to":42,"type":"text","text":{"body":"x"}}),
            100,
        ),
        (
            json!({"messaging_product":"whatsapp","to":BSUID,"type":"text","text":{"body":"x"}}),
            100,
        ),
        (
            json!({"messaging_product":"whatsapp","to":TO,"type":"text","text":"x"}),
            100,
        ),
        (json!([]), 100),
    ];
    for (body, expected) in cases {
        let err = client
            .send_message(TOKEN, PHONE_NUMBER_ID, &body)
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::Api { status: 400, .. }),
            "{body}: {err:?}"
        );
        assert_eq!(err.code(), Some(expected), "{body}: {err:?}");
    }
    assert!(fake.sent_messages().is_empty());
}

#[tokio::test]
async fn non_digit_phone_number_id_is_refused_before_any_request() {
    let fake = fake().await;
    let client = client(&fake);
    for id in ["", "me", "../me", "123/456", "123?fields=x"] {
        let err = client
            .send_message(TOKEN, id, &text(TO, "hi"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidInput(_)),
            "{id:?}: {err:?}"
        );
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn fail_next_sends_injects_metas_errors_once_each() {
    let fake = fake().await;
    let client = client(&fake);
    for (status, code, retryable) in [
        (400u16, 130429i64, true),
        (400, 131056, false),
        (400, 131026, false),
        (400, 131050, false),
        (500, 131000, true),
    ] {
        fake.fail_next_sends(1, status, code);
        let err = client
            .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
            .await
            .unwrap_err();
        match &err {
            GraphError::Api {
                status: got,
                message,
                details,
                ..
            } => {
                assert_eq!(*got, status);
                assert!(message.starts_with(&format!("(#{code}) ")), "{message}");
                assert!(details.is_some());
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.is_retryable(), retryable, "{code}");
        // Consumed: the next send goes through.
        client
            .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
            .await
            .unwrap();
    }

    fake.fail_next_sends(2, 401, 190);
    for _ in 0..2 {
        let err = client
            .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
            .await
            .unwrap_err();
        assert!(matches!(err, GraphError::TokenExpired { .. }), "{err:?}");
        assert_eq!(err.code(), Some(190));
    }
    client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
        .await
        .unwrap();
    // Injected failures are not recorded as sent.
    assert_eq!(fake.sent_messages().len(), 6);
}

#[tokio::test]
async fn closed_window_refuses_free_form_but_not_templates() {
    let fake = fake().await;
    let client = client(&fake);
    // Any punctuation of the same number matches.
    fake.close_window_for("15550109999");

    for _ in 0..2 {
        let err = client
            .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
            .await
            .unwrap_err();
        match &err {
            GraphError::Api {
                status,
                message,
                details,
                ..
            } => {
                assert_eq!(*status, 400);
                assert_eq!(message, "(#131047) Re-engagement message");
                assert!(details.as_deref().unwrap_or_default().contains("24 hours"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.code(), Some(131047));
    }
    let sent = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &template(TO))
        .await
        .unwrap();
    assert_eq!(sent.message_status.as_deref(), Some("accepted"));
    // Other recipients are unaffected.
    client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text("+15550100000", "hi"))
        .await
        .unwrap();

    // BSUID recipients too.
    fake.close_window_for(BSUID);
    let body = json!({"messaging_product":"whatsapp","recipient":BSUID,"type":"text","text":{"body":"hi"}});
    let err = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &body)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(131047));

    fake.open_window_for("+1 (555) 010-9999");
    client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "hi"))
        .await
        .unwrap();
    assert_eq!(fake.sent_messages().len(), 3);
}

#[tokio::test]
async fn unreachable_recipient_is_undeliverable_for_every_type() {
    let fake = fake().await;
    let client = client(&fake);
    fake.unreachable(TO);
    for body in [text(TO, "hi"), template(TO)] {
        let err = client
            .send_message(TOKEN, PHONE_NUMBER_ID, &body)
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::Api { status: 400, .. }),
            "{err:?}"
        );
        assert_eq!(err.code(), Some(131026));
        assert!(!err.is_retryable());
    }
    assert!(fake.sent_messages().is_empty());
}

#[tokio::test]
async fn fake_lists_sends_at_get_fake_messages() {
    let fake = fake().await;
    let client = client(&fake);
    let url = format!("{}/__fake/messages", fake.base_url());

    let empty: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(empty, json!({"data": []}));

    let first = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &text(TO, "one"))
        .await
        .unwrap();
    let second = client
        .send_message(TOKEN, PHONE_NUMBER_ID, &template(TO))
        .await
        .unwrap();

    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let listed: Value = response.json().await.unwrap();
    let data = listed["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["wamid"], first.wamid.as_str());
    assert_eq!(data[0]["body"]["text"]["body"], "one");
    assert_eq!(data[1]["wamid"], second.wamid.as_str());
    assert_eq!(data[1]["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(listed["data"], Value::Array(fake.sent_messages()));
    // Introspection is not a Graph request.
    assert_eq!(fake.requests().len(), 2);
}
