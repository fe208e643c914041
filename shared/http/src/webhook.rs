//! `GET /webhook` (Meta's subscription handshake) and `POST /webhook` (notifications).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use switchboard_app::ingest::Ingest;
use switchboard_app::ingest::{IngestError, MAX_BODY_BYTES};
use switchboard_app::ops;

use crate::ApiError;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

pub fn webhook_router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route("/webhook", get(verify).post(notify))
        // One byte over the limit is enough to know the body is too large.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(ingest)
}

async fn verify(
    State(ingest): State<Arc<Ingest>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    match ingest.verify_subscription(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
    ) {
        Some(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_string(),
        )
            .into_response(),
        None => {
            tracing::warn!("webhook verification refused");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "verification_failed",
                "hub.mode must be subscribe and hub.verify_token must match",
            )
            .into_response()
        }
    }
}

async fn notify(
    State(ingest): State<Arc<Ingest>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large(None);
        }
        Err(rejection) => {
            return ApiError::new(rejection.status(), "bad_body", rejection.body_text())
                .into_response()
        }
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let started = std::time::Instant::now();
    match ingest.accept(&body, signature).await {
        Ok(accepted) => {
            // Meta wants the 200 fast: this is the part of the answer time that is ours.
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            ops::record("ingest_latency_ms", ms, "Milliseconds");
            ops::record("webhook_events", accepted.events as f64, "Count");
            (StatusCode::OK, Json(json!({"events": accepted.events}))).into_response()
        }
        Err(IngestError::TooLarge(n)) => too_large(Some(n)),
        Err(IngestError::Signature(e)) => {
            ops::record("webhooks_rejected", 1.0, "Count");
            tracing::warn!(reason = %e, bytes = body.len(), "webhook signature rejected");
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()).into_response()
        }
        Err(e @ (IngestError::Enqueue(_) | IngestError::ClaimCheck(_))) => {
            // Not stored, so not acknowledged: Meta retries a non-200 for up to 7 days.
            tracing::error!(error = %e, "webhook not enqueued; answering 503 so Meta retries");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "enqueue_failed",
                "events could not be queued; retry later",
            )
            .into_response()
        }
    }
}

fn too_large(bytes: Option<usize>) -> Response {
    let size = bytes.map(|n| format!("{n} bytes; ")).unwrap_or_default();
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("{size}Meta's webhook payloads are at most {MAX_BODY_BYTES} bytes"),
    )
    .into_response()
}
