//! Step Functions as the workflow ports: executions of one state machine, and the task tokens
//! its `sqs:sendMessage.waitForTaskToken` tasks hand out.

use async_trait::async_trait;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use aws_sdk_sfn::Client;
use serde_json::Value;
use switchboard_app::ports::{Execution, ExecutionStatus, Executions, FlowError, TaskTokens};

pub struct StepFunctions {
    client: Client,
    state_machine_arn: String,
}

impl StepFunctions {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }
}

fn error<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: aws_sdk_sfn::error::SdkError<E>,
) -> FlowError {
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .unwrap_or_default()
        .to_string();
    let message = e
        .as_service_error()
        .and_then(|s| s.message())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{e:?}"));
    match code.as_str() {
        "TaskDoesNotExist" | "TaskTimedOut" | "InvalidToken" => FlowError::InvalidToken(message),
        "ExecutionAlreadyExists" => FlowError::AlreadyExists(message),
        "ExecutionDoesNotExist" => FlowError::NotFound(message),
        "InvalidDefinition" | "StateMachineDoesNotExist" => FlowError::Definition(message),
        _ => FlowError::Unavailable(format!("{code}: {message}")),
    }
}

#[async_trait]
impl TaskTokens for StepFunctions {
    async fn succeed(&self, token: &str, output: &Value) -> Result<(), FlowError> {
        self.client
            .send_task_success()
            .task_token(token)
            .output(output.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(error)
    }

    async fn fail(&self, token: &str, error_name: &str, cause: &str) -> Result<(), FlowError> {
        // Step Functions limits: error 256 characters, cause 32 KiB.
        let cause: String = cause.chars().take(32_000).collect();
        let error_name: String = error_name.chars().take(256).collect();
        self.client
            .send_task_failure()
            .task_token(token)
            .error(error_name)
            .cause(cause)
            .send()
            .await
            .map(|_| ())
            .map_err(error)
    }
}

#[async_trait]
impl Executions for StepFunctions {
    async fn start(&self, name: &str, input: &Value) -> Result<String, FlowError> {
        let out = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map_err(error)?;
        Ok(out.execution_arn().to_string())
    }

    async fn describe(&self, execution_id: &str) -> Result<Execution, FlowError> {
        let out = self
            .client
            .describe_execution()
            .execution_arn(execution_id)
            .send()
            .await
            .map_err(error)?;
        let status = match out.status() {
            SfnStatus::Running | SfnStatus::PendingRedrive => ExecutionStatus::Running,
            SfnStatus::Succeeded => ExecutionStatus::Succeeded,
            SfnStatus::TimedOut => ExecutionStatus::TimedOut,
            SfnStatus::Aborted => ExecutionStatus::Aborted,
            _ => ExecutionStatus::Failed,
        };
        Ok(Execution {
            id: out.execution_arn().to_string(),
            name: out.name().unwrap_or_default().to_string(),
            status,
            output: out.output().and_then(|o| serde_json::from_str(o).ok()),
            error: out.error().map(str::to_owned),
            cause: out.cause().map(str::to_owned),
        })
    }
}
