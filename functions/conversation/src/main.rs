use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    switchboard_aws::lambda::init_tracing();
    let processor = conversation::processor_from_env().await?;
    let processor = &processor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(conversation::handle_batch(processor, event.payload).await)
    }))
    .await
}
