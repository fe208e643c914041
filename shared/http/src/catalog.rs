//! The operator API's routes as data: method, path, the roles allowed, parameters and body.
//!
//! One table drives three things that must not drift apart: the router (each handler wrapped in
//! its role check), the OpenAPI document at `/api/openapi.json`, and the test matrix that calls
//! every route with the wrong role and with another tenant's token.

use std::sync::Arc;

use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::auth::{authenticate, require_roles, Operator, Role};
use crate::ReadApi;

pub const OPENAPI_PATH: &str = "/api/openapi.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
}

/// A query parameter (path parameters are read from the path's `{name}`s; `{version}` is an
/// integer, the rest strings).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

pub const fn q(name: &'static str, kind: Kind, doc: &'static str) -> Param {
    Param { name, kind, doc }
}

/// A period in unix seconds, as the metrics and analytics routes take it.
pub const PERIOD: &[Param] = &[
    q("from", Kind::Int, "unix seconds, inclusive"),
    q("to", Kind::Int, "unix seconds, exclusive"),
];

/// Every role: reading is open to anyone who works the tenant.
pub const ANYONE: &[Role] = &[Role::Agent, Role::Lead, Role::Approver, Role::Admin];
pub const AGENTS: &[Role] = &[Role::Agent, Role::Lead];

#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub roles: &'static [Role],
    pub query: Vec<Param>,
    /// The JSON schema of the request body, if it takes one.
    pub body: Option<Value>,
    /// Mounted only on `switchboard serve --demo`.
    pub demo_only: bool,
}

impl Route {
    pub fn new(
        method: Method,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            summary,
            tag,
            roles: ANYONE,
            query: Vec::new(),
            body: None,
            demo_only: false,
        }
    }
    pub fn roles(mut self, roles: &'static [Role]) -> Self {
        self.roles = roles;
        self
    }
    pub fn query(mut self, query: &[Param]) -> Self {
        self.query = query.to_vec();
        self
    }
    pub fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }
    pub fn demo_only(mut self) -> Self {
        self.demo_only = true;
        self
    }
    /// The `{name}` segments of the path.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect()
    }
}

pub(crate) type Handler = MethodRouter<Arc<ReadApi>>;

fn endpoints() -> Vec<(Route, Handler)> {
    let mut all = crate::api::routes();
    all.extend(crate::operate::routes());
    all.extend(crate::onboard::routes());
    all.extend(crate::demo::routes());
    all.extend(crate::dead_letters::routes());
    all.push((
        Route::new(
            Method::Get,
            "/api/session",
            "session",
            "Who the token says the caller is: user, tenant, roles, and whether this is a demo",
        ),
        get(session),
    ));
    all
}

/// Every route of the operator API (the demo's included), for docs and tests.
pub fn catalog() -> Vec<Route> {
    endpoints().into_iter().map(|(r, _)| r).collect()
}

/// The operator API: authentication, then each route's role check, then its handler; and the
/// OpenAPI document, unauthenticated.
pub fn operator_router(api: Arc<ReadApi>) -> Router {
    let demo = api.simulator.is_some();
    let mut router = Router::new();
    let mut routes = Vec::new();
    for (route, handler) in endpoints() {
        if route.demo_only && !demo {
            continue;
        }
        router = router.route(
            route.path,
            handler.route_layer(from_fn_with_state(route.roles, require_roles)),
        );
        routes.push(route);
    }
    let doc = Arc::new(openapi(&routes));
    router
        .route(
            OPENAPI_PATH,
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        // An unknown /api path is a JSON 404, never the console's index page.
        .route("/api/{*rest}", axum::routing::any(unknown_route))
        .with_state(api.clone())
        .layer(axum::middleware::from_fn(crate::live::etag))
        .layer(from_fn_with_state(
            (api.auth.clone(), api.clock.clone()),
            authenticate,
        ))
}

async fn unknown_route(uri: axum::http::Uri) -> impl IntoResponse {
    crate::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_route",
        format!("no API route {}", uri.path()),
    )
}

async fn session(State(api): State<Arc<ReadApi>>, op: Operator) -> impl IntoResponse {
    Json(json!({
        "user": op.user,
        "tenant": op.tenant,
        "roles": op.roles,
        "demo": api.simulator.is_some(),
        "auth": api.auth.name(),
    }))
}

fn error_schema() -> Value {
    json!({"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}})
}

/// OpenAPI 3.0 for the given routes.
pub fn openapi(routes: &[Route]) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in routes {
        let mut params: Vec<Value> = r
            .path_params()
            .into_iter()
            .map(|name| {
                let schema = if name == "version" {
                    json!({"type": "integer", "format": "int64", "minimum": 1})
                } else {
                    json!({"type": "string", "minLength": 1})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        params.extend(r.query.iter().map(|p| {
            let schema = match p.kind {
                Kind::Str => json!({"type": "string"}),
                Kind::Int => json!({"type": "integer", "format": "int64"}),
            };
            json!({"name": p.name, "in": "query", "required": false, "schema": schema,
                   "description": p.doc})
        }));
        let roles: Vec<_> = r.roles.iter().map(|r| r.as_str()).collect();
        let mut op = json!({
            "summary": r.summary,
            "description": format!("Roles: {}.", roles.join(", ")),
            "tags": [r.tag],
            "operationId": format!("{}{}", r.method.as_str().to_lowercase(),
                r.path.replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
                "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                "400": {"description": "Bad request", "content": {"application/json": {"schema": error_schema()}}},
                "401": {"description": "No or invalid token", "content": {"application/json": {"schema": error_schema()}}},
                "403": {"description": "The token's roles do not allow this", "content": {"application/json": {"schema": error_schema()}}},
                "404": {"description": "Not found in the caller's tenant", "content": {"application/json": {"schema": error_schema()}}},
            },
            "security": [{"bearer": []}],
            "x-roles": roles,
        });
        if let Some(schema) = &r.body {
            op["requestBody"] = json!({"required": true,
                "content": {"application/json": {"schema": schema}}});
        }
        let path = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        path[r.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Switchboard operator API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The console's API. Every route is scoped to the tenant named by the \
                bearer token (Cognito on AWS, the dev issuer on `switchboard serve`) and checked \
                against the route's roles (x-roles).",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once_with_its_roles() {
        let routes = catalog();
        let doc = openapi(&routes);
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method.as_str(),
                r.path
            );
            let op = &doc["paths"][r.path][r.method.as_str().to_lowercase()];
            assert_eq!(
                op["x-roles"].as_array().unwrap().len(),
                r.roles.len(),
                "{}",
                r.path
            );
            assert!(!r.roles.is_empty(), "{} allows nobody", r.path);
            for p in r.path_params() {
                assert!(op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"] == p));
            }
        }
    }
}
