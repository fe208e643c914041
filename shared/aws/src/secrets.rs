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

/// Tenants' Graph API tokens from SSM SecureString parameters `{prefix}{tenant}/graph-token`,
/// cached for a few minutes so a batch of media jobs reads SSM once.
pub struct SsmTokens {
    client: aws_sdk_ssm::Client,
    prefix: String,
    cache: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}

const TOKEN_CACHE: std::time::Duration = std::time::Duration::from_secs(300);

impl SsmTokens {
    pub fn new(client: aws_sdk_ssm::Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            cache: Default::default(),
        }
    }

    pub fn parameter_name(&self, tenant: &str) -> String {
        format!("{}{tenant}/graph-token", self.prefix)
    }
}

#[async_trait::async_trait]
impl switchboard_app::ports::TokenSource for SsmTokens {
    async fn token(&self, tenant: &str) -> Result<String, switchboard_app::ports::TokenError> {
        use switchboard_app::ports::TokenError;
        if let Some((t, at)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
        {
            if at.elapsed() < TOKEN_CACHE {
                return Ok(t.clone());
            }
        }
        let token = match read_secret(&self.client, &self.parameter_name(tenant)).await {
            Ok(t) => t,
            Err(SecretError::Empty(_)) => return Err(TokenError::Missing(tenant.to_string())),
            Err(SecretError::Ssm { reason, .. }) if reason.contains("ParameterNotFound") => {
                return Err(TokenError::Missing(tenant.to_string()))
            }
            Err(e) => return Err(TokenError::Unavailable(e.to_string())),
        };
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(
            tenant.to_string(),
            (token.clone(), std::time::Instant::now()),
        );
        Ok(token)
    }
}

#[async_trait::async_trait]
impl switchboard_app::ports::PinSource for SsmTokens {
    /// `{prefix}{tenant}/two-step-pin`, read on each use (registration is rare).
    async fn two_step_pin(
        &self,
        tenant: &str,
    ) -> Result<String, switchboard_app::ports::TokenError> {
        use switchboard_app::ports::TokenError;
        let name = format!("{}{tenant}/two-step-pin", self.prefix);
        match read_secret(&self.client, &name).await {
            Ok(p) => Ok(p),
            Err(SecretError::Empty(_)) => Err(TokenError::Missing(name)),
            Err(SecretError::Ssm { reason, .. }) if reason.contains("ParameterNotFound") => {
                Err(TokenError::Missing(name))
            }
            Err(e) => Err(TokenError::Unavailable(e.to_string())),
        }
    }
}
