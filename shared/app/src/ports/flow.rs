//! Workflow executions with human checkpoints: Step Functions on AWS, a small executor of the
//! same ASL file locally. A waiting task is identified by its task token; whoever learns the
//! outcome (the onboarding function, a webhook, an operator) resumes it with the token.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("workflow service unavailable: {0}")]
    Unavailable(String),
    /// The token is unknown, or its task already finished or timed out.
    #[error("task token no longer valid: {0}")]
    InvalidToken(String),
    #[error("an execution named {0:?} already exists")]
    AlreadyExists(String),
    #[error("no execution {0:?}")]
    NotFound(String),
    #[error("invalid state machine: {0}")]
    Definition(String),
}

/// Resumes waiting tasks (`SendTaskSuccess` / `SendTaskFailure`).
#[async_trait]
pub trait TaskTokens: Send + Sync {
    async fn succeed(&self, token: &str, output: &Value) -> Result<(), FlowError>;
    /// `error` is matched by the state's Retry and Catch (`Graph.Retryable`, `Onboarding.Failed`…).
    async fn fail(&self, token: &str, error: &str, cause: &str) -> Result<(), FlowError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Starts and describes executions of one state machine.
#[async_trait]
pub trait Executions: Send + Sync {
    /// Starts an execution named `name` (unique: one per tenant attempt) with `input`; its id.
    async fn start(&self, name: &str, input: &Value) -> Result<String, FlowError>;
    async fn describe(&self, execution_id: &str) -> Result<Execution, FlowError>;
}
