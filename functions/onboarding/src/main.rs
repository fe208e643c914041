use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    switchboard_aws::lambda::init_tracing();
    let onboarding = onboarding::from_env().await?;
    let onboarding = &onboarding;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(onboarding::handle_batch(onboarding, event.payload).await)
    }))
    .await
}
