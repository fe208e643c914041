//! The media function: jobs from the media queue (EventBridge deliveries of `media.received`),
//! each fetched, verified and stored independently. A job that fails goes back to the queue;
//! one that exhausted its attempts is recorded as `lost` and removed, so the DLQ only ever holds
//! jobs that could not even be recorded.

use std::path::PathBuf;
use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::media::MediaFetcher;
use switchboard_app::ports::StaticTokens;
use switchboard_app::SystemClock;
use switchboard_aws::lambda::env;
use switchboard_graph::{GraphClient, GraphConfig};

pub async fn handle_batch(fetcher: &MediaFetcher, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let span = message_span(body);
        let result = fetcher
            .handle(body, receive_count)
            .instrument(span.clone())
            .await;
        // No await below: the guard only labels the log lines.
        let _in = span.enter();
        match result {
            Ok(outcome) => {
                tracing::info!(message_id = ?record.message_id, outcome = ?outcome_name(&outcome), "media job done")
            }
            Err(e) => {
                tracing::warn!(message_id = ?record.message_id, error = %e, "media job failed; back to the queue");
                let mut f = BatchItemFailure::default();
                f.item_identifier = record.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(f);
            }
        }
    }
    response
}

fn outcome_name(o: &switchboard_app::media::MediaOutcome) -> &'static str {
    use switchboard_app::media::MediaOutcome::*;
    match o {
        Stored { .. } => "stored",
        AlreadyStored => "already_stored",
        Quarantined { .. } => "quarantined",
        Lost { .. } => "lost",
        Unrecoverable { .. } => "unrecoverable",
    }
}

/// On AWS: `TABLE_NAME`, `MEDIA_BUCKET`, `BUS_NAME`, `GRAPH_TOKEN_PARAM_PREFIX` (SSM parameters
/// `{prefix}{tenant}/graph-token`), optional `GRAPH_BASE_URL`, `GRAPH_VERSION`. With
/// `SWITCHBOARD_BACKEND=local`: `SWITCHBOARD_DATA_DIR`, `SWITCHBOARD_GRAPH_TOKEN`, and the Graph
/// settings (a local fake needs `GRAPH_ALLOW_HOST` for its loopback host).
pub async fn fetcher_from_env() -> anyhow::Result<MediaFetcher> {
    let clock = Arc::new(SystemClock);
    let graph = GraphClient::new(GraphConfig::from_env(std::time::Duration::from_secs(60)))?;
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(MediaFetcher {
            table: stack.table,
            blobs: stack.blobs,
            bus: stack.bus,
            clock,
            graph,
            tokens: Arc::new(StaticTokens::from_env()),
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    Ok(MediaFetcher {
        table: Arc::new(switchboard_aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&conf),
            env("TABLE_NAME")?,
            clock.clone(),
        )),
        blobs: Arc::new(switchboard_aws::S3BlobStore::new(
            switchboard_aws::S3BlobStore::client(&conf),
            env("MEDIA_BUCKET")?,
        )),
        bus: Arc::new(switchboard_aws::EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&conf),
            env("BUS_NAME")?,
        )),
        clock,
        graph,
        tokens: Arc::new(switchboard_aws::SsmTokens::new(
            aws_sdk_ssm::Client::new(&conf),
            env("GRAPH_TOKEN_PARAM_PREFIX")?,
        )),
    })
}
