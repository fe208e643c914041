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
    /// Move message and status timestamps to now, so samples open a live 24-hour window and their
    /// media is still within Meta's 7-day retention.
    #[arg(long)]
    pub fresh: bool,
}

/// The body with every message and status timestamp set to `now`.
pub fn freshen(body: &[u8], now: i64) -> anyhow::Result<Vec<u8>> {
    let mut v: serde_json::Value =
        serde_json::from_slice(body).context("--fresh needs a JSON payload")?;
    for entry in v["entry"].as_array_mut().into_iter().flatten() {
        for change in entry["changes"].as_array_mut().into_iter().flatten() {
            for list in ["messages", "statuses"] {
                for item in change["value"][list].as_array_mut().into_iter().flatten() {
                    if item.get("timestamp").is_some() {
                        item["timestamp"] = serde_json::Value::String(now.to_string());
                    }
                }
            }
        }
    }
    Ok(serde_json::to_vec(&v)?)
}

/// Posts each file; returns the number that were not answered 200.
pub async fn run(args: PostArgs) -> anyhow::Result<usize> {
    let secret = args.app_secret.as_deref().unwrap_or(DEMO_APP_SECRET);
    let client = reqwest::Client::new();
    let url = format!("{}/webhook", args.url.trim_end_matches('/'));
    let mut failures = 0;
    for file in &args.files {
        let mut body =
            std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        if args.fresh {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            body = freshen(&body, now)?;
        }
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
