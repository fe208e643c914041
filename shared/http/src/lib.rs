//! The HTTP surface, as axum routers shared by the Lambda functions (under lambda_http) and by
//! `switchboard serve`: the webhook (`/webhook`) and the read API (`/api/...`).

mod api;
mod error;
mod onboard;
mod operate;
mod webhook;

pub use api::{api_router, ReadApi};
pub use error::ApiError;
pub use webhook::webhook_router;
