//! The conversation function: SQS FIFO batches of events → stored conversations.
//!
//! Partial batch responses: on a FIFO queue, processing stops at the first failure and that
//! record and every later one are reported as failed, so no customer's messages overtake each
//! other (AWS's documented rule for FIFO with ReportBatchItemFailures).

use std::path::PathBuf;
use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use anyhow::Context;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::process::Processor;
use switchboard_app::SystemClock;
use switchboard_aws::lambda::env;

pub async fn handle_batch(processor: &Processor, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut failed_from = None;
    for (i, record) in event.records.iter().enumerate() {
        let body = record.body.as_deref().unwrap_or_default();
        let span = message_span(body);
        if let Err(e) = processor.handle(body).instrument(span.clone()).await {
            span.in_scope(|| tracing::error!(error = %e, message_id = ?record.message_id, "event failed; returning it and the rest of the batch to the queue"));
            failed_from = Some(i);
            break;
        }
    }
    if let Some(start) = failed_from {
        for record in &event.records[start..] {
            let mut f = BatchItemFailure::default();
            f.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(f);
        }
    }
    response
}

/// On AWS: `TABLE_NAME`, `CLAIMS_BUCKET`, `BUS_NAME`, `OUTBOUND_QUEUE_URL`, `OTP_QUEUE_URL`. With `SWITCHBOARD_BACKEND=local`: `SWITCHBOARD_DATA_DIR`.
pub async fn processor_from_env() -> anyhow::Result<Processor> {
    let clock = Arc::new(SystemClock);
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        let outbound = stack.outbound_queues();
        return Ok(Processor {
            table: stack.table,
            blobs: stack.blobs,
            clock,
            triage: Arc::new(switchboard_app::nlu::triager(None, None)?),
            outbound,
            bus: stack.bus,
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    let blobs = Arc::new(switchboard_aws::S3BlobStore::new(
        switchboard_aws::S3BlobStore::client(&conf),
        env("CLAIMS_BUCKET")?,
    ));
    // A tenant's own taxonomy and model, when the stack names them; the packaged ones otherwise.
    let taxonomy = optional_blob(blobs.as_ref(), "TAXONOMY_KEY").await?;
    let taxonomy = taxonomy
        .map(String::from_utf8)
        .transpose()
        .context("TAXONOMY_KEY is not UTF-8")?;
    let model = optional_blob(blobs.as_ref(), "NLU_MODEL_KEY").await?;
    let triage = switchboard_app::nlu::triager(taxonomy.as_deref(), model.as_deref())?;
    Ok(Processor {
        table: Arc::new(switchboard_aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&conf),
            env("TABLE_NAME")?,
            clock.clone(),
        )),
        blobs,
        clock,
        bus: Arc::new(switchboard_aws::EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&conf),
            env("BUS_NAME")?,
        )),
        triage: Arc::new(triage),
        // The bot's replies are queued for the sender function.
        outbound: switchboard_app::outbound::OutboundQueues {
            conversational: Arc::new(switchboard_aws::SqsQueue::new(
                aws_sdk_sqs::Client::new(&conf),
                env("OUTBOUND_QUEUE_URL")?,
            )),
            otp: Arc::new(switchboard_aws::SqsQueue::new(
                aws_sdk_sqs::Client::new(&conf),
                env("OTP_QUEUE_URL")?,
            )),
        },
    })
}

/// The blob named by environment variable `var`, when it is set and not empty.
async fn optional_blob(
    blobs: &dyn switchboard_app::BlobStore,
    var: &str,
) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(key) = std::env::var(var).ok().filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let bytes = blobs
        .get(&key)
        .await?
        .with_context(|| format!("{var}={key} is not in the claims bucket"))?;
    Ok(Some(bytes))
}
