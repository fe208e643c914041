//! The port contract on the SQLite backend.

use std::sync::Arc;

use switchboard_app::contract;
use switchboard_app::ports::FixedClock;
use switchboard_local::{Db, FsBlobStore, SqliteQueue, SqliteTable};

#[tokio::test]
async fn sqlite_table_honours_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db")).unwrap();
    let clock = Arc::new(FixedClock::new(0));
    contract::table_contract(Arc::new(SqliteTable::new(db, clock.clone())), clock).await;
}

#[tokio::test]
async fn sqlite_queue_honours_the_contract() {
    let db = Db::in_memory().unwrap();
    let q = SqliteQueue::new(db.clone(), "events.fifo", Some(("events-dlq.fifo", 2)));
    let dlq = SqliteQueue::new(db, "events-dlq.fifo", None);
    contract::queue_contract(Arc::new(q), Arc::new(dlq)).await;
}

#[tokio::test]
async fn fs_blobs_honour_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract::blob_contract(Arc::new(FsBlobStore::new(dir.path()))).await;
}

#[tokio::test]
async fn local_bus_honours_the_contract() {
    let db = Db::in_memory().unwrap();
    let bus = Arc::new(switchboard_local::LocalBus::new(db));
    let last = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let observe = || {
        let (bus, last) = (bus.clone(), last.clone());
        async move {
            let rows = bus
                .list("acme", last.load(std::sync::atomic::Ordering::SeqCst), 100)
                .await
                .unwrap();
            if let Some((seq, _)) = rows.last() {
                last.store(*seq, std::sync::atomic::Ordering::SeqCst);
            }
            rows.into_iter()
                .map(|(_, e)| (e.detail_type.clone(), e.envelope()))
                .collect()
        }
    };
    contract::bus_contract(bus.clone(), observe).await;
}

#[tokio::test]
async fn local_presigned_urls_verify_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsBlobStore::new(dir.path()));
    store.set_public_url("http://127.0.0.1:1", b"local-secret");
    let s = store.clone();
    contract::presign_contract(store.clone(), move |url| {
        let s = s.clone();
        async move {
            // What the local server's /files route does with the URL.
            let (path, query) = url
                .strip_prefix("http://127.0.0.1:1/files/")?
                .split_once('?')?;
            let q: std::collections::HashMap<_, _> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let exp: i64 = q.get("exp")?.parse().ok()?;
            let now = exp - 1;
            assert!(
                !s.verify_presigned(path, exp, "00", now),
                "a forged signature fails"
            );
            assert!(
                !s.verify_presigned(path, exp - 10, q.get("sig")?, now),
                "a changed expiry fails"
            );
            assert!(
                !s.verify_presigned(path, exp, q.get("sig")?, exp),
                "expired"
            );
            s.verify_presigned(path, exp, q.get("sig")?, now)
                .then(|| std::fs::read(dir_file(&s, path)).ok())
                .flatten()
        }
    })
    .await;
}

fn dir_file(s: &FsBlobStore, key: &str) -> std::path::PathBuf {
    s.path_of(key).unwrap()
}
