//! Creates the resources template.yaml declares — the table with its GSIs and TTL, the FIFO
//! queue with its dead-letter queue, the bucket — through the SDK. For emulators (moto server)
//! and tests only: deployed stacks get theirs from CloudFormation.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BoxError> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()?)
}

/// The single table: `pk`/`sk`, GSIs `gsi1` and `gsi2`, TTL on `expires_at`.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), BoxError> {
    let mut defs = Vec::new();
    for a in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        defs.push(
            AttributeDefinition::builder()
                .attribute_name(a)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    let gsi = |n: &str| -> Result<GlobalSecondaryIndex, BoxError> {
        Ok(GlobalSecondaryIndex::builder()
            .index_name(n)
            .key_schema(key(&format!("{n}pk"), KeyType::Hash)?)
            .key_schema(key(&format!("{n}sk"), KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()?)
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(defs))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi("gsi1")?)
        .global_secondary_indexes(gsi("gsi2")?)
        .send()
        .await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A FIFO queue named `{name}.fifo` and its DLQ `{name}-dlq.fifo`; returns both URLs.
pub async fn create_fifo_with_dlq(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
) -> Result<(String, String), BoxError> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await?;
    let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
    let arn = queue_arn(client, &dlq_url).await?;
    let redrive = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives});
    let q = client
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await?;
    Ok((q.queue_url().unwrap_or_default().to_string(), dlq_url))
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> Result<String, BoxError> {
    Ok(client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default())
}

pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), BoxError> {
    client.create_bucket().bucket(name).send().await?;
    Ok(())
}

/// The SDK configuration for the moto server the test scripts start (`SWITCHBOARD_MOTO_URL`),
/// with fake credentials. `None` when no emulator is configured; a panic when
/// `SWITCHBOARD_REQUIRE_MOTO=1` (CI) says one must be.
pub async fn emulator_from_env() -> Option<aws_config::SdkConfig> {
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

/// A resource name no other test run uses.
pub fn unique_name(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{n}")
}

/// An EventBridge bus with a rule that copies every Switchboard event to a new SQS queue, so tests
/// can observe what was published (moto delivers rule targets synchronously). Returns the bus
/// name and the queue URL.
pub async fn create_bus_with_tap(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<(String, String), BoxError> {
    events.create_event_bus().name(name).send().await?;
    let q = sqs
        .create_queue()
        .queue_name(format!("{name}-tap"))
        .send()
        .await?;
    let url = q.queue_url().unwrap_or_default().to_string();
    let arn = queue_arn(sqs, &url).await?;
    events
        .put_rule()
        .name(format!("{name}-all"))
        .event_bus_name(name)
        .event_pattern(
            serde_json::json!({"source": [switchboard_app::ports::bus::SOURCE]}).to_string(),
        )
        .send()
        .await?;
    events
        .put_targets()
        .rule(format!("{name}-all"))
        .event_bus_name(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("tap")
                .arn(arn)
                .build()?,
        )
        .send()
        .await?;
    Ok((name.to_string(), url))
}
