//! The templates function: one job per approved template version, submitted to Meta after a
//! last lint. Jobs are independent; a transient failure goes back to the queue, a refusal is
//! recorded in the template's history and the job is done.

use std::path::PathBuf;
use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::governance::Submitter;
use switchboard_app::ports::StaticTokens;
use switchboard_app::SystemClock;
use switchboard_aws::lambda::env;
use switchboard_graph::{GraphClient, GraphConfig};

pub async fn handle_batch(submitter: &Submitter, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        let span = message_span(body);
        let result = submitter.handle(body).instrument(span.clone()).await;
        // No await below: the guard only labels the log lines.
        let _in = span.enter();
        match result {
            Ok(outcome) => {
                tracing::info!(message_id = ?record.message_id, outcome = %outcome, "template job done")
            }
            Err(e) => {
                tracing::warn!(message_id = ?record.message_id, error = %e, "template job failed; back to the queue");
                let mut f = BatchItemFailure::default();
                f.item_identifier = record.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(f);
            }
        }
    }
    response
}

/// On AWS: `TABLE_NAME`, `GRAPH_TOKEN_PARAM_PREFIX`, optional `GRAPH_BASE_URL`, `GRAPH_VERSION`.
/// With `SWITCHBOARD_BACKEND=local`: `SWITCHBOARD_DATA_DIR`, `SWITCHBOARD_GRAPH_TOKEN`.
pub async fn submitter_from_env() -> anyhow::Result<Submitter> {
    let clock = Arc::new(SystemClock);
    let graph = GraphClient::new(GraphConfig::from_env(std::time::Duration::from_secs(30)))?;
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(Submitter {
            table: stack.table,
            clock,
            graph,
            tokens: Arc::new(StaticTokens::from_env()),
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    Ok(Submitter {
        table: Arc::new(switchboard_aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&conf),
            env("TABLE_NAME")?,
            clock.clone(),
        )),
        clock,
        graph,
        tokens: Arc::new(switchboard_aws::SsmTokens::new(
            aws_sdk_ssm::Client::new(&conf),
            env("GRAPH_TOKEN_PARAM_PREFIX")?,
        )),
    })
}
