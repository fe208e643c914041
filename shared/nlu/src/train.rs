//! Training: featurise, fit the SVMs, calibrate and tune thresholds on held-out data, refit.
//!
//! Calibration and thresholds must be fitted on messages the model has not trained on (on its
//! own training data an SVM is overconfident). So training runs twice:
//! 1. a *holdout model* is fitted on the training data without the held-out messages (the dev
//!    set when given, otherwise a stratified 10 % slice of the training data); its margins on
//!    the held-out messages fit the temperature and the per-intent thresholds;
//! 2. the *final model* is refitted on everything (training + held-out) and inherits that
//!    temperature and those thresholds. The two models differ by a few percent of their data,
//!    so the calibration carries over; the final model gets all the data for its weights.
//!
//! `refit: false` skips step 2 (faster; the model file then holds the holdout model itself).

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::calibration::{fit_temperature, softmax};
use crate::dataset::Example;
use crate::evaluation::{calibration_report, classification_report};
use crate::features::{count_grams, Counted, FeatureSpec, Vocabulary};
use crate::model::{IntentModel, ModelInfo, QuantisedWeights};
use crate::svm::{train_one_vs_rest, Csr, SplitMix, SvmParams};
use crate::thresholds::{tune, Thresholds};

/// Training parameters. `Default` is what the benchmarks in docs/benchmarks.md used; C and
/// min_df were chosen by 5-fold cross-validation on CLINC150 and HWU64 train + dev (the mean of
/// the two accuracies; the differences between C ∈ {2, 4} and min_df ∈ {1, 2} were within 0.1
/// point, C < 1 was clearly worse).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainConfig {
    /// SVM regularisation: larger fits the training data more closely.
    pub c: f32,
    /// A feature must occur in at least this many training messages.
    pub min_df: u32,
    /// At most this many features (most frequent first): bounds the model file at
    /// `max_features × intents` bytes of weights (15 MB for 150 intents) plus 12 bytes a feature.
    pub max_features: usize,
    /// Solver stopping tolerance (liblinear's eps).
    pub tolerance: f32,
    /// Solver passes per intent at most.
    pub max_passes: u32,
    /// Share of each intent's training messages held out when no dev set is given.
    pub holdout_fraction: f32,
    /// Refit on training + held-out data after calibrating (see the module docs).
    pub refit: bool,
    /// Worker threads for the per-intent SVMs; 0 = available parallelism.
    pub threads: usize,
    /// Seed for the solver's shuffling and the holdout split: same data + seed = same model.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            c: 2.0,
            min_df: 1,
            max_features: 100_000,
            tolerance: 0.1,
            max_passes: 1000,
            holdout_fraction: 0.1,
            refit: true,
            threads: 0,
            seed: 42,
        }
    }
}

/// The stage training is in, for progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Extracting n-grams (`done`/`total` messages).
    Featurising,
    /// Fitting the holdout model (`done`/`total` intents).
    TrainingHoldoutModel,
    /// Fitting temperature and thresholds on held-out messages.
    Calibrating,
    /// Fitting the final model (`done`/`total` intents).
    TrainingFinalModel,
}

/// A progress report; `done == total` ends a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
}

/// What training measured, for the CLI and the benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub examples: usize,
    pub intents: usize,
    pub vocabulary_size: usize,
    /// "dev", "split" or "none".
    pub holdout_source: String,
    pub holdout_examples: usize,
    /// Dev/held-out messages whose intent is not in the training data (ignored).
    pub holdout_unknown_ignored: usize,
    /// The holdout model on held-out data (before refitting); `None` without held-out data.
    pub holdout_accuracy: Option<f32>,
    pub holdout_macro_f1: Option<f32>,
    pub holdout_ece: Option<f32>,
    pub temperature: f32,
    pub default_threshold: f32,
    pub seconds: f32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("training needs at least two intents, found {0}")]
    TooFewIntents(usize),
    #[error("training example {0} has an empty label")]
    EmptyLabel(usize),
    #[error("invalid training parameter: {0}")]
    InvalidConfig(&'static str),
}

/// Trains a model. `dev`, when given, is the held-out set for calibration and thresholds (and is
/// added to the final model's training data when `config.refit`). `progress` is called from
/// worker threads as training advances; the library prints nothing itself.
pub fn train(
    examples: &[Example],
    dev: Option<&[Example]>,
    config: &TrainConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(IntentModel, TrainReport), TrainError> {
    let started = Instant::now();
    validate(config)?;
    if let Some(i) = examples.iter().position(|e| e.label.trim().is_empty()) {
        return Err(TrainError::EmptyLabel(i));
    }
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(TrainError::TooFewIntents(labels.len()));
    }
    let label_index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();

    // Featurise everything once; both models reuse the counted n-grams.
    let dev = dev.unwrap_or(&[]);
    let all: Vec<&Example> = examples.iter().chain(dev).collect();
    let total = all.len();
    let mut counted: Vec<Counted> = Vec::with_capacity(total);
    for (i, e) in all.iter().enumerate() {
        counted.push(count_grams(&e.text, FeatureSpec::default()));
        if i % 1000 == 999 {
            progress(Progress {
                phase: Phase::Featurising,
                done: i + 1,
                total,
            });
        }
    }
    progress(Progress {
        phase: Phase::Featurising,
        done: total,
        total,
    });
    let gold: Vec<Option<usize>> = all
        .iter()
        .map(|e| label_index.get(e.label.as_str()).copied())
        .collect();

    // Which rows the holdout model trains on, and which it is calibrated on.
    let (fit_rows, holdout_rows, source) = if dev.is_empty() {
        let (fit, held) = stratified_split(
            &gold[..examples.len()],
            config.holdout_fraction,
            config.seed,
        );
        let source = if held.is_empty() { "none" } else { "split" };
        (fit, held, source)
    } else {
        let held: Vec<usize> = (examples.len()..total)
            .filter(|&i| gold[i].is_some())
            .collect();
        ((0..examples.len()).collect(), held, "dev")
    };
    let unknown_ignored = (examples.len()..total)
        .filter(|&i| gold[i].is_none())
        .count();

    let mut report = TrainReport {
        examples: examples.len(),
        intents: labels.len(),
        vocabulary_size: 0,
        holdout_source: source.to_string(),
        holdout_examples: holdout_rows.len(),
        holdout_unknown_ignored: unknown_ignored,
        holdout_accuracy: None,
        holdout_macro_f1: None,
        holdout_ece: None,
        temperature: 1.0,
        default_threshold: 0.0,
        seconds: 0.0,
    };

    let mut temperature = 1.0;
    let mut thresholds = Thresholds::uniform(0.0);
    let mut holdout_model = None;
    if !holdout_rows.is_empty() {
        let model = fit(
            &labels,
            &counted,
            &gold,
            &fit_rows,
            config,
            Phase::TrainingHoldoutModel,
            progress,
        );
        progress(Progress {
            phase: Phase::Calibrating,
            done: 0,
            total: 1,
        });
        let scores: Vec<Vec<f32>> = holdout_rows
            .iter()
            .map(|&i| model.scores(&all[i].text).0)
            .collect();
        let held_gold: Vec<usize> = holdout_rows.iter().filter_map(|&i| gold[i]).collect();
        temperature = fit_temperature(&scores, &held_gold);
        thresholds = tune(&labels, &scores, &held_gold, temperature);
        measure_holdout(&mut report, &labels, &scores, &held_gold, temperature);
        progress(Progress {
            phase: Phase::Calibrating,
            done: 1,
            total: 1,
        });
        holdout_model = Some(model);
    }

    let mut model = match holdout_model {
        Some(m) if !config.refit => m,
        _ => {
            let rows: Vec<usize> = (0..total).filter(|&i| gold[i].is_some()).collect();
            fit(
                &labels,
                &counted,
                &gold,
                &rows,
                config,
                Phase::TrainingFinalModel,
                progress,
            )
        }
    };
    model.temperature = temperature;
    model.thresholds = thresholds;
    model.info.holdout_examples = holdout_rows.len();
    model.info.holdout_source = source.to_string();
    model.refresh_version();
    report.vocabulary_size = model.vocabulary_size();
    report.temperature = temperature;
    report.default_threshold = model.thresholds.default;
    report.seconds = started.elapsed().as_secs_f32();
    Ok((model, report))
}

fn validate(config: &TrainConfig) -> Result<(), TrainError> {
    if !(config.c.is_finite() && config.c > 0.0) {
        return Err(TrainError::InvalidConfig("c must be a positive number"));
    }
    if !(config.tolerance.is_finite() && config.tolerance > 0.0) {
        return Err(TrainError::InvalidConfig(
            "tolerance must be a positive number",
        ));
    }
    if !(0.0..0.9).contains(&config.holdout_fraction) {
        return Err(TrainError::InvalidConfig(
            "holdout_fraction must be in [0, 0.9)",
        ));
    }
    if config.max_features == 0 || config.max_passes == 0 {
        return Err(TrainError::InvalidConfig(
            "max_features and max_passes must be positive",
        ));
    }
    Ok(())
}

/// Holds out `fraction` of each intent's rows (rounded; intents with fewer than 3 examples keep
/// all of theirs for training), chosen by a seeded shuffle.
fn stratified_split(gold: &[Option<usize>], fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, g) in gold.iter().enumerate() {
        if let Some(g) = g {
            by_class.entry(*g).or_default().push(i);
        }
    }
    let mut rng = SplitMix(seed);
    let mut held = Vec::new();
    let mut classes: Vec<_> = by_class.into_iter().collect();
    classes.sort_by_key(|(k, _)| *k);
    for (_, mut rows) in classes {
        if rows.len() < 3 {
            continue;
        }
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.below(i + 1));
        }
        let take = ((rows.len() as f32 * fraction).round() as usize).min(rows.len() - 1);
        held.extend_from_slice(&rows[..take]);
    }
    held.sort_unstable();
    let held_set: std::collections::HashSet<usize> = held.iter().copied().collect();
    let fit = (0..gold.len())
        .filter(|i| gold[*i].is_some() && !held_set.contains(i))
        .collect();
    (fit, held)
}

/// Builds the vocabulary from `rows`, vectorises them and fits one SVM per intent.
fn fit(
    labels: &[String],
    counted: &[Counted],
    gold: &[Option<usize>],
    rows: &[usize],
    config: &TrainConfig,
    phase: Phase,
    progress: &(dyn Fn(Progress) + Sync),
) -> IntentModel {
    let docs: Vec<&Counted> = rows.iter().map(|&i| &counted[i]).collect();
    let vocabulary = Vocabulary::build(&docs, config.min_df, config.max_features);
    let mut x = Csr {
        indptr: vec![0],
        n_features: vocabulary.len(),
        ..Csr::default()
    };
    let mut y = Vec::with_capacity(rows.len());
    for (doc, &i) in docs.iter().zip(rows) {
        let v = vocabulary.vectorise(doc);
        x.indices.extend_from_slice(&v.indices);
        x.values.extend_from_slice(&v.values);
        x.indptr.push(x.indices.len());
        y.push(gold[i].unwrap_or(0) as u32);
    }
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let params = SvmParams {
        c: f64::from(config.c),
        tolerance: f64::from(config.tolerance),
        max_passes: config.max_passes as usize,
        seed: config.seed,
    };
    let k = labels.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    progress(Progress {
        phase,
        done: 0,
        total: k,
    });
    let weights = train_one_vs_rest(&x, &y, k, params, threads, &|| {
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(Progress {
            phase,
            done: d,
            total: k,
        });
    });
    let mut model = IntentModel {
        labels: labels.to_vec(),
        spec: FeatureSpec::default(),
        vocabulary,
        weights: QuantisedWeights::quantise(&weights),
        temperature: 1.0,
        thresholds: Thresholds::uniform(0.0),
        info: ModelInfo {
            c: config.c,
            min_df: config.min_df,
            training_examples: rows.len(),
            holdout_examples: 0,
            holdout_source: String::new(),
        },
        version: String::new(),
    };
    model.refresh_version();
    model
}

fn measure_holdout(
    report: &mut TrainReport,
    labels: &[String],
    scores: &[Vec<f32>],
    gold: &[usize],
    temperature: f32,
) {
    let mut probs = Vec::new();
    let mut predicted = Vec::with_capacity(gold.len());
    let mut confidences = Vec::with_capacity(gold.len());
    for s in scores {
        softmax(s, temperature, &mut probs);
        let (best, conf) =
            probs.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |b, (i, &p)| if p > b.1 { (i, p) } else { b },
            );
        predicted.push(labels[best].as_str());
        confidences.push(conf);
    }
    let gold_labels: Vec<&str> = gold.iter().map(|&g| labels[g].as_str()).collect();
    let correct: Vec<bool> = gold_labels
        .iter()
        .zip(&predicted)
        .map(|(g, p)| g == p)
        .collect();
    let closed = classification_report(&gold_labels, &predicted, 0);
    report.holdout_accuracy = Some(closed.accuracy);
    report.holdout_macro_f1 = Some(closed.macro_f1);
    report.holdout_ece = Some(calibration_report(&confidences, &correct, 15).ece);
}
