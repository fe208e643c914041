//! `switchboard token`: mint an operator token for `switchboard serve` (the local dev issuer).
//!
//! The key is derived from the app secret, so only someone holding the server's secret can mint
//! a token it accepts. On AWS, operators sign in through Cognito instead.

use switchboard_app::{Clock, SystemClock};
use switchboard_http::{DevIssuer, Role};

use crate::config::{DEMO_APP_SECRET, DEMO_TENANT};

#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The operator's user name.
    #[arg(long)]
    pub user: String,
    /// A role: agent, lead, approver or admin. Repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
    #[arg(long, env = "SWITCHBOARD_TENANT", default_value = DEMO_TENANT)]
    pub tenant: String,
    /// The server's app secret; the demo secret by default.
    #[arg(long, env = "SWITCHBOARD_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Hours the token stays valid.
    #[arg(long, default_value_t = 12)]
    pub hours: i64,
    /// Print a login link for the console at this base URL instead of the bare token.
    #[arg(long)]
    pub link: Option<String>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: agent, lead, approver or admin"))
}

pub fn mint(args: &TokenArgs) -> String {
    let issuer = DevIssuer::from_app_secret(args.app_secret.as_deref().unwrap_or(DEMO_APP_SECRET));
    let token = issuer.mint(
        &args.user,
        &args.tenant,
        &args.roles,
        SystemClock.now(),
        args.hours.clamp(1, 24 * 30) * 3600,
    );
    match &args.link {
        Some(base) => format!("{}/#token={token}", base.trim_end_matches('/')),
        None => token,
    }
}
