use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    switchboard_aws::lambda::init_tracing();
    let requests = handoff::from_env().await?;
    let requests = &requests;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(handoff::handle_batch(requests, event.payload).await)
    }))
    .await
}
