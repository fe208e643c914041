//! The port contract on the AWS adapters, against moto server.
//!
//! The test scripts start moto and set `SWITCHBOARD_MOTO_URL`; without it these tests skip, unless
//! `SWITCHBOARD_REQUIRE_MOTO=1` (as in CI), where a missing emulator is a failure.

use std::sync::Arc;

use switchboard_app::contract;
use switchboard_app::ports::FixedClock;
use switchboard_aws::{provision, DynamoTable, S3BlobStore, SqsQueue};

#[tokio::test]
async fn dynamodb_table_honours_the_contract() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let name = provision::unique_name("contract");
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
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let client = aws_sdk_sqs::Client::new(&conf);
    let (url, dlq_url) =
        provision::create_fifo_with_dlq(&client, &provision::unique_name("contract"), 2)
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
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let client = S3BlobStore::client(&conf);
    let bucket = provision::unique_name("contract");
    provision::create_bucket(&client, &bucket).await.unwrap();
    contract::blob_contract(Arc::new(S3BlobStore::new(client, bucket))).await;
}

#[tokio::test]
async fn ssm_secure_string_is_read_decrypted() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let client = aws_sdk_ssm::Client::new(&conf);
    let name = format!("/switchboard/{}/app-secret", provision::unique_name("t"));
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

#[tokio::test]
async fn eventbridge_bus_honours_the_contract() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let events = aws_sdk_eventbridge::Client::new(&conf);
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let (bus, tap) = provision::create_bus_with_tap(&events, &sqs, &provision::unique_name("bus"))
        .await
        .unwrap();
    let observe = || {
        let (sqs, tap) = (sqs.clone(), tap.clone());
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&tap)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let mut seen = Vec::new();
            for m in out.messages() {
                let envelope: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
                assert_eq!(envelope["source"], "switchboard");
                seen.push((
                    envelope["detail-type"].as_str().unwrap().to_string(),
                    envelope["detail"].clone(),
                ));
                sqs.delete_message()
                    .queue_url(&tap)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            seen
        }
    };
    contract::bus_contract(
        Arc::new(switchboard_aws::EventBridgeBus::new(events, bus)),
        observe,
    )
    .await;
}

#[tokio::test]
async fn s3_presigned_urls_fetch_without_credentials() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let client = S3BlobStore::client(&conf);
    let bucket = provision::unique_name("presign");
    provision::create_bucket(&client, &bucket).await.unwrap();
    contract::presign_contract(
        Arc::new(S3BlobStore::new(client, bucket)),
        |url| async move {
            let res = reqwest::get(&url).await.ok()?;
            res.status().is_success().then_some(())?;
            res.bytes().await.ok().map(|b| b.to_vec())
        },
    )
    .await;
}
