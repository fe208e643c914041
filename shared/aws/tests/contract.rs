//! The port contract on the AWS adapters, against moto server.
//!
//! The test scripts start moto and set `SWITCHBOARD_MOTO_URL`; without it these tests skip, unless
//! `SWITCHBOARD_REQUIRE_MOTO=1` (as in CI), where a missing emulator is a failure.

use std::sync::Arc;

use switchboard_app::contract;
use switchboard_app::ports::FixedClock;
use switchboard_aws::{provision, DynamoTable, S3BlobStore, SqsQueue};

async fn moto() -> Option<aws_config::SdkConfig> {
    let Ok(url) = std::env::var("SWITCHBOARD_MOTO_URL") else {
        assert!(
            std::env::var("SWITCHBOARD_REQUIRE_MOTO").as_deref() != Ok("1"),
            "SWITCHBOARD_MOTO_URL is not set but SWITCHBOARD_REQUIRE_MOTO=1"
        );
        eprintln!("skipping: SWITCHBOARD_MOTO_URL not set (scripts/test.sh starts moto)");
        return None;
    };
    std::env::set_var("AWS_ENDPOINT_URL", &url);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    Some(aws_config::load_from_env().await)
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{n}")
}

#[tokio::test]
async fn dynamodb_table_honours_the_contract() {
    let Some(conf) = moto().await else { return };
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let name = unique("contract");
    provision::create_table(&client, &name).await.unwrap();
    let clock = Arc::new(FixedClock::new(0));
    contract::table_contract(
        Arc::new(DynamoTable::new(client, name, clock.clone())),
        clock,
    )
    .await;
}

#[tokio::test]
async fn sqs_fifo_queue_honours_the_contract() {
    let Some(conf) = moto().await else { return };
    let client = aws_sdk_sqs::Client::new(&conf);
    let (url, dlq_url) = provision::create_fifo_with_dlq(&client, &unique("contract"), 2)
        .await
        .unwrap();
    contract::queue_contract(
        Arc::new(SqsQueue::new(client.clone(), url)),
        Arc::new(SqsQueue::new(client, dlq_url)),
    )
    .await;
}

#[tokio::test]
async fn s3_blobs_honour_the_contract() {
    let Some(conf) = moto().await else { return };
    let client = S3BlobStore::client(&conf);
    let bucket = unique("contract");
    provision::create_bucket(&client, &bucket).await.unwrap();
    contract::blob_contract(Arc::new(S3BlobStore::new(client, bucket))).await;
}

#[tokio::test]
async fn ssm_secure_string_is_read_decrypted() {
    let Some(conf) = moto().await else { return };
    let client = aws_sdk_ssm::Client::new(&conf);
    let name = format!("/switchboard/{}/app-secret", unique("t"));
    client
        .put_parameter()
        .name(&name)
        .value("s3cr3t")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    assert_eq!(
        switchboard_aws::read_secret(&client, &name).await.unwrap(),
        "s3cr3t"
    );
    assert!(switchboard_aws::read_secret(&client, "/missing")
        .await
        .is_err());
}
