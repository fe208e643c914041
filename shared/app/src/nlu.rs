//! The triage classifier port implemented by the pure-Rust NLU model, and the defaults shipped
//! with Switchboard: the taxonomy and a model trained on config/nlu/default/train.tsv.

use std::sync::Arc;

use switchboard_core::triage::taxonomy::Taxonomy;
use switchboard_core::triage::IntentClassifier;
use switchboard_nlu::{IntentModel, ModelFileError};

use crate::triage::Triager;

/// The default model, compiled in: a function cold-starts with no file or network access.
/// Rebuild it with `switchboard nlu train --data config/nlu/default/train.tsv --out config/nlu/default.model`.
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../config/nlu/default.model");

/// Candidates kept per request for the reviewer.
const RANKED: usize = 5;

pub struct NluClassifier {
    model: IntentModel,
}

impl NluClassifier {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        Ok(Self {
            model: IntentModel::from_bytes(bytes)?,
        })
    }

    pub fn model(&self) -> &IntentModel {
        &self.model
    }
}

impl IntentClassifier for NluClassifier {
    fn version(&self) -> String {
        self.model.version().to_string()
    }

    fn rank(&self, text: &str) -> Vec<(String, f32)> {
        let prediction = self.model.predict(text);
        if prediction.matched_features == 0 {
            // Nothing the model knows: confidences are priors, not evidence. Abstain.
            return Vec::new();
        }
        prediction
            .ranked
            .iter()
            .take(RANKED)
            .map(|s| (s.label.to_string(), s.confidence))
            .collect()
    }

    fn split_requests(&self, text: &str) -> Vec<String> {
        switchboard_nlu::split_requests(text)
    }
}

/// The triager with the shipped taxonomy and model, or with a tenant's own when given.
pub fn triager(taxonomy: Option<&str>, model: Option<&[u8]>) -> Result<Triager, DefaultsError> {
    let taxonomy = match taxonomy {
        Some(json) => {
            Taxonomy::from_json(json).map_err(|e| DefaultsError::Taxonomy(e.to_string()))?
        }
        None => Taxonomy::default_taxonomy(),
    };
    let classifier = NluClassifier::from_bytes(model.unwrap_or(DEFAULT_MODEL))?;
    let known: Vec<&str> = classifier
        .model()
        .labels()
        .iter()
        .map(String::as_str)
        .collect();
    if let Some(missing) = taxonomy
        .intents
        .iter()
        .find(|i| !known.contains(&i.id.as_str()))
    {
        // An intent the model cannot predict can still be reached by quick reply; say so.
        tracing::warn!(intent = %missing.id, "the NLU model does not know this taxonomy intent");
    }
    Ok(Triager::new(taxonomy, Arc::new(classifier)))
}

#[derive(Debug, thiserror::Error)]
pub enum DefaultsError {
    #[error("taxonomy: {0}")]
    Taxonomy(String),
    #[error("NLU model: {0}")]
    Model(#[from] ModelFileError),
}
