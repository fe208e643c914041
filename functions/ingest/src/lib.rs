//! The ingest function: Meta's webhook behind API Gateway (HTTP API, payload v2).
//! Verify the signature, split, enqueue to SQS FIFO, answer 200 — nothing else before the ack.

use std::path::PathBuf;
use std::sync::Arc;

use switchboard_app::ingest::{Ingest, WebhookSecrets};
use switchboard_app::SystemClock;
use switchboard_aws::lambda::env;

/// Builds the use case from the environment.
///
/// On AWS: `QUEUE_URL`, `CLAIMS_BUCKET`, and the SSM parameter names `APP_SECRET_PARAM`,
/// `VERIFY_TOKEN_PARAM`. With `SWITCHBOARD_BACKEND=local` (running under `cargo lambda watch`):
/// `SWITCHBOARD_DATA_DIR`, `SWITCHBOARD_APP_SECRET`, `SWITCHBOARD_VERIFY_TOKEN`.
pub async fn ingest_from_env() -> anyhow::Result<Arc<Ingest>> {
    let clock = Arc::new(SystemClock);
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(Arc::new(Ingest {
            secrets: WebhookSecrets {
                app_secret: env("SWITCHBOARD_APP_SECRET")?,
                verify_token: env("SWITCHBOARD_VERIFY_TOKEN")?,
            },
            queue: stack.events,
            blobs: stack.blobs,
            clock,
        }));
    }
    let conf = switchboard_aws::sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let secrets = WebhookSecrets {
        app_secret: switchboard_aws::read_secret(&ssm, &env("APP_SECRET_PARAM")?).await?,
        verify_token: switchboard_aws::read_secret(&ssm, &env("VERIFY_TOKEN_PARAM")?).await?,
    };
    Ok(Arc::new(Ingest {
        secrets,
        queue: Arc::new(switchboard_aws::SqsQueue::new(
            aws_sdk_sqs::Client::new(&conf),
            env("QUEUE_URL")?,
        )),
        blobs: Arc::new(switchboard_aws::S3BlobStore::new(
            switchboard_aws::S3BlobStore::client(&conf),
            env("CLAIMS_BUCKET")?,
        )),
        clock,
    }))
}
