//! The `switchboard` command as a library, so the end-to-end tests start the same server.

pub mod config;
pub mod console;
pub mod dlq;
pub mod lint;
pub mod metrics;
pub mod nlu;
pub mod post;
pub mod serve;
pub mod simulator;
pub mod token;
