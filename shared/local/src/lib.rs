//! Embedded adapters: the whole product on one machine with no AWS account.
//!
//! One SQLite file holds the table and the queues; blobs are files under a directory. Each adapter
//! passes the same contract suite as its AWS twin.

mod blobs;
mod bus;
mod db;
pub mod flow;
mod queue;
mod stack;
mod table;

pub use blobs::FsBlobStore;
pub use bus::LocalBus;
pub use db::Db;
pub use flow::LocalFlow;
pub use queue::SqliteQueue;
pub use stack::{
    LocalStack, EVENTS_DLQ, EVENTS_QUEUE, HANDOFF_DLQ, HANDOFF_QUEUE, MAX_RECEIVES, MEDIA_DLQ,
    MEDIA_QUEUE, ONBOARDING_DLQ, ONBOARDING_QUEUE, OTP_DLQ, OTP_QUEUE, OUTBOUND_DLQ,
    OUTBOUND_QUEUE, TEMPLATES_DLQ, TEMPLATES_QUEUE,
};
pub use table::SqliteTable;
