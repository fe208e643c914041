use switchboard_http::webhook_router;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_aws::lambda::init_tracing();
    let ingest = ingest::ingest_from_env().await?;
    lambda_http::run(webhook_router(ingest)).await
}
