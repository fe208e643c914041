//! The onboarding checklist: each step's status, owner and ETA as the state machine moves, and
//! the operator's actions on it — start, complete a step that waits on the business (business
//! verification, the SMS code), retry a failed step.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_app::onboarding::{Input, OnboardingError};

use crate::api::{store_error, ReadApi};
use crate::auth::{Operator, Role};
use crate::catalog::{Handler, Route};
use crate::ApiError;

const LEADS: &[Role] = &[Role::Lead, Role::Admin];

pub(crate) fn routes() -> Vec<(Route, Handler)> {
    use crate::catalog::Method::{Get, Post};
    vec![
        (
            Route::new(
                Get,
                "/api/onboarding",
                "onboarding",
                "The onboarding checklist: each step's status, owner, ETA, error and evidence",
            ),
            get(checklist),
        ),
        (
            Route::new(
                Post,
                "/api/onboarding/start",
                "onboarding",
                "Start onboarding a phone number and WABA (never one routed to another tenant)",
            )
            .roles(LEADS)
            .body(
                json!({"type": "object", "required": ["phone_number_id", "waba_id"], "properties": {
                    "phone_number_id": {"type": "string", "pattern": "^[0-9]{5,20}$"},
                    "waba_id": {"type": "string", "pattern": "^[0-9]{5,20}$"},
                    "display_name": {"type": "string"}}}),
            ),
            post(start),
        ),
        (
            Route::new(
                Post,
                "/api/onboarding/{step}/{action}",
                "onboarding",
                "complete a step that waits on the business, or retry a failed one",
            )
            .roles(LEADS)
            .body(json!({"type": "object"})),
            post(step_action),
        ),
    ]
}

fn error(e: OnboardingError) -> Response {
    match e {
        OnboardingError::UnknownStep(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_step", e.to_string()).into_response()
        }
        OnboardingError::NotNow { .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_now", e.to_string()).into_response()
        }
        OnboardingError::Invalid(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
                .into_response()
        }
        e => store_error(e).into_response(),
    }
}

async fn checklist(State(api): State<Arc<ReadApi>>, op: Operator) -> Response {
    match api.onboarding.checklist(&op.tenant).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}

#[derive(Deserialize)]
struct StartBody {
    phone_number_id: String,
    waba_id: String,
    #[serde(default)]
    display_name: Option<String>,
}

async fn start(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Json(body): Json<StartBody>,
) -> Response {
    let input = Input {
        tenant: op.tenant.clone(),
        phone_number_id: body.phone_number_id,
        waba_id: body.waba_id,
        display_name: body.display_name,
    };
    match api.onboarding.start(&input).await {
        Ok(v) => (StatusCode::ACCEPTED, Json(v)).into_response(),
        Err(e) => error(e),
    }
}

async fn step_action(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path((step, action)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let user = op.user.clone();
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    let result = match action.as_str() {
        "complete" => {
            api.onboarding
                .complete(&op.tenant, &step, &body, &user)
                .await
        }
        "retry" => api.onboarding.retry(&op.tenant, &step).await,
        _ => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_action",
                "actions are complete and retry",
            )
            .into_response()
        }
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}
