//! Invokes the ingest function's handler in-process with every events/ingest fixture and checks
//! the answer (the status is the fixture name's prefix) and the effect on the queue.

use std::sync::Arc;

use http_body_util::BodyExt;
use switchboard_app::ingest::{Ingest, WebhookSecrets};
use switchboard_app::{Queue, SystemClock};
use switchboard_local::LocalStack;
use tower::ServiceExt;

fn fixtures() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/ingest");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 8);
    out
}

/// The ingest router on the local backend, with the demo secrets the fixtures are signed with.
fn router(dir: &std::path::Path) -> (axum::Router, LocalStack) {
    let clock = Arc::new(SystemClock);
    let stack = LocalStack::open(dir, clock.clone()).unwrap();
    let ingest = Arc::new(Ingest {
        secrets: WebhookSecrets {
            app_secret: "switchboard-demo-app-secret".into(),
            verify_token: "switchboard-demo-verify-token".into(),
        },
        queue: stack.events.clone(),
        blobs: stack.blobs.clone(),
        clock,
    });
    (switchboard_http::webhook_router(ingest), stack)
}

#[tokio::test]
async fn every_fixture_gets_its_status_and_only_accepted_posts_enqueue() {
    let dir = tempfile::tempdir().unwrap();
    let (router, stack) = router(dir.path());

    for (name, json) in fixtures() {
        let expected: u16 = name[..3].parse().unwrap();
        let request = lambda_http::request::from_str(&json).unwrap();
        let method = request.method().clone();
        let before = stack.events.depth().await.unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            status,
            expected,
            "{name}: {}",
            String::from_utf8_lossy(&body)
        );
        let after = stack.events.depth().await.unwrap();
        match (method.as_str(), status) {
            ("GET", 200) => assert_eq!(&body[..], b"1158201444", "{name}: the challenge echoed"),
            ("POST", 200) => {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let n = v["events"].as_u64().unwrap() as usize;
                assert!(n >= 1);
                assert_eq!(after - before, n, "{name}: every event enqueued");
            }
            _ => {
                assert_eq!(after, before, "{name}: nothing enqueued");
                if method == "POST" {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert!(v["error"]["code"].is_string(), "{name}: JSON error");
                }
            }
        }
    }
    // The batch fixture: 3 statuses + 1 message; garbage: 1 unparsed; text: 1.
    assert_eq!(stack.events.depth().await.unwrap(), 6);
}

#[tokio::test]
async fn reposting_a_fixture_enqueues_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let (router, stack) = router(dir.path());
    let (_, json) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "200-signed-text.json")
        .unwrap();
    for _ in 0..3 {
        let r = router
            .clone()
            .oneshot(lambda_http::request::from_str(&json).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        stack.events.depth().await.unwrap(),
        1,
        "FIFO deduplication by wamid"
    );
}
