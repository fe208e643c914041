//! A 100 MiB download streams through with bounded memory and the right digest.

mod common;

use std::time::Instant;

use common::*;

#[tokio::test]
async fn hundred_megabyte_download_streams_with_matching_sha256() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let fake = fake().await;
    let started = Instant::now();
    let sha = fake.add_large_media(MEDIA_ID, SIZE, "video/mp4");
    // Default Meta cap (100 MiB): a file exactly at the limit is allowed.
    let client = client(&fake);
    assert_eq!(client.media_guard().max_bytes, SIZE);

    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    assert_eq!(info.file_size, Some(SIZE));
    let download = client.download(TOKEN, &info.url).await.unwrap();
    assert_eq!(download.content_length, Some(SIZE));
    // Counted and hashed chunk by chunk; never collected.
    let (seen, digest, err) = drain(download).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen, SIZE);
    assert_eq!(digest, sha);
    eprintln!("100 MiB: {:?}", started.elapsed());
}
