//! `switchboard dlq list|show|redrive`: inspect a dead-letter queue and move its messages back to
//! the source queue once the cause is fixed. Local backend with `--queue` (the data directory of
//! `switchboard serve`); SQS with `--dlq-url` (and `--source-url` for a redrive).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use switchboard_app::dlq;
use switchboard_app::{Queue, SystemClock};
use switchboard_local::{LocalStack, SqliteQueue};
use switchboard_local::{
    EVENTS_DLQ, HANDOFF_DLQ, MEDIA_DLQ, ONBOARDING_DLQ, OTP_DLQ, OUTBOUND_DLQ, TEMPLATES_DLQ,
};

#[derive(Debug, clap::Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DlqCommand {
    /// Show the messages waiting in a dead-letter queue (nothing is consumed).
    List {
        #[command(flatten)]
        target: Target,
        /// At most this many messages.
        #[arg(long, default_value_t = 100)]
        max: usize,
    },
    /// Print the full body of one dead letter (nothing is consumed).
    Show {
        #[command(flatten)]
        target: Target,
        /// The message id, as `list` shows it.
        message_id: String,
        /// How many messages to look through.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
    /// Move dead letters back to their source queue, each deleted from the DLQ only once sent.
    Redrive {
        #[command(flatten)]
        target: Target,
        /// At most this many messages (default: all).
        #[arg(long)]
        max: Option<usize>,
    },
}

/// Which dead-letter queue: a local one by name, or SQS queues by URL.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The data directory of `switchboard serve` (local backend).
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "switchboard-data")]
    pub data_dir: PathBuf,
    /// The local queue whose dead-letter queue to use.
    #[arg(long, value_enum, required_unless_present = "dlq_url", conflicts_with_all = ["dlq_url", "source_url"])]
    pub queue: Option<QueueName>,
    /// SQS URL of the dead-letter queue (AWS backend; region and credentials from the
    /// environment).
    #[arg(long)]
    pub dlq_url: Option<String>,
    /// SQS URL of the queue a redrive sends to.
    #[arg(long, requires = "dlq_url")]
    pub source_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueueName {
    Events,
    Media,
    Templates,
    Outbound,
    Otp,
    Handoff,
    Onboarding,
}

impl QueueName {
    const ALL: [QueueName; 7] = [
        QueueName::Events,
        QueueName::Media,
        QueueName::Templates,
        QueueName::Outbound,
        QueueName::Otp,
        QueueName::Handoff,
        QueueName::Onboarding,
    ];
}

/// A local queue and the name of its dead-letter queue.
fn local_pair(stack: &LocalStack, queue: QueueName) -> (Arc<SqliteQueue>, &'static str) {
    match queue {
        QueueName::Events => (stack.events.clone(), EVENTS_DLQ),
        QueueName::Media => (stack.media.clone(), MEDIA_DLQ),
        QueueName::Templates => (stack.templates.clone(), TEMPLATES_DLQ),
        QueueName::Outbound => (stack.outbound.clone(), OUTBOUND_DLQ),
        QueueName::Otp => (stack.otp.clone(), OTP_DLQ),
        QueueName::Handoff => (stack.handoff.clone(), HANDOFF_DLQ),
        QueueName::Onboarding => (stack.onboarding.clone(), ONBOARDING_DLQ),
    }
}

/// A dead-letter queue, its source queue when known, and names to print for both.
struct Resolved {
    dlq: Arc<dyn Queue>,
    dlq_name: String,
    source: Option<(Arc<dyn Queue>, String)>,
}

/// Every local queue with its dead-letter queue, for the operator API on `switchboard serve`.
pub fn local_dead_letters(
    stack: &LocalStack,
    ops_tenant: &str,
) -> switchboard_http::dead_letters::DeadLetters {
    let pairs = QueueName::ALL.map(|q| local_pair(stack, q));
    switchboard_http::dead_letters::DeadLetters {
        ops_tenant: ops_tenant.to_string(),
        queues: pairs
            .into_iter()
            .map(
                |(source, dlq)| switchboard_http::dead_letters::DeadLetterQueue {
                    name: dlq.to_string(),
                    dlq: Arc::new(SqliteQueue::new(stack.db.clone(), dlq, None)),
                    source,
                },
            )
            .collect(),
    }
}

async fn resolve(target: Target) -> anyhow::Result<Resolved> {
    if let Some(dlq_url) = target.dlq_url {
        let conf = switchboard_aws::sdk_config().await;
        let client = aws_sdk_sqs::Client::new(&conf);
        let source = target.source_url.map(|url| {
            let q: Arc<dyn Queue> = Arc::new(switchboard_aws::SqsQueue::new(client.clone(), &url));
            (q, url)
        });
        return Ok(Resolved {
            dlq: Arc::new(switchboard_aws::SqsQueue::new(client, &dlq_url)),
            dlq_name: dlq_url,
            source,
        });
    }
    let Some(queue) = target.queue else {
        bail!("give --queue (local) or --dlq-url (SQS)");
    };
    let data_dir = target.data_dir;
    if !data_dir.join("switchboard.db").exists() {
        bail!(
            "{} holds no Switchboard data (set --data-dir or SWITCHBOARD_DATA_DIR)",
            data_dir.display()
        );
    }
    let stack = LocalStack::open(&data_dir, Arc::new(SystemClock))
        .with_context(|| format!("opening {}", data_dir.display()))?;
    let (source, dlq_name) = local_pair(&stack, queue);
    let source_name = source.name().to_string();
    Ok(Resolved {
        dlq: Arc::new(SqliteQueue::new(stack.db.clone(), dlq_name, None)),
        dlq_name: dlq_name.to_string(),
        source: Some((source, source_name)),
    })
}

pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    match args.command {
        DlqCommand::List { target, max } => {
            let r = resolve(target).await?;
            let letters = dlq::list(r.dlq.as_ref(), max).await?;
            let depth = r.dlq.depth().await?;
            for d in &letters {
                println!(
                    "{}  group {}  receives {}  {} bytes\n    {}",
                    d.message_id,
                    d.group,
                    d.receive_count,
                    d.size,
                    d.body_preview.replace('\n', " ")
                );
            }
            println!(
                "{} shown, about {depth} in {} (a peek shows the head of each message group)",
                letters.len(),
                r.dlq_name
            );
            Ok(())
        }
        DlqCommand::Show {
            target,
            message_id,
            max,
        } => {
            let r = resolve(target).await?;
            match dlq::find(r.dlq.as_ref(), &message_id, max).await? {
                Some(m) => {
                    eprintln!(
                        "{}  group {}  receives {}  {} bytes",
                        m.message_id,
                        m.group,
                        m.receive_count,
                        m.body.len()
                    );
                    println!("{}", m.body);
                    Ok(())
                }
                None => bail!(
                    "{message_id} is not among the visible messages of {}",
                    r.dlq_name
                ),
            }
        }
        DlqCommand::Redrive { target, max } => {
            let r = resolve(target).await?;
            let Some((source, source_name)) = r.source else {
                bail!("a redrive on SQS needs --source-url");
            };
            let max = max.unwrap_or(usize::MAX);
            let depth = r.dlq.depth().await?;
            let bar = indicatif::ProgressBar::new(depth.min(max) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} messages {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let moved = dlq::redrive(r.dlq.as_ref(), source.as_ref(), max, |n| {
                if n as u64 > bar.length().unwrap_or(0) {
                    bar.set_length(n as u64);
                }
                bar.set_position(n as u64)
            })
            .await;
            bar.finish_and_clear();
            let moved = moved?;
            println!(
                "moved {moved} messages from {} to {source_name}",
                r.dlq_name
            );
            Ok(())
        }
    }
}
