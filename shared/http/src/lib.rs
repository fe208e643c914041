//! The HTTP surface, as axum routers shared by the Lambda functions (under lambda_http) and by
//! `switchboard serve`: the webhook (`/webhook`) and the operator API (`/api/...`), whose routes,
//! roles and OpenAPI document come from one table (`catalog`).

mod api;
pub mod auth;
pub mod catalog;
pub mod dead_letters;
pub mod demo;
mod error;
mod live;
mod onboard;
mod operate;
mod webhook;

pub use api::ReadApi;
pub use auth::{Authenticator, DevIssuer, Operator, Role, VerifiedClaims};
pub use catalog::{catalog, openapi, operator_router, Route};
pub use error::ApiError;
pub use webhook::webhook_router;
