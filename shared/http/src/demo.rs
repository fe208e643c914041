//! The customer simulator of `switchboard serve --demo`: write as a customer, watch the pipeline.
//!
//! A simulated message takes the same road as a real one (a webhook signed with the app secret,
//! through ingest and the queue), and what the business answers is read back from the Graph
//! fake, which recorded it exactly as Meta would have received it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Operator;
use crate::catalog::{Handler, Method, Route};
use crate::{ApiError, ReadApi};

/// What a customer can do on the simulated phone.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerContent {
    Text(String),
    /// A tap on a quick-reply button the business sent.
    Reply {
        id: String,
        title: String,
    },
    /// The demo's sample image, with an optional caption.
    Image {
        #[serde(default)]
        caption: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct CustomerMessage {
    /// The customer's phone number, digits only (their WhatsApp id).
    pub from: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub content: CustomerContent,
}

#[async_trait::async_trait]
pub trait Simulator: Send + Sync {
    /// The tenant whose number the simulated customers write to.
    fn tenant(&self) -> &str;
    /// Delivers the message as Meta would; returns its wamid.
    async fn customer_message(&self, msg: &CustomerMessage) -> Result<String, String>;
    /// The request bodies the business sent to `wa_id`, oldest first.
    fn sent_to(&self, wa_id: &str) -> Vec<serde_json::Value>;
}

pub(crate) fn routes() -> Vec<(Route, Handler)> {
    vec![
        (
            Route::new(
                Method::Post,
                "/api/demo/customer",
                "demo",
                "Write as a simulated customer: text, a quick-reply tap or the sample image",
            )
            .body(json!({"type": "object", "required": ["from"],
                "properties": {
                    "from": {"type": "string", "pattern": "^[0-9]{6,15}$"},
                    "name": {"type": "string", "maxLength": 64},
                    "text": {"type": "string", "minLength": 1, "maxLength": 4096},
                    "reply": {"type": "object", "required": ["id", "title"], "properties": {
                        "id": {"type": "string", "maxLength": 256},
                        "title": {"type": "string", "maxLength": 20}}},
                    "image": {"type": "object", "properties": {"caption": {"type": "string", "maxLength": 1024}}}}}))
            .demo_only(),
            post(customer_message),
        ),
        (
            Route::new(
                Method::Get,
                "/api/demo/customer/{from}/messages",
                "demo",
                "What the business sent to a simulated customer, as Meta received it",
            )
            .demo_only(),
            get(sent_to),
        ),
    ]
}

fn simulator<'a>(api: &'a ReadApi, op: &Operator) -> Result<&'a Arc<dyn Simulator>, ApiError> {
    match &api.simulator {
        // The simulated number belongs to one tenant; nobody else may write as its customers.
        Some(s) if s.tenant() == op.tenant => Ok(s),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_simulator",
            "there is no customer simulator for this tenant",
        )),
    }
}

fn valid_number(from: &str) -> bool {
    (6..=15).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_digit())
}

async fn customer_message(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Json(msg): Json<CustomerMessage>,
) -> Response {
    let sim = match simulator(&api, &op) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let invalid = |m: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.to_string()).into_response()
    };
    if !valid_number(&msg.from) {
        return invalid("from must be a phone number of 6 to 15 digits");
    }
    match &msg.content {
        CustomerContent::Text(t) if t.trim().is_empty() || t.chars().count() > 4096 => {
            return invalid("text must have 1 to 4096 characters")
        }
        CustomerContent::Reply { id, title } if id.is_empty() || title.chars().count() > 20 => {
            return invalid("a reply needs the button's id and its title (at most 20 characters)")
        }
        _ => {}
    }
    match sim.customer_message(&msg).await {
        Ok(wamid) => (StatusCode::ACCEPTED, Json(json!({"wamid": wamid}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulated message not accepted");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_accepted",
                "the simulated webhook was not accepted; retry",
            )
            .into_response()
        }
    }
}

async fn sent_to(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(from): Path<String>,
) -> Response {
    let sim = match simulator(&api, &op) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    Json(json!({"items": sim.sent_to(&from)})).into_response()
}
