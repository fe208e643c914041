//! The handoff function: `handoff.requested` events (triage asking for a human, the customer's
//! "talk to a human", a bot reply that could not be sent), delivered by an EventBridge rule to
//! the handoff queue, each made a request transition with its SLA clocks. Requests for a
//! conversation already with a human change nothing.

use std::path::PathBuf;
use std::sync::Arc;
use switchboard_app::worker::message_span;
use tracing::Instrument;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use switchboard_app::handoff::{HandoffRequests, HandoffService};
use switchboard_app::SystemClock;
use switchboard_aws::lambda::{bus_from_env, env, table_from_env};
use switchboard_core::sla::SlaPolicies;

pub async fn handle_batch(requests: &HandoffRequests, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        let span = message_span(body);
        let result = requests.handle(body).instrument(span.clone()).await;
        // No await below: the guard only labels the log lines.
        let _in = span.enter();
        match result {
            Ok(v) => {
                tracing::info!(message_id = ?record.message_id, state = ?v.get("state"), skipped = v.get("skipped").is_some(), "handoff request done")
            }
            Err(e) => {
                tracing::warn!(message_id = ?record.message_id, error = %e, "handoff request failed; back to the queue");
                let mut f = BatchItemFailure::default();
                f.item_identifier = record.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(f);
            }
        }
    }
    response
}

/// The SLA policies: `SLA_POLICIES` (JSON) when set, the shipped defaults otherwise.
pub fn policies_from_env() -> anyhow::Result<SlaPolicies> {
    match std::env::var("SLA_POLICIES")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(json) => Ok(SlaPolicies::from_json(&json)?),
        None => Ok(SlaPolicies::default_policies()),
    }
}

/// On AWS: `TABLE_NAME`, `BUS_NAME`, optional `SLA_POLICIES`. With `SWITCHBOARD_BACKEND=local`:
/// `SWITCHBOARD_DATA_DIR`.
pub async fn from_env() -> anyhow::Result<HandoffRequests> {
    let clock = Arc::new(SystemClock);
    let sla = Arc::new(policies_from_env()?);
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(HandoffRequests {
            service: Arc::new(HandoffService {
                table: stack.table,
                bus: stack.bus,
                clock,
                sla,
            }),
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    Ok(HandoffRequests {
        service: Arc::new(HandoffService {
            table: table_from_env(&conf, clock.clone())?,
            bus: bus_from_env(&conf)?,
            clock,
            sla,
        }),
    })
}
