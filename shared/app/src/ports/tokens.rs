//! Where a tenant's Graph API token comes from: SSM SecureString on AWS, configuration locally.

use std::collections::HashMap;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no Graph API token configured for tenant {0:?}")]
    Missing(String),
    #[error("token store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self, tenant: &str) -> Result<String, TokenError>;
}

/// Tokens from configuration: one per tenant, or one for every tenant (a single-business setup).
pub struct StaticTokens {
    pub per_tenant: HashMap<String, String>,
    pub fallback: Option<String>,
}

impl StaticTokens {
    /// One token for every tenant from `SWITCHBOARD_GRAPH_TOKEN` (local runs).
    pub fn from_env() -> Self {
        Self {
            per_tenant: HashMap::new(),
            fallback: std::env::var("SWITCHBOARD_GRAPH_TOKEN").ok(),
        }
    }
}

#[async_trait]
impl TokenSource for StaticTokens {
    async fn token(&self, tenant: &str) -> Result<String, TokenError> {
        self.per_tenant
            .get(tenant)
            .or(self.fallback.as_ref())
            .cloned()
            .ok_or_else(|| TokenError::Missing(tenant.to_string()))
    }
}

/// Where a tenant's two-step verification PIN comes from (registering a number needs it): SSM on
/// AWS (`{prefix}{tenant}/two-step-pin`), configuration locally. Never stored in the table or in
/// a workflow's input, where execution histories would show it.
#[async_trait]
pub trait PinSource: Send + Sync {
    async fn two_step_pin(&self, tenant: &str) -> Result<String, TokenError>;
}

/// One PIN for every tenant (local runs and the demo).
pub struct StaticPin(pub Option<String>);

#[async_trait]
impl PinSource for StaticPin {
    async fn two_step_pin(&self, tenant: &str) -> Result<String, TokenError> {
        self.0
            .clone()
            .ok_or_else(|| TokenError::Missing(format!("two-step PIN of {tenant}")))
    }
}
