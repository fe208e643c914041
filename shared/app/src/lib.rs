//! Switchboard's use cases and the ports they run on.
//!
//! A use case takes its ports as trait objects; `switchboard-aws` and `switchboard-local` implement
//! every port once each, and both pass the same contract suite (`contract`, behind the feature of
//! that name).

pub mod audit;
pub mod consent;
pub mod dlq;
pub mod envelope;
pub mod governance;
pub mod handoff;
pub mod ingest;
pub mod media;
pub mod metrics;
pub mod nlu;
pub mod onboarding;
pub mod ops;
pub mod outbound;
pub mod outbox;
pub mod ports;
pub mod process;
pub mod queries;
pub mod routes;
pub mod sla;
pub mod templates;
pub mod triage;
pub mod worker;

#[cfg(feature = "contract")]
pub mod contract;

pub use ports::{BlobStore, Clock, EventBus, Queue, SystemClock, Table};
