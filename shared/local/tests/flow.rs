//! The local executor runs statemachines/onboarding.asl.json: tasks on the queue, tokens used
//! once, retries and timeouts driven by `tick`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use switchboard_app::ports::{
    Clock, ExecutionStatus, Executions, FixedClock, FlowError, OutgoingMessage, Queue, QueueError,
    ReceivedMessage, TaskTokens,
};
use switchboard_local::{Db, LocalFlow, SqliteQueue, SqliteTable};

const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

const STEPS: [&str; 10] = [
    "create_tenant",
    "business_verification",
    "request_code",
    "verify_code",
    "register",
    "display_name_review",
    "subscribe_app",
    "self_checks",
    "first_templates",
    "go_live",
];

struct Env {
    db: Db,
    clock: Arc<FixedClock>,
    queue: Arc<SqliteQueue>,
    flow: LocalFlow,
}

fn flow_on(db: &Db, clock: &Arc<FixedClock>, queue: Arc<dyn Queue>) -> LocalFlow {
    let table = Arc::new(SqliteTable::new(db.clone(), clock.clone()));
    LocalFlow::onboarding("local://onboarding", table, queue, clock.clone()).unwrap()
}

fn env() -> Env {
    let db = Db::in_memory().unwrap();
    let clock = Arc::new(FixedClock::new(T0));
    let queue = Arc::new(SqliteQueue::new(db.clone(), "onboarding.fifo", None));
    let flow = flow_on(&db, &clock, queue.clone());
    Env {
        db,
        clock,
        queue,
        flow,
    }
}

fn input() -> Value {
    json!({"tenant": "acme", "phone_number_id": "123", "waba_id": "456", "display_name": "Acme"})
}

/// The one task message waiting on the queue (acked).
async fn next(q: &SqliteQueue) -> Value {
    let ms = q.receive(10, 30).await.unwrap();
    assert_eq!(ms.len(), 1, "expected one message, got {ms:?}");
    q.ack(&ms[0].receipt).await.unwrap();
    serde_json::from_str(&ms[0].body).unwrap()
}

async fn empty(q: &SqliteQueue) {
    let ms = q.receive(10, 30).await.unwrap();
    assert!(ms.is_empty(), "unexpected messages {ms:?}");
}

fn token(msg: &Value) -> String {
    msg["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn flow_an_execution_walks_every_step_to_live() {
    let e = env();
    let id = e.flow.start("acme-1", &input()).await.unwrap();
    assert!(id.ends_with(":acme-1"), "{id}");
    let mut tokens = std::collections::HashSet::new();
    for step in STEPS {
        let msg = next(&e.queue).await;
        assert_eq!(msg["step"], step);
        assert_eq!(msg["tenant"], "acme");
        assert_eq!(msg["execution"], id.as_str());
        assert_eq!(msg["input"]["waba_id"], "456");
        let t = token(&msg);
        assert_eq!(t.len(), 64);
        assert!(tokens.insert(t.clone()), "token reused");
        let d = e.flow.describe(&id).await.unwrap();
        assert_eq!(d.status, ExecutionStatus::Running);
        e.flow
            .succeed(&t, &json!({"evidence": step}))
            .await
            .unwrap();
    }
    empty(&e.queue).await;
    let d = e.flow.describe(&id).await.unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.name, "acme-1");
    let out = d.output.unwrap();
    assert_eq!(out["tenant"], "acme");
    for step in STEPS {
        assert_eq!(out["steps"][step]["evidence"], step);
    }
    assert_eq!((d.error, d.cause), (None, None));
}

#[tokio::test]
async fn flow_names_are_unique_and_unknown_executions_are_not_found() {
    let e = env();
    let id = e.flow.start("acme-1", &input()).await.unwrap();
    // Same name and input while running: the same execution, like StartExecution.
    assert_eq!(e.flow.start("acme-1", &input()).await.unwrap(), id);
    assert!(matches!(
        e.flow.start("acme-1", &json!({"tenant": "other"})).await,
        Err(FlowError::AlreadyExists(_))
    ));
    assert!(e.flow.start("bad name", &input()).await.is_err());
    assert!(matches!(
        e.flow.describe("nope").await,
        Err(FlowError::NotFound(_))
    ));
    // One dispatch only.
    next(&e.queue).await;
    empty(&e.queue).await;
}

#[tokio::test]
async fn flow_a_token_works_once() {
    let e = env();
    e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await);
    e.flow.succeed(&t, &json!({})).await.unwrap();
    assert!(matches!(
        e.flow.succeed(&t, &json!({})).await,
        Err(FlowError::InvalidToken(_))
    ));
    assert!(matches!(
        e.flow.fail(&t, "Onboarding.Failed", "late").await,
        Err(FlowError::InvalidToken(_))
    ));
    assert!(matches!(
        e.flow.succeed("0123abcd", &json!({})).await,
        Err(FlowError::InvalidToken(_))
    ));
    assert_eq!(next(&e.queue).await["step"], "business_verification");
    empty(&e.queue).await;
}

#[tokio::test]
async fn flow_retryable_failures_are_retried_then_parked_and_an_operator_retry_resumes_the_step() {
    let e = env();
    let id = e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await);
    e.flow.succeed(&t, &json!({"ok": 1})).await.unwrap();
    let msg = next(&e.queue).await;
    assert_eq!(msg["step"], "business_verification");
    e.flow
        .fail(&token(&msg), "Graph.Retryable", "429 #1")
        .await
        .unwrap();
    // Retried after IntervalSeconds (1), not before.
    empty(&e.queue).await;
    assert_eq!(e.flow.tick(T0).await.unwrap(), 0);
    empty(&e.queue).await;
    e.clock.set(T0 + 1);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 1);
    let msg = next(&e.queue).await;
    assert_eq!(msg["step"], "business_verification");
    e.flow
        .fail(&token(&msg), "Graph.Retryable", "429 #2")
        .await
        .unwrap();
    // Then after 2 s (BackoffRate 2).
    e.clock.set(T0 + 2);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 0);
    e.clock.set(T0 + 3);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 1);
    let msg = next(&e.queue).await;
    assert_eq!(msg["step"], "business_verification");
    // MaxAttempts 2: the third failure is caught into the _failed state.
    e.flow
        .fail(&token(&msg), "Graph.Retryable", "429 #3")
        .await
        .unwrap();
    let parked = next(&e.queue).await;
    assert_eq!(parked["step"], "await_retry");
    assert_eq!(parked["failed_step"], "business_verification");
    assert_eq!(parked["tenant"], "acme");
    assert_eq!(
        parked["failure"],
        json!({"Error": "Graph.Retryable", "Cause": "429 #3"})
    );
    assert_eq!(
        e.flow.describe(&id).await.unwrap().status,
        ExecutionStatus::Running
    );
    // Nothing else is due.
    e.clock.set(T0 + 3600);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 0);
    // The operator retries: the step runs again.
    e.flow
        .succeed(&token(&parked), &json!({"retried_at": T0 + 3600}))
        .await
        .unwrap();
    let again = next(&e.queue).await;
    assert_eq!(again["step"], "business_verification");
    assert_eq!(again["input"]["retry"]["retried_at"], T0 + 3600);
    assert_eq!(again["input"]["steps"]["create_tenant"]["ok"], 1);
    e.flow.succeed(&token(&again), &json!({})).await.unwrap();
    assert_eq!(next(&e.queue).await["step"], "request_code");
}

#[tokio::test]
async fn flow_abandoning_a_parked_step_fails_the_execution() {
    let e = env();
    let id = e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await);
    e.flow
        .fail(&t, "Onboarding.Failed", "number taken")
        .await
        .unwrap();
    let parked = next(&e.queue).await;
    assert_eq!(parked["failed_step"], "create_tenant");
    e.flow
        .fail(&token(&parked), "Onboarding.Abandoned", "operator gave up")
        .await
        .unwrap();
    empty(&e.queue).await;
    let d = e.flow.describe(&id).await.unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("Onboarding.Abandoned"));
    assert!(d.cause.is_some());
    assert_eq!(d.output, None);
}

#[tokio::test]
async fn flow_a_timeout_fails_the_token_and_is_caught() {
    let e = env();
    e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await);
    e.flow.succeed(&t, &json!({})).await.unwrap();
    let waiting = token(&next(&e.queue).await); // business_verification: 30 days
    e.clock.set(T0 + 30 * DAY - 1);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 0);
    empty(&e.queue).await;
    e.clock.set(T0 + 30 * DAY);
    assert_eq!(e.flow.tick(e.clock.now()).await.unwrap(), 1);
    let parked = next(&e.queue).await;
    assert_eq!(parked["step"], "await_retry");
    assert_eq!(parked["failed_step"], "business_verification");
    assert_eq!(parked["failure"]["Error"], "States.Timeout");
    assert!(matches!(
        e.flow.succeed(&waiting, &json!({})).await,
        Err(FlowError::InvalidToken(_))
    ));
    // The operator's retry dispatches the step again with a fresh deadline.
    e.flow.succeed(&token(&parked), &json!({})).await.unwrap();
    assert_eq!(next(&e.queue).await["step"], "business_verification");
}

#[tokio::test]
async fn flow_a_late_answer_is_refused_even_before_tick_sees_the_timeout() {
    let e = env();
    e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await); // create_tenant: 15 minutes
    e.clock.set(T0 + 900);
    assert!(matches!(
        e.flow.succeed(&t, &json!({})).await,
        Err(FlowError::InvalidToken(_))
    ));
    let parked = next(&e.queue).await;
    assert_eq!(parked["failed_step"], "create_tenant");
    assert_eq!(parked["failure"]["Error"], "States.Timeout");
    // The timeout timer is gone with the token.
    assert_eq!(e.flow.tick(T0 + 10 * DAY).await.unwrap(), 0);
}

#[tokio::test]
async fn flow_the_execution_survives_a_restart() {
    let e = env();
    let id = e.flow.start("acme-1", &input()).await.unwrap();
    let t = token(&next(&e.queue).await);
    let again = flow_on(&e.db, &e.clock, e.queue.clone());
    again.succeed(&t, &json!({})).await.unwrap();
    assert_eq!(next(&e.queue).await["step"], "business_verification");
    assert_eq!(
        again.describe(&id).await.unwrap().status,
        ExecutionStatus::Running
    );
}

/// A queue whose first sends fail.
struct Flaky {
    inner: Arc<SqliteQueue>,
    failures: AtomicUsize,
}

#[async_trait]
impl Queue for Flaky {
    async fn send_batch(&self, messages: &[OutgoingMessage]) -> Result<(), QueueError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(QueueError::Unavailable("down".into()));
        }
        self.inner.send_batch(messages).await
    }
    async fn receive(&self, max: usize, vis: u32) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.inner.receive(max, vis).await
    }
    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.ack(receipt).await
    }
    async fn release(&self, receipt: &str, delay_secs: u32) -> Result<(), QueueError> {
        self.inner.release(receipt, delay_secs).await
    }
    async fn depth(&self) -> Result<usize, QueueError> {
        self.inner.depth().await
    }
}

#[tokio::test]
async fn flow_a_failed_send_is_sent_again_by_tick() {
    let e = env();
    let flaky = Arc::new(Flaky {
        inner: e.queue.clone(),
        failures: AtomicUsize::new(2),
    });
    let flow = flow_on(&e.db, &e.clock, flaky);
    flow.start("acme-1", &input()).await.unwrap();
    empty(&e.queue).await;
    assert_eq!(flow.tick(T0).await.unwrap(), 0); // the queue is still down
    assert_eq!(flow.tick(T0).await.unwrap(), 1);
    assert_eq!(next(&e.queue).await["step"], "create_tenant");
    assert_eq!(flow.tick(T0).await.unwrap(), 0);
    empty(&e.queue).await;
}
