//! `switchboard metrics rebuild`: recomputes the roll-up counters from the event log with the
//! same fold the live path uses, says where the incremental counters disagreed, and (unless
//! `--check`) replaces them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use switchboard_app::{Clock, SystemClock};

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub command: MetricsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum MetricsCommand {
    /// Recompute the daily roll-ups of a tenant from its event log.
    Rebuild {
        /// The data directory of `switchboard serve`.
        #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "switchboard-data")]
        data_dir: PathBuf,
        #[arg(long, env = "SWITCHBOARD_TENANT", default_value = crate::config::DEMO_TENANT)]
        tenant: String,
        /// How many days back from today (UTC) to rebuild.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Only compare: report differences, change nothing (exit 1 if any).
        #[arg(long)]
        check: bool,
    },
}

/// Returns whether differences were found.
pub async fn run(args: MetricsArgs) -> anyhow::Result<bool> {
    match args.command {
        MetricsCommand::Rebuild {
            data_dir,
            tenant,
            days,
            check,
        } => {
            let clock = Arc::new(SystemClock);
            let stack = switchboard_local::LocalStack::open(&data_dir, clock.clone())
                .with_context(|| format!("opening {}", data_dir.display()))?;
            let now = clock.now();
            let to = (now.div_euclid(86_400) + 1) * 86_400;
            let from = to - days.max(1) * 86_400;
            let bar = indicatif::ProgressBar::new(days.max(1) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} days {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = switchboard_app::metrics::rebuild(
                stack.table.as_ref(),
                &tenant,
                from,
                to,
                !check,
                |done, _| bar.set_position(done as u64),
            )
            .await?;
            bar.finish_and_clear();
            let events: usize = report.iter().map(|d| d.events).sum();
            let mut differences = 0;
            for d in &report {
                for (dim, metric, stored, rebuilt) in &d.differences {
                    differences += 1;
                    println!(
                        "{}  {dim:<28} {metric:<32} stored {stored:>8}  rebuilt {rebuilt:>8}",
                        d.day
                    );
                }
            }
            println!(
                "{} days, {events} events, {differences} counters {}",
                report.len(),
                match (differences, check) {
                    (0, _) => "differed: the incremental roll-ups agree with the log",
                    (_, true) => "differ (run without --check to replace them)",
                    (_, false) => "differed and were replaced from the log",
                }
            );
            Ok(differences > 0 && check)
        }
    }
}
