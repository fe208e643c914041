//! Media on `switchboard serve --demo`: a media message is fetched from the (fake) Graph API,
//! verified, stored under its content address and found by the media search with a working
//! link; every failure ends in a visible record.

use serde_json::{json, Value};
use switchboard_e2e::{sign, ServeEnv};

const IMAGE: &[u8] = include_bytes!("../../events/media/demo-image.jpg");

/// A sample payload with its message timestamps moved to `now - age_secs`: Meta keeps inbound
/// media for 7 days, so the samples' old dates would (rightly) be unrecoverable.
fn payload(name: &str, age_secs: i64) -> Vec<u8> {
    let text = std::fs::read_to_string(format!(
        "{}/../events/payloads/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for m in v["entry"][0]["changes"][0]["value"]["messages"]
        .as_array_mut()
        .unwrap()
    {
        m["timestamp"] = json!((now - age_secs).to_string());
    }
    serde_json::to_vec(&v).unwrap()
}

/// An image message for media id `id` whose declared sha256 is `sha` (base64).
fn image_message(from: &str, wamid: &str, id: &str, sha: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": "1800000000", "type": "image",
           "image": {"id": id, "mime_type": "image/jpeg", "sha256": sha, "caption": "damaged box"}})
}

/// Polls the media search until `wamid` reaches a final status.
async fn final_record(e: &ServeEnv, wamid: &str) -> Value {
    for _ in 0..600 {
        let found = e.get("/api/media?limit=200").await;
        if let Some(m) = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["wamid"] == wamid)
        {
            if m["status"] != "pending" {
                return m.clone();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("media {wamid} never finished");
}

#[tokio::test]
async fn a_posted_image_is_stored_and_found_with_a_working_link() {
    let e = ServeEnv::start().await;
    let body = payload("image.json", 600);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    let doc = payload("document.json", 60);
    assert_eq!(e.post(&doc, Some(sign(&doc))).await.0, 200);
    let wamid = "wamid.HBgLMTU1NTAxMDk5OTkVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBNAA=";
    let m = final_record(&e, wamid).await;
    assert_eq!(m["status"], "stored", "{m:#}");
    assert_eq!(m["type"], "image");
    assert_eq!(m["mime_type"], "image/jpeg");
    assert_eq!(m["size"], IMAGE.len());
    let url = m["url"].as_str().unwrap();
    let fetched = e.http.get(url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        &fetched.bytes().await.unwrap()[..],
        IMAGE,
        "the stored bytes"
    );
    let tampered = url.replace("sig=", "sig=00");
    assert_eq!(e.http.get(&tampered).send().await.unwrap().status(), 403);

    // Search filters: type, filename, conversation, sender, dates.
    let doc = final_record(
        &e,
        "wamid.HBgLMTU1NTAxMDk5OTkVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBNQA=",
    )
    .await;
    assert_eq!(doc["status"], "stored", "{doc:#}");
    assert_eq!(doc["filename"], "receipt-4471.pdf");
    let by = |q: &str| {
        let e = &e;
        let q = q.to_string();
        async move {
            e.get(&format!("/api/media?{q}")).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(by("type=image").await, 1);
    assert_eq!(by("type=document").await, 1);
    assert_eq!(by("filename=RECEIPT").await, 1);
    assert_eq!(by("filename=nothing").await, 0);
    assert_eq!(by("sender=15550109999").await, 2);
    assert_eq!(by("sender=15550100000").await, 0);
    assert_eq!(
        by(&format!(
            "conversation_id={}",
            m["conversation_id"].as_str().unwrap()
        ))
        .await,
        2
    );
    let t = m["sent_at"].as_i64().unwrap();
    assert_eq!(
        by(&format!("from={}&to={}", t - 10, t + 10)).await,
        1,
        "only the image's time"
    );
    assert_eq!(by(&format!("from={}", t - 10)).await, 2);
    assert_eq!(
        e.http
            .get(format!("{}/api/media?type=pdf", e.base))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    e.stop().await;
}

#[tokio::test]
async fn failures_end_in_visible_records() {
    let e = ServeEnv::start().await;
    let fake = e.server.graph_fake.clone().unwrap();
    let sha_of = |bytes: &[u8]| {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
    };

    // An expired URL is refreshed within the same attempt.
    let sha = fake.add_media("m-expired", IMAGE.to_vec(), "image/jpeg");
    fake.fail_downloads(1, 404);
    e.send(vec![image_message(
        "15550100001",
        "wamid.EXP",
        "m-expired",
        &sha,
    )])
    .await;
    assert_eq!(final_record(&e, "wamid.EXP").await["status"], "stored");

    // 5xx from the download is retried with backoff until it works.
    let sha = fake.add_media("m-flaky", b"\x89PNG\r\n\x1a\nflaky".to_vec(), "image/png");
    fake.fail_downloads(2, 503);
    e.send(vec![
        json!({"from": "15550100002", "id": "wamid.5XX", "timestamp": "1800000000", "type": "image",
        "image": {"id": "m-flaky", "mime_type": "image/png", "sha256": sha}}),
    ])
    .await;
    assert_eq!(final_record(&e, "wamid.5XX").await["status"], "stored");

    // Over 100 MB: lost at once, with the reason.
    let sha = fake.add_large_media("m-huge", 101 * 1024 * 1024, "video/mp4");
    e.send(vec![
        json!({"from": "15550100003", "id": "wamid.BIG", "timestamp": "1800000000", "type": "video",
        "video": {"id": "m-huge", "mime_type": "video/mp4", "sha256": sha}}),
    ])
    .await;
    let big = final_record(&e, "wamid.BIG").await;
    assert_eq!(big["status"], "lost");
    assert!(big["reason"].as_str().unwrap().contains("limit"), "{big:#}");

    // A content type that is not what was declared is quarantined, not served.
    let sha = fake.add_media(
        "m-fake-jpeg",
        b"%PDF-1.4 not a photo".to_vec(),
        "image/jpeg",
    );
    e.send(vec![image_message(
        "15550100004",
        "wamid.MIME",
        "m-fake-jpeg",
        &sha,
    )])
    .await;
    let q = final_record(&e, "wamid.MIME").await;
    assert_eq!(q["status"], "quarantined");
    assert!(q["url"].is_null());

    // A redirect to a private address is refused and recorded.
    fake.add_media("m-ssrf", IMAGE.to_vec(), "image/jpeg");
    fake.redirect_downloads_to("http://169.254.169.254/latest/meta-data/");
    e.send(vec![image_message(
        "15550100005",
        "wamid.SSRF",
        "m-ssrf",
        &sha_of(IMAGE),
    )])
    .await;
    let r = final_record(&e, "wamid.SSRF").await;
    fake.clear_redirect();
    assert_eq!(r["status"], "lost");
    assert!(r["reason"].as_str().unwrap().contains("redirect"), "{r:#}");

    // Bytes that never match Meta's sha256: retried, then lost with the reason.
    let sha = fake.add_media("m-corrupt", IMAGE.to_vec(), "image/jpeg");
    fake.corrupt("m-corrupt");
    e.send(vec![image_message(
        "15550100006",
        "wamid.SHA",
        "m-corrupt",
        &sha,
    )])
    .await;
    let c = final_record(&e, "wamid.SHA").await;
    assert_eq!(c["status"], "lost");
    assert!(
        c["reason"].as_str().unwrap().contains("sha256 mismatch"),
        "{c:#}"
    );

    let lost = e.get("/api/media?status=lost").await;
    assert_eq!(
        lost["items"].as_array().unwrap().len(),
        3,
        "every loss is listed for operators"
    );
    e.stop().await;
}

#[tokio::test]
async fn media_past_metas_retention_is_unrecoverable() {
    let e = ServeEnv::start().await;
    let body = payload("image.json", 8 * 24 * 3600);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    let m = final_record(
        &e,
        "wamid.HBgLMTU1NTAxMDk5OTkVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBNAA=",
    )
    .await;
    assert_eq!(m["status"], "unrecoverable");
    assert!(m["reason"].as_str().unwrap().contains("7-day"));
    e.stop().await;
}

#[tokio::test]
async fn a_rejected_token_raises_a_tenant_alert() {
    let e = ServeEnv::start().await;
    let fake = e.server.graph_fake.clone().unwrap();
    fake.fail_info(1, 401, 190);
    let body = payload("image.json", 60);
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    let wamid = "wamid.HBgLMTU1NTAxMDk5OTkVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBNAA=";
    // The retry (token fixed, i.e. the fake accepts again) then stores the file.
    assert_eq!(final_record(&e, wamid).await["status"], "stored");
    let alerts = e.get("/api/notices?field=token_expired").await;
    assert_eq!(alerts["items"].as_array().unwrap().len(), 1, "{alerts:#}");
    e.stop().await;
}
