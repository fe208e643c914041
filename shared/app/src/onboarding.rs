//! Tenant onboarding as checkpoints. The state machine (statemachines/onboarding.asl.json: Step
//! Functions on AWS, the local executor in `switchboard serve`) sends each step here with a task
//! token; this use case does the step's work (Graph API calls, storage), records the checkpoint
//! an operator sees — status, owner, ETA, started/finished, last error, evidence — and resumes
//! the execution, at once for automatic steps, or later when a person or Meta answers: an
//! operator completing a step in the console, or a webhook (display name review, template
//! status, account updates) arriving through the bus.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_graph::{GraphClient, GraphError};

use crate::ports::table::item;
use crate::ports::{
    Clock, Condition, Executions, FlowError, Index, Item, Key, PinSource, Query, StoreError, Table,
    TaskTokens, TokenSource, Update,
};

/// Who a step waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Switchboard,
    Business,
    Meta,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Switchboard => "switchboard",
            Owner::Business => "business",
            Owner::Meta => "meta",
        }
    }
}

pub struct StepSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub owner: Owner,
    /// Typical duration, for the ETA (Meta's documented or commonly quoted ranges).
    pub eta_secs: i64,
    pub eta_text: &'static str,
}

/// The steps, in the order of the state machine.
pub const STEPS: [StepSpec; 10] = [
    StepSpec {
        name: "create_tenant",
        title: "Create the tenant and route its number",
        owner: Owner::Switchboard,
        eta_secs: 60,
        eta_text: "seconds",
    },
    StepSpec {
        name: "business_verification",
        title: "Meta business verification",
        owner: Owner::Business,
        eta_secs: 14 * 86_400,
        eta_text: "10 minutes to 14 working days (Meta does not publish a bound)",
    },
    StepSpec {
        name: "request_code",
        title: "Request the phone number's verification code",
        owner: Owner::Switchboard,
        eta_secs: 60,
        eta_text: "seconds",
    },
    StepSpec {
        name: "verify_code",
        title: "Enter the code received by SMS or voice",
        owner: Owner::Business,
        eta_secs: 3600,
        eta_text: "minutes, once someone reads the SMS",
    },
    StepSpec {
        name: "register",
        title: "Register the number for Cloud API with the two-step PIN",
        owner: Owner::Switchboard,
        eta_secs: 60,
        eta_text: "seconds",
    },
    StepSpec {
        name: "display_name_review",
        title: "Display name review",
        owner: Owner::Meta,
        eta_secs: 2 * 86_400,
        eta_text: "hours to days (not documented by Meta)",
    },
    StepSpec {
        name: "subscribe_app",
        title: "Subscribe the app to the WABA's webhooks",
        owner: Owner::Switchboard,
        eta_secs: 60,
        eta_text: "seconds",
    },
    StepSpec {
        name: "self_checks",
        title: "Self-checks: signed test event, token, registration, quality and tier",
        owner: Owner::Switchboard,
        eta_secs: 600,
        eta_text: "minutes (send one message to the number)",
    },
    StepSpec {
        name: "first_templates",
        title: "First templates submitted and approved",
        owner: Owner::Meta,
        eta_secs: 86_400,
        eta_text: "up to 24 hours per review",
    },
    StepSpec {
        name: "go_live",
        title: "Live",
        owner: Owner::Switchboard,
        eta_secs: 60,
        eta_text: "seconds",
    },
];

pub fn spec(step: &str) -> Option<(usize, &'static StepSpec)> {
    STEPS.iter().enumerate().find(|(_, s)| s.name == step)
}

/// The task-token errors the state machine's Retry and Catch match.
pub const RETRYABLE: &str = "Graph.Retryable";
pub const FAILED: &str = "Onboarding.Failed";

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("no onboarding step {0:?}")]
    UnknownStep(String),
    #[error("step {step} is {status}; {what} is not possible now")]
    NotNow {
        step: String,
        status: String,
        what: &'static str,
    },
    #[error("invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Flow(#[from] FlowError),
}

/// A task message, as the state machine's SQS integration sends it.
#[derive(Debug, Deserialize)]
struct TaskMessage {
    step: String,
    tenant: String,
    token: String,
    #[serde(default)]
    execution: Option<String>,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    failed_step: Option<String>,
    #[serde(default)]
    failure: Value,
}

/// The onboarding input (the execution's input document).
#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    pub tenant: String,
    pub phone_number_id: String,
    pub waba_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

fn pk(tenant: &str) -> String {
    format!("T#{tenant}#ONBOARD")
}

fn step_key(tenant: &str, step: &str) -> Key {
    let idx = spec(step).map(|(i, _)| i).unwrap_or(99);
    Key::new(pk(tenant), format!("STEP#{idx:02}#{step}"))
}

fn meta_key(tenant: &str) -> Key {
    Key::new(pk(tenant), "META")
}

fn s<'a>(it: &'a Item, a: &str) -> Option<&'a str> {
    it.get(a).and_then(Value::as_str)
}

/// What a step did: finished now (with its evidence), or waits for someone.
enum Outcome {
    Done(Value),
    Waiting {
        on: Owner,
        note: String,
        evidence: Value,
    },
}

pub struct Onboarding {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub graph: GraphClient,
    pub tokens: Arc<dyn TokenSource>,
    pub pins: Arc<dyn PinSource>,
    pub flow: Arc<dyn TaskTokens>,
    pub executions: Arc<dyn Executions>,
}

impl Onboarding {
    /// Starts onboarding a tenant: the checklist in `pending`, then the execution.
    pub async fn start(&self, input: &Input) -> Result<Value, OnboardingError> {
        for (what, v) in [
            ("phone_number_id", &input.phone_number_id),
            ("waba_id", &input.waba_id),
        ] {
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
                return Err(OnboardingError::Invalid(format!("{what} must be digits")));
            }
        }
        let now = self.clock.now();
        if let Some(m) = self.table.get(&meta_key(&input.tenant)).await? {
            if s(&m, "status") == Some("running") {
                return Err(OnboardingError::Invalid(
                    "an onboarding of this tenant is already running".into(),
                ));
            }
        }
        for (i, st) in STEPS.iter().enumerate() {
            let it = item(
                &step_key(&input.tenant, st.name),
                json!({"kind": "onboarding_step", "step": st.name, "order": i, "title": st.title,
                       "owner": st.owner.as_str(), "status": "pending", "eta_text": st.eta_text,
                       "attempts": 0}),
            );
            self.table.put(it, None).await?;
        }
        let name = format!("{}-{now}", input.tenant);
        let doc = json!({"tenant": input.tenant, "phone_number_id": input.phone_number_id,
                         "waba_id": input.waba_id, "display_name": input.display_name});
        let id = self.executions.start(&name, &doc).await?;
        self.table
            .put(
                item(
                    &meta_key(&input.tenant),
                    json!({"kind": "onboarding", "execution_id": id, "execution_name": name,
                           "status": "running", "started_at": now, "input": doc}),
                ),
                None,
            )
            .await?;
        Ok(json!({"execution_id": id, "execution_name": name}))
    }

    /// The checklist the console shows.
    pub async fn checklist(&self, tenant: &str) -> Result<Value, OnboardingError> {
        let meta = self.table.get(&meta_key(tenant)).await?;
        let mut execution = meta.as_ref().map(|m| {
            json!({"id": m.get("execution_id"), "name": m.get("execution_name"),
                   "status": m.get("status"), "started_at": m.get("started_at")})
        });
        if let (Some(e), Some(id)) = (
            execution.as_mut(),
            meta.as_ref().and_then(|m| s(m, "execution_id")),
        ) {
            if let Ok(d) = self.executions.describe(id).await {
                e["execution_status"] = json!(d.status);
                e["error"] = json!(d.error);
            }
        }
        let mut q = Query::partition(Index::Table, pk(tenant));
        q.sk = crate::ports::SkRange::BeginsWith("STEP#".into());
        let page = self.table.query(&q).await?;
        let steps: Vec<Value> = page
            .items
            .into_iter()
            .map(|mut it| {
                let status = s(&it, "status").unwrap_or("pending").to_string();
                let waiting_on_person = matches!(status.as_str(), "waiting_on_business");
                let actions: Vec<&str> = match status.as_str() {
                    "failed" if it.contains_key("retry_token") => vec!["retry"],
                    _ if waiting_on_person && it.contains_key("token") => vec!["complete"],
                    _ => vec![],
                };
                it.remove("pk");
                it.remove("sk");
                // Tokens resume executions: they stay server-side.
                it.remove("token");
                it.remove("retry_token");
                it.insert("actions".into(), json!(actions));
                Value::Object(it)
            })
            .collect();
        Ok(json!({"tenant": tenant, "execution": execution, "steps": steps}))
    }

    /// One task message from the state machine.
    pub async fn handle_task(&self, body: &str) -> Result<(), String> {
        let msg: TaskMessage =
            serde_json::from_str(body).map_err(|e| format!("not an onboarding task: {e}"))?;
        if msg.step == "await_retry" {
            return self.await_retry(&msg).await.map_err(|e| e.to_string());
        }
        let (_, st) = spec(&msg.step).ok_or_else(|| format!("unknown step {:?}", msg.step))?;
        let input: Input = serde_json::from_value(msg.input.clone())
            .map_err(|e| format!("onboarding input: {e}"))?;
        let key = step_key(&msg.tenant, st.name);
        let now = self.clock.now();
        let (order, _) = spec(st.name).unwrap_or((99, st));
        self.table
            .update(
                &key,
                // The descriptive fields too: an execution started elsewhere (the console of
                // another deployment, the AWS console) still gets a complete checklist.
                Update::default()
                    .set_if_absent("kind", "onboarding_step")
                    .set_if_absent("step", st.name)
                    .set_if_absent("order", order as i64)
                    .set_if_absent("title", st.title)
                    .set_if_absent("owner", st.owner.as_str())
                    .set_if_absent("eta_text", st.eta_text)
                    .set("status", "in_progress")
                    .set_if_absent("started_at", now)
                    .set("eta_at", now + st.eta_secs)
                    .set(
                        "execution",
                        msg.execution.clone().map_or(Value::Null, Value::from),
                    )
                    .add("attempts", 1)
                    .remove("last_error")
                    .remove("retry_token"),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
        match self.run(st.name, &input).await {
            Ok(Outcome::Done(evidence)) => {
                self.finish(&msg.tenant, st.name, evidence.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                self.resume(&msg.token, &evidence).await
            }
            Ok(Outcome::Waiting { on, note, evidence }) => {
                let status = match on {
                    Owner::Meta => "waiting_on_meta",
                    _ => "waiting_on_business",
                };
                self.table
                    .update(
                        &key,
                        Update::default()
                            .set("status", status)
                            .set("waiting_on", on.as_str())
                            .set("note", note.as_str())
                            .set("evidence", evidence)
                            .set("token", msg.token.as_str()),
                        None,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Err(e) => {
                let (error, message) = classify(&e);
                self.table
                    .update(
                        &key,
                        Update::default()
                            .set("status", "failed")
                            .set("last_error", message.as_str()),
                        None,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                // The state machine retries (Graph.Retryable) or parks the step in its
                // `_failed` state, where an operator's retry resumes it.
                match self.flow.fail(&msg.token, error, &message).await {
                    Ok(()) | Err(FlowError::InvalidToken(_)) => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    async fn resume(&self, token: &str, output: &Value) -> Result<(), String> {
        match self.flow.succeed(token, output).await {
            // Already resumed (a redelivered message): nothing to do.
            Ok(()) | Err(FlowError::InvalidToken(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn finish(&self, tenant: &str, step: &str, evidence: Value) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.table
            .update(
                &step_key(tenant, step),
                Update::default()
                    .set("status", "done")
                    .set("finished_at", now)
                    .set("evidence", evidence)
                    .remove("token")
                    .remove("note")
                    .remove("last_error"),
                None,
            )
            .await?;
        if step == "go_live" {
            self.table
                .update(
                    &meta_key(tenant),
                    Update::default().set("status", "live").set("live_at", now),
                    None,
                )
                .await?;
        }
        Ok(())
    }

    /// A failed step parked by the state machine: visible as failed, with the token an
    /// operator's retry resumes.
    async fn await_retry(&self, msg: &TaskMessage) -> Result<(), OnboardingError> {
        let step = msg.failed_step.clone().unwrap_or_default();
        spec(&step).ok_or_else(|| OnboardingError::UnknownStep(step.clone()))?;
        let mut up = Update::default()
            .set("status", "failed")
            .set("failure", msg.failure.clone())
            .set("retry_token", msg.token.as_str())
            .remove("token");
        // The cause is what the step reported; keep the recorded error when there is none (a
        // timeout, or a service that drops causes).
        match msg.failure.get("Cause").and_then(Value::as_str) {
            Some(cause) if !cause.is_empty() => up = up.set("last_error", cause),
            _ => {
                let error = msg
                    .failure
                    .get("Error")
                    .and_then(Value::as_str)
                    .unwrap_or("the step failed");
                up = up.set_if_absent("last_error", error);
            }
        }
        self.table
            .update(&step_key(&msg.tenant, &step), up, None)
            .await?;
        Ok(())
    }

    /// An operator retries a failed step: the execution goes back into it.
    pub async fn retry(&self, tenant: &str, step: &str) -> Result<Value, OnboardingError> {
        let key = step_key(tenant, step);
        let it = self.table.get(&key).await?;
        let Some(token) = it
            .as_ref()
            .and_then(|i| s(i, "retry_token"))
            .map(str::to_owned)
        else {
            return Err(OnboardingError::NotNow {
                step: step.into(),
                status: it
                    .as_ref()
                    .and_then(|i| s(i, "status"))
                    .unwrap_or("unknown")
                    .into(),
                what: "retry",
            });
        };
        // Used once: a double click cannot resume twice.
        self.table
            .update(
                &key,
                Update::default()
                    .set("status", "pending")
                    .remove("retry_token"),
                Some(Condition::AttrEquals("retry_token".into(), json!(token))),
            )
            .await?;
        self.flow
            .succeed(&token, &json!({"retried_at": self.clock.now()}))
            .await?;
        Ok(json!({"step": step, "status": "pending"}))
    }

    /// A person completes a step that waits on the business: business verification (with its
    /// evidence), or the verification code.
    pub async fn complete(
        &self,
        tenant: &str,
        step: &str,
        body: &Value,
        actor: &str,
    ) -> Result<Value, OnboardingError> {
        spec(step).ok_or_else(|| OnboardingError::UnknownStep(step.into()))?;
        let key = step_key(tenant, step);
        let it = self.table.get(&key).await?;
        let status = it
            .as_ref()
            .and_then(|i| s(i, "status"))
            .unwrap_or("pending")
            .to_string();
        let token = it.as_ref().and_then(|i| s(i, "token")).map(str::to_owned);
        let (Some(token), "waiting_on_business") = (token, status.as_str()) else {
            return Err(OnboardingError::NotNow {
                step: step.into(),
                status,
                what: "completing it",
            });
        };
        let evidence = match step {
            "verify_code" => {
                let code = body
                    .get("code")
                    .and_then(Value::as_str)
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| OnboardingError::Invalid("the code is required".into()))?;
                let input = self.input(tenant).await?;
                let token_g = self
                    .tokens
                    .token(tenant)
                    .await
                    .map_err(|e| OnboardingError::Invalid(e.to_string()))?;
                if let Err(e) = self
                    .graph
                    .verify_code(&token_g, &input.phone_number_id, code.trim())
                    .await
                {
                    // A wrong code keeps the step waiting, with the reason shown.
                    let message = e.to_string();
                    self.table
                        .update(
                            &key,
                            Update::default().set("last_error", message.as_str()),
                            None,
                        )
                        .await?;
                    return Err(OnboardingError::Invalid(message));
                }
                json!({"verified_by": actor, "code_verification_status": "VERIFIED"})
            }
            _ => {
                json!({"completed_by": actor, "evidence": body.get("evidence").cloned().unwrap_or(Value::Null)})
            }
        };
        self.finish(tenant, step, evidence.clone()).await?;
        self.flow.succeed(&token, &evidence).await?;
        Ok(json!({"step": step, "status": "done"}))
    }

    /// A webhook (delivered by the bus) that may answer a waiting step. Returns the step it
    /// resumed, if any.
    pub async fn signal(&self, body: &str) -> Result<Option<String>, String> {
        let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        let kind = v["detail-type"].as_str().unwrap_or_default().to_string();
        let tenant = v["detail"]["tenant"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let data = &v["detail"]["data"];
        if tenant.is_empty() {
            return Err("event without a tenant".into());
        }
        let (step, verdict) = match kind.as_str() {
            "meta.phone_number_name_update" => {
                let decision = data["value"]["decision"]
                    .as_str()
                    .or_else(|| data["value"]["name_status"].as_str())
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                let verdict = match decision.as_str() {
                    "APPROVED" => Ok(
                        json!({"display_name": data["value"]["requested_verified_name"], "decision": decision}),
                    ),
                    "" | "PENDING" | "PENDING_REVIEW" => return Ok(None),
                    other => Err(format!("Meta declined the display name ({other})")),
                };
                ("display_name_review", verdict)
            }
            "meta.message_template_status_update" => {
                if data["value"]["event"].as_str() != Some("APPROVED") {
                    return Ok(None);
                }
                (
                    "first_templates",
                    Ok(json!({"approved": data["value"]["message_template_name"],
                              "language": data["value"]["message_template_language"]})),
                )
            }
            "meta.account_update" => {
                let ev = data["value"]["event"].as_str().unwrap_or_default();
                let status = data["value"]["partner_client_certification_info"]["status"]
                    .as_str()
                    .or_else(|| data["value"]["status"].as_str())
                    .unwrap_or_default();
                if ev != "PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE" {
                    return Ok(None);
                }
                let verdict = match status {
                    "APPROVED" => Ok(json!({"certification": status})),
                    "FAILED" | "DISCARDED" | "REVOKED" => {
                        Err(format!("business verification {}", status.to_lowercase()))
                    }
                    _ => return Ok(None),
                };
                ("business_verification", verdict)
            }
            // Any customer message proves signed events arrive: the self-checks can finish.
            "conversation.opened" => ("self_checks", Ok(json!({"test_event": data["wamid"]}))),
            _ => return Ok(None),
        };
        let key = step_key(&tenant, step);
        let Some(it) = self.table.get(&key).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let Some(token) = s(&it, "token").map(str::to_owned) else {
            return Ok(None);
        };
        if !s(&it, "status").is_some_and(|st| st.starts_with("waiting")) {
            return Ok(None);
        }
        match verdict {
            Ok(mut evidence) => {
                if step == "self_checks" {
                    // Re-run the checks now that the event arrived.
                    let input = self.input(&tenant).await.map_err(|e| e.to_string())?;
                    match self.self_checks(&input, true).await {
                        Ok(Outcome::Done(e)) => evidence = e,
                        Ok(Outcome::Waiting { .. }) => return Ok(None),
                        Err(e) => return Err(e.to_string()),
                    }
                }
                self.finish(&tenant, step, evidence.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                self.resume(&token, &evidence).await?;
            }
            Err(reason) => {
                self.table
                    .update(
                        &key,
                        Update::default()
                            .set("status", "failed")
                            .set("last_error", reason.as_str())
                            .remove("token"),
                        None,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                match self.flow.fail(&token, FAILED, &reason).await {
                    Ok(()) | Err(FlowError::InvalidToken(_)) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        Ok(Some(step.to_string()))
    }

    /// A queue message: a task from the state machine, or a bus delivery (a webhook signal).
    pub async fn handle(&self, body: &str) -> Result<(), String> {
        let is_bus_event = serde_json::from_str::<Value>(body)
            .ok()
            .is_some_and(|v| v.get("detail-type").is_some());
        if is_bus_event {
            self.signal(body).await.map(|_| ())
        } else {
            self.handle_task(body).await
        }
    }

    async fn input(&self, tenant: &str) -> Result<Input, OnboardingError> {
        let meta =
            self.table.get(&meta_key(tenant)).await?.ok_or_else(|| {
                OnboardingError::Invalid(format!("{tenant} is not being onboarded"))
            })?;
        serde_json::from_value(meta.get("input").cloned().unwrap_or(Value::Null))
            .map_err(|e| OnboardingError::Invalid(e.to_string()))
    }

    async fn token(&self, tenant: &str) -> Result<String, StepError> {
        self.tokens
            .token(tenant)
            .await
            .map_err(|e| StepError::Permanent(format!("no Graph API token: {e}")))
    }

    /// One step's work.
    async fn run(&self, step: &str, input: &Input) -> Result<Outcome, StepError> {
        let t = input.tenant.as_str();
        let pnid = input.phone_number_id.as_str();
        match step {
            "create_tenant" => {
                let table = self.table.as_ref();
                if !crate::routes::claim_routes(table, pnid, &input.waba_id, t).await? {
                    return Err(StepError::Permanent(
                        "this phone number or WABA is routed to another tenant".into(),
                    ));
                }
                Ok(Outcome::Done(
                    json!({"phone_number_id": pnid, "waba_id": input.waba_id}),
                ))
            }
            "business_verification" => Ok(Outcome::Waiting {
                on: Owner::Business,
                note: "Complete Meta business verification in Business Settings → Security \
                       Center, then mark this step complete (or wait for Meta's account update)."
                    .into(),
                evidence: Value::Null,
            }),
            "request_code" => {
                let token = self.token(t).await?;
                self.graph
                    .request_code(&token, pnid, "SMS", "en_US")
                    .await?;
                Ok(Outcome::Done(json!({"code_method": "SMS"})))
            }
            "verify_code" => Ok(Outcome::Waiting {
                on: Owner::Business,
                note: "Enter the 6-digit code sent to the number by SMS.".into(),
                evidence: Value::Null,
            }),
            "register" => {
                let token = self.token(t).await?;
                let pin = self
                    .pins
                    .two_step_pin(t)
                    .await
                    .map_err(|e| StepError::Permanent(format!("no two-step PIN: {e}")))?;
                self.graph.register(&token, pnid, &pin).await?;
                Ok(Outcome::Done(json!({"registered": true})))
            }
            "display_name_review" => {
                let token = self.token(t).await?;
                let info = self.graph.phone_number(&token, pnid).await?;
                match info.name_status.as_deref() {
                    Some("APPROVED") | Some("AVAILABLE_WITHOUT_REVIEW") => Ok(Outcome::Done(
                        json!({"verified_name": info.verified_name, "name_status": info.name_status}),
                    )),
                    Some("DECLINED") => Err(StepError::Permanent(format!(
                        "Meta declined the display name {:?}",
                        info.verified_name
                    ))),
                    other => Ok(Outcome::Waiting {
                        on: Owner::Meta,
                        note: "Meta reviews the display name; the phone_number_name_update \
                               webhook resumes this step."
                            .into(),
                        evidence: json!({"name_status": other}),
                    }),
                }
            }
            "subscribe_app" => {
                let token = self.token(t).await?;
                self.graph.subscribe_app(&token, &input.waba_id).await?;
                Ok(Outcome::Done(json!({"subscribed": input.waba_id})))
            }
            "self_checks" => self.self_checks(input, false).await,
            "first_templates" => {
                let approved = approved_templates(self.table.as_ref(), t).await?;
                if approved.is_empty() {
                    Ok(Outcome::Waiting {
                        on: Owner::Meta,
                        note: "Submit at least one template; Meta's approval resumes this step."
                            .into(),
                        evidence: Value::Null,
                    })
                } else {
                    Ok(Outcome::Done(json!({"approved": approved})))
                }
            }
            "go_live" => Ok(Outcome::Done(json!({"live_at": self.clock.now()}))),
            other => Err(StepError::Permanent(format!("unknown step {other}"))),
        }
    }

    /// Token valid, number registered and verified, quality and tier read, and a signed event
    /// received since onboarding started.
    async fn self_checks(&self, input: &Input, event_seen: bool) -> Result<Outcome, StepError> {
        let token = self.token(&input.tenant).await?;
        let info = self
            .graph
            .phone_number(&token, &input.phone_number_id)
            .await?;
        let registered = info.status.as_deref() == Some("CONNECTED");
        let verified = info.code_verification_status.as_deref() == Some("VERIFIED");
        if !registered || !verified {
            return Err(StepError::Permanent(format!(
                "the number is not ready: status {:?}, code verification {:?}",
                info.status, info.code_verification_status
            )));
        }
        let started = self
            .table
            .get(&meta_key(&input.tenant))
            .await?
            .and_then(|m| m.get("started_at").and_then(Value::as_i64))
            .unwrap_or(0);
        let seen = event_seen
            || !crate::outbox::read_log(
                self.table.as_ref(),
                &input.tenant,
                started,
                self.clock.now() + 1,
            )
            .await?
            .is_empty();
        let evidence = json!({"token_valid": true, "registered": registered, "verified": verified,
            "quality_rating": info.quality_rating, "messaging_limit": info.messaging_limit,
            "throughput": info.throughput_level, "signed_event_received": seen});
        if seen {
            Ok(Outcome::Done(evidence))
        } else {
            Ok(Outcome::Waiting {
                on: Owner::Business,
                note: "Send one WhatsApp message to the number: its signed webhook completes the \
                       self-checks."
                    .into(),
                evidence,
            })
        }
    }
}

async fn approved_templates(table: &dyn Table, tenant: &str) -> Result<Vec<Value>, StoreError> {
    Ok(crate::governance::sendable_templates(table, tenant)
        .await?
        .into_iter()
        .map(|t| json!({"name": t["name"], "language": t["language"]}))
        .collect())
}

/// A step's failure: worth retrying (Meta busy, network) or not.
#[derive(Debug)]
enum StepError {
    Retryable(String),
    Permanent(String),
}

impl From<GraphError> for StepError {
    fn from(e: GraphError) -> Self {
        if e.is_retryable() {
            StepError::Retryable(e.to_string())
        } else {
            StepError::Permanent(e.to_string())
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Retryable(e.to_string())
    }
}

fn classify(e: &StepError) -> (&'static str, String) {
    match e {
        StepError::Retryable(m) => (RETRYABLE, m.clone()),
        StepError::Permanent(m) => (FAILED, m.clone()),
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Retryable(m) | StepError::Permanent(m) => f.write_str(m),
        }
    }
}

#[async_trait::async_trait]
impl crate::worker::Handler for Onboarding {
    async fn handle_message(
        &self,
        body: &str,
        _receive_count: u32,
    ) -> Result<(), crate::worker::Retry> {
        self.handle(body).await.map_err(Into::into)
    }
}
