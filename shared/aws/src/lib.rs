//! AWS adapters for Switchboard's ports, on the official aws-sdk crates. Tested against moto
//! server with the same contract suite as the local adapters.

mod blobs;
mod bus;
mod dynamo;
mod flow;
pub mod lambda;
pub mod provision;
mod queue;
mod secrets;

pub use blobs::S3BlobStore;
pub use bus::EventBridgeBus;
pub use dynamo::DynamoTable;
pub use flow::StepFunctions;
pub use queue::SqsQueue;
pub use secrets::{read_secret, SecretError, SsmTokens};

/// The SDK configuration from the environment (`AWS_REGION`, credentials, and
/// `AWS_ENDPOINT_URL` when pointing at an emulator).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
}
