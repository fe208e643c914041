//! Secrets at cold start: from an SSM SecureString parameter, never from plain configuration in
//! the deployed stack.

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("could not read SSM parameter {name}: {reason}")]
    Ssm { name: String, reason: String },
    #[error("SSM parameter {0} is empty")]
    Empty(String),
}

/// The decrypted value of the SSM parameter `name`.
pub async fn read_secret(client: &aws_sdk_ssm::Client, name: &str) -> Result<String, SecretError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| SecretError::Ssm {
            name: name.to_string(),
            reason: format!("{e:?}"),
        })?;
    out.parameter()
        .and_then(|p| p.value())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| SecretError::Empty(name.to_string()))
}
