//! The operator-api function: the console's API on AWS. The router is the one `switchboard
//! serve` runs; only identity differs. API Gateway's JWT authorizer has verified the Cognito
//! token before the function runs, so the function reads the verified claims from the request
//! context and never parses a token itself.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};
use switchboard_app::governance::Governance;
use switchboard_app::handoff::HandoffService;
use switchboard_app::onboarding::Onboarding;
use switchboard_app::outbound::{Outbound, OutboundQueues};
use switchboard_app::{Queue, SystemClock};
use switchboard_aws::lambda::{bus_from_env, env, table_from_env};
use switchboard_aws::{S3BlobStore, SqsQueue};
use switchboard_core::sla::SlaPolicies;
use switchboard_graph::{GraphClient, GraphConfig};
use switchboard_http::dead_letters::{DeadLetterQueue, DeadLetters};
use switchboard_http::{operator_router, Authenticator, ReadApi, VerifiedClaims};

/// The router with the authorizer's claims handed to the operator API's authentication.
pub fn router(api: Arc<ReadApi>) -> axum::Router {
    operator_router(api).layer(axum::middleware::from_fn(gateway_claims))
}

/// Copies the JWT authorizer's claims (API Gateway HTTP API, payload 2.0) into the request as
/// [`VerifiedClaims`]. A request without them (no authorizer on the route) stays anonymous and is
/// refused by the API.
async fn gateway_claims(mut req: Request, next: Next) -> Response {
    let claims = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| {
                jwt.claims
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<Map<String, Value>>()
            }),
        _ => None,
    };
    if let Some(claims) = claims.filter(|c| !c.is_empty()) {
        req.extensions_mut().insert(VerifiedClaims(claims));
    }
    next.run(req).await
}

fn sqs(client: &aws_sdk_sqs::Client, var: &str) -> anyhow::Result<Arc<dyn Queue>> {
    Ok(Arc::new(SqsQueue::new(client.clone(), env(var)?)))
}

/// `TABLE_NAME`, `BUS_NAME`, `MEDIA_BUCKET`, `OUTBOUND_QUEUE_URL`, `OTP_QUEUE_URL`,
/// `TEMPLATES_QUEUE_URL`, `STATE_MACHINE_ARN`, `GRAPH_TOKEN_PARAM_PREFIX`, optional
/// `SLA_POLICIES`, `GRAPH_BASE_URL`, `GRAPH_VERSION`.
pub async fn api_from_env() -> anyhow::Result<Arc<ReadApi>> {
    let clock = Arc::new(SystemClock);
    let conf = switchboard_aws::sdk_config().await;
    let table = table_from_env(&conf, clock.clone())?;
    let sqs_client = aws_sdk_sqs::Client::new(&conf);
    let sla = Arc::new(match std::env::var("SLA_POLICIES") {
        Ok(json) if !json.trim().is_empty() => SlaPolicies::from_json(&json)?,
        _ => SlaPolicies::default_policies(),
    });
    let sfn = Arc::new(switchboard_aws::StepFunctions::new(
        aws_sdk_sfn::Client::new(&conf),
        env("STATE_MACHINE_ARN")?,
    ));
    let secrets = Arc::new(switchboard_aws::SsmTokens::new(
        aws_sdk_ssm::Client::new(&conf),
        env("GRAPH_TOKEN_PARAM_PREFIX")?,
    ));
    Ok(Arc::new(ReadApi {
        table: table.clone(),
        blobs: Arc::new(S3BlobStore::new(
            S3BlobStore::client(&conf),
            env("MEDIA_BUCKET")?,
        )),
        clock: clock.clone(),
        auth: Authenticator::Gateway,
        handoff: Arc::new(HandoffService {
            table: table.clone(),
            bus: bus_from_env(&conf)?,
            clock: clock.clone(),
            sla: sla.clone(),
        }),
        governance: Arc::new(Governance {
            table: table.clone(),
            clock: clock.clone(),
            queue: sqs(&sqs_client, "TEMPLATES_QUEUE_URL")?,
        }),
        outbound: Arc::new(Outbound {
            table: table.clone(),
            queues: OutboundQueues {
                conversational: sqs(&sqs_client, "OUTBOUND_QUEUE_URL")?,
                otp: sqs(&sqs_client, "OTP_QUEUE_URL")?,
            },
            clock: clock.clone(),
        }),
        onboarding: Arc::new(Onboarding {
            table,
            clock,
            graph: GraphClient::new(GraphConfig::from_env(std::time::Duration::from_secs(30)))?,
            tokens: secrets.clone(),
            pins: secrets,
            flow: sfn.clone(),
            executions: sfn,
        }),
        sla,
        simulator: None,
        dead_letters: Some(Arc::new(dead_letters_from_env(&sqs_client)?)),
    }))
}

/// `DLQ_QUEUE_URLS` (comma-separated) and `SOURCE_QUEUE_URLS` (`dlq-name=source-url`, comma-
/// separated); `OPS_TENANT` names the tenant whose admins may read them (`ops` by default).
fn dead_letters_from_env(client: &aws_sdk_sqs::Client) -> anyhow::Result<DeadLetters> {
    let sources: std::collections::HashMap<String, String> = env("SOURCE_QUEUE_URLS")?
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut queues = Vec::new();
    for url in env("DLQ_QUEUE_URLS")?
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let name = url.rsplit('/').next().unwrap_or(url).to_string();
        let source = sources
            .get(&name)
            .ok_or_else(|| anyhow::anyhow!("SOURCE_QUEUE_URLS has no source for {name}"))?;
        queues.push(DeadLetterQueue {
            name,
            dlq: Arc::new(SqsQueue::new(client.clone(), url)),
            source: Arc::new(SqsQueue::new(client.clone(), source)),
        });
    }
    Ok(DeadLetters {
        ops_tenant: std::env::var("OPS_TENANT").unwrap_or_else(|_| "ops".into()),
        queues,
    })
}
