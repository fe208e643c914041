//! Intent classification in pure Rust (being written).
