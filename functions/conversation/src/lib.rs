//! The conversation function: SQS FIFO batches of events → stored conversations.
//!
//! Partial batch responses: on a FIFO queue, processing stops at the first failure and that
//! record and every later one are reported as failed, so no customer's messages overtake each
//! other (AWS's documented rule for FIFO with ReportBatchItemFailures).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::process::Processor;
use switchboard_app::SystemClock;

pub async fn handle_batch(processor: &Processor, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut failed_from = None;
    for (i, record) in event.records.iter().enumerate() {
        let body = record.body.as_deref().unwrap_or_default();
        if let Err(e) = processor.handle(body).await {
            tracing::error!(error = %e, message_id = ?record.message_id, "event failed; returning it and the rest of the batch to the queue");
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

/// On AWS: `TABLE_NAME`, `CLAIMS_BUCKET`. With `SWITCHBOARD_BACKEND=local`: `SWITCHBOARD_DATA_DIR`.
pub async fn processor_from_env() -> anyhow::Result<Processor> {
    let clock = Arc::new(SystemClock);
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(Processor {
            table: stack.table,
            blobs: stack.blobs,
            clock,
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    Ok(Processor {
        table: Arc::new(switchboard_aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&conf),
            env("TABLE_NAME")?,
            clock.clone(),
        )),
        blobs: Arc::new(switchboard_aws::S3BlobStore::new(
            switchboard_aws::S3BlobStore::client(&conf),
            env("CLAIMS_BUCKET")?,
        )),
        clock,
    })
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("environment variable {name} is not set"))
}
