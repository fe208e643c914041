//! The operator's side of handoff and the outbound gate: work queues ordered by priority and
//! deadline, replies that go through the gate (and say which templates fit when the window is
//! closed), business-initiated sends, the consent ledger, the audit trail, SLA events and the
//! handoff and deflection rates.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_app::outbound::OutboundError;
use switchboard_core::consent::{ConsentKind, ConsentRecord};
use switchboard_core::handoff::{Action, Actor};
use switchboard_core::outbound::{Content, Origin, Refusal, SendRequest};

use crate::api::{operator, store_error, ReadApi};
use crate::ApiError;

pub fn operate_router(api: Arc<ReadApi>) -> Router {
    Router::new()
        .route("/api/queues", get(list_queues))
        .route("/api/conversations/{id}/reply", post(reply))
        .route("/api/conversations/{id}/templates", get(fitting_templates))
        .route(
            "/api/conversations/{id}/consent",
            get(read_consent).post(record_consent),
        )
        .route("/api/sends", post(business_send))
        .route("/api/sends/{key}", get(get_send))
        .route("/api/audit", get(audit_trail))
        .route("/api/sla/events", get(sla_events))
        .route("/api/metrics/handoff", get(handoff_metrics))
        .route("/api/metrics", get(metrics))
        .route("/api/diagnostic", get(diagnostic))
        .with_state(api)
}

#[derive(Deserialize)]
struct QueueParams {
    queue: Option<String>,
}

async fn list_queues(State(api): State<Arc<ReadApi>>, Query(p): Query<QueueParams>) -> Response {
    match switchboard_app::sla::queues(
        api.table.as_ref(),
        &api.sla,
        &api.tenant,
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

fn agent_actor(headers: &HeaderMap) -> Result<(Actor, Origin), ApiError> {
    let (user, role) = operator(headers)?;
    let actor = match role.as_deref() {
        Some("agent") => Actor::Agent(user.clone()),
        Some("lead") => Actor::Lead(user.clone()),
        _ => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "no_role",
                "replying needs the agent or lead role",
            ))
        }
    };
    Ok((actor, Origin::Agent { name: user }))
}

/// A refused send, with what the operator can do instead.
async fn refusal(api: &ReadApi, r: Refusal) -> Response {
    let (status, templates) = match r {
        Refusal::WindowClosed => (
            StatusCode::CONFLICT,
            api.outbound
                .fitting_templates(&api.tenant)
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

async fn outbound_error(api: &ReadApi, e: OutboundError) -> Response {
    match e {
        OutboundError::Refused(r) => refusal(api, r).await,
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
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<SendBody>,
) -> Response {
    use switchboard_app::handoff::HandoffServiceError as E;
    let (actor, origin) = match agent_actor(&headers) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match api
        .handoff
        .check(&api.tenant, &id, &actor, &Action::Reply)
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
        tenant: api.tenant.clone(),
        conversation_id: id.clone(),
        idempotency_key: body.idempotency_key,
        origin,
        content: body.content,
        in_reply_to: None,
        requested_at: api.clock.now(),
    };
    let (send, fresh) = match api.outbound.request_detailed(req).await {
        Ok(s) => s,
        Err(e) => return outbound_error(&api, e).await,
    };
    // A replay records the reply only if the first request stopped before doing so (its send
    // is still waiting to be queued).
    if !fresh && send["status"] != "queued" {
        return (StatusCode::ACCEPTED, Json(json!({"send": send}))).into_response();
    }
    let state = match api
        .handoff
        .act(&api.tenant, &id, &actor, &Action::Reply)
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

async fn fitting_templates(State(api): State<Arc<ReadApi>>, Path(id): Path<String>) -> Response {
    let conv = match switchboard_app::queries::get_conversation(
        api.table.as_ref(),
        api.clock.as_ref(),
        &api.tenant,
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
    match api.outbound.fitting_templates(&api.tenant).await {
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
    headers: HeaderMap,
    Json(body): Json<BusinessSend>,
) -> Response {
    let (user, role) = match operator(&headers) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    if !matches!(role.as_deref(), Some("lead" | "admin" | "system")) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "no_role",
            "business-initiated sends need the lead, admin or system role",
        )
        .into_response();
    }
    let req = SendRequest {
        tenant: api.tenant.clone(),
        conversation_id: body.conversation_id,
        idempotency_key: body.idempotency_key,
        origin: Origin::System { name: user },
        content: body.content,
        in_reply_to: None,
        requested_at: api.clock.now(),
    };
    match api.outbound.request(req).await {
        Ok(s) => (StatusCode::ACCEPTED, Json(json!({"send": s}))).into_response(),
        Err(e) => outbound_error(&api, e).await,
    }
}

async fn get_send(State(api): State<Arc<ReadApi>>, Path(key): Path<String>) -> Response {
    match api.outbound.get(&api.tenant, &key).await {
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

async fn contact_of(api: &ReadApi, id: &str) -> Result<String, Response> {
    let key = switchboard_core::keys::conversation(&api.tenant, id).into();
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

async fn read_consent(State(api): State<Arc<ReadApi>>, Path(id): Path<String>) -> Response {
    let contact = match contact_of(&api, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match switchboard_app::consent::ledger(api.table.as_ref(), &api.tenant, &contact).await {
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
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Response {
    let (user, role) = match operator(&headers) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    if !matches!(role.as_deref(), Some("agent" | "lead" | "admin" | "system")) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "no_role",
            "recording consent needs a role",
        )
        .into_response();
    }
    if body.source.trim().is_empty() || body.evidence.trim().is_empty() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "consent needs a source and evidence",
        )
        .into_response();
    }
    let contact = match contact_of(&api, &id).await {
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
        &api.tenant,
        api.clock.now_millis(),
        &format!("consent:{contact}:{}", record.at),
        switchboard_app::audit::Entry {
            actor: format!("{}:{user}", role.as_deref().unwrap_or("operator")),
            action: format!("consent.{}", record.kind.as_str()),
            conversation_id: Some(id.clone()),
            detail: json!({"source": record.source, "evidence": record.evidence, "contact_id": contact}),
        },
    );
    let ops = vec![
        switchboard_app::consent::append_op(&api.tenant, &contact, &record),
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

async fn audit_trail(State(api): State<Arc<ReadApi>>, Query(p): Query<AuditParams>) -> Response {
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
        &api.tenant,
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

fn range(api: &ReadApi, p: &RangeParams) -> Result<(i64, i64), ApiError> {
    let now = api.clock.now();
    let to = p.to.unwrap_or(now + 1);
    let from = p.from.unwrap_or(to - 7 * 86_400);
    if to <= from || to - from > 366 * 86_400 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "from must be before to, at most a year apart",
        ));
    }
    Ok((from, to))
}

async fn sla_events(State(api): State<Arc<ReadApi>>, Query(p): Query<RangeParams>) -> Response {
    let (from, to) = match range(&api, &p) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match switchboard_app::outbox::read_log(api.table.as_ref(), &api.tenant, from, to).await {
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
    Query(p): Query<RangeParams>,
) -> Response {
    let (from, to) = match range(&api, &p) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let reopen_days = p.reopen_days.unwrap_or(3).clamp(0, 90);
    match switchboard_app::metrics::handoff_and_deflection_from_log(
        api.table.as_ref(),
        &api.tenant,
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
async fn metrics(State(api): State<Arc<ReadApi>>, Query(p): Query<MetricsParams>) -> Response {
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
        &api.tenant,
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
async fn diagnostic(State(api): State<Arc<ReadApi>>) -> Response {
    let taxonomy = switchboard_core::triage::taxonomy::Taxonomy::default_taxonomy();
    let own = taxonomy
        .intents
        .iter()
        .filter(|i| i.threshold.is_some())
        .count();
    match switchboard_app::metrics::diagnostic(
        api.table.as_ref(),
        api.blobs.as_ref(),
        &api.tenant,
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
