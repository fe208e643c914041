//! Everything the local product needs, opened from one data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_app::ports::Clock;

use crate::{Db, FsBlobStore, LocalBus, SqliteQueue, SqliteTable};

pub const EVENTS_QUEUE: &str = "events.fifo";
pub const EVENTS_DLQ: &str = "events-dlq.fifo";
pub const MEDIA_QUEUE: &str = "media";
pub const MEDIA_DLQ: &str = "media-dlq";
pub const TEMPLATES_QUEUE: &str = "templates";
pub const TEMPLATES_DLQ: &str = "templates-dlq";
/// Receives before an event moves to the dead-letter queue (as the SQS redrive policy).
pub const MAX_RECEIVES: u32 = 5;

pub struct LocalStack {
    pub data_dir: PathBuf,
    pub db: Db,
    pub table: Arc<SqliteTable>,
    pub events: Arc<SqliteQueue>,
    pub events_dlq: Arc<SqliteQueue>,
    pub media: Arc<SqliteQueue>,
    pub media_dlq: Arc<SqliteQueue>,
    pub templates: Arc<SqliteQueue>,
    pub blobs: Arc<FsBlobStore>,
    pub bus: Arc<LocalBus>,
}

impl LocalStack {
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let db = Db::open(&data_dir.join("switchboard.db")).map_err(std::io::Error::other)?;
        let media = Arc::new(SqliteQueue::new(
            db.clone(),
            MEDIA_QUEUE,
            Some((MEDIA_DLQ, MAX_RECEIVES)),
        ));
        let bus = Arc::new(LocalBus::new(db.clone()));
        bus.route(switchboard_app::process::MEDIA_RECEIVED, media.clone());
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            media,
            media_dlq: Arc::new(SqliteQueue::new(db.clone(), MEDIA_DLQ, None)),
            templates: Arc::new(SqliteQueue::new(
                db.clone(),
                TEMPLATES_QUEUE,
                Some((TEMPLATES_DLQ, MAX_RECEIVES)),
            )),
            table: Arc::new(SqliteTable::new(db.clone(), clock)),
            events: Arc::new(SqliteQueue::new(
                db.clone(),
                EVENTS_QUEUE,
                Some((EVENTS_DLQ, MAX_RECEIVES)),
            )),
            events_dlq: Arc::new(SqliteQueue::new(db.clone(), EVENTS_DLQ, None)),
            blobs: Arc::new(FsBlobStore::new(data_dir.join("blobs"))),
            bus,
            db,
        })
    }
}
