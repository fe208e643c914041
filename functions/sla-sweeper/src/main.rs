use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    switchboard_aws::lambda::init_tracing();
    let sweeper = sla_sweeper::from_env().await?;
    let sweeper = &sweeper;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            sla_sweeper::handle(sweeper, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
