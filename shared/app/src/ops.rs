//! Operational measurements that are not product counters: how long ingest took to verify and
//! queue a webhook, how many events it carried. Reported through a process-wide sink — CloudWatch
//! EMF lines on AWS (installed with the Lambda's tracing), nothing locally.

use std::sync::OnceLock;

/// `(metric name, value, CloudWatch unit)`.
pub type OpsSink = dyn Fn(&str, f64, &'static str) + Send + Sync;

static SINK: OnceLock<Box<OpsSink>> = OnceLock::new();

/// Installs the sink once per process (later calls are ignored).
pub fn set_sink(sink: Box<OpsSink>) {
    let _ = SINK.set(sink);
}

pub fn record(name: &str, value: f64, unit: &'static str) {
    if let Some(sink) = SINK.get() {
        sink(name, value, unit);
    }
}
