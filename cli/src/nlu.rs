//! `switchboard nlu train|eval|predict`: train the intent classifier on a labelled TSV file,
//! evaluate a model file, or try one on a message.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use switchboard_nlu::evaluation::EvalReport;
use switchboard_nlu::{
    evaluate, read_label_list, read_tsv, split_requests, train, Decision, Example, IntentModel,
    Phase, Progress, Thresholds, TrainConfig,
};

#[derive(Debug, clap::Args)]
pub struct NluArgs {
    #[command(subcommand)]
    pub command: NluCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum NluCommand {
    /// Train an intent model from a TSV file (header `text<TAB>label`, optional `lang`).
    Train(TrainArgs),
    /// Evaluate a model on a labelled TSV file: accuracy, macro-F1, per-intent metrics,
    /// confusions, calibration; intents the model does not know are scored as open set.
    Eval(EvalArgs),
    /// Split a message into requests and classify each (for trying a model by hand).
    Predict(PredictArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training data (TSV).
    #[arg(long)]
    pub data: PathBuf,
    /// Held-out data for calibration and thresholds (TSV); without it 10 % of the training data is
    /// held out. Either way the final model is refitted on everything.
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// Where to write the model file.
    #[arg(long)]
    pub out: PathBuf,
    /// SVM regularisation (larger fits the training data more closely).
    #[arg(long, default_value_t = TrainConfig::default().c)]
    pub c: f32,
    /// Minimum number of training messages a feature must occur in.
    #[arg(long, default_value_t = TrainConfig::default().min_df)]
    pub min_df: u32,
    /// Keep only intents listed in this file (one per line), in both training and dev data:
    /// for open-set experiments.
    #[arg(long)]
    pub known: Option<PathBuf>,
    /// Keep the model fitted without the held-out data instead of refitting on everything.
    #[arg(long)]
    pub no_refit: bool,
    /// Seed for shuffling and the holdout split.
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThresholdChoice {
    /// Never abstain: closed-set metrics only.
    None,
    /// The model's global default threshold for every intent.
    Default,
    /// The per-intent thresholds tuned at training time.
    Tuned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Model file written by `nlu train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Labelled test data (TSV).
    #[arg(long)]
    pub data: PathBuf,
    /// Which thresholds decide abstentions.
    #[arg(long, value_enum, default_value_t = ThresholdChoice::Tuned)]
    pub thresholds: ThresholdChoice,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Confusion pairs to show.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// The message.
    pub text: String,
    /// Ranked intents to show per request.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

pub fn run(args: NluArgs) -> anyhow::Result<()> {
    match args.command {
        NluCommand::Train(a) => run_train(a),
        NluCommand::Eval(a) => run_eval(a),
        NluCommand::Predict(a) => run_predict(a),
    }
}

fn run_train(args: TrainArgs) -> anyhow::Result<()> {
    let mut data =
        read_tsv(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let mut dev = match &args.dev {
        Some(p) => Some(read_tsv(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    if let Some(list) = &args.known {
        let known: HashSet<String> = read_label_list(list)?.into_iter().collect();
        let keep = |rows: &mut Vec<Example>| rows.retain(|e| known.contains(&e.label));
        keep(&mut data);
        if let Some(d) = dev.as_mut() {
            keep(d);
        }
        println!("known intents: {} (from {})", known.len(), list.display());
    }
    let config = TrainConfig {
        c: args.c,
        min_df: args.min_df,
        refit: !args.no_refit,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let bars = Bars::default();
    let started = Instant::now();
    let (model, report) = train(&data, dev.as_deref(), &config, &|p| bars.update(p))?;
    bars.finish();
    let elapsed = started.elapsed();
    model.save(&args.out)?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);

    println!(
        "trained {} intents on {} messages in {:.1} s",
        report.intents,
        report.examples,
        elapsed.as_secs_f64()
    );
    println!(
        "vocabulary: {} features (min_df {}), C {}",
        report.vocabulary_size, config.min_df, config.c
    );
    if let (Some(acc), Some(f1), Some(ece)) = (
        report.holdout_accuracy,
        report.holdout_macro_f1,
        report.holdout_ece,
    ) {
        println!(
            "held-out ({}, {} messages): accuracy {:.2} %, macro-F1 {:.2} %, ECE {:.2} %",
            report.holdout_source,
            report.holdout_examples,
            100.0 * acc,
            100.0 * f1,
            100.0 * ece
        );
    } else {
        println!("no held-out data: temperature and thresholds left at their defaults");
    }
    if report.holdout_unknown_ignored > 0 {
        println!(
            "ignored {} dev messages of intents not in the training data",
            report.holdout_unknown_ignored
        );
    }
    println!(
        "temperature {:.4}, default threshold {:.3}",
        report.temperature, report.default_threshold
    );
    println!(
        "model: {} ({}), {}",
        args.out.display(),
        human_bytes(size),
        model.version()
    );
    Ok(())
}

fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let model = IntentModel::load(&args.model)?;
    let data = read_tsv(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    if data.is_empty() {
        bail!("{} holds no messages", args.data.display());
    }
    let default = Thresholds::uniform(model.thresholds().default);
    let (thresholds, name) = match args.thresholds {
        ThresholdChoice::None => (None, "none"),
        ThresholdChoice::Default => (Some(&default), "default"),
        ThresholdChoice::Tuned => (Some(model.thresholds()), "tuned"),
    };
    let report = evaluate(&model, &data, thresholds, name);
    match args.format {
        Format::Json => write_stdout(&(serde_json::to_string_pretty(&report)? + "\n")),
        Format::Table => write_stdout(&format_report(&report, args.top)),
    }
}

fn run_predict(args: PredictArgs) -> anyhow::Result<()> {
    let model = IntentModel::load(&args.model)?;
    println!("model {}", model.version());
    for request in split_requests(&args.text) {
        let prediction = model.predict(&request);
        let decision = match model.thresholds().decide(&prediction) {
            Decision::Intent { label, confidence } => format!("→ {label} ({confidence:.2})"),
            Decision::Abstain {
                best_label,
                confidence,
            } => {
                format!(
                    "→ abstain (best {} at {confidence:.2})",
                    best_label.as_deref().unwrap_or("-")
                )
            }
        };
        println!("{request:?} {decision}");
        for s in prediction.ranked.iter().take(args.top) {
            println!(
                "    {:<32} {:.3}  (threshold {:.3})",
                s.label,
                s.confidence,
                model.thresholds().for_intent(s.label)
            );
        }
    }
    Ok(())
}

/// The human-readable report (built as one string so a closed pipe, as in `| head`, is one
/// ignorable write error rather than a panic in `println!`).
fn format_report(r: &EvalReport, top: usize) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let pct = |v: f32| format!("{:.2} %", 100.0 * v);
    let c = &r.closed_set;
    let _ = writeln!(
        o,
        "model {}  ·  {} messages  ·  thresholds: {}",
        r.model_version, r.examples, r.thresholds
    );
    o.push('\n');
    let _ = writeln!(
        o,
        "closed set ({} messages of known intents, top intent, no abstention)",
        c.examples
    );
    let _ = writeln!(o, "  accuracy  {}", pct(c.accuracy));
    let _ = writeln!(o, "  macro-F1  {}", pct(c.macro_f1));
    let _ = writeln!(o, "  ECE       {}", pct(r.calibration.ece));
    if let Some(a) = &r.abstention {
        o.push('\n');
        let _ = writeln!(o, "with thresholds (known intents)");
        let _ = writeln!(
            o,
            "  answered  {} of {} ({})",
            a.answered,
            a.answered + a.abstained,
            pct(a.coverage)
        );
        let _ = writeln!(o, "  accuracy when answering  {}", pct(a.answered_accuracy));
        let _ = writeln!(o, "  accuracy, abstain = wrong  {}", pct(a.accuracy));
    }
    if let Some(open) = &r.open_set {
        o.push('\n');
        let _ = writeln!(
            o,
            "open set ({} known, {} unknown-intent messages)",
            open.known_examples, open.unknown_examples
        );
        let _ = writeln!(o, "  known accuracy          {}", pct(open.known_accuracy));
        let _ = writeln!(
            o,
            "  unknown rejection rate  {}",
            pct(open.unknown_rejection_rate)
        );
        let _ = writeln!(o, "  open accuracy           {}", pct(open.open_accuracy));
        let _ = writeln!(
            o,
            "  open macro-F1           {}  (known {}, unknown F1 {})",
            pct(open.open_macro_f1),
            pct(open.known_macro_f1),
            pct(open.unknown_f1)
        );
    }
    o.push('\n');
    let _ = writeln!(o, "per intent (worst F1 first)");
    let width = c
        .per_intent
        .iter()
        .map(|m| m.label.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 40);
    let _ = writeln!(
        o,
        "  {:<width$}  {:>9}  {:>9}  {:>9}  {:>7}",
        "intent", "precision", "recall", "F1", "support"
    );
    let mut rows: Vec<_> = c.per_intent.iter().collect();
    rows.sort_by(|a, b| a.f1.total_cmp(&b.f1).then_with(|| a.label.cmp(&b.label)));
    for m in rows {
        let _ = writeln!(
            o,
            "  {:<width$}  {:>9.3}  {:>9.3}  {:>9.3}  {:>7}",
            m.label, m.precision, m.recall, m.f1, m.support
        );
    }
    if !c.confusions.is_empty() && top > 0 {
        o.push('\n');
        let _ = writeln!(o, "top confusions (expected → predicted)");
        for p in c.confusions.iter().take(top) {
            let _ = writeln!(o, "  {:>4} × {} → {}", p.count, p.expected, p.predicted);
        }
    }
    o.push('\n');
    let _ = writeln!(o, "reliability (confidence bins with messages)");
    let _ = writeln!(
        o,
        "  {:<13}  {:>7}  {:>10}  {:>9}",
        "bin", "count", "confidence", "accuracy"
    );
    for b in r.calibration.bins.iter().filter(|b| b.count > 0) {
        let _ = writeln!(
            o,
            "  {:<13}  {:>7}  {:>10.3}  {:>9.3}",
            format!("{:.2}–{:.2}", b.lower, b.upper),
            b.count,
            b.mean_confidence,
            b.accuracy
        );
    }
    o
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.2} MiB", n as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// One progress bar per training phase, stacked as phases finish. indicatif draws on stderr and
/// only when it is a terminal, so piped output stays clean.
#[derive(Default)]
struct Bars {
    multi: MultiProgress,
    current: Mutex<Option<(Phase, ProgressBar)>>,
}

impl Bars {
    fn update(&self, p: Progress) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().map(|(phase, _)| *phase) != Some(p.phase) {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            let style = ProgressStyle::with_template("{msg:<24} [{bar:40}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let bar = ProgressBar::new(p.total as u64)
                .with_style(style)
                .with_message(phase_name(p.phase));
            let bar = self.multi.add(bar);
            bar.enable_steady_tick(Duration::from_millis(200));
            *current = Some((p.phase, bar));
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        }
    }

    fn finish(&self) {
        if let Some((_, bar)) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            bar.finish();
        }
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Featurising => "featurising",
        Phase::TrainingHoldoutModel => "fitting holdout model",
        Phase::Calibrating => "calibrating",
        Phase::TrainingFinalModel => "fitting final model",
    }
}
