//! `GET /{version}/{media_id}` against the fake.

mod common;

use common::*;
use switchboard_graph::{GraphError, NO_ERROR_CODE};

#[tokio::test]
async fn media_info_returns_metas_shape() {
    let fake = fake().await;
    let bytes = sample_bytes(204_800);
    let sha = fake.add_media(MEDIA_ID, bytes.clone(), "image/jpeg");
    let client = client(&fake);

    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    assert_eq!(info.id, MEDIA_ID);
    assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(info.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(info.file_size, Some(204_800));
    let prefix = format!(
        "{}/whatsapp_business/attachments/?mid={MEDIA_ID}&ext=",
        fake.base_url()
    );
    assert!(info.url.starts_with(&prefix), "{}", info.url);
    assert!(info.url.contains("&hash="));
    assert_eq!(fake.requests(), vec![format!("GET /v23.0/{MEDIA_ID}")]);
    // Debug output never shows the URL's signature.
    assert!(!format!("{info:?}").contains("hash="));
}

#[tokio::test]
async fn phone_number_id_is_sent_as_query_parameter() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1, 2, 3], "text/plain");
    let client = client(&fake);
    client
        .media_info(TOKEN, MEDIA_ID, Some("106540352242922"))
        .await
        .unwrap();
    assert_eq!(
        fake.requests(),
        vec![format!(
            "GET /v23.0/{MEDIA_ID}?phone_number_id=106540352242922"
        )]
    );
}

#[tokio::test]
async fn wrong_or_empty_token_is_token_expired() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1], "text/plain");
    let client = client(&fake);
    for token in ["EAAG-wrong", ""] {
        let err = client.media_info(token, MEDIA_ID, None).await.unwrap_err();
        match &err {
            GraphError::TokenExpired { code, message } => {
                assert_eq!(*code, 190);
                assert!(message.contains("Session has expired"), "{message}");
            }
            other => panic!("{token:?}: unexpected {other:?}"),
        }
        assert!(err.is_token_problem());
        assert!(!err.is_retryable());
        assert!(!err.to_string().contains(TOKEN));
    }
}

#[tokio::test]
async fn fake_rejects_absent_authorization_with_metas_envelope() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1], "text/plain");
    let response = reqwest::get(format!("{}/v23.0/{MEDIA_ID}", fake.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());
}

#[tokio::test]
async fn unknown_id_is_api_error_code_100() {
    let fake = fake().await;
    let client = client(&fake);
    let err = client
        .media_info(TOKEN, "123456789", None)
        .await
        .unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            message,
            fbtrace_id,
            ..
        } => {
            assert_eq!((*status, *code), (400, 100));
            assert!(message.starts_with("Unsupported get request"), "{message}");
            assert!(fbtrace_id.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable() && !err.is_token_problem() && !err.needs_fresh_url());
}

#[tokio::test]
async fn injected_failures_are_classified_then_clear() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1], "text/plain");
    let client = client(&fake);

    for (status, code, retryable) in [
        (500, 131000, true),
        (503, 133004, true),
        (400, 130429, true),
        (400, 131026, false),
    ] {
        fake.fail_info(1, status, code);
        let err = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap_err();
        assert!(
            matches!(&err, GraphError::Api { status: s, code: c, .. } if *s == status && *c == code),
            "{err:?}"
        );
        assert_eq!(err.is_retryable(), retryable, "{status}/{code}");
        // One-shot: the next call succeeds.
        client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    }

    fake.fail_info(2, 401, 190);
    for _ in 0..2 {
        let err = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap_err();
        assert!(
            matches!(err, GraphError::TokenExpired { code: 190, .. }),
            "{err:?}"
        );
    }
    client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
}

#[tokio::test]
async fn hostile_ids_never_reach_the_network() {
    let fake = fake().await;
    let client = client(&fake);
    for id in ["../me", "1?fields=access_token", "1/2", ""] {
        let err = client.media_info(TOKEN, id, None).await.unwrap_err();
        assert!(matches!(err, GraphError::InvalidInput(_)), "{id}: {err:?}");
    }
    let err = client
        .media_info(TOKEN, MEDIA_ID, Some("1&x=2"))
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidInput(_)));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn unreachable_graph_is_a_retryable_transport_error() {
    let fake = fake().await;
    let client = client(&fake);
    fake.stop().await;
    let err = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap_err();
    assert!(matches!(err, GraphError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_ne!(NO_ERROR_CODE, 0);
}
