//! The read API: conversations with their contact, state and window; messages oldest first;
//! tenant-level notices (template and account updates, unparsed bodies).
//!
//! Every query is scoped to the tenant of the caller. Until operator authentication lands, that is
//! the tenant `switchboard serve` was started for.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use switchboard_app::queries::MediaQuery;
use switchboard_app::queries::{self, QueryError};
use switchboard_app::{BlobStore, Clock, Table};

use crate::ApiError;

pub struct ReadApi {
    pub table: Arc<dyn Table>,
    /// Presigns download URLs for media search results.
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub tenant: String,
    /// Accept, transfer, resolve, return-to-bot and reply on conversations.
    pub handoff: Arc<switchboard_app::handoff::HandoffService>,
    /// Template drafts, approval and submission.
    pub governance: Arc<switchboard_app::governance::Governance>,
    /// The outbound gate: replies and business-initiated sends are requested here.
    pub outbound: Arc<switchboard_app::outbound::Outbound>,
    /// Tenant onboarding: the checklist and its actions.
    pub onboarding: Arc<switchboard_app::onboarding::Onboarding>,
    /// SLA policies, for the queue view's deadlines.
    pub sla: Arc<switchboard_core::sla::SlaPolicies>,
    /// Whether this caller may read the `unrouted` tenant's notices (events for numbers nobody
    /// claimed, bodies that were not WhatsApp payloads). Operators with the admin role may.
    pub admin: bool,
}

pub fn api_router(api: Arc<ReadApi>) -> Router {
    Router::new()
        .route("/api/conversations", get(list_conversations))
        .route("/api/conversations/{id}", get(get_conversation))
        .route("/api/conversations/{id}/messages", get(list_messages))
        .route("/api/notices", get(list_notices))
        .route("/api/media", get(search_media))
        .route(
            "/api/conversations/{id}/handoff",
            axum::routing::post(handoff_action),
        )
        .route("/api/conversations/{id}/context", get(context_packet))
        .route("/api/templates/analytics", get(template_analytics))
        .route("/api/templates/drafts", axum::routing::post(save_draft))
        .route(
            "/api/templates/{name}/{lang}/validate-send",
            axum::routing::post(validate_send),
        )
        .route(
            "/api/templates/{name}/{lang}/versions/{version}/{action}",
            axum::routing::post(version_action),
        )
        .route("/api/templates/{name}", get(template_history))
        .route(
            "/api/templates/lint",
            axum::routing::post(lint_template)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_TEMPLATE_BYTES)),
        )
        .route("/healthz", get(|| async { Json(json!({"ok": true})) }))
        .with_state(api.clone())
        .merge(crate::operate::operate_router(api.clone()))
        .merge(crate::onboard::onboarding_router(api))
}

#[derive(Deserialize)]
struct ListParams {
    state: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub(crate) fn store_error(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "storage error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        "storage is unavailable; retry later",
    )
}

async fn list_conversations(
    State(api): State<Arc<ReadApi>>,
    Query(p): Query<ListParams>,
) -> Response {
    let state = p.state.as_deref().filter(|s| !s.is_empty());
    match queries::list_conversations(
        api.table.as_ref(),
        api.clock.as_ref(),
        &api.tenant,
        state,
        p.limit.unwrap_or(50),
        p.cursor,
    )
    .await
    {
        Ok(listing) => Json(listing).into_response(),
        Err(e @ QueryError::UnknownState(_)) => {
            ApiError::new(StatusCode::BAD_REQUEST, "unknown_state", e.to_string()).into_response()
        }
        Err(QueryError::Store(e)) => store_error(e).into_response(),
    }
}

fn not_found(id: &str) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no conversation {id:?}"),
    )
    .into_response()
}

async fn get_conversation(State(api): State<Arc<ReadApi>>, Path(id): Path<String>) -> Response {
    match queries::get_conversation(api.table.as_ref(), api.clock.as_ref(), &api.tenant, &id).await
    {
        Ok(Some(c)) => Json(c).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => store_error(e).into_response(),
    }
}

async fn list_messages(
    State(api): State<Arc<ReadApi>>,
    Path(id): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    match queries::list_messages(
        api.table.as_ref(),
        &api.tenant,
        &id,
        p.limit.unwrap_or(100),
        p.cursor,
    )
    .await
    {
        Ok(Some(listing)) => Json(listing).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct NoticeParams {
    field: String,
    limit: Option<usize>,
    /// `unrouted` to read the notices nobody's tenant owns (admin only).
    scope: Option<String>,
}

async fn list_notices(State(api): State<Arc<ReadApi>>, Query(p): Query<NoticeParams>) -> Response {
    let tenant = match p.scope.as_deref() {
        None | Some("") => api.tenant.as_str(),
        Some(switchboard_core::keys::UNROUTED_TENANT) if api.admin => {
            switchboard_core::keys::UNROUTED_TENANT
        }
        Some(other) => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_scope",
                format!("scope {other:?} is not readable by this caller"),
            )
            .into_response()
        }
    };
    match queries::list_notices(api.table.as_ref(), tenant, &p.field, p.limit.unwrap_or(50)).await {
        Ok(items) => Json(json!({"items": items})).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

async fn search_media(State(api): State<Arc<ReadApi>>, Query(q): Query<MediaQuery>) -> Response {
    if let Some(kind) = q.kind.as_deref() {
        if !matches!(kind, "image" | "video" | "audio" | "document" | "sticker") {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_type",
                format!("unknown media type {kind:?}; expected image, video, audio, document or sticker"),
            )
            .into_response();
        }
    }
    match queries::search_media(api.table.as_ref(), api.blobs.as_ref(), &api.tenant, &q).await {
        Ok(listing) => Json(listing).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

/// A template is a few KB; anything this large is not one.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// Lints one template (Meta's create payload) — pure and fast enough for every keystroke.
async fn lint_template(body: axum::body::Bytes) -> Response {
    use switchboard_core::template::{parse_json, LintContext, LintReport};
    let Ok(text) = std::str::from_utf8(&body) else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_utf8",
            "the template must be UTF-8 JSON",
        )
        .into_response();
    };
    // Duplicate detection needs the tenant's stored templates; until template governance stores
    // them the context is empty and that one rule cannot fire here.
    match parse_json(text) {
        Ok(t) => Json(LintReport::new(&t, &LintContext::new())).into_response(),
        Err(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "not_a_template", e.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct PeriodParams {
    from: Option<i64>,
    to: Option<i64>,
}

/// Rejection rate per category and reasons bucketed over a period (default: the last 30 days).
async fn template_analytics(
    State(api): State<Arc<ReadApi>>,
    Query(p): Query<PeriodParams>,
) -> Response {
    let to = p.to.unwrap_or_else(|| api.clock.now());
    let from = p.from.unwrap_or(to - 30 * 24 * 3600);
    match switchboard_app::templates::rejection_analytics(api.table.as_ref(), &api.tenant, from, to)
        .await
    {
        Ok(a) => Json(a).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

/// A template's current status per language and its history, rejection reasons included.
async fn template_history(State(api): State<Arc<ReadApi>>, Path(name): Path<String>) -> Response {
    match switchboard_app::templates::template_history(api.table.as_ref(), &api.tenant, &name).await
    {
        Ok(items) if items.is_empty() => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no template {name:?}"),
        )
        .into_response(),
        Ok(items) => {
            let (current, history): (Vec<_>, Vec<_>) = items
                .into_iter()
                .partition(|i| i.get("kind").and_then(|k| k.as_str()) == Some("template"));
            Json(json!({"name": name, "languages": current, "history": history})).into_response()
        }
        Err(e) => store_error(e).into_response(),
    }
}

use switchboard_app::governance::{Actor, GovernanceError, Role};

/// The acting operator. Until operator authentication (JWT with roles) lands, the user and role
/// come from `x-switchboard-user` and `x-switchboard-role`.
fn actor(headers: &axum::http::HeaderMap) -> Result<Actor, ApiError> {
    let (user, role) = operator(headers)?;
    let role = role.as_deref().and_then(Role::parse).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "no_role",
            "x-switchboard-role must be author, approver or admin",
        )
    })?;
    Ok(Actor { user, role })
}

/// The acting operator's user and role headers (a stand-in for the operator API's JWT).
pub(crate) fn operator(
    headers: &axum::http::HeaderMap,
) -> Result<(String, Option<String>), ApiError> {
    let get = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let user = get("x-switchboard-user").ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_user",
            "x-switchboard-user is required",
        )
    })?;
    Ok((user, get("x-switchboard-role")))
}

fn governance_error(e: GovernanceError) -> Response {
    let (status, code) = match &e {
        GovernanceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        GovernanceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        GovernanceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        GovernanceError::Invalid(_) | GovernanceError::LintErrors(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        }
        GovernanceError::Store(_) | GovernanceError::Queue(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    ApiError::new(status, code, e.to_string()).into_response()
}

async fn save_draft(
    State(api): State<Arc<ReadApi>>,
    headers: axum::http::HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let actor = match actor(&headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match api.governance.save_draft(&api.tenant, &actor, body).await {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => governance_error(e),
    }
}

/// `approve` (approvers, never the author) or `submit` (queues an approved version for Meta).
async fn version_action(
    State(api): State<Arc<ReadApi>>,
    headers: axum::http::HeaderMap,
    Path((name, lang, version, action)): Path<(String, String, i64, String)>,
) -> Response {
    let actor = match actor(&headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let gov = &api.governance;
    let (result, ok) = match action.as_str() {
        "approve" => (
            gov.approve(&api.tenant, &actor, &name, &lang, version)
                .await,
            StatusCode::OK,
        ),
        "submit" => (
            gov.submit(&api.tenant, &actor, &name, &lang, version).await,
            StatusCode::ACCEPTED,
        ),
        other => {
            let msg = format!("no version action {other:?}; expected approve or submit");
            return ApiError::new(StatusCode::NOT_FOUND, "unknown_action", msg).into_response();
        }
    };
    match result {
        Ok(v) => (ok, Json(v)).into_response(),
        Err(e) => governance_error(e),
    }
}

/// Checks a template send's `components` against the approved definition: `ok` or the problems
/// with the Meta error code each one prevents.
async fn validate_send(
    State(api): State<Arc<ReadApi>>,
    Path((name, lang)): Path<(String, String)>,
    Json(components): Json<serde_json::Value>,
) -> Response {
    let res = switchboard_app::governance::validate_send(
        api.table.as_ref(),
        &api.tenant,
        &name,
        &lang,
        &components,
    )
    .await;
    match res {
        Ok(problems) => {
            Json(json!({"ok": problems.is_empty(), "problems": problems})).into_response()
        }
        Err(e) => store_error(e).into_response(),
    }
}

/// A handoff action on a conversation: `{"action": "accept"}`, `{"action": "transfer", "queue":
/// "finance", "to_agent": null}`, `resolve`, `return_to_bot`, `reply`, `request`. The acting
/// person comes from `x-switchboard-user` and `x-switchboard-role: agent|lead` until operator
/// authentication lands.
async fn handoff_action(
    State(api): State<Arc<ReadApi>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Json(action): Json<switchboard_core::handoff::Action>,
) -> Response {
    use switchboard_app::handoff::HandoffServiceError as E;
    use switchboard_core::handoff::{Actor as HActor, HandoffError};
    let (user, role) = match operator(&headers) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let actor = match role.as_deref() {
        Some("agent") => HActor::Agent(user.to_string()),
        Some("lead") => HActor::Lead(user.to_string()),
        _ => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "no_role",
                "x-switchboard-role must be agent or lead",
            )
            .into_response()
        }
    };
    match api.handoff.act(&api.tenant, &id, &actor, &action).await {
        Ok(v) => Json(v).into_response(),
        Err(e @ E::NotFound(_)) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()).into_response()
        }
        Err(E::Refused(r @ (HandoffError::NotOwner { .. } | HandoffError::NeedsPerson))) => {
            ApiError::new(StatusCode::FORBIDDEN, "not_owner", r.to_string()).into_response()
        }
        Err(E::Refused(r)) => {
            ApiError::new(StatusCode::CONFLICT, "refused", r.to_string()).into_response()
        }
        Err(e @ E::Contention) => {
            ApiError::new(StatusCode::CONFLICT, "contention", e.to_string()).into_response()
        }
        Err(e) => store_error(e).into_response(),
    }
}

/// The context packet an agent reads on accepting (intent history, last turns, entities, reason,
/// media, window).
async fn context_packet(State(api): State<Arc<ReadApi>>, Path(id): Path<String>) -> Response {
    match queries::context_packet(
        api.table.as_ref(),
        api.clock.as_ref(),
        api.blobs.as_ref(),
        &api.sla,
        &api.tenant,
        &id,
    )
    .await
    {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => store_error(e).into_response(),
    }
}
