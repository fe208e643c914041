//! Streaming downloads against the fake: bytes, expiry, failures, size caps.

mod common;

use common::*;
use switchboard_graph::GraphError;

#[tokio::test]
async fn download_streams_exact_bytes_with_matching_sha256() {
    let fake = fake().await;
    let bytes = sample_bytes(300_000);
    let sha = fake.add_media(MEDIA_ID, bytes.clone(), "application/pdf");
    let client = client(&fake);

    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let download = client.download(TOKEN, &info.url).await.unwrap();
    assert_eq!(download.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(download.content_length, Some(300_000));
    let got = collect(download).await.unwrap();
    assert!(got == bytes, "bytes differ");
    assert_eq!(b64(&sha2::Sha256::digest(&got)), sha);

    // The built-in verifier agrees.
    let download = client.download(TOKEN, &info.url).await.unwrap();
    let verified = download.verify_sha256(&sha).unwrap();
    assert_eq!(collect(verified).await.unwrap().len(), 300_000);
}

use sha2::Digest as _;

#[tokio::test]
async fn download_requires_the_bearer_token() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![7; 10], "text/plain");
    let client = client(&fake);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();

    let err = client.download("EAAG-wrong", &info.url).await.unwrap_err();
    assert!(matches!(err, GraphError::TokenExpired { .. }), "{err:?}");
    assert!(err.is_token_problem());

    let raw = reqwest::get(&info.url).await.unwrap();
    assert_eq!(raw.status().as_u16(), 401);
}

#[tokio::test]
async fn expired_url_is_not_found_and_a_fresh_url_works() {
    let fake = fake().await;
    let bytes = sample_bytes(1000);
    fake.add_media(MEDIA_ID, bytes.clone(), "image/png");
    let client = client(&fake);

    // URLs born expired (TTL 0) answer 404.
    fake.set_url_ttl(0);
    let stale = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let err = client.download(TOKEN, &stale.url).await.unwrap_err();
    assert!(matches!(err, GraphError::NotFound), "{err:?}");
    assert!(err.needs_fresh_url() && !err.is_retryable() && !err.is_token_problem());

    // Meta's recovery: fetch a new URL and retry.
    fake.set_url_ttl(300);
    let fresh = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    assert_ne!(fresh.url, stale.url);
    let got = collect(client.download(TOKEN, &fresh.url).await.unwrap())
        .await
        .unwrap();
    assert!(got == bytes);
}

#[tokio::test]
async fn expire_urls_revokes_everything_issued_so_far() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1, 2, 3], "image/png");
    let client = client(&fake);
    let first = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    fake.expire_urls();
    let err = client.download(TOKEN, &first.url).await.unwrap_err();
    assert!(err.needs_fresh_url(), "{err:?}");
    let second = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let got = collect(client.download(TOKEN, &second.url).await.unwrap()).await;
    assert_eq!(got.unwrap(), vec![1, 2, 3]);
}

#[tokio::test]
async fn tampered_url_is_not_found() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![1], "image/png");
    fake.add_media("900000000000002", vec![2], "image/png");
    let client = client(&fake);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    // Same signature, different media id: the fake (like Meta) refuses it.
    let forged = info.url.replace(MEDIA_ID, "900000000000002");
    let err = client.download(TOKEN, &forged).await.unwrap_err();
    assert!(matches!(err, GraphError::NotFound), "{err:?}");
}

#[tokio::test]
async fn server_errors_are_retryable_api_errors() {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, vec![9; 64], "image/png");
    let client = client(&fake);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();

    fake.fail_downloads(2, 503);
    for _ in 0..2 {
        let err = client.download(TOKEN, &info.url).await.unwrap_err();
        assert!(
            matches!(err, GraphError::Api { status: 503, .. }),
            "{err:?}"
        );
        assert!(err.is_retryable() && !err.needs_fresh_url());
    }
    fake.fail_downloads(1, 500);
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(matches!(err, GraphError::Api { status: 500, .. }) && err.is_retryable());
    fake.fail_downloads(1, 429);
    assert!(client
        .download(TOKEN, &info.url)
        .await
        .unwrap_err()
        .is_retryable());

    // Injection exhausted: the same URL now works.
    let got = collect(client.download(TOKEN, &info.url).await.unwrap()).await;
    assert_eq!(got.unwrap(), vec![9; 64]);
}

#[tokio::test]
async fn corrupted_bytes_fail_sha256_verification() {
    let fake = fake().await;
    let sha = fake.add_media(MEDIA_ID, sample_bytes(5000), "image/jpeg");
    fake.corrupt(MEDIA_ID);
    let client = client(&fake);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    assert_eq!(
        info.sha256.as_deref(),
        Some(sha.as_str()),
        "advertised digest unchanged"
    );

    let download = client.download(TOKEN, &info.url).await.unwrap();
    let err = collect(download.verify_sha256(&sha).unwrap())
        .await
        .unwrap_err();
    match &err {
        GraphError::Integrity { expected, actual } => {
            assert_eq!(expected, &sha);
            assert_ne!(actual, &sha);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.needs_fresh_url());
}

#[tokio::test]
async fn content_length_over_cap_is_too_large_before_streaming() {
    let fake = fake().await;
    fake.add_large_media(MEDIA_ID, 10_000, "video/mp4");
    let client = client_with(&fake, |g| g.max_bytes = 1_000);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(
        matches!(err, GraphError::TooLarge { limit: 1_000 }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn unannounced_stream_over_cap_is_cut_off() {
    let fake = fake().await;
    // Several 64 KiB blocks, no Content-Length: only counting can catch it.
    fake.add_large_media(MEDIA_ID, 1_000_000, "video/mp4");
    fake.hide_content_length(true);
    let client = client_with(&fake, |g| g.max_bytes = 150_000);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let download = client.download(TOKEN, &info.url).await.unwrap();
    assert_eq!(download.content_length, None);
    let (seen, _, err) = drain(download).await;
    assert!(
        matches!(err, Some(GraphError::TooLarge { limit: 150_000 })),
        "{err:?}"
    );
    assert!(seen <= 150_000, "delivered {seen} bytes past the cap");
}

#[tokio::test]
async fn media_exactly_at_cap_is_accepted_with_or_without_length() {
    let fake = fake().await;
    let sha = fake.add_large_media(MEDIA_ID, 200_000, "video/mp4");
    let client = client_with(&fake, |g| g.max_bytes = 200_000);
    for hide in [false, true] {
        fake.hide_content_length(hide);
        let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
        let (seen, digest, err) = drain(client.download(TOKEN, &info.url).await.unwrap()).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!((seen, digest.as_str()), (200_000, sha.as_str()));
    }
}
