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
