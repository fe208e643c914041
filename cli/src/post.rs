//! `switchboard post FILE`: sign a payload the way Meta does and POST it to a webhook.

use std::path::PathBuf;

use anyhow::Context;
use switchboard_core::signature::sign;

use crate::config::DEMO_APP_SECRET;

#[derive(Debug, Clone, clap::Args)]
pub struct PostArgs {
    /// JSON payload files to post, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Base URL of the server.
    #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Secret to sign with; the demo secret by default.
    #[arg(long, env = "SWITCHBOARD_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
}

/// Posts each file; returns the number that were not answered 200.
pub async fn run(args: PostArgs) -> anyhow::Result<usize> {
    let secret = args.app_secret.as_deref().unwrap_or(DEMO_APP_SECRET);
    let client = reqwest::Client::new();
    let url = format!("{}/webhook", args.url.trim_end_matches('/'));
    let mut failures = 0;
    for file in &args.files {
        let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let res = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(secret.as_bytes(), &body))
            .body(body)
            .send()
            .await
            .with_context(|| format!("posting to {url}"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        println!("{} → {} {}", file.display(), status.as_u16(), text);
        if status != reqwest::StatusCode::OK {
            failures += 1;
        }
    }
    Ok(failures)
}
