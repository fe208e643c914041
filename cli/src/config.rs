//! `switchboard serve` configuration: flags, then environment, then the demo defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The demo tenant's documented credentials. They let a newcomer run the product with no setup;
/// `switchboard serve` says so loudly when it runs with them.
pub const DEMO_APP_SECRET: &str = "switchboard-demo-app-secret";
pub const DEMO_VERIFY_TOKEN: &str = "switchboard-demo-verify-token";
/// The phone number id of the reference fixtures, so any of them can be posted as-is.
pub const DEMO_PHONE_NUMBER_ID: &str = "110000000000001";
pub const DEMO_TENANT: &str = "demo";
/// The WABA id of the reference fixtures.
pub const DEMO_WABA_ID: &str = "109876543210987";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Directory for the SQLite database and blobs.
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "switchboard-data")]
    pub data_dir: PathBuf,
    /// Meta app secret (signs webhook POSTs). Defaults to the demo secret.
    #[arg(long, env = "SWITCHBOARD_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Token Meta echoes in the GET verification handshake. Defaults to the demo token.
    #[arg(long, env = "SWITCHBOARD_VERIFY_TOKEN", hide_env_values = true)]
    pub verify_token: Option<String>,
    /// The business phone number id routed to the tenant.
    #[arg(long, env = "SWITCHBOARD_PHONE_NUMBER_ID", default_value = DEMO_PHONE_NUMBER_ID)]
    pub phone_number_id: String,
    /// The WhatsApp Business Account id routed to the tenant (template and account webhooks).
    #[arg(long, env = "SWITCHBOARD_WABA_ID", default_value = DEMO_WABA_ID)]
    pub waba_id: String,
    /// Tenant this server stores and shows.
    #[arg(long, env = "SWITCHBOARD_TENANT", default_value = DEMO_TENANT)]
    pub tenant: String,
    /// Base URL of Meta's Graph API (media downloads).
    #[arg(
        long,
        env = "SWITCHBOARD_GRAPH_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub graph_url: String,
    #[arg(long, env = "SWITCHBOARD_GRAPH_VERSION", default_value = "v23.0")]
    pub graph_version: String,
    /// Graph API token (system-user token) used to fetch media.
    #[arg(long, env = "SWITCHBOARD_GRAPH_TOKEN", hide_env_values = true)]
    pub graph_token: Option<String>,
    /// Start an in-process fake of Meta's Graph API holding the demo media
    /// (events/media), so media messages are fetched and stored offline.
    #[arg(long, env = "SWITCHBOARD_DEMO")]
    pub demo: bool,
    /// SLA policies (JSON, see config/sla/default.json); the shipped defaults when absent.
    #[arg(long, env = "SWITCHBOARD_SLA_CONFIG")]
    pub sla_config: Option<PathBuf>,
    /// The two-step verification PIN onboarding registers numbers with (the demo uses a fixed one).
    #[arg(long, env = "SWITCHBOARD_TWO_STEP_PIN", hide_env_values = true)]
    pub two_step_pin: Option<String>,
    /// Seconds between the onboarding executor's timer runs (retries, timeouts); 0 turns it off.
    #[arg(long, env = "SWITCHBOARD_FLOW_TICK_SECS", default_value_t = 2)]
    pub flow_tick_secs: u64,
    /// Seconds between SLA sweeps (warning and breach events); 0 turns the sweeper off.
    #[arg(long, env = "SWITCHBOARD_SLA_SWEEP_SECS", default_value_t = 30)]
    pub sla_sweep_secs: u64,
    /// The built operator console (`npm --prefix web run build`), served at `/`.
    #[arg(long, env = "SWITCHBOARD_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
}

impl ServeConfig {
    pub fn app_secret(&self) -> &str {
        self.app_secret.as_deref().unwrap_or(DEMO_APP_SECRET)
    }
    pub fn verify_token(&self) -> &str {
        self.verify_token.as_deref().unwrap_or(DEMO_VERIFY_TOKEN)
    }
    pub fn is_demo(&self) -> bool {
        self.app_secret.is_none()
    }
    /// A config for tests: a free port on loopback, the demo credentials.
    pub fn for_test(data_dir: PathBuf) -> Self {
        Self {
            bind: "127.0.0.1:0".parse().expect("valid address"),
            data_dir,
            app_secret: None,
            verify_token: None,
            phone_number_id: DEMO_PHONE_NUMBER_ID.into(),
            waba_id: DEMO_WABA_ID.into(),
            tenant: DEMO_TENANT.into(),
            graph_url: "https://graph.facebook.com".into(),
            graph_version: "v23.0".into(),
            graph_token: None,
            demo: true,
            sla_config: None,
            two_step_pin: None,
            // Tests run the executor's timers by hand.
            flow_tick_secs: 0,
            // Tests sweep by hand, at the moments they choose.
            sla_sweep_secs: 0,
            web_dir: PathBuf::from("web/dist"),
        }
    }
}
