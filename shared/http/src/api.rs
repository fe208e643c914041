//! The read API: conversations with their contact, state and window; messages oldest first;
//! tenant-level notices (template and account updates, unparsed bodies).
//!
//! Every query is scoped to the tenant the caller's token names.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_app::queries::MediaQuery;
use switchboard_app::queries::{self, QueryError};
use switchboard_app::{BlobStore, Clock, Table};

use crate::auth::{Authenticator, Operator, Role};
use crate::catalog::{q, Handler, Kind, Param, Route, AGENTS, PERIOD};
use crate::ApiError;

pub struct ReadApi {
    pub table: Arc<dyn Table>,
    /// Presigns download URLs for media search results.
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// How callers prove who they are; their token names their tenant.
    pub auth: Authenticator,
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
    /// Dead-letter queues, for their admins in the operations tenant.
    pub dead_letters: Option<Arc<crate::dead_letters::DeadLetters>>,
    /// The demo's customer simulator (`switchboard serve --demo` only).
    pub simulator: Option<Arc<dyn crate::demo::Simulator>>,
}

const PAGE: &[Param] = &[
    q("limit", Kind::Int, "page size (at most 200)"),
    q("cursor", Kind::Str, "the previous page's next_cursor"),
];

fn any_object() -> Value {
    json!({"type": "object"})
}

pub(crate) fn routes() -> Vec<(Route, Handler)> {
    use crate::catalog::Method::{Get, Post};
    vec![
        (
            Route::new(Get, "/api/conversations", "conversations",
                "Conversations, most recent first, with state, owner, window, triage and SLA")
                .query(&[
                    q("state", Kind::Str, "bot, awaiting_agent, assigned, resolved, closed"),
                    q("limit", Kind::Int, "page size (at most 200)"),
                    q("cursor", Kind::Str, "the previous page's next_cursor"),
                ]),
            get(list_conversations),
        ),
        (
            Route::new(Get, "/api/conversations/{id}", "conversations", "One conversation"),
            get(get_conversation),
        ),
        (
            Route::new(Get, "/api/conversations/{id}/messages", "conversations",
                "A conversation's messages, oldest first").query(PAGE),
            get(list_messages),
        ),
        (
            Route::new(Get, "/api/conversations/{id}/context", "handoff",
                "The context packet: intents, last turns, entities, reason, media, window, SLA"),
            get(context_packet),
        ),
        (
            Route::new(Post, "/api/conversations/{id}/handoff", "handoff",
                "accept, transfer (leads to another agent), resolve, return_to_bot, request")
                .roles(AGENTS)
                .body(json!({"type": "object", "required": ["action"], "properties": {
                    "action": {"type": "string", "enum": ["request", "accept", "transfer", "resolve", "return_to_bot", "reply"]},
                    "queue": {"type": "string"}, "reason": {"type": "string"},
                    "to_agent": {"type": "string", "nullable": true}}})),
            post(handoff_action),
        ),
        (
            Route::new(Get, "/api/notices", "notices",
                "Template and account notices; scope=unrouted (admins) for events nobody owns")
                .query(&[
                    q("field", Kind::Str, "the webhook field, e.g. message_template_status_update"),
                    q("limit", Kind::Int, "at most this many"),
                    q("scope", Kind::Str, "unrouted (admins only)"),
                ]),
            get(list_notices),
        ),
        (
            Route::new(Get, "/api/media", "media", "Media search with presigned download URLs")
                .query(&[
                    q("conversation_id", Kind::Str, "one conversation's media"),
                    q("type", Kind::Str, "image, video, audio, document, sticker"),
                    q("from", Kind::Int, "unix seconds, inclusive"),
                    q("to", Kind::Int, "unix seconds, inclusive"),
                    q("filename", Kind::Str, "substring of the original filename"),
                    q("sender", Kind::Str, "contact id, phone number or BSUID"),
                    q("status", Kind::Str, "pending, stored, quarantined, lost, unrecoverable"),
                    q("limit", Kind::Int, "page size"),
                    q("cursor", Kind::Str, "the previous page's next_cursor"),
                ]),
            get(search_media),
        ),
        (
            Route::new(Post, "/api/templates/lint", "templates",
                "Lint a template (Meta's create payload) before review").body(any_object()),
            post(lint_template).layer(axum::extract::DefaultBodyLimit::max(MAX_TEMPLATE_BYTES)),
        ),
        (
            Route::new(Get, "/api/templates/analytics", "templates",
                "Rejection rate per category and reasons over a period").query(PERIOD),
            get(template_analytics),
        ),
        (
            Route::new(Post, "/api/templates/drafts", "templates",
                "Save a new draft version (linted; authors are agents, leads and admins)")
                .roles(&[Role::Agent, Role::Lead, Role::Admin])
                .body(any_object()),
            post(save_draft),
        ),
        (
            Route::new(Post, "/api/templates/{name}/{lang}/validate-send", "templates",
                "Check a send's parameters against the approved template")
                .body(json!({"type": "array", "items": {"type": "object"}})),
            post(validate_send),
        ),
        (
            Route::new(Post, "/api/templates/{name}/{lang}/versions/{version}/approve", "templates",
                "Approve a draft version (never your own)")
                .roles(&[Role::Approver, Role::Admin]),
            post(approve_version),
        ),
        (
            Route::new(Post, "/api/templates/{name}/{lang}/versions/{version}/submit", "templates",
                "Submit an approved version to Meta's review")
                .roles(&[Role::Agent, Role::Lead, Role::Approver, Role::Admin]),
            post(submit_version),
        ),
        (
            Route::new(Get, "/api/templates/{name}", "templates",
                "A template's status per language and its history"),
            get(template_history),
        ),
    ]
}

#[derive(Deserialize)]
struct ListParams {
    state: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A storage failure as the API answers it: a request the store refused as invalid (a forged
/// cursor, a period beyond what the log keeps) is the caller's 400; anything else is a 503 to
/// retry, logged without its detail reaching the caller.
pub(crate) fn store_error<E: std::fmt::Display + 'static>(e: E) -> ApiError {
    use switchboard_app::ports::StoreError;
    if let Some(StoreError::Invalid(why)) = (&e as &dyn std::any::Any).downcast_ref::<StoreError>()
    {
        return ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", why.clone());
    }
    tracing::error!(error = %e, "storage error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        "storage is unavailable; retry later",
    )
}

async fn list_conversations(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<ListParams>,
) -> Response {
    let state = p.state.as_deref().filter(|s| !s.is_empty());
    match queries::inbox(
        api.table.as_ref(),
        api.clock.as_ref(),
        Some(&api.sla),
        &op.tenant,
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

async fn get_conversation(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    match queries::get_conversation(api.table.as_ref(), api.clock.as_ref(), &op.tenant, &id).await {
        Ok(Some(c)) => Json(c).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => store_error(e).into_response(),
    }
}

async fn list_messages(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    match queries::list_messages(
        api.table.as_ref(),
        &op.tenant,
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

async fn list_notices(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<NoticeParams>,
) -> Response {
    let tenant = match p.scope.as_deref() {
        None | Some("") => op.tenant.as_str(),
        Some(switchboard_core::keys::UNROUTED_TENANT) if op.has(Role::Admin) => {
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

async fn search_media(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(q): Query<MediaQuery>,
) -> Response {
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
    match queries::search_media(api.table.as_ref(), api.blobs.as_ref(), &op.tenant, &q).await {
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
    op: Operator,
    Query(p): Query<PeriodParams>,
) -> Response {
    let to = p.to.unwrap_or_else(|| api.clock.now());
    let from = p.from.unwrap_or(to.saturating_sub(30 * 24 * 3600));
    let valid = 0..=crate::operate::MAX_UNIX_SECS;
    if !valid.contains(&from) || !valid.contains(&to) || to < from {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "from and to are unix seconds, from before to",
        )
        .into_response();
    }
    match switchboard_app::templates::rejection_analytics(api.table.as_ref(), &op.tenant, from, to)
        .await
    {
        Ok(a) => Json(a).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

/// A template's current status per language and its history, rejection reasons included.
async fn template_history(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(name): Path<String>,
) -> Response {
    match switchboard_app::templates::template_history(api.table.as_ref(), &op.tenant, &name).await
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

use switchboard_app::governance::{Actor, GovernanceError, Role as GovRole};

/// The governance actor: authors write drafts; approvers (or admins) approve and submit. The
/// route's roles already admitted the operator.
fn gov_actor(op: &Operator, reviewing: bool) -> Actor {
    let role = if reviewing {
        if op.has(Role::Approver) {
            GovRole::Approver
        } else {
            GovRole::Admin
        }
    } else if op.has_any(AGENTS) {
        GovRole::Author
    } else {
        GovRole::Admin
    };
    Actor {
        user: op.user.clone(),
        role,
    }
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
    op: Operator,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let actor = gov_actor(&op, false);
    match api.governance.save_draft(&op.tenant, &actor, body).await {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => governance_error(e),
    }
}

type VersionPath = Path<(String, String, i64)>;

/// Approvers (never the draft's author) approve a version.
async fn approve_version(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path((name, lang, version)): VersionPath,
) -> Response {
    let actor = gov_actor(&op, true);
    match api
        .governance
        .approve(&op.tenant, &actor, &name, &lang, version)
        .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => governance_error(e),
    }
}

/// Queues an approved version for Meta's review.
async fn submit_version(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path((name, lang, version)): VersionPath,
) -> Response {
    let actor = gov_actor(&op, false);
    match api
        .governance
        .submit(&op.tenant, &actor, &name, &lang, version)
        .await
    {
        Ok(v) => (StatusCode::ACCEPTED, Json(v)).into_response(),
        Err(e) => governance_error(e),
    }
}

/// Checks a template send's `components` against the approved definition: `ok` or the problems
/// with the Meta error code each one prevents.
async fn validate_send(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path((name, lang)): Path<(String, String)>,
    Json(components): Json<serde_json::Value>,
) -> Response {
    let res = switchboard_app::governance::validate_send(
        api.table.as_ref(),
        &op.tenant,
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
/// "finance", "to_agent": null}`, `resolve`, `return_to_bot`, `reply`, `request`, by the token's
/// operator (as a lead when they hold the role).
async fn handoff_action(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
    Json(action): Json<switchboard_core::handoff::Action>,
) -> Response {
    use switchboard_app::handoff::HandoffServiceError as E;
    use switchboard_core::handoff::HandoffError;
    let actor = crate::operate::handoff_actor(&op);
    match api.handoff.act(&op.tenant, &id, &actor, &action).await {
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
async fn context_packet(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    match queries::context_packet(
        api.table.as_ref(),
        api.clock.as_ref(),
        api.blobs.as_ref(),
        &api.sla,
        &op.tenant,
        &id,
    )
    .await
    {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => store_error(e).into_response(),
    }
}
