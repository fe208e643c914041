//! The trained intent model: vocabulary, quantised weights, temperature and thresholds, and the
//! prediction path the triage pipeline calls for every message.

use serde::{Deserialize, Serialize};

use crate::calibration::softmax;
use crate::features::{count_grams, FeatureSpec, Vocabulary};
use crate::svm::LinearWeights;
use crate::thresholds::{Decision, Thresholds};

/// An intent classifier ready to predict. Cheap to share across threads (`&self` everywhere).
#[derive(Clone, Debug, PartialEq)]
pub struct IntentModel {
    pub(crate) labels: Vec<String>,
    pub(crate) spec: FeatureSpec,
    pub(crate) vocabulary: Vocabulary,
    pub(crate) weights: QuantisedWeights,
    pub(crate) temperature: f32,
    pub(crate) thresholds: Thresholds,
    pub(crate) info: ModelInfo,
    /// Format version + content hash; see [`IntentModel::version`].
    pub(crate) version: String,
}

/// How the model was trained, stored in the model file for `nlu eval` and audits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// SVM regularisation parameter.
    pub c: f32,
    /// Minimum document frequency of a feature.
    pub min_df: u32,
    /// Examples the final weights were fitted on.
    pub training_examples: usize,
    /// Held-out examples the temperature and thresholds were fitted on, and where they came
    /// from ("dev", "split" or "none").
    pub holdout_examples: usize,
    pub holdout_source: String,
}

/// Weights stored as i8 with one scale per intent: 1 byte per (feature, intent) instead of 4.
/// Per-intent scales (not one global scale) because intents' weight ranges differ; the
/// quantisation error (≤ scale/2 per weight) is far below the margins that separate intents.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuantisedWeights {
    /// Feature-major: `values[f * classes + k]`.
    pub values: Vec<i8>,
    pub scale: Vec<f32>,
    pub bias: Vec<f32>,
}

impl QuantisedWeights {
    pub fn quantise(w: &LinearWeights) -> Self {
        let k = w.classes;
        let mut max = vec![0f32; k];
        for row in w.weights.chunks_exact(k.max(1)) {
            for (m, &v) in max.iter_mut().zip(row) {
                *m = m.max(v.abs());
            }
        }
        let scale: Vec<f32> = max
            .iter()
            .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
            .collect();
        let values = w
            .weights
            .chunks_exact(k.max(1))
            .flat_map(|row| {
                row.iter()
                    .zip(&scale)
                    .map(|(&v, &s)| (v / s).round().clamp(-127.0, 127.0) as i8)
            })
            .collect();
        QuantisedWeights {
            values,
            scale,
            bias: w.bias.clone(),
        }
    }
}

/// One intent's score for a message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct IntentScore<'m> {
    pub label: &'m str,
    /// Calibrated probability (the intents' confidences sum to 1).
    pub confidence: f32,
    /// The raw SVM margin, for debugging.
    pub score: f32,
}

/// A model's view of one message: every intent, most likely first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction<'m> {
    pub ranked: Vec<IntentScore<'m>>,
    /// How many of the message's n-grams the model knows; 0 means the text was unrecognisable
    /// (empty, punctuation only, an unseen script) and the ranking is the priors alone.
    pub matched_features: usize,
}

impl<'m> Prediction<'m> {
    /// The most likely intent.
    pub fn best(&self) -> Option<&IntentScore<'m>> {
        self.ranked.first()
    }
}

impl IntentModel {
    /// Scores every intent for `text`, ranked by confidence. Never panics; long texts are read up
    /// to [`crate::MAX_INPUT_CHARS`] characters.
    pub fn predict(&self, text: &str) -> Prediction<'_> {
        let (scores, matched_features) = self.scores(text);
        let mut probs = Vec::with_capacity(scores.len());
        softmax(&scores, self.temperature, &mut probs);
        let mut ranked: Vec<IntentScore<'_>> = self
            .labels
            .iter()
            .zip(scores.iter().zip(&probs))
            .map(|(label, (&score, &confidence))| IntentScore {
                label,
                confidence,
                score,
            })
            .collect();
        // Ties keep label order (stable sort), so predictions are deterministic.
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Prediction {
            ranked,
            matched_features,
        }
    }

    /// Predicts and applies the model's own tuned thresholds.
    pub fn decide(&self, text: &str) -> Decision {
        self.thresholds.decide(&self.predict(text))
    }

    /// Raw margins per intent (label order) and the number of known features in `text`.
    pub(crate) fn scores(&self, text: &str) -> (Vec<f32>, usize) {
        let v = self.vocabulary.vectorise(&count_grams(text, self.spec));
        let k = self.labels.len();
        let mut acc = vec![0f32; k];
        for (&f, &x) in v.indices.iter().zip(&v.values) {
            let start = f as usize * k;
            if let Some(row) = self.weights.values.get(start..start + k) {
                for (a, &q) in acc.iter_mut().zip(row) {
                    *a += x * f32::from(q);
                }
            }
        }
        for ((a, &s), &b) in acc
            .iter_mut()
            .zip(&self.weights.scale)
            .zip(&self.weights.bias)
        {
            *a = *a * s + b;
        }
        (acc, v.indices.len())
    }

    /// The intents this model knows, in its internal order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Thresholds tuned on held-out data at training time.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Replaces the stored thresholds (e.g. with operator overrides); changes the version.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.thresholds = thresholds;
        self.refresh_version();
    }

    /// The softmax temperature fitted on held-out data.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Number of features (n-grams) in the vocabulary.
    pub fn vocabulary_size(&self) -> usize {
        self.vocabulary.len()
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// `v<format>-<first 12 hex digits of the SHA-256 of the model's content>`, e.g.
    /// `v1-3fa9c2d1e4b7`: two byte-identical models share it, any change to weights, vocabulary,
    /// thresholds or temperature changes it. Record it with every decision.
    pub fn version(&self) -> &str {
        &self.version
    }
}
