//! The operator's side of handoff and the outbound gate: work queues ordered by priority and
//! deadline, replies that go through the gate (and say which templates fit when the window is
//! closed), business-initiated sends, the consent ledger, the audit trail, SLA events and the
//! handoff and deflection rates.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_app::outbound::OutboundError;
use switchboard_core::consent::{ConsentKind, ConsentRecord};
use switchboard_core::handoff::{Action, Actor};
use switchboard_core::outbound::{Content, Origin, Refusal, SendRequest};

use crate::api::{store_error, ReadApi};
use crate::auth::{Operator, Role};
use crate::catalog::{q, Handler, Kind, Route, AGENTS, PERIOD};
use crate::ApiError;

/// What to send (text, interactive or template) plus the fields the route adds.
fn send_schema(required: &[&str], extra: Value) -> Value {
    let mut schema = json!({"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["text", "interactive", "template"]},
                "body": {"type": "string", "maxLength": 4096},
                "preview_url": {"type": "boolean"},
                "interactive": {"type": "object"},
                "name": {"type": "string"}, "language": {"type": "string"},
                "components": {"type": "array", "items": {"type": "object"}}}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        schema["properties"][k] = v.clone();
    }
    let mut req = vec![json!("type")];
    req.extend(required.iter().map(|r| json!(r)));
    schema["required"] = json!(req);
    schema
}

pub(crate) fn routes() -> Vec<(Route, Handler)> {
    use crate::catalog::Method::{Get, Post};
    vec![
        (
            Route::new(Get, "/api/queues", "handoff",
                "Work queues: conversations awaiting or owned by agents, by priority then deadline")
                .query(&[q("queue", Kind::Str, "one queue only")]),
            get(list_queues),
        ),
        (
            Route::new(Post, "/api/conversations/{id}/reply", "handoff",
                "Reply as the owning agent (or a lead) through the outbound gate")
                .roles(AGENTS)
                .body(send_schema(&["idempotency_key"], json!({"idempotency_key": {"type": "string", "minLength": 1}}))),
            post(reply),
        ),
        (
            Route::new(Get, "/api/conversations/{id}/templates", "handoff",
                "The window and the approved templates that fit when it is closed"),
            get(fitting_templates),
        ),
        (
            Route::new(Get, "/api/conversations/{id}/consent", "consent",
                "The contact's consent state and append-only ledger"),
            get(read_consent),
        ),
        (
            Route::new(Post, "/api/conversations/{id}/consent", "consent",
                "Record consent given or withdrawn outside WhatsApp, with its evidence")
                .roles(&[Role::Agent, Role::Lead, Role::Admin])
                .body(json!({"type": "object", "required": ["kind", "source", "evidence"], "properties": {
                    "kind": {"type": "string", "enum": ["opt_in", "opt_out", "marketing_stop", "marketing_resume"]},
                    "source": {"type": "string", "minLength": 1}, "evidence": {"type": "string", "minLength": 1}}})),
            post(record_consent),
        ),
        (
            Route::new(Post, "/api/sends", "sends",
                "A business-initiated send (notification, campaign) through the gate")
                .roles(&[Role::Lead, Role::Admin])
                .body(send_schema(&["conversation_id", "idempotency_key"], json!({
                    "conversation_id": {"type": "string", "minLength": 1},
                    "idempotency_key": {"type": "string", "minLength": 1}}))),
            post(business_send),
        ),
        (
            Route::new(Get, "/api/sends/{key}", "sends", "One send record and its outcome"),
            get(get_send),
        ),
        (
            Route::new(Get, "/api/audit", "audit", "The audit trail of one day")
                .roles(&[Role::Lead, Role::Approver, Role::Admin])
                .query(&[
                    q("date", Kind::Str, "YYYY-MM-DD (UTC), today when absent"),
                    q("conversation_id", Kind::Str, "one conversation's entries"),
                    q("limit", Kind::Int, "at most this many (5000)"),
                ]),
            get(audit_trail),
        ),
        (
            Route::new(Get, "/api/sla/events", "metrics", "SLA warnings and breaches in a period")
                .query(PERIOD),
            get(sla_events),
        ),
        (
            Route::new(Get, "/api/metrics/handoff", "metrics",
                "Handoff and deflection rates from the event log")
                .query(&[
                    q("from", Kind::Int, "unix seconds, inclusive"),
                    q("to", Kind::Int, "unix seconds, exclusive"),
                    q("reopen_days", Kind::Int, "days a deflected conversation must stay closed"),
                ]),
            get(handoff_metrics),
        ),
        (
            Route::new(Get, "/api/metrics", "metrics",
                "Every product metric from the roll-ups, with its definitions' version")
                .query(&[
                    q("from", Kind::Int, "unix seconds, inclusive"),
                    q("to", Kind::Int, "unix seconds, exclusive"),
                    q("queue", Kind::Str, "one queue only"),
                    q("reopen_days", Kind::Int, "days a deflected conversation must stay closed"),
                ]),
            get(metrics),
        ),
        (
            Route::new(Get, "/api/diagnostic", "metrics",
                "The seven-question diagnostic, scored 0-7 from this deployment's data"),
            get(diagnostic),
        ),
    ]
}

#[derive(Deserialize)]
struct QueueParams {
    queue: Option<String>,
}

async fn list_queues(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<QueueParams>,
) -> Response {
    match switchboard_app::sla::queues(
        api.table.as_ref(),
        &api.sla,
        &op.tenant,
        api.clock.now(),
        p.queue.as_deref(),
    )
    .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct SendBody {
    /// One send per key: a retried request (double click, network retry) sends nothing new.
    idempotency_key: String,
    #[serde(flatten)]
    content: Content,
}

/// The handoff actor an operator acts as: a lead's powers when they hold the role (the route
/// only lets agents and leads through).
pub(crate) fn handoff_actor(op: &Operator) -> Actor {
    if op.has(Role::Lead) {
        Actor::Lead(op.user.clone())
    } else {
        Actor::Agent(op.user.clone())
    }
}

/// A refused send, with what the operator can do instead.
async fn refusal(api: &ReadApi, tenant: &str, r: Refusal) -> Response {
    let (status, templates) = match r {
        Refusal::WindowClosed => (
            StatusCode::CONFLICT,
            api.outbound
                .fitting_templates(tenant)
                .await
                .unwrap_or_default(),
        ),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
    };
    let mut body = json!({"error": {"code": r.code(), "message": r.to_string(), "detail": r}});
    if !templates.is_empty() || r == Refusal::WindowClosed {
        body["templates"] = json!(templates);
    }
    (status, Json(body)).into_response()
}

async fn outbound_error(api: &ReadApi, tenant: &str, e: OutboundError) -> Response {
    match e {
        OutboundError::Refused(r) => refusal(api, tenant, r).await,
        OutboundError::NotFound(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no conversation {id:?}"),
        )
        .into_response(),
        OutboundError::Invalid(m) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid", m).into_response()
        }
        e => store_error(e).into_response(),
    }
}

/// An agent's reply: only the owner (or a lead) may reply; the gate checks window, consent and
/// template; the message is queued for the sender and the conversation waits on the customer.
async fn reply(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
    Json(body): Json<SendBody>,
) -> Response {
    use switchboard_app::handoff::HandoffServiceError as E;
    let actor = handoff_actor(&op);
    let origin = Origin::Agent {
        name: op.user.clone(),
    };
    match api
        .handoff
        .check(&op.tenant, &id, &actor, &Action::Reply)
        .await
    {
        Ok(()) => {}
        Err(E::NotFound(_)) => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no conversation {id:?}"),
            )
            .into_response()
        }
        Err(E::Refused(r)) => {
            return ApiError::new(StatusCode::FORBIDDEN, "not_owner", r.to_string()).into_response()
        }
        Err(e) => return store_error(e).into_response(),
    }
    let req = SendRequest {
        tenant: op.tenant.clone(),
        conversation_id: id.clone(),
        idempotency_key: body.idempotency_key,
        origin,
        content: body.content,
        in_reply_to: None,
        requested_at: api.clock.now(),
    };
    let (send, fresh) = match api.outbound.request_detailed(req).await {
        Ok(s) => s,
        Err(e) => return outbound_error(&api, &op.tenant, e).await,
    };
    // A replay records the reply only if the first request stopped before doing so (its send
    // is still waiting to be queued).
    if !fresh && send["status"] != "queued" {
        return (StatusCode::ACCEPTED, Json(json!({"send": send}))).into_response();
    }
    let state = match api
        .handoff
        .act(&op.tenant, &id, &actor, &Action::Reply)
        .await
    {
        Ok(v) => v,
        // Queued already; the state change lost a race (a transfer meanwhile) — report it.
        Err(e) => json!({"warning": e.to_string()}),
    };
    (
        StatusCode::ACCEPTED,
        Json(json!({"send": send, "conversation": state})),
    )
        .into_response()
}

async fn fitting_templates(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    let conv = match switchboard_app::queries::get_conversation(
        api.table.as_ref(),
        api.clock.as_ref(),
        &op.tenant,
        &id,
    )
    .await
    {
        Ok(Some(c)) => c,
        Ok(None) => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no conversation {id:?}"),
            )
            .into_response()
        }
        Err(e) => return store_error(e).into_response(),
    };
    match api.outbound.fitting_templates(&op.tenant).await {
        Ok(t) => Json(json!({"window": conv.window, "templates": t})).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct BusinessSend {
    conversation_id: String,
    idempotency_key: String,
    #[serde(flatten)]
    content: Content,
}

/// A business-initiated send (a notification, a campaign message) by a business system or a lead.
async fn business_send(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Json(body): Json<BusinessSend>,
) -> Response {
    let req = SendRequest {
        tenant: op.tenant.clone(),
        conversation_id: body.conversation_id,
        idempotency_key: body.idempotency_key,
        origin: Origin::System {
            name: op.user.clone(),
        },
        content: body.content,
        in_reply_to: None,
        requested_at: api.clock.now(),
    };
    match api.outbound.request(req).await {
        Ok(s) => (StatusCode::ACCEPTED, Json(json!({"send": s}))).into_response(),
        Err(e) => outbound_error(&api, &op.tenant, e).await,
    }
}

async fn get_send(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(key): Path<String>,
) -> Response {
    match api.outbound.get(&op.tenant, &key).await {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no send {key:?}"),
        )
        .into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

async fn contact_of(api: &ReadApi, tenant: &str, id: &str) -> Result<String, Response> {
    let key = switchboard_core::keys::conversation(tenant, id).into();
    match api.table.get(&key).await {
        Ok(Some(c)) => c
            .get("contact_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no contact").into_response()
            }),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no conversation {id:?}"),
        )
        .into_response()),
        Err(e) => Err(store_error(e).into_response()),
    }
}

async fn read_consent(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    let contact = match contact_of(&api, &op.tenant, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match switchboard_app::consent::ledger(api.table.as_ref(), &op.tenant, &contact).await {
        Ok(ledger) => {
            let state = switchboard_core::consent::ConsentState::fold(&ledger);
            Json(json!({"contact_id": contact, "state": state, "ledger": ledger})).into_response()
        }
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct ConsentBody {
    kind: ConsentKind,
    /// Where the consent was given: `web_form`, `sms`, `in_store`, `ivr`, `whatsapp`, …
    source: String,
    /// What proves it: a form submission id, a recording reference, a signed paper's id.
    evidence: String,
}

/// Records consent given or withdrawn outside WhatsApp. Append-only: a mistake is corrected by a
/// new entry, never by editing an old one.
async fn record_consent(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Path(id): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Response {
    let user = op.user.clone();
    if body.source.trim().is_empty() || body.evidence.trim().is_empty() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "consent needs a source and evidence",
        )
        .into_response();
    }
    let contact = match contact_of(&api, &op.tenant, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let record = ConsentRecord {
        kind: body.kind,
        source: body.source,
        evidence: body.evidence,
        at: api.clock.now(),
        actor: Some(user.clone()),
    };
    let audit = switchboard_app::audit::op(
        &op.tenant,
        api.clock.now_millis(),
        &format!("consent:{contact}:{}", record.at),
        switchboard_app::audit::Entry {
            actor: format!("operator:{user}"),
            action: format!("consent.{}", record.kind.as_str()),
            conversation_id: Some(id.clone()),
            detail: json!({"source": record.source, "evidence": record.evidence, "contact_id": contact}),
        },
    );
    let ops = vec![
        switchboard_app::consent::append_op(&op.tenant, &contact, &record),
        audit,
    ];
    match api.table.transact(ops).await {
        Ok(()) => (StatusCode::CREATED, Json(json!({"recorded": record}))).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct AuditParams {
    /// `YYYY-MM-DD` (UTC); today when absent.
    date: Option<String>,
    conversation_id: Option<String>,
    limit: Option<usize>,
}

/// Unix time of a `YYYY-MM-DD` (UTC) date.
fn parse_date(d: &str) -> Option<i64> {
    let mut it = d.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (it.next()??, it.next()??, it.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant), the inverse of keys::civil_date.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = days * 86_400;
    (switchboard_core::keys::civil_date(t) == d).then_some(t)
}

async fn audit_trail(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<AuditParams>,
) -> Response {
    let day = match p.date.as_deref() {
        None => api.clock.now(),
        Some(d) => match parse_date(d) {
            Some(t) => t,
            None => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "date must be YYYY-MM-DD",
                )
                .into_response()
            }
        },
    };
    match switchboard_app::audit::list(
        api.table.as_ref(),
        &op.tenant,
        day,
        p.conversation_id.as_deref(),
        p.limit.unwrap_or(500).min(5000),
    )
    .await
    {
        Ok(entries) => Json(json!({"entries": entries})).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

#[derive(Deserialize)]
struct RangeParams {
    from: Option<i64>,
    to: Option<i64>,
    reopen_days: Option<i64>,
}

/// Timestamps past this (year 36812) are typos or attacks, not periods.
pub(crate) const MAX_UNIX_SECS: i64 = 1 << 40;

fn range(api: &ReadApi, p: &RangeParams) -> Result<(i64, i64), ApiError> {
    let now = api.clock.now();
    let to = p.to.unwrap_or(now + 1);
    let from = p.from.unwrap_or(to.saturating_sub(7 * 86_400));
    if !(0..=MAX_UNIX_SECS).contains(&from)
        || !(0..=MAX_UNIX_SECS).contains(&to)
        || to <= from
        || to - from > 366 * 86_400
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "from must be before to, both unix seconds, at most a year apart",
        ));
    }
    Ok((from, to))
}

async fn sla_events(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<RangeParams>,
) -> Response {
    let (from, to) = match range(&api, &p) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match switchboard_app::outbox::read_log(api.table.as_ref(), &op.tenant, from, to).await {
        Ok(items) => {
            let events: Vec<Value> = items
                .into_iter()
                .filter(|i| {
                    i.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.starts_with("sla."))
                })
                .map(|i| json!({"type": i.get("type"), "at": i.get("at"), "detail": i.get("detail")}))
                .collect();
            Json(json!({"events": events})).into_response()
        }
        Err(e) => store_error(e).into_response(),
    }
}

async fn handoff_metrics(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<RangeParams>,
) -> Response {
    let (from, to) = match range(&api, &p) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let reopen_days = p.reopen_days.unwrap_or(3).clamp(0, 90);
    match switchboard_app::metrics::handoff_and_deflection_from_log(
        api.table.as_ref(),
        &op.tenant,
        from,
        to,
        api.clock.now(),
        reopen_days,
    )
    .await
    {
        Ok(m) => Json(json!({"from": from, "to": to, "reopen_days": reopen_days, "metrics": m}))
            .into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_parse_back_to_their_day() {
        assert_eq!(super::parse_date("1970-01-01"), Some(0));
        assert_eq!(super::parse_date("2026-11-22"), Some(1_795_305_600));
        assert_eq!(super::parse_date("2026-02-30"), None);
        assert_eq!(super::parse_date("yesterday"), None);
    }
}

#[derive(Deserialize)]
struct MetricsParams {
    from: Option<i64>,
    to: Option<i64>,
    queue: Option<String>,
    reopen_days: Option<i64>,
}

/// The product metrics from the roll-ups (O(days)), with their definitions' version.
async fn metrics(
    State(api): State<Arc<ReadApi>>,
    op: Operator,
    Query(p): Query<MetricsParams>,
) -> Response {
    let (from, to) = match range(
        &api,
        &RangeParams {
            from: p.from,
            to: p.to,
            reopen_days: None,
        },
    ) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match switchboard_app::metrics::report(
        api.table.as_ref(),
        &op.tenant,
        from,
        to,
        p.queue.as_deref().filter(|q| !q.is_empty()),
        api.clock.now(),
        p.reopen_days.unwrap_or(3).clamp(0, 90),
    )
    .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}

/// The seed's seven-question diagnostic, answered from this deployment's data.
async fn diagnostic(State(api): State<Arc<ReadApi>>, op: Operator) -> Response {
    let taxonomy = switchboard_core::triage::taxonomy::Taxonomy::default_taxonomy();
    let own = taxonomy
        .intents
        .iter()
        .filter(|i| i.threshold.is_some())
        .count();
    match switchboard_app::metrics::diagnostic(
        api.table.as_ref(),
        api.blobs.as_ref(),
        &op.tenant,
        api.clock.now(),
        own,
        taxonomy.intents.len(),
    )
    .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e).into_response(),
    }
}
