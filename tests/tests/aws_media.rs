//! The media path on the AWS adapters: DynamoDB records, S3 (multipart) files and EventBridge
//! events on moto, with the fake Graph API answering Meta's side. Each documented failure ends in
//! its documented outcome. Skips without `SWITCHBOARD_MOTO_URL` unless moto is required.

use std::sync::Arc;

use base64::Engine;
use serde_json::Value;
use sha2::Digest;
use switchboard_app::media::{media_key, MediaError, MediaFetcher, MediaOutcome, MAX_ATTEMPTS};
use switchboard_app::ports::bus::as_delivered;
use switchboard_app::ports::{BlobStore, BusEvent, StaticTokens, Table};
use switchboard_app::SystemClock;
use switchboard_aws::{provision, DynamoTable, EventBridgeBus, S3BlobStore};
use switchboard_core::media::MediaJob;
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};

const IMAGE: &[u8] = include_bytes!("../../events/media/demo-image.jpg");

struct Env {
    fetcher: MediaFetcher,
    table: Arc<DynamoTable>,
    blobs: Arc<S3BlobStore>,
    fake: GraphFake,
    sqs: aws_sdk_sqs::Client,
    tap: String,
}

async fn env() -> Option<Env> {
    let conf = provision::emulator_from_env().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let name = provision::unique_name("media");
    provision::create_table(&ddb, &name).await.unwrap();
    let s3 = S3BlobStore::client(&conf);
    let bucket = provision::unique_name("media");
    provision::create_bucket(&s3, &bucket).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let (bus, tap) = provision::create_bus_with_tap(&events, &sqs, &provision::unique_name("mbus"))
        .await
        .unwrap();
    let fake = GraphFake::start().await;
    fake.add_token("tok");
    let clock = Arc::new(SystemClock);
    let table = Arc::new(DynamoTable::new(ddb, name, clock.clone()));
    let blobs = Arc::new(S3BlobStore::new(s3, bucket));
    let fetcher = MediaFetcher {
        table: table.clone(),
        blobs: blobs.clone(),
        bus: Arc::new(EventBridgeBus::new(events, bus)),
        clock,
        graph: GraphClient::new(GraphConfig::for_fake(&fake)).unwrap(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: Some("tok".into()),
        }),
    };
    Some(Env {
        fetcher,
        table,
        blobs,
        fake,
        sqs,
        tap,
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn job(wamid: &str, media_id: &str, kind: &str, mime: &str, sha: &str) -> MediaJob {
    MediaJob {
        tenant: "acme".into(),
        conversation_id: "cv_1".into(),
        contact_id: "c_1".into(),
        wamid: wamid.into(),
        media_id: media_id.into(),
        kind: kind.into(),
        declared_mime: Some(mime.into()),
        sha256: Some(sha.into()),
        filename: Some("../../etc/evil name.jpg".into()),
        caption: None,
        voice: false,
        phone_number_id: Some("110000000000001".into()),
        sent_at: now() - 60,
        received_at: now() - 59,
    }
}

fn body(j: &MediaJob) -> String {
    as_delivered(
        &BusEvent {
            tenant: j.tenant.clone(),
            detail_type: "media.received".into(),
            correlation: format!("msg:{}", j.wamid),
            detail: serde_json::to_value(j).unwrap(),
        },
        now(),
    )
    .to_string()
}

/// Runs the job as the queue would: redelivered with a growing receive count until it stops
/// asking for a retry.
async fn run(e: &Env, j: &MediaJob) -> (MediaOutcome, u32) {
    for attempt in 1..=MAX_ATTEMPTS {
        match e.fetcher.handle(&body(j), attempt).await {
            Ok(o) => return (o, attempt),
            Err(MediaError::Retry(_)) => continue,
            Err(other) => panic!("{other}"),
        }
    }
    panic!("still retrying after {MAX_ATTEMPTS} attempts");
}

async fn record(e: &Env, j: &MediaJob) -> Value {
    Value::Object(e.table.get(&media_key(j)).await.unwrap().unwrap())
}

fn sha(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn every_media_outcome_on_aws() {
    let Some(e) = env().await else { return };

    // Normal: stored under its content address in S3, indexed, media.stored published.
    let s = e.fake.add_media("m1", IMAGE.to_vec(), "image/jpeg");
    let j = job("wamid.A1", "m1", "image", "image/jpeg", &s);
    let (outcome, attempts) = run(&e, &j).await;
    let MediaOutcome::Stored { key, size, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((attempts, size), (1, IMAGE.len() as u64));
    assert_eq!(e.blobs.get(&key).await.unwrap().as_deref(), Some(IMAGE));
    let r = record(&e, &j).await;
    assert_eq!(r["status"], "stored");
    assert_eq!(r["filename"], "evil name.jpg", "sanitised");
    assert!(matches!(
        e.fetcher.handle(&body(&j), 1).await.unwrap(),
        MediaOutcome::AlreadyStored
    ));

    // URL expiry: refreshed within the attempt.
    let s = e.fake.add_media("m2", IMAGE.to_vec(), "image/jpeg");
    e.fake.fail_downloads(1, 404);
    let (o, attempts) = run(&e, &job("wamid.A2", "m2", "image", "image/jpeg", &s)).await;
    assert!(
        matches!(o, MediaOutcome::Stored { .. }) && attempts == 1,
        "{o:?}"
    );

    // 5xx: back to the queue, stored on a later receive.
    let s = e.fake.add_media("m3", IMAGE.to_vec(), "image/jpeg");
    e.fake.fail_downloads(2, 503);
    let (o, attempts) = run(&e, &job("wamid.A3", "m3", "image", "image/jpeg", &s)).await;
    assert!(matches!(o, MediaOutcome::Stored { .. }), "{o:?}");
    assert_eq!(attempts, 3);

    // sha256 mismatch on every try: lost, with the reason, nothing left in S3.
    let s = e.fake.add_media("m4", IMAGE.to_vec(), "image/jpeg");
    e.fake.corrupt("m4");
    let j4 = job("wamid.A4", "m4", "image", "image/jpeg", &s);
    let (o, _) = run(&e, &j4).await;
    assert!(
        matches!(&o, MediaOutcome::Lost { reason } if reason.contains("sha256 mismatch")),
        "{o:?}"
    );
    let hex = switchboard_core::media::sha256_hex_of_base64(&s).unwrap();
    assert_eq!(
        e.blobs
            .head(&switchboard_core::media::content_key("acme", &hex))
            .await
            .unwrap(),
        None
    );
    assert_eq!(record(&e, &j4).await["status"], "lost");

    // Over 100 MB: lost at once.
    let s = e.fake.add_large_media("m5", 101 * 1024 * 1024, "video/mp4");
    let (o, attempts) = run(&e, &job("wamid.A5", "m5", "video", "video/mp4", &s)).await;
    assert!(
        matches!(&o, MediaOutcome::Lost { reason } if reason.contains("limit")) && attempts == 1,
        "{o:?}"
    );

    // Redirect to a private address: refused, lost at once.
    e.fake.add_media("m6", IMAGE.to_vec(), "image/jpeg");
    e.fake.redirect_downloads_to("http://10.0.0.1/internal");
    let (o, _) = run(
        &e,
        &job("wamid.A6", "m6", "image", "image/jpeg", &sha(IMAGE)),
    )
    .await;
    e.fake.clear_redirect();
    assert!(
        matches!(&o, MediaOutcome::Lost { reason } if reason.contains("redirect")),
        "{o:?}"
    );

    // A multipart-sized file (9 MB) streams through S3's multipart upload.
    let s = e.fake.add_large_media("m7", 9 * 1024 * 1024, "video/mp4");
    let (o, _) = run(&e, &job("wamid.A7", "m7", "video", "video/mp4", &s)).await;
    match o {
        MediaOutcome::Stored { size, .. } => assert_eq!(size, 9 * 1024 * 1024),
        // The generated bytes are not an MP4 container: quarantined after a full, verified upload.
        MediaOutcome::Quarantined { reason } => assert!(reason.contains("video/mp4"), "{reason}"),
        other => panic!("{other:?}"),
    }

    // What the business's systems saw on EventBridge.
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..20 {
        let out = e
            .sqs
            .receive_message()
            .queue_url(&e.tap)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            let v: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            seen.push(v["detail-type"].as_str().unwrap().to_string());
            e.sqs
                .delete_message()
                .queue_url(&e.tap)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    assert_eq!(
        seen.iter().filter(|t| *t == "media.stored").count(),
        3 + usize::from(seen.iter().all(|t| t != "media.quarantined")),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|t| *t == "media.lost").count(),
        3,
        "{seen:?}"
    );
    e.fake.stop().await;
}
