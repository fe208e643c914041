//! Who is calling the operator API: the operator's user, tenant and roles, from a JWT.
//!
//! Two ways to trust a token, one `Operator` out:
//! - on AWS, API Gateway's JWT authorizer has verified the Cognito token (signature, issuer,
//!   audience, expiry) before the function runs; the Lambda binary hands its claims over as
//!   [`VerifiedClaims`];
//! - on `switchboard serve`, the [`DevIssuer`] mints and verifies HS256 tokens with a key derived
//!   from the app secret, so a login link survives a restart and `switchboard token` can mint one.
//!
//! The tenant comes from the token and nowhere else: no route takes a tenant parameter.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::ApiError;

/// What an operator may do. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works conversations: accepts handoffs, replies, resolves.
    Agent,
    /// An agent who also transfers to other agents, sends business-initiated messages, writes
    /// templates, reads the audit trail and runs onboarding.
    Lead,
    /// Reviews template drafts (never their own) and submits them to Meta.
    Approver,
    /// Configures the tenant: onboarding, consent on record, dead letters, unrouted notices.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Agent, Role::Lead, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The authenticated caller of an `/api` route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub user: String,
    pub tenant: String,
    pub roles: Vec<Role>,
}

impl Operator {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Reads the operator from token claims: Cognito's (`custom:tenant`, `cognito:groups`, the
    /// user as `email`, `cognito:username` or `sub`) or the dev issuer's, which uses the same
    /// names. Unknown groups are ignored; a token without a tenant is refused.
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Self, AuthError> {
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let tenant = text("custom:tenant").ok_or(AuthError::NoTenant)?;
        if !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AuthError::NoTenant);
        }
        let user = text("email")
            .or_else(|| text("cognito:username"))
            .or_else(|| text("sub"))
            .ok_or(AuthError::Malformed("no subject"))?;
        let roles = groups(claims.get("cognito:groups"))
            .iter()
            .filter_map(|g| Role::parse(g))
            .collect();
        Ok(Self {
            user: user.to_string(),
            tenant: tenant.to_string(),
            roles,
        })
    }
}

/// `cognito:groups` as a JSON array (an ID token) or as API Gateway's flattening of it into one
/// string, `"[agent lead]"`.
fn groups(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s
            .trim_matches(|c| c == '[' || c == ']')
            .split([' ', ','])
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("an Authorization: Bearer token is required")]
    Missing,
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token names no valid tenant")]
    NoTenant,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = match self {
            AuthError::NoTenant => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        let code = match self {
            AuthError::NoTenant => "no_tenant",
            _ => "unauthenticated",
        };
        let mut res = ApiError::new(status, code, self.to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The local issuer of operator tokens (HS256). Only `switchboard serve` uses it; on AWS tokens
/// come from Cognito and API Gateway verifies them.
#[derive(Clone)]
pub struct DevIssuer {
    key: Vec<u8>,
}

pub const DEV_ISSUER: &str = "switchboard-dev";

impl DevIssuer {
    /// The key is derived from the app secret, never the secret itself.
    pub fn from_app_secret(app_secret: &str) -> Self {
        let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("any key length");
        mac.update(b"switchboard operator tokens v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn mac(&self, signing_input: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(signing_input);
        mac
    }

    /// A token for `user` of `tenant` with `roles`, valid for `ttl_secs` from `now`.
    pub fn mint(
        &self,
        user: &str,
        tenant: &str,
        roles: &[Role],
        now: i64,
        ttl_secs: i64,
    ) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({
            "iss": DEV_ISSUER,
            "sub": user,
            "custom:tenant": tenant,
            "cognito:groups": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "iat": now,
            "exp": now + ttl_secs,
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.mac(input.as_bytes()).finalize().into_bytes());
        format!("{input}.{sig}")
    }

    /// Verifies an HS256 token this issuer minted and returns its claims. Any other algorithm,
    /// `none` included, is refused before the signature is looked at.
    pub fn verify(&self, token: &str, now: i64) -> Result<Map<String, Value>, AuthError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed("expected three dot-separated parts"));
        };
        let header: Value = decode_json(h)?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(AuthError::Malformed("only HS256 tokens are issued here"));
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| AuthError::Malformed("signature is not base64url"))?;
        let signing_input = &token[..h.len() + 1 + p.len()];
        // verify_slice compares in constant time.
        self.mac(signing_input.as_bytes())
            .verify_slice(&sig)
            .map_err(|_| AuthError::BadSignature)?;
        let Value::Object(claims) = decode_json(p)? else {
            return Err(AuthError::Malformed("claims are not an object"));
        };
        if claims.get("iss").and_then(Value::as_str) != Some(DEV_ISSUER) {
            return Err(AuthError::Malformed("unknown issuer"));
        }
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp > now => Ok(claims),
            Some(_) => Err(AuthError::Expired),
            None => Err(AuthError::Malformed("no exp claim")),
        }
    }
}

fn decode_json(part: &str) -> Result<Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed("not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed("not JSON"))
}

/// Claims a trusted front door already verified (API Gateway's JWT authorizer), put into the
/// request's extensions by the Lambda binary.
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub Map<String, Value>);

/// How the operator API trusts its callers.
#[derive(Clone)]
pub enum Authenticator {
    /// `switchboard serve`: bearer tokens from the dev issuer.
    Dev(DevIssuer),
    /// The Lambda behind API Gateway's JWT authorizer: [`VerifiedClaims`] or nothing.
    Gateway,
}

impl Authenticator {
    pub fn name(&self) -> &'static str {
        match self {
            Authenticator::Dev(_) => "dev",
            Authenticator::Gateway => "cognito",
        }
    }

    fn operator(&self, parts: &Parts, now: i64) -> Result<Operator, AuthError> {
        match self {
            Authenticator::Dev(issuer) => {
                let token = parts
                    .headers
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        v.strip_prefix("Bearer ")
                            .or_else(|| v.strip_prefix("bearer "))
                    })
                    .map(str::trim)
                    .ok_or(AuthError::Missing)?;
                Operator::from_claims(&issuer.verify(token, now)?)
            }
            Authenticator::Gateway => {
                let claims = parts
                    .extensions
                    .get::<VerifiedClaims>()
                    .ok_or(AuthError::Missing)?;
                Operator::from_claims(&claims.0)
            }
        }
    }
}

/// Middleware: every `/api` route but the OpenAPI document needs an operator.
pub async fn authenticate(
    State(auth): State<(Authenticator, std::sync::Arc<dyn switchboard_app::Clock>)>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || path == crate::catalog::OPENAPI_PATH {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match auth.0.operator(&parts, auth.1.now()) {
        Ok(op) => {
            parts.extensions.insert(op);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Operator>()
            .cloned()
            .ok_or_else(|| AuthError::Missing.into_response())
    }
}

/// Middleware on each route: the operator holds one of the route's roles.
pub async fn require_roles(
    State(roles): State<&'static [Role]>,
    op: Operator,
    req: Request,
    next: Next,
) -> Response {
    if op.has_any(roles) {
        return next.run(req).await;
    }
    let wanted: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_role",
        format!("this action needs one of the roles: {}", wanted.join(", ")),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> DevIssuer {
        DevIssuer::from_app_secret("secret")
    }

    #[test]
    fn a_minted_token_verifies_and_names_its_operator() {
        let t = issuer().mint("alice", "acme", &[Role::Agent, Role::Lead], 1000, 60);
        let claims = issuer().verify(&t, 1001).unwrap();
        let op = Operator::from_claims(&claims).unwrap();
        assert_eq!(op.user, "alice");
        assert_eq!(op.tenant, "acme");
        assert_eq!(op.roles, vec![Role::Agent, Role::Lead]);
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let t = issuer().mint("alice", "acme", &[Role::Agent], 1000, 60);
        assert_eq!(issuer().verify(&t, 1060), Err(AuthError::Expired));
        assert_eq!(
            DevIssuer::from_app_secret("other").verify(&t, 1001),
            Err(AuthError::BadSignature)
        );
        // Swap the claims for an admin's of another tenant, keeping the signature.
        let forged = URL_SAFE_NO_PAD.encode(
            json!({"iss": DEV_ISSUER, "sub": "mallory", "custom:tenant": "acme",
                   "cognito:groups": ["admin"], "exp": 9999})
            .to_string(),
        );
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[1] = &forged;
        assert_eq!(
            issuer().verify(&parts.join("."), 1001),
            Err(AuthError::BadSignature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            forged
        );
        assert!(matches!(
            issuer().verify(&none, 1001),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            issuer().verify("a.b", 1001),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn gateway_claims_with_flattened_groups_and_no_tenant() {
        let claims = json!({"sub": "u-1", "email": "ana@example.com", "custom:tenant": "acme",
                            "cognito:groups": "[agent approver unknown]"});
        let op = Operator::from_claims(claims.as_object().unwrap()).unwrap();
        assert_eq!(op.user, "ana@example.com");
        assert_eq!(op.roles, vec![Role::Agent, Role::Approver]);
        let no_tenant = json!({"sub": "u-1", "cognito:groups": ["admin"]});
        assert_eq!(
            Operator::from_claims(no_tenant.as_object().unwrap()),
            Err(AuthError::NoTenant)
        );
        let bad_tenant = json!({"sub": "u", "custom:tenant": "a#b"});
        assert_eq!(
            Operator::from_claims(bad_tenant.as_object().unwrap()),
            Err(AuthError::NoTenant)
        );
    }
}
