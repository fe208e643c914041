//! What every Lambda binary does at cold start, written once: JSON logs for CloudWatch and
//! required environment variables with a clear error.

/// JSON log lines filtered by `RUST_LOG`, without timestamps (CloudWatch adds its own).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        // The current span's fields — the message's correlation_id — on every line, flat.
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .init();
    // The product metrics' counters, as CloudWatch metrics (namespace Switchboard, per tenant).
    switchboard_app::outbox::set_metrics_sink(Box::new(|tenant, counters| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        println!("{}", emf_line(tenant, counters, now));
    }));
    switchboard_app::ops::set_sink(Box::new(|name, value, unit| {
        println!("{}", ops_emf_line(name, value, unit, now_ms()));
    }));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An operational measurement as EMF: namespace `Switchboard`, no dimension (one series per
/// deployment), e.g. `ingest_latency_ms` in milliseconds.
pub fn ops_emf_line(name: &str, value: f64, unit: &str, timestamp_ms: i64) -> serde_json::Value {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Switchboard",
                "Dimensions": [[]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
    });
    line[name] = serde_json::json!(value);
    line
}

/// One CloudWatch Embedded Metric Format line: the counters under namespace `Switchboard` with
/// the tenant as dimension, the same names as the roll-ups (docs/metrics.md).
pub fn emf_line(
    tenant: &str,
    counters: &std::collections::BTreeMap<String, i64>,
    timestamp_ms: i64,
) -> serde_json::Value {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Switchboard",
                "Dimensions": [["tenant"]],
                "Metrics": counters.keys().map(|m| serde_json::json!({"Name": m, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        },
        "tenant": tenant,
    });
    for (m, n) in counters {
        line[m] = serde_json::json!(n);
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn emf_lines_carry_each_counter_under_its_name() {
        let counters = [("sent".to_string(), 2), ("handoffs".to_string(), 1)]
            .into_iter()
            .collect();
        let line = super::emf_line("acme", &counters, 1_795_316_400_000);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Switchboard"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "tenant"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "handoffs"
        );
        assert_eq!(
            (line["sent"].as_i64(), line["tenant"].as_str()),
            (Some(2), Some("acme"))
        );
    }

    #[test]
    fn ops_lines_are_one_series_per_deployment() {
        let line = super::ops_emf_line("ingest_latency_ms", 12.5, "Milliseconds", 1);
        let m = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Dimensions"], serde_json::json!([[]]));
        assert_eq!(m["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(line["ingest_latency_ms"], 12.5);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub String);

/// A required environment variable.
pub fn env(name: &str) -> Result<String, MissingEnv> {
    std::env::var(name).map_err(|_| MissingEnv(name.to_string()))
}

/// The single table (`TABLE_NAME`), as every function that reads or writes it opens it.
pub fn table_from_env(
    conf: &aws_config::SdkConfig,
    clock: std::sync::Arc<dyn switchboard_app::Clock>,
) -> Result<std::sync::Arc<crate::DynamoTable>, MissingEnv> {
    Ok(std::sync::Arc::new(crate::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(conf),
        env("TABLE_NAME")?,
        clock,
    )))
}

/// The domain event bus (`BUS_NAME`).
pub fn bus_from_env(
    conf: &aws_config::SdkConfig,
) -> Result<std::sync::Arc<crate::EventBridgeBus>, MissingEnv> {
    Ok(std::sync::Arc::new(crate::EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(conf),
        env("BUS_NAME")?,
    )))
}
