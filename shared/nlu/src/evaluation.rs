//! Evaluation: closed-set metrics, calibration, abstention and open-set (unknown intent) metrics.
//!
//! Definitions (also in the CLI's output, so numbers can be compared across runs):
//! - **accuracy**: share of messages whose top intent is the gold intent (closed set: known intents
//!   only, no thresholds);
//! - **macro-F1**: the unweighted mean of per-intent F1 over every intent that occurs as gold or as
//!   prediction (sklearn's default), so rare intents count as much as frequent ones;
//! - **ECE** (expected calibration error): confidences split into equal-width bins; the
//!   message-weighted mean of |accuracy − mean confidence| per bin;
//! - **open set**: a gold intent the model does not know is "unknown", an abstention predicts
//!   "unknown". Known accuracy = known messages answered with the right intent (abstaining counts as
//!   wrong); unknown rejection = unknown messages abstained on; open macro-F1 = macro-F1 over the
//!   known intents plus "unknown" as one more class.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::dataset::Example;
use crate::model::IntentModel;
use crate::thresholds::{Decision, Thresholds};

/// The label standing for "an intent the model does not know" in open-set metrics.
pub const UNKNOWN: &str = "<unknown>";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntentMetrics {
    pub label: String,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    /// Gold messages of this intent.
    pub support: usize,
}

/// `count` messages of intent `expected` were predicted as `predicted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfusionPair {
    pub expected: String,
    pub predicted: String,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassificationReport {
    pub examples: usize,
    pub accuracy: f32,
    pub macro_f1: f32,
    /// Sorted by label.
    pub per_intent: Vec<IntentMetrics>,
    /// The most frequent confusions, most frequent first (ties by label).
    pub confusions: Vec<ConfusionPair>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub lower: f32,
    pub upper: f32,
    pub count: usize,
    pub mean_confidence: f32,
    pub accuracy: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationReport {
    pub ece: f32,
    pub bins: Vec<ReliabilityBin>,
}

/// Known-intent messages under thresholds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AbstentionReport {
    pub answered: usize,
    pub abstained: usize,
    /// answered / known messages.
    pub coverage: f32,
    /// Correct among answered (selective accuracy).
    pub answered_accuracy: f32,
    /// Correct answers / known messages (an abstention counts as wrong).
    pub accuracy: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenSetReport {
    pub known_examples: usize,
    pub unknown_examples: usize,
    pub known_accuracy: f32,
    pub unknown_rejection_rate: f32,
    /// Accuracy over all messages with "unknown" as a class.
    pub open_accuracy: f32,
    pub open_macro_f1: f32,
    /// Mean F1 of the known intents, and F1 of "unknown", within the open-set report.
    pub known_macro_f1: f32,
    pub unknown_f1: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub model_version: String,
    /// "none", "default" or "tuned".
    pub thresholds: String,
    pub examples: usize,
    /// Closed-set metrics over messages of intents the model knows.
    pub closed_set: ClassificationReport,
    pub calibration: CalibrationReport,
    /// When thresholds were applied.
    pub abstention: Option<AbstentionReport>,
    /// When thresholds were applied and some gold intents are unknown to the model.
    pub open_set: Option<OpenSetReport>,
}

/// Precision/recall/F1 per label, accuracy, macro-F1 and the `top_confusions` most frequent
/// confusion pairs. `gold` and `predicted` are aligned.
pub fn classification_report(
    gold: &[&str],
    predicted: &[&str],
    top_confusions: usize,
) -> ClassificationReport {
    #[derive(Default)]
    struct Counts {
        tp: usize,
        gold: usize,
        predicted: usize,
    }
    let mut counts: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut confusions: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut correct = 0;
    for (&g, &p) in gold.iter().zip(predicted) {
        counts.entry(g).or_default().gold += 1;
        counts.entry(p).or_default().predicted += 1;
        if g == p {
            correct += 1;
            counts.entry(g).or_default().tp += 1;
        } else {
            *confusions.entry((g, p)).or_default() += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    let per_intent: Vec<IntentMetrics> = counts
        .iter()
        .map(|(label, c)| {
            let precision = ratio(c.tp, c.predicted);
            let recall = ratio(c.tp, c.gold);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            IntentMetrics {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support: c.gold,
            }
        })
        .collect();
    let macro_f1 = if per_intent.is_empty() {
        0.0
    } else {
        per_intent.iter().map(|m| m.f1).sum::<f32>() / per_intent.len() as f32
    };
    let mut pairs: Vec<ConfusionPair> = confusions
        .into_iter()
        .map(|((e, p), count)| ConfusionPair {
            expected: e.to_string(),
            predicted: p.to_string(),
            count,
        })
        .collect();
    // Stable sort on a BTreeMap's order: ties stay sorted by label.
    pairs.sort_by_key(|p| std::cmp::Reverse(p.count));
    pairs.truncate(top_confusions);
    ClassificationReport {
        examples: gold.len().min(predicted.len()),
        accuracy: ratio(correct, gold.len().min(predicted.len())),
        macro_f1,
        per_intent,
        confusions: pairs,
    }
}

/// Reliability diagram and ECE over `bins` equal-width confidence bins on [0, 1].
pub fn calibration_report(confidences: &[f32], correct: &[bool], bins: usize) -> CalibrationReport {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0f64, 0usize); bins];
    for (&c, &ok) in confidences.iter().zip(correct) {
        let c = if c.is_finite() {
            c.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let b = ((c * bins as f32) as usize).min(bins - 1);
        sums[b].0 += 1;
        sums[b].1 += f64::from(c);
        sums[b].2 += usize::from(ok);
    }
    let n: usize = sums.iter().map(|s| s.0).sum();
    let mut ece = 0.0;
    let bins: Vec<ReliabilityBin> = sums
        .iter()
        .enumerate()
        .map(|(i, &(count, conf, ok))| {
            let (mean_confidence, accuracy) = if count == 0 {
                (0.0, 0.0)
            } else {
                ((conf / count as f64) as f32, ok as f32 / count as f32)
            };
            if n > 0 {
                ece += count as f32 / n as f32 * (accuracy - mean_confidence).abs();
            }
            ReliabilityBin {
                lower: i as f32 / bins as f32,
                upper: (i + 1) as f32 / bins as f32,
                count,
                mean_confidence,
                accuracy,
            }
        })
        .collect();
    CalibrationReport { ece, bins }
}

/// Evaluates `model` on labelled messages. With `thresholds`, abstentions are measured too, and
/// messages whose gold intent the model does not know make up the open-set report.
/// `thresholds_name` only labels the report ("none", "default", "tuned").
pub fn evaluate(
    model: &IntentModel,
    examples: &[Example],
    thresholds: Option<&Thresholds>,
    thresholds_name: &str,
) -> EvalReport {
    let known: HashSet<&str> = model.labels().iter().map(String::as_str).collect();
    let mut closed_gold = Vec::new();
    let mut closed_pred = Vec::new();
    let mut confidences = Vec::new();
    let mut open_gold = Vec::new();
    let mut open_pred = Vec::new();
    for e in examples {
        let prediction = model.predict(&e.text);
        let Some(best) = prediction.best() else {
            continue;
        };
        let is_known = known.contains(e.label.as_str());
        if is_known {
            closed_gold.push(e.label.as_str());
            closed_pred.push(best.label);
            confidences.push(best.confidence);
        }
        if let Some(t) = thresholds {
            let decided = match t.decide(&prediction) {
                Decision::Intent { label, .. } => label,
                Decision::Abstain { .. } => UNKNOWN.to_string(),
            };
            open_gold.push(if is_known {
                e.label.clone()
            } else {
                UNKNOWN.to_string()
            });
            open_pred.push(decided);
        }
    }
    let correct: Vec<bool> = closed_gold
        .iter()
        .zip(&closed_pred)
        .map(|(g, p)| g == p)
        .collect();
    let closed_set = classification_report(&closed_gold, &closed_pred, 20);
    let calibration = calibration_report(&confidences, &correct, 15);

    let mut abstention = None;
    let mut open_set = None;
    if thresholds.is_some() {
        let pairs: Vec<(&str, &str)> = open_gold
            .iter()
            .map(String::as_str)
            .zip(open_pred.iter().map(String::as_str))
            .collect();
        let known_pairs: Vec<&(&str, &str)> = pairs.iter().filter(|(g, _)| *g != UNKNOWN).collect();
        let answered = known_pairs.iter().filter(|(_, p)| *p != UNKNOWN).count();
        let right = known_pairs.iter().filter(|(g, p)| g == p).count();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
        abstention = Some(AbstentionReport {
            answered,
            abstained: known_pairs.len() - answered,
            coverage: ratio(answered, known_pairs.len()),
            answered_accuracy: ratio(right, answered),
            accuracy: ratio(right, known_pairs.len()),
        });
        let unknown_examples = pairs.len() - known_pairs.len();
        if unknown_examples > 0 {
            let gold: Vec<&str> = pairs.iter().map(|p| p.0).collect();
            let pred: Vec<&str> = pairs.iter().map(|p| p.1).collect();
            let open = classification_report(&gold, &pred, 0);
            let rejected = pairs
                .iter()
                .filter(|(g, p)| *g == UNKNOWN && *p == UNKNOWN)
                .count();
            let known_f1: Vec<f32> = open
                .per_intent
                .iter()
                .filter(|m| m.label != UNKNOWN)
                .map(|m| m.f1)
                .collect();
            open_set = Some(OpenSetReport {
                known_examples: known_pairs.len(),
                unknown_examples,
                known_accuracy: ratio(right, known_pairs.len()),
                unknown_rejection_rate: ratio(rejected, unknown_examples),
                open_accuracy: open.accuracy,
                open_macro_f1: open.macro_f1,
                known_macro_f1: if known_f1.is_empty() {
                    0.0
                } else {
                    known_f1.iter().sum::<f32>() / known_f1.len() as f32
                },
                unknown_f1: open
                    .per_intent
                    .iter()
                    .find(|m| m.label == UNKNOWN)
                    .map_or(0.0, |m| m.f1),
            });
        }
    }
    EvalReport {
        model_version: model.version().to_string(),
        thresholds: thresholds_name.to_string(),
        examples: examples.len(),
        closed_set,
        calibration,
        abstention,
        open_set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn classification_report_matches_hand_computed_values() {
        // gold:      a a a b b c
        // predicted: a a b b c c
        // a: tp 2, predicted 2, gold 3 → P 1, R 2/3, F1 0.8
        // b: tp 1, predicted 2, gold 2 → P 1/2, R 1/2, F1 1/2
        // c: tp 1, predicted 2, gold 1 → P 1/2, R 1, F1 2/3
        let gold = ["a", "a", "a", "b", "b", "c"];
        let pred = ["a", "a", "b", "b", "c", "c"];
        let r = classification_report(&gold, &pred, 5);
        assert!(close(r.accuracy, 4.0 / 6.0));
        let f1: Vec<f32> = r.per_intent.iter().map(|m| m.f1).collect();
        assert!(
            close(f1[0], 0.8) && close(f1[1], 0.5) && close(f1[2], 2.0 / 3.0),
            "{f1:?}"
        );
        assert!(close(r.macro_f1, (0.8 + 0.5 + 2.0 / 3.0) / 3.0));
        assert_eq!(r.per_intent[0].support, 3);
        assert!(close(r.per_intent[0].recall, 2.0 / 3.0));
        assert_eq!(r.confusions.len(), 2);
        assert_eq!(
            r.confusions[0],
            ConfusionPair {
                expected: "a".into(),
                predicted: "b".into(),
                count: 1
            }
        );
    }

    #[test]
    fn predicted_only_labels_count_in_macro_f1() {
        let r = classification_report(&["a", "a"], &["a", "z"], 5);
        // a: P 1, R 1/2, F1 2/3; z: P 0, R 0 (no support), F1 0.
        assert!(close(r.macro_f1, 1.0 / 3.0));
        let empty = classification_report(&[], &[], 5);
        assert_eq!((empty.accuracy, empty.macro_f1), (0.0, 0.0));
    }

    #[test]
    fn ece_matches_hand_computed_value() {
        // Two bins. [0, .5): confidences .2 .4 with one right → |0.5 − 0.3| = 0.2, weight 2/4.
        // [.5, 1]: .9 and 1.0 both right → |1 − 0.95| = 0.05, weight 2/4. ECE = 0.125.
        let r = calibration_report(&[0.2, 0.4, 0.9, 1.0], &[true, false, true, true], 2);
        assert!(close(r.ece, 0.125), "{}", r.ece);
        assert_eq!(r.bins[1].count, 2);
        assert!(close(r.bins[0].mean_confidence, 0.3));
        assert_eq!(calibration_report(&[], &[], 10).ece, 0.0);
        // Out-of-range and NaN confidences land in the edge bins instead of panicking.
        assert_eq!(
            calibration_report(&[f32::NAN, 7.0], &[false, true], 3).bins[2].count,
            1
        );
    }
}
