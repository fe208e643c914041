//! The local workflow executor: runs the same ASL file as Step Functions
//! (`statemachines/onboarding.asl.json`, interpreted by [`switchboard_core::asl`]) with its
//! state in the table port, and sends each task message to a queue port, as the
//! `sqs:sendMessage.waitForTaskToken` integration does on AWS (FIFO group = execution id,
//! deduplication id = task token; every dispatch goes to the one queue given here, whatever the
//! `QueueUrl`).
//!
//! # Items (tenant-free keys)
//!
//! * `FLOW#<execution id>` / `META`: the execution — name, input, status (`RUNNING`,
//!   `SUCCEEDED`, `FAILED`), output or error and cause, the current state, and what it waits
//!   for: `token` (a dispatched task) or `retry_id` (a retry timer). Closed executions expire
//!   after 90 days, as Step Functions forgets them.
//! * `FLOWTOKEN#<token>` / `TOKEN`: a waiting task — the [`Visit`] the token resumes, when it
//!   was dispatched and its deadline. Resuming deletes it on the condition that it exists, in one
//!   transaction with the execution's next state: a token works once, and a `succeed` racing a
//!   timeout or a second `succeed` gets [`FlowError::InvalidToken`].
//! * `FLOWTIMER` / `<due, 12 digits>#<kind>#<id>`: what [`LocalFlow::tick`] does when due —
//!   `send` (a task message not yet known to be on the queue: an outbox, so a send that fails
//!   after the commit is retried, deduplicated by the token), `timeout` (the task's
//!   `TimeoutSeconds` elapsed: it fails with `States.Timeout`), `retry` (a `Retry` interval
//!   elapsed: the task is dispatched again).
//!
//! Tokens are 64 hex characters: SHA-256 of a per-process secret (from `/dev/urandom` and the
//! OS-seeded keys of std's `RandomState`), a counter, the time and the execution id.

use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_app::ports::queue::MAX_MESSAGE_BYTES;
use switchboard_app::ports::table::item;
use switchboard_app::ports::{
    Clock, Condition, Execution, ExecutionStatus, Executions, FlowError, Index, Item, Key,
    OutgoingMessage, Query, Queue, SkRange, StoreError, Table, TaskTokens, TxOp, Update,
};
use switchboard_core::asl::{Context, Machine, Step, Visit, ERROR_TIMEOUT, ONBOARDING_DEFINITION};

/// The partition of due timers.
pub const TIMERS_PK: &str = "FLOWTIMER";
/// How long a closed execution stays describable (Step Functions: 90 days).
const RETENTION_SECS: i64 = 90 * 86_400;
/// The error a task gets when its message cannot be sent (too large for the queue).
const SEND_ERROR: &str = "SQS.SqsException";

fn execution_key(id: &str) -> Key {
    Key::new(format!("FLOW#{id}"), "META")
}

fn token_key(token: &str) -> Key {
    Key::new(format!("FLOWTOKEN#{token}"), "TOKEN")
}

fn timer_key(due: i64, kind: &str, id: &str) -> Key {
    Key::new(TIMERS_PK, format!("{:012}#{kind}#{id}", due.max(0)))
}

fn store(e: StoreError) -> FlowError {
    FlowError::Unavailable(e.to_string())
}

fn s<'a>(it: &'a Item, a: &str) -> Option<&'a str> {
    it.get(a).and_then(Value::as_str)
}

/// Step Functions' rule for execution names.
fn check_name(name: &str) -> Result<(), FlowError> {
    let bad = name.is_empty()
        || name.chars().count() > 80
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c));
    if bad {
        return Err(FlowError::Unavailable(format!(
            "InvalidName: invalid execution name {name:?}"
        )));
    }
    Ok(())
}

fn process_secret() -> [u8; 32] {
    let mut h = Sha256::new();
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let mut b = [0u8; 32];
        if f.read_exact(&mut b).is_ok() {
            h.update(b);
        }
    }
    // SipHash keys std seeds from the OS's randomness, once per process and thread.
    let keyed = std::collections::hash_map::RandomState::new();
    for i in 0..4u64 {
        let mut x = keyed.build_hasher();
        x.write_u64(i);
        h.update(x.finish().to_le_bytes());
    }
    h.update(std::process::id().to_le_bytes());
    h.update(nanos().to_le_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&h.finalize());
    out
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// How a task ended.
enum Outcome {
    Success(Value),
    Failure { error: String, cause: String },
    Timeout,
}

/// What a transition consumes.
enum Origin {
    Start {
        input: Value,
    },
    Token {
        token: String,
        dispatched_at: i64,
        deadline: Option<i64>,
    },
    Retry {
        retry_id: String,
        timer: Key,
    },
}

/// Runs executions of one state machine, persisted in a table, dispatching tasks to a queue.
pub struct LocalFlow {
    machine: Arc<Machine>,
    machine_name: String,
    table: Arc<dyn Table>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    secret: [u8; 32],
    counter: AtomicU64,
}

impl LocalFlow {
    /// An executor of `machine` (named `machine_name` in execution ids).
    pub fn new(
        machine: Machine,
        machine_name: &str,
        table: Arc<dyn Table>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            machine: Arc::new(machine),
            machine_name: machine_name.to_string(),
            table,
            queue,
            clock,
            secret: process_secret(),
            counter: AtomicU64::new(0),
        }
    }

    /// The onboarding state machine (`statemachines/onboarding.asl.json`) with
    /// `${OnboardingQueueUrl}` = `queue_url`, its tasks sent to `queue`.
    pub fn onboarding(
        queue_url: &str,
        table: Arc<dyn Table>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, FlowError> {
        let machine =
            Machine::parse_with(ONBOARDING_DEFINITION, &[("OnboardingQueueUrl", queue_url)])
                .map_err(|e| FlowError::Definition(e.to_string()))?;
        Ok(Self::new(machine, "onboarding", table, queue, clock))
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The id of the execution named `name` (shaped like a Step Functions execution ARN).
    pub fn execution_id(&self, name: &str) -> String {
        format!(
            "arn:aws:states:local:000000000000:execution:{}:{name}",
            self.machine_name
        )
    }

    /// Does what is due at `now`: re-sends task messages whose send failed, fails tasks whose
    /// `TimeoutSeconds` elapsed (`States.Timeout`, then their Retry/Catch), and dispatches
    /// retries whose interval elapsed. Returns how many timers it handled. Call it every few
    /// seconds (and at start-up: it also recovers sends interrupted by a crash).
    pub async fn tick(&self, now: i64) -> Result<usize, FlowError> {
        let mut q = Query::partition(Index::Table, TIMERS_PK);
        q.sk = SkRange::Between(format!("{:012}", 0), format!("{:012}~", now.max(0)));
        let mut done = 0;
        loop {
            let page = self.table.query(&q).await.map_err(store)?;
            for timer in &page.items {
                if self.fire(timer, now).await? {
                    done += 1;
                }
            }
            match page.cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(done),
            }
        }
    }

    /// Handles one due timer; whether it did anything.
    async fn fire(&self, timer: &Item, now: i64) -> Result<bool, FlowError> {
        let key = Key::new(TIMERS_PK, s(timer, "sk").unwrap_or_default());
        match s(timer, "kind") {
            Some("send") => {
                let msg = OutgoingMessage {
                    group: s(timer, "execution_id").unwrap_or_default().to_string(),
                    dedup_id: s(timer, "token").unwrap_or_default().to_string(),
                    body: s(timer, "body").unwrap_or_default().to_string(),
                };
                Ok(self.send(key, msg).await)
            }
            Some("timeout") => {
                let token = s(timer, "token").unwrap_or_default();
                match self.resolve(token, Outcome::Timeout, now).await {
                    Ok(()) => Ok(true),
                    // Resumed meanwhile: the timer is stale.
                    Err(FlowError::InvalidToken(_)) => {
                        self.table.delete(&key, None).await.map_err(store)?;
                        Ok(false)
                    }
                    Err(e) => Err(e),
                }
            }
            Some("retry") => {
                let execution_id = s(timer, "execution_id").unwrap_or_default().to_string();
                let retry_id = s(timer, "retry_id").unwrap_or_default().to_string();
                let meta = self
                    .table
                    .get(&execution_key(&execution_id))
                    .await
                    .map_err(store)?;
                let visit = timer
                    .get("visit")
                    .cloned()
                    .and_then(|v| serde_json::from_value::<Visit>(v).ok());
                let (Some(meta), Some(visit)) = (meta, visit) else {
                    self.table.delete(&key, None).await.map_err(store)?;
                    return Ok(false);
                };
                if s(&meta, "retry_id") != Some(retry_id.as_str()) {
                    self.table.delete(&key, None).await.map_err(store)?;
                    return Ok(false);
                }
                let ctx = self.context(&execution_id, &meta);
                let step = self.machine.retry(visit, &ctx);
                self.commit(
                    &ctx,
                    Origin::Retry {
                        retry_id,
                        timer: key,
                    },
                    step,
                    now,
                )
                .await
            }
            _ => {
                tracing::warn!(timer = ?key, "unknown flow timer; dropped");
                self.table.delete(&key, None).await.map_err(store)?;
                Ok(false)
            }
        }
    }

    fn new_token(&self, execution_id: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(n.to_le_bytes());
        h.update(nanos().to_le_bytes());
        h.update(execution_id.as_bytes());
        hex::encode(h.finalize())
    }

    fn context(&self, execution_id: &str, meta: &Item) -> Context {
        Context {
            execution_id: execution_id.to_string(),
            execution_name: s(meta, "name").unwrap_or_default().to_string(),
            token: self.new_token(execution_id),
        }
    }

    /// Resumes the task of `token` with `outcome` at `now`.
    async fn resolve(&self, token: &str, outcome: Outcome, now: i64) -> Result<(), FlowError> {
        let invalid =
            || FlowError::InvalidToken("unknown task token, or its task already finished".into());
        let Some(tok) = self.table.get(&token_key(token)).await.map_err(store)? else {
            return Err(invalid());
        };
        let execution_id = s(&tok, "execution_id").unwrap_or_default().to_string();
        let visit: Visit = tok
            .get("visit")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| FlowError::Unavailable(format!("task {token} has no visit")))?;
        let dispatched_at = tok
            .get("dispatched_at")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let deadline = tok.get("deadline").and_then(Value::as_i64);
        // Past its deadline the task has timed out, whether or not `tick` has seen it yet.
        let expired = !matches!(outcome, Outcome::Timeout) && deadline.is_some_and(|d| d <= now);
        let outcome = if expired { Outcome::Timeout } else { outcome };
        let Some(meta) = self
            .table
            .get(&execution_key(&execution_id))
            .await
            .map_err(store)?
        else {
            return Err(invalid());
        };
        let ctx = self.context(&execution_id, &meta);
        let step = match outcome {
            Outcome::Success(output) => self.machine.succeeded(visit, output, &ctx),
            Outcome::Failure { error, cause } => self.machine.failed(visit, &error, &cause, &ctx),
            Outcome::Timeout => {
                let secs = deadline.map_or(0, |d| d - dispatched_at);
                let cause = format!("The task did not finish within its {secs} TimeoutSeconds");
                self.machine.failed(visit, ERROR_TIMEOUT, &cause, &ctx)
            }
        };
        let origin = Origin::Token {
            token: token.to_string(),
            dispatched_at,
            deadline,
        };
        match self.commit(&ctx, origin, step, now).await? {
            true if expired => Err(FlowError::InvalidToken(
                "the task timed out before it was resumed".into(),
            )),
            true => Ok(()),
            false => Err(invalid()),
        }
    }

    /// A dispatch whose message the queue cannot take fails its task instead (as the SQS call
    /// would on AWS); bounded, in case the catcher's message is too large as well.
    fn sendable(&self, mut step: Step, ctx: &Context) -> Step {
        for _ in 0..8 {
            match step {
                Step::Dispatch(d) if d.body().len() > MAX_MESSAGE_BYTES => {
                    let cause = format!(
                        "the message body of {} bytes exceeds the queue's {MAX_MESSAGE_BYTES}",
                        d.body().len()
                    );
                    step = self.machine.failed(d.visit, SEND_ERROR, &cause, ctx);
                }
                other => return other,
            }
        }
        Step::Failed {
            error: Some(SEND_ERROR.into()),
            cause: Some("task messages too large for the queue".into()),
        }
    }

    /// Records a transition in one transaction; `Ok(false)` if what it consumes (the token,
    /// the retry timer, or the name for a start) was taken meanwhile.
    async fn commit(
        &self,
        ctx: &Context,
        origin: Origin,
        step: Step,
        now: i64,
    ) -> Result<bool, FlowError> {
        let step = self.sendable(step, ctx);
        let id = &ctx.execution_id;
        let mut ops = Vec::new();
        let mut update = Update::default();
        let condition = match origin {
            Origin::Start { input } => {
                update = update
                    .set("kind", "flow_execution")
                    .set("execution_id", id.as_str())
                    .set("name", ctx.execution_name.as_str())
                    .set("machine", self.machine_name.as_str())
                    .set("input", input)
                    .set("started_at", now);
                Condition::ItemNotExists
            }
            Origin::Token {
                token,
                dispatched_at,
                deadline,
            } => {
                ops.push(TxOp::Delete {
                    key: token_key(&token),
                    condition: Some(Condition::ItemExists),
                });
                ops.push(TxOp::Delete {
                    key: timer_key(dispatched_at, "send", &token),
                    condition: None,
                });
                if let Some(d) = deadline {
                    ops.push(TxOp::Delete {
                        key: timer_key(d, "timeout", &token),
                        condition: None,
                    });
                }
                Condition::AttrEquals("token".into(), json!(token))
            }
            Origin::Retry { retry_id, timer } => {
                ops.push(TxOp::Delete {
                    key: timer,
                    condition: Some(Condition::ItemExists),
                });
                Condition::AttrEquals("retry_id".into(), json!(retry_id))
            }
        };
        let mut send = None;
        match step {
            Step::Dispatch(d) => {
                let token = ctx.token.as_str();
                let deadline = d.timeout_secs.map(|t| now.saturating_add(t as i64));
                let body = d.body();
                let mut attrs = json!({
                    "kind": "flow_token", "execution_id": id, "state": d.visit.state,
                    "visit": serde_json::to_value(&d.visit).unwrap_or(Value::Null),
                    "dispatched_at": now,
                });
                if let Some(dl) = deadline {
                    attrs["deadline"] = json!(dl);
                    ops.push(TxOp::Put {
                        item: item(
                            &timer_key(dl, "timeout", token),
                            json!({"kind": "timeout", "token": token, "execution_id": id, "due_at": dl}),
                        ),
                        condition: None,
                    });
                }
                ops.push(TxOp::Put {
                    item: item(&token_key(token), attrs),
                    condition: Some(Condition::ItemNotExists),
                });
                let send_timer = timer_key(now, "send", token);
                ops.push(TxOp::Put {
                    item: item(
                        &send_timer,
                        json!({"kind": "send", "token": token, "execution_id": id,
                               "body": body, "due_at": now}),
                    ),
                    condition: None,
                });
                update = update
                    .set("status", "RUNNING")
                    .set("state", d.visit.state.as_str())
                    .set("token", token)
                    .remove("retry_id")
                    .remove("retry_due_at");
                send = Some((
                    send_timer,
                    OutgoingMessage {
                        group: id.clone(),
                        dedup_id: token.to_string(),
                        body,
                    },
                ));
            }
            Step::RetryAfter { visit, after_secs } => {
                let retry_id = ctx.token.as_str();
                let due = now.saturating_add(after_secs as i64);
                ops.push(TxOp::Put {
                    item: item(
                        &timer_key(due, "retry", retry_id),
                        json!({"kind": "retry", "retry_id": retry_id, "execution_id": id,
                               "visit": serde_json::to_value(&visit).unwrap_or(Value::Null),
                               "due_at": due}),
                    ),
                    condition: None,
                });
                update = update
                    .set("status", "RUNNING")
                    .set("state", visit.state.as_str())
                    .set("retry_id", retry_id)
                    .set("retry_due_at", due)
                    .remove("token");
            }
            Step::Succeeded { output } => {
                update = update
                    .set("status", "SUCCEEDED")
                    .set("output", output)
                    .set("stopped_at", now)
                    .set("expires_at", now + RETENTION_SECS)
                    .remove("token")
                    .remove("retry_id")
                    .remove("retry_due_at");
            }
            Step::Failed { error, cause } => {
                update = update
                    .set("status", "FAILED")
                    .set("stopped_at", now)
                    .set("expires_at", now + RETENTION_SECS)
                    .remove("token")
                    .remove("retry_id")
                    .remove("retry_due_at");
                if let Some(e) = error {
                    update = update.set("error", e);
                }
                if let Some(c) = cause {
                    update = update.set("cause", c);
                }
            }
        }
        ops.push(TxOp::Update {
            key: execution_key(id),
            update,
            condition: Some(condition),
        });
        match self.table.transact(ops).await {
            Ok(()) => {}
            Err(StoreError::TransactionCancelled { .. } | StoreError::ConditionFailed) => {
                return Ok(false)
            }
            Err(e) => return Err(store(e)),
        }
        if let Some((timer, msg)) = send {
            self.send(timer, msg).await;
        }
        Ok(true)
    }

    /// Sends a task message and clears its outbox timer; on failure the timer stays for
    /// `tick`. Whether it was sent.
    async fn send(&self, timer: Key, msg: OutgoingMessage) -> bool {
        match self.queue.send_batch(std::slice::from_ref(&msg)).await {
            Ok(()) => {
                if let Err(e) = self.table.delete(&timer, None).await {
                    tracing::warn!(error = %e, "task message sent; its outbox timer stays (sent again, deduplicated)");
                }
                true
            }
            Err(e) => {
                tracing::warn!(execution = %msg.group, error = %e, "task message not sent; tick will retry");
                false
            }
        }
    }
}

#[async_trait]
impl TaskTokens for LocalFlow {
    async fn succeed(&self, token: &str, output: &Value) -> Result<(), FlowError> {
        self.resolve(token, Outcome::Success(output.clone()), self.clock.now())
            .await
    }

    async fn fail(&self, token: &str, error: &str, cause: &str) -> Result<(), FlowError> {
        let outcome = Outcome::Failure {
            error: error.to_string(),
            cause: cause.to_string(),
        };
        self.resolve(token, outcome, self.clock.now()).await
    }
}

#[async_trait]
impl Executions for LocalFlow {
    /// As StartExecution: a name is used once; starting a running execution again with the
    /// same input returns its id.
    async fn start(&self, name: &str, input: &Value) -> Result<String, FlowError> {
        check_name(name)?;
        let id = self.execution_id(name);
        let exists = |meta: &Item| {
            if s(meta, "status") == Some("RUNNING") && meta.get("input") == Some(input) {
                Ok(id.clone())
            } else {
                Err(FlowError::AlreadyExists(name.to_string()))
            }
        };
        if let Some(meta) = self.table.get(&execution_key(&id)).await.map_err(store)? {
            return exists(&meta);
        }
        let ctx = Context {
            execution_id: id.clone(),
            execution_name: name.to_string(),
            token: self.new_token(&id),
        };
        let step = self.machine.start(input.clone(), &ctx);
        let origin = Origin::Start {
            input: input.clone(),
        };
        if self.commit(&ctx, origin, step, self.clock.now()).await? {
            return Ok(id);
        }
        match self.table.get(&execution_key(&id)).await.map_err(store)? {
            Some(meta) => exists(&meta),
            None => Err(FlowError::AlreadyExists(name.to_string())),
        }
    }

    async fn describe(&self, execution_id: &str) -> Result<Execution, FlowError> {
        let meta = self
            .table
            .get(&execution_key(execution_id))
            .await
            .map_err(store)?
            .ok_or_else(|| FlowError::NotFound(execution_id.to_string()))?;
        let status = meta
            .get("status")
            .cloned()
            .and_then(|v| serde_json::from_value::<ExecutionStatus>(v).ok())
            .unwrap_or(ExecutionStatus::Running);
        Ok(Execution {
            id: execution_id.to_string(),
            name: s(&meta, "name").unwrap_or_default().to_string(),
            status,
            output: meta.get("output").cloned(),
            error: s(&meta, "error").map(str::to_owned),
            cause: s(&meta, "cause").map(str::to_owned),
        })
    }
}
