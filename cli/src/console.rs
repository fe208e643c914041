//! The operator console's static files on `switchboard serve`: the SPA built into `web/dist`,
//! with `index.html` for every client-side route, and `/config.json` telling it to sign in with
//! the dev issuer's tokens (on AWS that file is uploaded beside the build and names Cognito).

use std::path::Path;

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

pub fn router(web_dir: &Path) -> Router {
    let config = Router::new().route(
        "/config.json",
        get(|| async { Json(json!({"auth": "dev", "apiBase": ""})) }),
    );
    let index = web_dir.join("index.html");
    if index.is_file() {
        config.fallback_service(ServeDir::new(web_dir).fallback(ServeFile::new(index)))
    } else {
        let dir = web_dir.display().to_string();
        config.fallback(get(move || {
            let dir = dir.clone();
            async move { (axum::http::StatusCode::NOT_FOUND, Html(not_built(&dir))).into_response() }
        }))
    }
}

fn not_built(dir: &str) -> String {
    format!(
        "<!doctype html><title>Switchboard</title><h1>The console is not built</h1>\
         <p>No <code>{dir}/index.html</code>. Build it with <code>npm --prefix web ci &amp;&amp; \
         npm --prefix web run build</code> (or start with <code>bash scripts/demo.sh</code>), then \
         reload. The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>"
    )
}
