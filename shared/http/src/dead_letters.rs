//! Dead letters through the operator API: what `switchboard dlq list|show|redrive` does, for the
//! console. Dead-letter queues belong to the deployment, not to one tenant (a webhook that failed
//! before routing has no tenant yet), so only admins of the deployment's operations tenant may
//! read or redrive them; an admin of any other tenant is refused.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_app::{dlq, Queue};

use crate::auth::{Operator, Role};
use crate::catalog::{Handler, Method, Route};
use crate::{ApiError, ReadApi};

/// One dead-letter queue and the queue its messages go back to.
pub struct DeadLetterQueue {
    pub name: String,
    pub dlq: Arc<dyn Queue>,
    pub source: Arc<dyn Queue>,
}

pub struct DeadLetters {
    /// The tenant whose admins operate the deployment.
    pub ops_tenant: String,
    pub queues: Vec<DeadLetterQueue>,
}

const ADMINS: &[Role] = &[Role::Admin];
/// The most a single list or redrive request handles: a request must finish well inside API
/// Gateway's 30 s; the console repeats a redrive until nothing is left.
const MAX_PER_REQUEST: usize = 500;

pub(crate) fn routes() -> Vec<(Route, Handler)> {
    vec![
        (
            Route::new(
                Method::Get,
                "/api/dlq",
                "operations",
                "Every dead-letter queue with its depth (operations tenant admins)",
            )
            .roles(ADMINS),
            get(overview),
        ),
        (
            Route::new(
                Method::Get,
                "/api/dlq/{queue}",
                "operations",
                "The dead letters of one queue, previewed; nothing is consumed",
            )
            .roles(ADMINS),
            get(list),
        ),
        (
            Route::new(
                Method::Get,
                "/api/dlq/{queue}/{message_id}",
                "operations",
                "One dead letter's full body; nothing is consumed",
            )
            .roles(ADMINS),
            get(show),
        ),
        (
            Route::new(
                Method::Post,
                "/api/dlq/{queue}/redrive",
                "operations",
                "Move dead letters back to their source queue (at most 500 per request)",
            )
            .roles(ADMINS)
            .body(json!({"type": "object", "properties": {
                    "max": {"type": "integer", "description": "at most this many (1 to 500)"}}})),
            post(redrive),
        ),
    ]
}

fn dead_letters<'a>(api: &'a ReadApi, op: &Operator) -> Result<&'a DeadLetters, ApiError> {
    match &api.dead_letters {
        Some(d) if d.ops_tenant == op.tenant => Ok(d),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_operations_tenant",
            "dead letters belong to the deployment: only admins of its operations tenant see them",
        )),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_dead_letters",
            "this deployment exposes no dead-letter queues",
        )),
    }
}

fn queue<'a>(d: &'a DeadLetters, name: &str) -> Result<&'a DeadLetterQueue, ApiError> {
    d.queues.iter().find(|q| q.name == name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_queue",
            format!("no dead-letter queue {name:?}"),
        )
    })
}

fn queue_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dead-letter queue");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "queue_unavailable",
        "the queue is unavailable; retry later",
    )
    .into_response()
}

async fn overview(State(api): State<Arc<ReadApi>>, op: Operator) -> Response {
    let d = match dead_letters(&api, &op) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let mut queues = Vec::new();
    for q in &d.queues {
        match q.dlq.depth().await {
            Ok(depth) => queues.push(json!({"queue": q.name, "depth": depth})),
            Err(e) => return queue_error(e),
        }
    }
    Json(json!({"queues": queues})).into_response()
}

async fn list(State(api): State<Arc<ReadApi>>, op: Operator, Path(name): Path<String>) -> Response {
    let q = match dead_letters(&api, &op).and_then(|d| queue(d, &name)) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    match dlq::list(q.dlq.as_ref(), 100).await {
        Ok(items) => Json(json!({"queue": name, "items": items})).into_response(),
        Err(e) => queue_error(e),
    }
}

async fn show(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path((name, message_id)): Path<(String, String)>,
) -> Response {
    let q = match dead_letters(&api, &op).and_then(|d| queue(d, &name)) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    match dlq::find(q.dlq.as_ref(), &message_id, 1000).await {
        Ok(Some(m)) => Json(json!({
            "message_id": m.message_id, "group": m.group,
            "receive_count": m.receive_count, "body": m.body,
        }))
        .into_response(),
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no dead letter {message_id:?} in {name}"),
        )
        .into_response(),
        Err(e) => queue_error(e),
    }
}

#[derive(Deserialize, Default)]
struct RedriveBody {
    max: Option<usize>,
}

async fn redrive(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(name): Path<String>,
    body: Option<Json<RedriveBody>>,
) -> Response {
    let q = match dead_letters(&api, &op).and_then(|d| queue(d, &name)) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let max = body
        .and_then(|Json(b)| b.max)
        .unwrap_or(MAX_PER_REQUEST)
        .clamp(1, MAX_PER_REQUEST);
    match dlq::redrive(q.dlq.as_ref(), q.source.as_ref(), max, |_| {}).await {
        Ok(moved) => {
            tracing::info!(queue = %name, moved, user = %op.user, "dead letters redriven");
            let now = api.clock.now_millis();
            let entry = switchboard_app::audit::Entry {
                actor: format!("admin:{}", op.user),
                action: "dlq.redrive".into(),
                conversation_id: None,
                detail: json!({"queue": name, "moved": moved}),
            };
            let audit =
                switchboard_app::audit::op(&op.tenant, now, &format!("dlq:{name}:{now}"), entry);
            if let Err(e) = api.table.transact(vec![audit]).await {
                tracing::error!(error = %e, "audit entry for a redrive not written");
            }
            let left = q.dlq.depth().await.ok();
            Json(json!({"queue": name, "moved": moved, "left": left})).into_response()
        }
        Err(e) => queue_error(e),
    }
}
