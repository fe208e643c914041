//! The onboarding function: one SQS queue carries both the state machine's tasks (each with its
//! task token) and Meta's answers routed from the bus (display name review, template status,
//! account updates, the first customer message); each is handled independently.

use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::onboarding::Onboarding;
use switchboard_app::SystemClock;
use switchboard_aws::lambda::{env, table_from_env};
use switchboard_graph::{GraphClient, GraphConfig};

pub async fn handle_batch(onboarding: &Onboarding, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        let span = message_span(body);
        let result = onboarding.handle(body).instrument(span.clone()).await;
        let _in = span.enter();
        if let Err(e) = result {
            tracing::warn!(message_id = ?record.message_id, error = %e, "onboarding message failed; back to the queue");
            let mut f = BatchItemFailure::default();
            f.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(f);
        }
    }
    response
}

/// `TABLE_NAME`, `STATE_MACHINE_ARN`, `GRAPH_TOKEN_PARAM_PREFIX` (graph token and two-step PIN
/// per tenant), optional `GRAPH_BASE_URL`, `GRAPH_VERSION`.
pub async fn from_env() -> anyhow::Result<Onboarding> {
    let clock = Arc::new(SystemClock);
    let conf = switchboard_aws::sdk_config().await;
    let sfn = Arc::new(switchboard_aws::StepFunctions::new(
        aws_sdk_sfn::Client::new(&conf),
        env("STATE_MACHINE_ARN")?,
    ));
    let secrets = Arc::new(switchboard_aws::SsmTokens::new(
        aws_sdk_ssm::Client::new(&conf),
        env("GRAPH_TOKEN_PARAM_PREFIX")?,
    ));
    Ok(Onboarding {
        table: table_from_env(&conf, clock.clone())?,
        clock,
        graph: GraphClient::new(GraphConfig::from_env(std::time::Duration::from_secs(30)))?,
        tokens: secrets.clone(),
        pins: secrets,
        flow: sfn.clone(),
        executions: sfn,
    })
}
