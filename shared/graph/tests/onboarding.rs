//! Phone-number onboarding against the fake (reference §1.9, §4.4, §7):
//! request_code → verify_code → register → subscribe_app → phone_number.

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard_graph::{GraphClient, GraphError, GraphFake};

const PNID: &str = "106540352242922";
const WABA_ID: &str = "102290129340398";
const PIN: &str = "246810";

/// (HTTP status, Meta code, details) of an `Api` error.
fn api(err: &GraphError) -> (u16, i64, String) {
    match err {
        GraphError::Api {
            status,
            code,
            details,
            ..
        } => (*status, *code, details.clone().unwrap_or_default()),
        other => panic!("expected GraphError::Api, got {other:?}"),
    }
}

async fn verified(fake: &GraphFake, client: &GraphClient) {
    client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap();
    client.verify_code(TOKEN, PNID, "123456").await.unwrap();
    assert_eq!(
        fake.phone_state(PNID)["code_verification_status"],
        "VERIFIED"
    );
}

#[tokio::test]
async fn happy_path_ends_connected_and_verified() {
    let fake = fake().await;
    let client = client(&fake);
    fake.add_phone_number(PNID, "Example Mugs");
    let state = fake.phone_state(PNID);
    assert_eq!(state["status"], "PENDING");
    assert_eq!(state["code_verification_status"], "NOT_VERIFIED");
    assert_eq!(state["name_status"], "PENDING_REVIEW");
    assert_eq!(state["registered"], false);

    client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap();
    let state = fake.phone_state(PNID);
    assert_eq!(state["code_requested"], true);
    // Sent as query parameters, as Meta documents them.
    assert_eq!(state["code_method"], "SMS");
    assert_eq!(state["code_language"], "en_US");

    client.verify_code(TOKEN, PNID, "123456").await.unwrap();
    let state = fake.phone_state(PNID);
    assert_eq!(state["code_verification_status"], "VERIFIED");
    assert_eq!(state["code_requested"], false);
    assert_eq!(state["status"], "PENDING");

    client.register(TOKEN, PNID, PIN).await.unwrap();
    assert_eq!(fake.phone_state(PNID)["status"], "CONNECTED");
    assert_eq!(fake.phone_state(PNID)["registered"], true);

    assert!(client
        .subscribed_apps(TOKEN, WABA_ID)
        .await
        .unwrap()
        .is_empty());
    client.subscribe_app(TOKEN, WABA_ID).await.unwrap();
    let apps = client.subscribed_apps(TOKEN, WABA_ID).await.unwrap();
    assert_eq!(apps.len(), 1, "{apps:?}");
    assert_eq!(apps[0]["whatsapp_business_api_data"]["id"], fake.app_id());
    assert!(apps[0]["whatsapp_business_api_data"]["name"].is_string());
    assert!(apps[0].get("override_callback_uri").is_none());

    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.id, PNID);
    assert_eq!(info.status.as_deref(), Some("CONNECTED"));
    assert_eq!(info.code_verification_status.as_deref(), Some("VERIFIED"));
    assert_eq!(info.verified_name.as_deref(), Some("Example Mugs"));
    assert_eq!(info.name_status.as_deref(), Some("PENDING_REVIEW"));
    assert_eq!(info.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(info.messaging_limit.as_deref(), Some("TIER_250"));
    assert_eq!(info.throughput_level.as_deref(), Some("STANDARD"));
    assert_eq!(
        info.display_phone_number.as_deref(),
        Some("+1 555-010-2922")
    );
    // Only the requested fields (plus id) come back.
    assert!(info.raw.get("platform_type").is_none(), "{}", info.raw);

    // Registering again with the same PIN is fine.
    client.register(TOKEN, PNID, PIN).await.unwrap();
    assert_eq!(fake.phone_state(PNID)["register_calls"], 2);

    let fields = "status,quality_rating,verified_name,name_status,code_verification_status,display_phone_number,throughput,whatsapp_business_manager_messaging_limit";
    assert_eq!(
        fake.requests(),
        vec![
            format!("POST /v23.0/{PNID}/request_code"),
            format!("POST /v23.0/{PNID}/verify_code"),
            format!("POST /v23.0/{PNID}/register"),
            format!("GET /v23.0/{WABA_ID}/subscribed_apps"),
            format!("POST /v23.0/{WABA_ID}/subscribed_apps"),
            format!("GET /v23.0/{WABA_ID}/subscribed_apps"),
            format!("GET /v23.0/{PNID}?fields={fields}"),
            format!("POST /v23.0/{PNID}/register"),
        ]
    );
}

#[tokio::test]
async fn numbers_are_created_on_first_use() {
    let fake = fake().await;
    let client = client(&fake);
    assert_eq!(fake.phone_state(PNID), Value::Null);
    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.status.as_deref(), Some("PENDING"));
    assert_eq!(
        info.code_verification_status.as_deref(),
        Some("NOT_VERIFIED")
    );
    assert_eq!(info.verified_name.as_deref(), Some("Test Number"));
    assert_eq!(fake.phone_state(PNID)["id"], PNID);
}

#[tokio::test]
async fn wrong_code_is_refused_and_can_be_retried() {
    let fake = fake().await;
    let client = client(&fake);
    client
        .request_code(TOKEN, PNID, "VOICE", "pt_BR")
        .await
        .unwrap();

    let err = client.verify_code(TOKEN, PNID, "654321").await.unwrap_err();
    let (status, code, details) = api(&err);
    assert_eq!((status, code), (400, 100));
    assert!(details.contains("Code couldn't be verified"), "{details}");
    assert_eq!(err.code(), Some(100));
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("654321"));
    let state = fake.phone_state(PNID);
    assert_eq!(state["code_verification_status"], "NOT_VERIFIED");
    assert_eq!(state["code_requested"], true);

    // The outstanding code still works.
    client.verify_code(TOKEN, PNID, "123456").await.unwrap();
    assert_eq!(
        fake.phone_state(PNID)["code_verification_status"],
        "VERIFIED"
    );

    // A changed expected code.
    fake.set_verification_code(PNID, "777777");
    client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap();
    let err = client.verify_code(TOKEN, PNID, "123456").await.unwrap_err();
    assert_eq!(api(&err).1, 100);
    client.verify_code(TOKEN, PNID, "777777").await.unwrap();
}

#[tokio::test]
async fn verify_without_request_code_is_refused() {
    let fake = fake().await;
    let client = client(&fake);
    let err = client.verify_code(TOKEN, PNID, "123456").await.unwrap_err();
    let (status, code, details) = api(&err);
    assert_eq!((status, code), (400, 100));
    assert!(details.contains("request_code"), "{details}");
    assert_eq!(
        fake.phone_state(PNID)["code_verification_status"],
        "NOT_VERIFIED"
    );

    // Once verified, the code is consumed: verifying again needs a new one.
    verified(&fake, &client).await;
    let err = client.verify_code(TOKEN, PNID, "123456").await.unwrap_err();
    let (_, code, details) = api(&err);
    assert_eq!(code, 100);
    assert!(details.contains("already verified"), "{details}");
}

#[tokio::test]
async fn register_before_verification_is_133006() {
    let fake = fake().await;
    let client = client(&fake);
    client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap();
    let err = client.register(TOKEN, PNID, PIN).await.unwrap_err();
    assert_eq!(api(&err).0, 400);
    assert_eq!(err.code(), Some(133006));
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains(PIN));
    let state = fake.phone_state(PNID);
    assert_eq!(state["status"], "PENDING");
    assert_eq!(state["registered"], false);

    // Verified → registers; verification expiring → 133006 again.
    client.verify_code(TOKEN, PNID, "123456").await.unwrap();
    client.register(TOKEN, PNID, PIN).await.unwrap();
    fake.expire_verification(PNID);
    assert_eq!(
        fake.phone_state(PNID)["code_verification_status"],
        "EXPIRED"
    );
    let err = client.register(TOKEN, PNID, PIN).await.unwrap_err();
    assert_eq!(err.code(), Some(133006));
    verified(&fake, &client).await;
    client.register(TOKEN, PNID, PIN).await.unwrap();
}

#[tokio::test]
async fn a_different_pin_after_the_first_register_is_133005() {
    let fake = fake().await;
    let client = client(&fake);
    verified(&fake, &client).await;
    client.register(TOKEN, PNID, "111111").await.unwrap();
    let err = client.register(TOKEN, PNID, "222222").await.unwrap_err();
    let (status, code, details) = api(&err);
    assert_eq!((status, code), (400, 133005));
    assert!(details.contains("PIN"), "{details}");
    assert!(!err.to_string().contains("222222"));
    assert_eq!(fake.phone_state(PNID)["status"], "CONNECTED");
    client.register(TOKEN, PNID, "111111").await.unwrap();
}

#[tokio::test]
async fn the_eleventh_register_call_is_133016() {
    let fake = fake().await;
    let client = client(&fake);
    // Refused calls count too.
    let err = client.register(TOKEN, PNID, PIN).await.unwrap_err();
    assert_eq!(err.code(), Some(133006));
    verified(&fake, &client).await;
    for _ in 0..9 {
        client.register(TOKEN, PNID, PIN).await.unwrap();
    }
    assert_eq!(fake.phone_state(PNID)["register_calls"], 10);
    let err = client.register(TOKEN, PNID, PIN).await.unwrap_err();
    assert_eq!(api(&err).0, 400);
    assert_eq!(err.code(), Some(133016));
    assert!(!err.is_retryable());
    // Other numbers have their own budget.
    let other = "106540352242923";
    client
        .request_code(TOKEN, other, "SMS", "en_US")
        .await
        .unwrap();
    client.verify_code(TOKEN, other, "123456").await.unwrap();
    client.register(TOKEN, other, PIN).await.unwrap();
}

#[tokio::test]
async fn fail_next_injects_each_ops_code_once() {
    let fake = fake().await;
    let client = client(&fake);

    fake.fail_next("request_code", 1, 400, 136024);
    let err = client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap_err();
    assert_eq!(api(&err).0, 400);
    assert_eq!(err.code(), Some(136024));
    // An injected failure changes no state (the number is not even created).
    assert_eq!(fake.phone_state(PNID), Value::Null);
    client
        .request_code(TOKEN, PNID, "SMS", "en_US")
        .await
        .unwrap();

    fake.fail_next("verify_code", 1, 500, 131000);
    let err = client.verify_code(TOKEN, PNID, "123456").await.unwrap_err();
    assert_eq!(err.code(), Some(131000));
    assert!(err.is_retryable());
    client.verify_code(TOKEN, PNID, "123456").await.unwrap();

    fake.fail_next("register", 2, 400, 133005);
    for _ in 0..2 {
        let err = client.register(TOKEN, PNID, PIN).await.unwrap_err();
        assert_eq!(err.code(), Some(133005));
    }
    client.register(TOKEN, PNID, PIN).await.unwrap();

    // `subscribed_apps` covers the POST and the GET.
    fake.fail_next("subscribed_apps", 2, 400, 80007);
    let err = client.subscribe_app(TOKEN, WABA_ID).await.unwrap_err();
    assert_eq!(err.code(), Some(80007));
    assert!(err.is_retryable());
    let err = client.subscribed_apps(TOKEN, WABA_ID).await.unwrap_err();
    assert_eq!(err.code(), Some(80007));
    client.subscribe_app(TOKEN, WABA_ID).await.unwrap();
    assert_eq!(
        client.subscribed_apps(TOKEN, WABA_ID).await.unwrap().len(),
        1
    );

    fake.fail_next("phone_number", 1, 401, 190);
    let err = client.phone_number(TOKEN, PNID).await.unwrap_err();
    assert!(
        matches!(err, GraphError::TokenExpired { code: 190, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), Some(190));
    assert!(err.is_token_problem());

    // n == 0 clears.
    fake.fail_next("phone_number", 3, 503, 2);
    fake.fail_next("phone_number", 0, 503, 2);
    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.status.as_deref(), Some("CONNECTED"));
}

#[tokio::test]
async fn name_status_and_quality_knobs_show_in_phone_number() {
    let fake = fake().await;
    let client = client(&fake);
    fake.set_name_status(PNID, "APPROVED");
    fake.set_quality(PNID, "YELLOW");
    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.name_status.as_deref(), Some("APPROVED"));
    assert_eq!(info.quality_rating.as_deref(), Some("YELLOW"));
    fake.set_name_status(PNID, "DECLINED");
    fake.set_quality(PNID, "RED");
    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.name_status.as_deref(), Some("DECLINED"));
    assert_eq!(info.quality_rating.as_deref(), Some("RED"));
    assert_eq!(fake.phone_state(PNID)["quality_rating"], "RED");
}

#[tokio::test]
#[should_panic(expected = "unknown op")]
async fn fail_next_rejects_unknown_ops() {
    let fake = fake().await;
    fake.fail_next("subscribe_app", 1, 400, 100);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let fake = fake().await;
    let client = client(&fake);
    for pin in ["", "12345", "1234567", "12345a", "12 456", "١٢٣٤٥٦"] {
        let err = client.register(TOKEN, PNID, pin).await.unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidInput(_)),
            "{pin:?}: {err:?}"
        );
        if !pin.is_empty() {
            assert!(!err.to_string().contains(pin), "{err}");
        }
    }
    for id in ["", "../me", "1?fields=x", "12a"] {
        let errs = [
            client.register(TOKEN, id, PIN).await.unwrap_err(),
            client
                .request_code(TOKEN, id, "SMS", "en_US")
                .await
                .unwrap_err(),
            client.verify_code(TOKEN, id, "123456").await.unwrap_err(),
            client.phone_number(TOKEN, id).await.unwrap_err(),
            client.subscribe_app(TOKEN, id).await.unwrap_err(),
            client.subscribed_apps(TOKEN, id).await.unwrap_err(),
        ];
        for err in errs {
            assert!(
                matches!(err, GraphError::InvalidInput(_)),
                "{id:?}: {err:?}"
            );
        }
    }
    for (method, language) in [
        ("sms", "en_US"),
        ("EMAIL", "en_US"),
        ("SMS", "en-US&x=1"),
        ("SMS", ""),
    ] {
        let err = client
            .request_code(TOKEN, PNID, method, language)
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidInput(_)),
            "{method} {language}: {err:?}"
        );
    }
    for code in ["", "12 34", "12345a", &"1".repeat(17)] {
        let err = client.verify_code(TOKEN, PNID, code).await.unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidInput(_)),
            "{code:?}: {err:?}"
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert_eq!(fake.phone_state(PNID), Value::Null);
}

#[tokio::test]
async fn missing_or_unknown_token_is_token_expired() {
    let fake = fake().await;
    let client = client(&fake);
    for token in ["", "EAAG-wrong"] {
        let errs = [
            client
                .request_code(token, PNID, "SMS", "en_US")
                .await
                .unwrap_err(),
            client.verify_code(token, PNID, "123456").await.unwrap_err(),
            client.register(token, PNID, PIN).await.unwrap_err(),
            client.subscribe_app(token, WABA_ID).await.unwrap_err(),
            client.subscribed_apps(token, WABA_ID).await.unwrap_err(),
            client.phone_number(token, PNID).await.unwrap_err(),
        ];
        for err in errs {
            assert!(
                matches!(err, GraphError::TokenExpired { code: 190, .. }),
                "{token:?}: {err:?}"
            );
            assert!(err.is_token_problem());
        }
    }
    // No state was touched.
    assert_eq!(fake.phone_state(PNID), Value::Null);
    assert!(client
        .subscribed_apps(TOKEN, WABA_ID)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn fake_accepts_request_code_parameters_in_the_body_too() {
    let fake = fake().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v23.0/{PNID}/request_code", fake.base_url());

    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"code_method": "VOICE", "language": "pt_BR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": true})
    );
    assert_eq!(fake.phone_state(PNID)["code_method"], "VOICE");
    assert_eq!(fake.phone_state(PNID)["code_language"], "pt_BR");

    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code_method=SMS&language=es_ES")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(fake.phone_state(PNID)["code_method"], "SMS");

    // Missing or invalid parameters are Meta's 100.
    for body in [
        json!({"language": "en_US"}),
        json!({"code_method": "FAX", "language": "en_US"}),
    ] {
        let response = http
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], 100, "{error}");
        assert!(error["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("code_method"));
    }
}

#[tokio::test]
async fn fake_phone_number_fields_follow_graph() {
    let fake = fake().await;
    let http = reqwest::Client::new();
    let base = format!("{}/v23.0/{PNID}", fake.base_url());

    let unknown: Value = http
        .get(format!("{base}?fields=status,bogus"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["error"]["code"], 100);
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nonexisting field (bogus)"));

    // Without `fields`, a known number answers Meta's default set.
    let defaults: Value = http
        .get(&base)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(defaults["id"], PNID);
    assert_eq!(defaults["throughput"]["level"], "STANDARD");
    assert_eq!(defaults["code_verification_status"], "NOT_VERIFIED");
    assert!(defaults.get("status").is_none(), "{defaults}");
}

#[tokio::test]
async fn subscribe_with_override_then_plain_subscribe_removes_it() {
    let fake = fake().await;
    let client = client(&fake);
    let http = reqwest::Client::new();
    let url = format!("{}/v23.0/{WABA_ID}/subscribed_apps", fake.base_url());
    let hook = "https://hooks.example.com/whatsapp";

    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"override_callback_uri": hook}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "verify_token is required");

    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"override_callback_uri": hook, "verify_token": "s3cret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let apps = client.subscribed_apps(TOKEN, WABA_ID).await.unwrap();
    assert_eq!(apps[0]["override_callback_uri"], hook);

    client.subscribe_app(TOKEN, WABA_ID).await.unwrap();
    let apps = client.subscribed_apps(TOKEN, WABA_ID).await.unwrap();
    assert_eq!(apps.len(), 1);
    assert!(apps[0].get("override_callback_uri").is_none(), "{apps:?}");
}

#[tokio::test]
async fn media_lookups_still_work_next_to_phone_numbers() {
    let fake = fake().await;
    let client = client(&fake);
    fake.add_media(MEDIA_ID, sample_bytes(100), "image/jpeg");
    fake.add_phone_number(PNID, "Example Mugs");
    let media = client
        .media_info(TOKEN, MEDIA_ID, Some(PNID))
        .await
        .unwrap();
    assert_eq!(media.id, MEDIA_ID);
    let info = client.phone_number(TOKEN, PNID).await.unwrap();
    assert_eq!(info.id, PNID);
}
