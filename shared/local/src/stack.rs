//! Everything the local product needs, opened from one data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_app::ports::Clock;

use crate::{Db, FsBlobStore, LocalBus, SqliteQueue, SqliteTable};

pub const EVENTS_QUEUE: &str = "events.fifo";
pub const EVENTS_DLQ: &str = "events-dlq.fifo";
/// Receives before an event moves to the dead-letter queue (as the SQS redrive policy).
pub const MAX_RECEIVES: u32 = 5;

pub struct LocalStack {
    pub data_dir: PathBuf,
    pub db: Db,
    pub table: Arc<SqliteTable>,
    pub events: Arc<SqliteQueue>,
    pub events_dlq: Arc<SqliteQueue>,
    pub blobs: Arc<FsBlobStore>,
    pub bus: Arc<LocalBus>,
}

impl LocalStack {
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let db = Db::open(&data_dir.join("switchboard.db")).map_err(std::io::Error::other)?;
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            table: Arc::new(SqliteTable::new(db.clone(), clock)),
            events: Arc::new(SqliteQueue::new(
                db.clone(),
                EVENTS_QUEUE,
                Some((EVENTS_DLQ, MAX_RECEIVES)),
            )),
            events_dlq: Arc::new(SqliteQueue::new(db.clone(), EVENTS_DLQ, None)),
            blobs: Arc::new(FsBlobStore::new(data_dir.join("blobs"))),
            bus: Arc::new(LocalBus::new(db.clone())),
            db,
        })
    }
}
