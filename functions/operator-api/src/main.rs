#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_aws::lambda::init_tracing();
    let api = operator_api::api_from_env().await?;
    lambda_http::run(operator_api::router(api)).await
}
