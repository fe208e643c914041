//! The pure domain of Switchboard. No I/O, no AWS, no async runtime: everything here is a function
//! of its inputs, so it builds in seconds and is tested exhaustively.

pub mod asl;
pub mod consent;
pub mod conversation;
pub mod entities;
pub mod event;
pub mod handoff;
pub mod keys;
pub mod media;
pub mod outbound;
pub mod rollup;
pub mod signature;
pub mod sla;
pub mod template;
pub mod triage;
pub mod webhook;

pub use event::{split_webhook, Event, EventKind};
pub use signature::{verify_signature, SignatureError};
