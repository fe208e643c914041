//! The sender function: batches from the outbound queues (conversational and OTP, both SQS
//! FIFO) through the outbound gate to Meta. The only code that calls
//! `POST /{phone-number-id}/messages`.
//!
//! A send that must wait (no throughput token, Meta's 130429 / 131056, a temporary error) goes
//! back to its queue with the delay the gate chose (ChangeMessageVisibility); FIFO order per
//! conversation is kept by returning the rest of the batch at once, with no delay.

use std::path::PathBuf;
use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::outbound::{SendOutcome, Sender};
use switchboard_app::ports::{Queue, StaticTokens};
use switchboard_app::SystemClock;
use switchboard_aws::lambda::{bus_from_env, env, table_from_env};
use switchboard_core::outbound::Limits;
use switchboard_graph::{GraphClient, GraphConfig};

pub struct SenderFunction {
    pub sender: Sender,
    /// The queues this function reads, by queue name (the last part of the event source ARN),
    /// to set a retry's delay on the message it came from.
    pub queues: Vec<(String, Arc<dyn Queue>)>,
}

impl SenderFunction {
    fn queue_of(&self, arn: Option<&str>) -> Option<&Arc<dyn Queue>> {
        let name = arn?.rsplit(':').next()?;
        self.queues.iter().find(|(n, _)| n == name).map(|(_, q)| q)
    }
}

pub async fn handle_batch(f: &SenderFunction, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut failed_from = None;
    for (i, record) in event.records.iter().enumerate() {
        let body = record.body.as_deref().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let span = message_span(body);
        match f
            .sender
            .deliver(body, receive_count)
            .instrument(span.clone())
            .await
        {
            Ok(outcome) => span.in_scope(|| {
                tracing::info!(message_id = ?record.message_id, outcome = outcome_name(&outcome), "send done")
            }),
            Err(retry) => {
                span.in_scope(|| tracing::warn!(message_id = ?record.message_id, reason = %retry, after_secs = ?retry.after_secs, "send deferred"));
                if let (Some(after), Some(q), Some(receipt)) = (
                    retry.after_secs,
                    f.queue_of(record.event_source_arn.as_deref()),
                    record.receipt_handle.as_deref(),
                ) {
                    let _ = q.release(receipt, after).await;
                }
                failed_from = Some(i);
                break;
            }
        }
    }
    if let Some(start) = failed_from {
        for (j, record) in event.records[start..].iter().enumerate() {
            // Records we did not try are visible again at once, not after the queue's timeout.
            if j > 0 {
                if let (Some(q), Some(receipt)) = (
                    f.queue_of(record.event_source_arn.as_deref()),
                    record.receipt_handle.as_deref(),
                ) {
                    let _ = q.release(receipt, 0).await;
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

fn outcome_name(o: &SendOutcome) -> &'static str {
    match o {
        SendOutcome::Sent { .. } => "sent",
        SendOutcome::Refused { .. } => "refused",
        SendOutcome::Failed { .. } => "failed",
        SendOutcome::Duplicate => "duplicate",
    }
}

/// On AWS: `TABLE_NAME`, `BUS_NAME`, `GRAPH_TOKEN_PARAM_PREFIX`, `OUTBOUND_QUEUE_URL`,
/// `OTP_QUEUE_URL`, optional `GRAPH_BASE_URL`, `GRAPH_VERSION`, `NUMBER_MPS` (the number's
/// throughput, 80 by default). With `SWITCHBOARD_BACKEND=local`: `SWITCHBOARD_DATA_DIR`,
/// `SWITCHBOARD_GRAPH_TOKEN` and the Graph settings.
pub async fn from_env() -> anyhow::Result<SenderFunction> {
    let clock = Arc::new(SystemClock);
    let graph = Arc::new(GraphClient::new(GraphConfig::from_env(
        std::time::Duration::from_secs(30),
    ))?);
    let mut limits = Limits::default();
    if let Some(mps) = std::env::var("NUMBER_MPS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        limits.per_number_mps = mps;
    }
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        let queues: Vec<(String, Arc<dyn Queue>)> = vec![
            (
                switchboard_local::OUTBOUND_QUEUE.into(),
                stack.outbound.clone(),
            ),
            (switchboard_local::OTP_QUEUE.into(), stack.otp.clone()),
        ];
        return Ok(SenderFunction {
            sender: Sender {
                table: stack.table,
                bus: stack.bus,
                clock,
                api: graph,
                tokens: Arc::new(StaticTokens::from_env()),
                limits,
            },
            queues,
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let mut queues: Vec<(String, Arc<dyn Queue>)> = Vec::new();
    for var in ["OUTBOUND_QUEUE_URL", "OTP_QUEUE_URL"] {
        let url = env(var)?;
        let name = url.rsplit('/').next().unwrap_or_default().to_string();
        queues.push((
            name,
            Arc::new(switchboard_aws::SqsQueue::new(sqs.clone(), url)),
        ));
    }
    Ok(SenderFunction {
        sender: Sender {
            table: table_from_env(&conf, clock.clone())?,
            bus: bus_from_env(&conf)?,
            clock,
            api: graph,
            tokens: Arc::new(switchboard_aws::SsmTokens::new(
                aws_sdk_ssm::Client::new(&conf),
                env("GRAPH_TOKEN_PARAM_PREFIX")?,
            )),
            limits,
        },
        queues,
    })
}
