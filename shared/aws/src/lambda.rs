//! What every Lambda binary does at cold start, written once: JSON logs for CloudWatch and
//! required environment variables with a clear error.

/// JSON log lines filtered by `RUST_LOG`, without timestamps (CloudWatch adds its own).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(false)
        .without_time()
        .init();
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub String);

/// A required environment variable.
pub fn env(name: &str) -> Result<String, MissingEnv> {
    std::env::var(name).map_err(|_| MissingEnv(name.to_string()))
}

/// The single table (`TABLE_NAME`), as every function that reads or writes it opens it.
pub fn table_from_env(
    conf: &aws_config::SdkConfig,
    clock: std::sync::Arc<dyn switchboard_app::Clock>,
) -> Result<std::sync::Arc<crate::DynamoTable>, MissingEnv> {
    Ok(std::sync::Arc::new(crate::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(conf),
        env("TABLE_NAME")?,
        clock,
    )))
}

/// The domain event bus (`BUS_NAME`).
pub fn bus_from_env(
    conf: &aws_config::SdkConfig,
) -> Result<std::sync::Arc<crate::EventBridgeBus>, MissingEnv> {
    Ok(std::sync::Arc::new(crate::EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(conf),
        env("BUS_NAME")?,
    )))
}
