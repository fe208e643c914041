use switchboard_http::webhook_router;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(false)
        .without_time()
        .init();
    let ingest = ingest::ingest_from_env().await?;
    lambda_http::run(webhook_router(ingest)).await
}
