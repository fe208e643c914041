//! Everything the local product needs, opened from one data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_app::outbound::OutboundQueues;
use switchboard_app::ports::Clock;

use crate::{Db, FsBlobStore, LocalBus, SqliteQueue, SqliteTable};

pub const EVENTS_QUEUE: &str = "events.fifo";
pub const EVENTS_DLQ: &str = "events-dlq.fifo";
pub const MEDIA_QUEUE: &str = "media";
pub const MEDIA_DLQ: &str = "media-dlq";
pub const TEMPLATES_QUEUE: &str = "templates";
pub const TEMPLATES_DLQ: &str = "templates-dlq";
pub const OUTBOUND_QUEUE: &str = "outbound.fifo";
pub const OUTBOUND_DLQ: &str = "outbound-dlq.fifo";
pub const OTP_QUEUE: &str = "otp.fifo";
pub const OTP_DLQ: &str = "otp-dlq.fifo";
pub const HANDOFF_QUEUE: &str = "handoff";
pub const ONBOARDING_QUEUE: &str = "onboarding";
pub const ONBOARDING_DLQ: &str = "onboarding-dlq";
/// Bus events that answer onboarding checkpoints (as the stack's EventBridge rule routes them).
pub const ONBOARDING_SIGNALS: [&str; 4] = [
    "meta.phone_number_name_update",
    "meta.message_template_status_update",
    "meta.account_update",
    "conversation.opened",
];
pub const HANDOFF_DLQ: &str = "handoff-dlq";
/// Receives before an event moves to the dead-letter queue (as the SQS redrive policy).
pub const MAX_RECEIVES: u32 = 5;
/// Sends wait for throughput tokens by going back to the queue, so they get more receives.
pub const OUTBOUND_MAX_RECEIVES: u32 = 100;

pub struct LocalStack {
    pub data_dir: PathBuf,
    pub db: Db,
    pub table: Arc<SqliteTable>,
    pub events: Arc<SqliteQueue>,
    pub events_dlq: Arc<SqliteQueue>,
    pub media: Arc<SqliteQueue>,
    pub media_dlq: Arc<SqliteQueue>,
    pub templates: Arc<SqliteQueue>,
    pub outbound: Arc<SqliteQueue>,
    pub otp: Arc<SqliteQueue>,
    pub handoff: Arc<SqliteQueue>,
    pub onboarding: Arc<SqliteQueue>,
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
        let handoff = Arc::new(SqliteQueue::new(
            db.clone(),
            HANDOFF_QUEUE,
            Some((HANDOFF_DLQ, MAX_RECEIVES)),
        ));
        let bus = Arc::new(LocalBus::new(db.clone()));
        bus.route(switchboard_app::process::MEDIA_RECEIVED, media.clone());
        bus.route("handoff.requested", handoff.clone());
        let onboarding = Arc::new(SqliteQueue::new(
            db.clone(),
            ONBOARDING_QUEUE,
            Some((ONBOARDING_DLQ, MAX_RECEIVES)),
        ));
        for signal in ONBOARDING_SIGNALS {
            bus.route(signal, onboarding.clone());
        }
        Ok(Self {
            onboarding,
            outbound: Arc::new(SqliteQueue::new(
                db.clone(),
                OUTBOUND_QUEUE,
                Some((OUTBOUND_DLQ, OUTBOUND_MAX_RECEIVES)),
            )),
            otp: Arc::new(SqliteQueue::new(
                db.clone(),
                OTP_QUEUE,
                Some((OTP_DLQ, OUTBOUND_MAX_RECEIVES)),
            )),
            handoff,
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

    /// The sender's queues, as the processor and the outbound gate take them.
    pub fn outbound_queues(&self) -> OutboundQueues {
        OutboundQueues {
            conversational: self.outbound.clone(),
            otp: self.otp.clone(),
        }
    }
}
