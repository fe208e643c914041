//! Logs of a full pipeline run — customer messages with media, triage, a handoff, an agent's
//! reply through the outbound gate, statuses, an opt-out — captured as the JSON lines a Lambda
//! writes, at the default level: no customer phone number and no message body may appear.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use switchboard_e2e::{sign, statuses, text, ServeEnv, PNID};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PHONE: &str = "15550199731";
const SECRET_BODY: &str = "my card 4111 ending and address Rua Augusta 1508";
const REPLY: &str = "Thanks Maria, the refund to your Visa is on its way";

#[tokio::test]
async fn a_full_pipeline_run_logs_no_phone_number_and_no_message_body() {
    let captured = Captured::default();
    let writer = captured.clone();
    // As the Lambdas log (switchboard_aws::lambda::init_tracing): the current span on each line.
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(move || writer.clone())
        .init();

    let e = ServeEnv::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let image = json!({"from": PHONE, "id": "wamid.L2", "timestamp": (now - 5).to_string(), "type": "image",
        "image": {"id": "900000000000001", "mime_type": "image/jpeg",
                  "sha256": "unused", "caption": SECRET_BODY}});
    e.send(vec![
        text(
            PHONE,
            "wamid.L1",
            now - 10,
            &format!("I was charged twice, please refund: {SECRET_BODY}"),
        ),
        image,
    ])
    .await;
    let id = e.conversations("").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    e.act(
        &format!("/api/conversations/{id}/handoff"),
        "ana",
        "agent",
        json!({"action": "accept"}),
    )
    .await;
    let (st, _) = e
        .act(
            &format!("/api/conversations/{id}/reply"),
            "ana",
            "agent",
            json!({"idempotency_key": "lp-1", "type": "text", "body": REPLY}),
        )
        .await;
    assert_eq!(st, 202);
    e.settle().await;
    let sent = e.sent();
    assert!(!sent.is_empty());
    let body = statuses(
        PNID,
        vec![json!({"id": sent[0]["wamid"], "status": "delivered",
                    "timestamp": now.to_string(), "recipient_id": PHONE})],
    );
    assert_eq!(e.post(&body, Some(sign(&body))).await.0, 200);
    e.send(vec![text(PHONE, "wamid.L3", now, "STOP")]).await;
    e.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 5, "the run logged: {logs}");
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    // One correlation id follows the customer's message from ingest through processing, the
    // handoff request and the media job.
    let lines_of = |correlation: &str| -> Vec<serde_json::Value> {
        logs.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| {
                v["span"]["correlation_id"] == correlation
                    || v["fields"]["event_key"] == correlation
            })
            .collect()
    };
    let first = lines_of("msg:wamid.L1");
    let targets: std::collections::BTreeSet<_> =
        first.iter().filter_map(|v| v["target"].as_str()).collect();
    for target in [
        "switchboard_app::ingest",
        "switchboard_app::process",
        "switchboard_app::handoff",
    ] {
        assert!(
            targets.contains(target),
            "no {target} line for msg:wamid.L1: {targets:?}"
        );
    }
    assert!(
        lines_of("msg:wamid.L2")
            .iter()
            .any(|v| v["target"] == "switchboard_app::media"),
        "the media job logs under its message's correlation id"
    );
    for secret in [PHONE, "Rua Augusta", "4111", "refund to your Visa", "Maria"] {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{}",
            logs.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
