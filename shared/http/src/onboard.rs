//! The onboarding checklist: each step's status, owner and ETA as the state machine moves, and
//! the operator's actions on it — start, complete a step that waits on the business (business
//! verification, the SMS code), retry a failed step.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use switchboard_app::onboarding::{Input, OnboardingError};

use crate::api::{operator, store_error, ReadApi};
use crate::ApiError;

pub fn onboarding_router(api: Arc<ReadApi>) -> Router {
    Router::new()
        .route("/api/onboarding", get(checklist))
        .route("/api/onboarding/start", post(start))
        .route("/api/onboarding/{step}/{action}", post(step_action))
        .with_state(api)
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

/// Onboarding actions change a tenant's setup: leads and admins only.
fn admin(headers: &HeaderMap) -> Result<String, ApiError> {
    let (user, role) = operator(headers)?;
    if matches!(role.as_deref(), Some("admin" | "lead")) {
        Ok(user)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "no_role",
            "onboarding actions need the admin or lead role",
        ))
    }
}

async fn checklist(State(api): State<Arc<ReadApi>>) -> Response {
    match api.onboarding.checklist(&api.tenant).await {
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
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Response {
    if let Err(r) = admin(&headers) {
        return r.into_response();
    }
    let input = Input {
        tenant: api.tenant.clone(),
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
    headers: HeaderMap,
    Path((step, action)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let user = match admin(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    let result = match action.as_str() {
        "complete" => {
            api.onboarding
                .complete(&api.tenant, &step, &body, &user)
                .await
        }
        "retry" => api.onboarding.retry(&api.tenant, &step).await,
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
