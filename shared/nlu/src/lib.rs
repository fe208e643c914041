//! Intent classification in pure Rust for Switchboard's triage: no model download, no C++, no
//! Python at run time.
//!
//! - [`normalise`](normalise::normalise): Unicode-aware canonical text (lowercase, elongation,
//!   accents, Arabic variants, digits, emoji tokens);
//! - features: word 1–2-grams + character 3–5-grams within word boundaries, sublinear TF-IDF,
//!   L2-normalised, vocabulary pruned by document frequency;
//! - model: one-vs-rest linear SVM (liblinear's dual coordinate descent, as sklearn's
//!   `LinearSVC`), margins calibrated by a fitted softmax temperature;
//! - [`Thresholds`]: per-intent abstention, tuned on held-out data;
//! - [`IntentModel::to_bytes`]/[`IntentModel::from_bytes`]: a compact, versioned, checksummed file;
//! - [`split_requests`]: one message, several requests;
//! - [`evaluate`]: accuracy, macro-F1, per-intent metrics, confusions, calibration, open set.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_nlu::{split_requests, Decision, IntentModel};
//! let model = IntentModel::load(std::path::Path::new("intents.sbnlu"))?;
//! for request in split_requests("order is late, refund not here") {
//!     match model.decide(&request) {
//!         Decision::Intent { label, confidence } => println!("{label} {confidence:.2} ({})", model.version()),
//!         Decision::Abstain { best_label, confidence } => println!("abstain ({best_label:?} {confidence:.2})"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The library never prints; training reports through a [`Progress`] callback.

mod calibration;
pub mod dataset;
pub mod evaluation;
mod features;
mod model;
mod model_file;
pub mod normalise;
mod split;
mod svm;
mod thresholds;
mod train;

pub use dataset::{parse_tsv, read_label_list, read_tsv, DatasetError, Example};
pub use evaluation::{evaluate, EvalReport, UNKNOWN};
pub use model::{IntentModel, IntentScore, ModelInfo, Prediction};
pub use model_file::{ModelFileError, FORMAT_VERSION};
pub use normalise::MAX_INPUT_CHARS;
pub use split::{split_requests, MIN_REQUEST_LETTERS, MIN_REQUEST_WORDS};
pub use thresholds::{Decision, Thresholds};
pub use train::{train, Phase, Progress, TrainConfig, TrainError, TrainReport};

#[cfg(test)]
mod tests;
