use clap::{Parser, Subcommand};

/// Switchboard: a WhatsApp Business number as a support operation.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole product on this machine: webhook, API and workers on embedded storage.
    Serve(Box<switchboard::config::ServeConfig>),
    /// Sign payload files with the app secret and POST them to a webhook.
    Post(switchboard::post::PostArgs),
    /// Intent classifier: train a model, evaluate it, try it on a message.
    Nlu(switchboard::nlu::NluArgs),
    /// Check message templates against Meta's rules before submitting them.
    Lint(switchboard::lint::LintArgs),
    /// Product metrics: rebuild the daily roll-ups from the event log.
    Metrics(switchboard::metrics::MetricsArgs),
    /// Dead-letter queues: list and show what failed, redrive it to the source queue.
    Dlq(switchboard::dlq::DlqArgs),
    /// Mint an operator token (or console login link) for `switchboard serve`.
    Token(switchboard::token::TokenArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => switchboard::serve::run(*config).await,
        Command::Post(args) => {
            let failures = switchboard::post::run(args).await?;
            if failures > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Nlu(args) => switchboard::nlu::run(args),
        Command::Metrics(args) => {
            if switchboard::metrics::run(args).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Dlq(args) => switchboard::dlq::run(args).await,
        Command::Token(args) => {
            println!("{}", switchboard::token::mint(&args));
            Ok(())
        }
        Command::Lint(args) => {
            if switchboard::lint::run(args)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
