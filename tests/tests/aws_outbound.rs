//! The outbound path on the AWS adapters (DynamoDB, SQS FIFO, EventBridge on moto) with the fake
//! Graph API: a customer message asks for a human, the handoff function queues it, an agent
//! accepts and replies through the gate (once, whatever the retries), the sender delivers, and
//! every outcome lands in the thread, the audit trail and the event log. Then the gate's
//! refusals (closed window, opt-out), Meta's throughput backoff, and the SLA sweeper.
//! Skips without `SWITCHBOARD_MOTO_URL` unless `SWITCHBOARD_REQUIRE_MOTO=1`.
//!
//! moto does not serialise concurrent TransactWriteItems, so each test acts in order.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_app::governance::{self, Governance, Role, Submitter};
use switchboard_app::handoff::{HandoffRequests, HandoffService};
use switchboard_app::outbound::{Outbound, OutboundError, OutboundQueues, SendOutcome, Sender};
use switchboard_app::ports::{Clock, FixedClock, Key, Queue, StaticTokens, Table};
use switchboard_app::process::{Outcome, Processor};
use switchboard_app::sla::SlaSweeper;
use switchboard_app::worker::Retry;
use switchboard_app::{audit, consent, outbox, queries, routes, sla};
use switchboard_aws::{provision, DynamoTable, EventBridgeBus, S3BlobStore, SqsQueue};
use switchboard_core::consent::{ConsentKind, ConsentRecord};
use switchboard_core::handoff::{Action, Actor};
use switchboard_core::outbound::{Content, Limits, Origin, Refusal, SendRequest};
use switchboard_core::sla::SlaPolicies;
use switchboard_core::{keys, split_webhook};
use switchboard_e2e::{text, webhook, PNID};
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};

/// Meta's timestamp of the first customer message in every test (2027-01-15 08:00 UTC).
const T0: i64 = 1_800_000_000;
const TENANT: &str = "acme";
const WABA: &str = "109876543210987";
/// A message triage sends to a human (billing, review required): the bot stays silent, so the
/// outbound queue holds only what the test requests.
const NEEDS_HUMAN: &str = "I was charged twice for my order #4471, please refund the extra charge";

/// First response in 600 s, warning at half of it, no business hours to reason about.
const SLA_POLICY: &str = r#"{
  "version": "test.1",
  "timezone": "UTC",
  "default": {
    "business_hours": {"always_open": true},
    "policy": {
      "first_response_secs": 600,
      "next_response_secs": 600,
      "resolution_secs": 86400,
      "warn_fraction": 0.5
    }
  }
}"#;

struct Env {
    clock: Arc<FixedClock>,
    table: Arc<DynamoTable>,
    bus: Arc<EventBridgeBus>,
    queues: OutboundQueues,
    processor: Processor,
    outbound: Outbound,
    sender: Sender,
    handoff: Arc<HandoffService>,
    policies: Arc<SlaPolicies>,
    fake: GraphFake,
    sqs: aws_sdk_sqs::Client,
    /// An SQS queue receiving everything published on the EventBridge bus.
    tap: String,
}

async fn env(conf: aws_config::SdkConfig, now: i64) -> Env {
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let table_name = provision::unique_name("outbound");
    provision::create_table(&ddb, &table_name).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let (bus_name, tap) = provision::create_bus_with_tap(
        &aws_sdk_eventbridge::Client::new(&conf),
        &sqs,
        &provision::unique_name("obus"),
    )
    .await
    .unwrap();
    let clock = Arc::new(FixedClock::new(now));
    let table = Arc::new(DynamoTable::new(ddb, table_name, clock.clone()));
    routes::set_phone_route(table.as_ref(), PNID, TENANT)
        .await
        .unwrap();
    routes::set_waba_route(table.as_ref(), WABA, TENANT)
        .await
        .unwrap();
    let bus = Arc::new(EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(&conf),
        bus_name,
    ));
    let queues = switchboard_e2e::aws_outbound_queues(&conf).await;
    let fake = GraphFake::start().await;
    fake.add_token("tok");
    let policies = Arc::new(SlaPolicies::from_json(SLA_POLICY).unwrap());
    let processor = Processor {
        table: table.clone(),
        blobs: Arc::new(S3BlobStore::new(S3BlobStore::client(&conf), "unused")),
        clock: clock.clone(),
        bus: bus.clone(),
        triage: Arc::new(switchboard_app::nlu::triager(None, None).unwrap()),
        outbound: queues.clone(),
    };
    let outbound = Outbound {
        table: table.clone(),
        queues: queues.clone(),
        clock: clock.clone(),
    };
    let sender = Sender {
        table: table.clone(),
        bus: bus.clone(),
        clock: clock.clone(),
        api: Arc::new(GraphClient::new(GraphConfig::for_fake(&fake)).unwrap()),
        tokens: tokens(),
        limits: Limits::default(),
    };
    let handoff = Arc::new(HandoffService {
        table: table.clone(),
        bus: bus.clone(),
        clock: clock.clone(),
        sla: policies.clone(),
    });
    Env {
        clock,
        bus,
        table,
        queues,
        processor,
        outbound,
        sender,
        handoff,
        policies,
        fake,
        sqs,
        tap,
    }
}

fn tokens() -> Arc<StaticTokens> {
    Arc::new(StaticTokens {
        per_tenant: Default::default(),
        fallback: Some("tok".into()),
    })
}

impl Env {
    /// A customer message through the conversation pipeline; its conversation id.
    async fn customer_writes(&self, wa_id: &str, wamid: &str, ts: i64, body: &str) -> String {
        let payload = webhook(PNID, vec![text(wa_id, wamid, ts, body)]);
        let mut id = None;
        for e in split_webhook(&payload, self.clock.now()) {
            match self.processor.process(&e).await.unwrap() {
                Outcome::Message { conversation_id } => id = Some(conversation_id),
                other => panic!("{other:?}"),
            }
        }
        id.expect("a message event")
    }

    /// Everything published on the bus since the last call, oldest first.
    async fn published(&self) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..50 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.tap)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            if out.messages().is_empty() {
                break;
            }
            for m in out.messages() {
                seen.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.tap)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        seen
    }

    /// The handoff function: every `handoff.requested` event the bus delivered becomes a request
    /// transition (Actor::System, Action::Request); returns their results.
    async fn run_handoff_function(&self) -> Vec<Value> {
        let f = HandoffRequests {
            service: self.handoff.clone(),
        };
        let mut out = Vec::new();
        for ev in self.published().await {
            if ev["detail-type"] == "handoff.requested" {
                out.push(f.handle(&ev.to_string()).await.unwrap());
            }
        }
        out
    }

    async fn contact_id(&self, conversation_id: &str) -> String {
        let conv = self
            .table
            .get(&Key::from(keys::conversation(TENANT, conversation_id)))
            .await
            .unwrap()
            .unwrap();
        conv["contact_id"].as_str().unwrap().to_string()
    }

    /// The sender function over both outbound queues until they are empty: ack on `Ok`, release
    /// at once on a retry (the test controls time). Every delivery's result, in order.
    async fn drain(&self) -> Vec<Result<SendOutcome, Retry>> {
        let mut results = Vec::new();
        for queue in [&self.queues.conversational, &self.queues.otp] {
            for _ in 0..50 {
                let msgs = queue.receive(10, 30).await.unwrap();
                if msgs.is_empty() {
                    break;
                }
                for m in msgs {
                    let r = self.sender.deliver(&m.body, m.receive_count).await;
                    match &r {
                        Ok(_) => queue.ack(&m.receipt).await.unwrap(),
                        Err(_) => queue.release(&m.receipt, 0).await.unwrap(),
                    }
                    results.push(r);
                }
            }
            assert_eq!(queue.depth().await.unwrap(), 0, "queue drained");
        }
        results
    }

    /// An approved UTILITY template `order_shipped` (en_US) with two body variables, created as
    /// governance does: draft → second-person approval → submission → templates function
    /// against the fake, which approves at once.
    async fn approved_template(&self) {
        let (url, _dlq) =
            provision::create_fifo_with_dlq(&self.sqs, &provision::unique_name("templates"), 5)
                .await
                .unwrap();
        let queue = Arc::new(SqsQueue::new(self.sqs.clone(), url));
        let gov = Governance {
            table: self.table.clone(),
            clock: self.clock.clone(),
            queue: queue.clone(),
        };
        let author = governance::Actor {
            user: "alice".into(),
            role: Role::Author,
        };
        let approver = governance::Actor {
            user: "bob".into(),
            role: Role::Approver,
        };
        let t = json!({"name": "order_shipped", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} left our warehouse today.",
                            "example": {"body_text": [["Ana", "#4471"]]}}]});
        gov.save_draft(TENANT, &author, t).await.unwrap();
        gov.approve(TENANT, &approver, "order_shipped", "en_US", 1)
            .await
            .unwrap();
        gov.submit(TENANT, &author, "order_shipped", "en_US", 1)
            .await
            .unwrap();
        self.fake.approve_instantly(true);
        let submitter = Submitter {
            table: self.table.clone(),
            clock: self.clock.clone(),
            graph: GraphClient::new(GraphConfig::for_fake(&self.fake)).unwrap(),
            tokens: tokens(),
        };
        let mut done = 0;
        for _ in 0..10 {
            let msgs = queue.receive(10, 30).await.unwrap();
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                submitter.handle(&m.body).await.unwrap();
                queue.ack(&m.receipt).await.unwrap();
                done += 1;
            }
        }
        assert_eq!(done, 1);
        let sendable = self.outbound.fitting_templates(TENANT).await.unwrap();
        assert_eq!(sendable.len(), 1, "{sendable:#?}");
        assert_eq!(sendable[0]["name"], "order_shipped");
        assert_eq!(sendable[0]["category"], "UTILITY");
    }

    async fn log_types(&self) -> Vec<(String, Value)> {
        outbox::read_log(
            self.table.as_ref(),
            TENANT,
            T0 - 86_400,
            self.clock.now() + 1,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e.get("detail").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
    }
}

fn reply(conversation_id: &str, key: &str, agent: &str, body: &str) -> SendRequest {
    SendRequest {
        tenant: TENANT.into(),
        conversation_id: conversation_id.into(),
        idempotency_key: key.into(),
        origin: Origin::Agent { name: agent.into() },
        content: Content::Text {
            body: body.into(),
            preview_url: false,
        },
        in_reply_to: None,
        requested_at: T0,
    }
}

fn order_shipped(conversation_id: &str, key: &str) -> SendRequest {
    SendRequest {
        tenant: TENANT.into(),
        conversation_id: conversation_id.into(),
        idempotency_key: key.into(),
        origin: Origin::System {
            name: "notifications".into(),
        },
        content: Content::Template {
            name: "order_shipped".into(),
            language: "en_US".into(),
            components: json!([{"type": "body", "parameters": [
                {"type": "text", "text": "Ana"}, {"type": "text", "text": "#4471"}]}]),
        },
        in_reply_to: None,
        requested_at: T0,
    }
}

fn opt_in(at: i64) -> ConsentRecord {
    ConsentRecord {
        kind: ConsentKind::OptIn,
        source: "operator".into(),
        evidence: "signup form 2027-01".into(),
        at,
        actor: Some("ana".into()),
    }
}

#[tokio::test]
async fn a_reply_is_sent_once_through_the_gate_and_audited_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0 + 5).await;
    let cid = e
        .customer_writes("15550100301", "wamid.OUT1", T0, NEEDS_HUMAN)
        .await;

    // The handoff function queues it; ana accepts.
    let queued = e.run_handoff_function().await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["state"], "awaiting_agent");
    e.clock.set(T0 + 30);
    let accepted = e
        .handoff
        .act(TENANT, &cid, &Actor::Agent("ana".into()), &Action::Accept)
        .await
        .unwrap();
    assert_eq!(accepted["owner"], "ana");

    // A double-click: the same idempotency key twice is one send.
    e.clock.set(T0 + 60);
    let mut req = reply(
        &cid,
        "reply-4471-1",
        "ana",
        "Sorry about that! Refunding the duplicate charge now.",
    );
    req.in_reply_to = Some("wamid.OUT1".into());
    let first = e.outbound.request(req.clone()).await.unwrap();
    let second = e.outbound.request(req).await.unwrap();
    assert_eq!(first["status"], "queued");
    assert_eq!(first["class"], "service");
    assert_eq!(first, second);
    assert_eq!(e.queues.conversational.depth().await.unwrap(), 1);
    assert_eq!(e.queues.otp.depth().await.unwrap(), 0);

    let results = e.drain().await;
    assert_eq!(results.len(), 1, "{results:?}");
    let Ok(SendOutcome::Sent { wamid }) = &results[0] else {
        panic!("{results:?}");
    };
    let sent = e.fake.sent_messages();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["wamid"], wamid.as_str());
    assert_eq!(sent[0]["phone_number_id"], PNID);
    assert_eq!(sent[0]["body"]["to"], "+15550100301");
    assert_eq!(sent[0]["body"]["type"], "text");
    assert_eq!(sent[0]["body"]["context"]["message_id"], "wamid.OUT1");

    let record = e
        .outbound
        .get(TENANT, "reply-4471-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record["status"], "sent");
    assert_eq!(record["wamid"], wamid.as_str());
    assert_eq!(record["attempts"], 1);

    // A redelivery of the same queue message sends nothing more.
    let redelivered = e
        .sender
        .deliver(
            &serde_json::to_string(&reply(&cid, "reply-4471-1", "ana", "x")).unwrap(),
            2,
        )
        .await;
    assert_eq!(redelivered, Ok(SendOutcome::Duplicate));
    assert_eq!(e.fake.sent_messages().len(), 1);

    // The thread shows it.
    let thread = queries::list_messages(e.table.as_ref(), TENANT, &cid, 50, None)
        .await
        .unwrap()
        .unwrap();
    let out: Vec<_> = thread
        .items
        .iter()
        .filter(|m| m.direction == "outbound")
        .collect();
    assert_eq!(out.len(), 1, "{thread:#?}");
    assert_eq!(out[0].wamid, *wamid);
    assert_eq!(out[0].kind, "text");
    assert_eq!(
        out[0].origin.as_ref().unwrap(),
        &json!({"kind": "agent", "name": "ana"})
    );
    assert_eq!(
        thread.items.len(),
        2,
        "the customer's message and the reply"
    );

    // The audit trail says who sent it, and who took the conversation.
    let entries = audit::list(e.table.as_ref(), TENANT, e.clock.now(), None, 500)
        .await
        .unwrap();
    let sent_entries: Vec<_> = entries
        .iter()
        .filter(|a| a["action"] == "send.sent")
        .collect();
    assert_eq!(sent_entries.len(), 1, "{entries:#?}");
    assert_eq!(sent_entries[0]["actor"], "agent:ana");
    assert_eq!(sent_entries[0]["conversation_id"], cid.as_str());
    assert_eq!(sent_entries[0]["detail"]["wamid"], wamid.as_str());
    assert!(entries
        .iter()
        .any(|a| a["action"] == "handoff.accepted" && a["actor"] == "agent:ana"));
    assert!(entries
        .iter()
        .any(|a| a["action"] == "handoff.queued" && a["actor"] == "system"));

    // The event log, and the bus.
    let log = e.log_types().await;
    let count = |t: &str| log.iter().filter(|(ty, _)| ty == t).count();
    assert_eq!(count("message.sent"), 1, "{log:#?}");
    assert_eq!(count("handoff.queued"), 1, "{log:#?}");
    assert_eq!(count("handoff.accepted"), 1, "{log:#?}");
    let published = e.published().await;
    let sent_events: Vec<_> = published
        .iter()
        .filter(|ev| ev["detail-type"] == "message.sent")
        .collect();
    assert_eq!(sent_events.len(), 1, "{published:#?}");
    assert_eq!(sent_events[0]["detail"]["data"]["wamid"], wamid.as_str());
    e.fake.stop().await;
}

#[tokio::test]
async fn window_closed_refusal_then_template_fallback_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0 + 5).await;
    let cid = e
        .customer_writes("15550100302", "wamid.WIN1", T0, NEEDS_HUMAN)
        .await;
    e.approved_template().await;
    // Meta agrees the window is closed: free-form would be refused there too.
    e.fake.close_window_for("+15550100302");

    // A day and a minute later the window is closed: the gate refuses at request time.
    e.clock.set(T0 + 86_400 + 60);
    let refused = e
        .outbound
        .request(reply(&cid, "late-1", "ana", "Are you still there?"))
        .await;
    assert!(
        matches!(refused, Err(OutboundError::Refused(Refusal::WindowClosed))),
        "{refused:?}"
    );
    assert_eq!(e.outbound.get(TENANT, "late-1").await.unwrap(), None);
    assert_eq!(e.queues.conversational.depth().await.unwrap(), 0);

    // A template needs an opt-in on record.
    let no_consent = e.outbound.request(order_shipped(&cid, "tpl-0")).await;
    assert!(
        matches!(no_consent, Err(OutboundError::Refused(Refusal::NoOptIn))),
        "{no_consent:?}"
    );
    let contact = e.contact_id(&cid).await;
    consent::append(e.table.as_ref(), TENANT, &contact, &opt_in(T0 - 3_600))
        .await
        .unwrap();
    let record = e
        .outbound
        .request(order_shipped(&cid, "tpl-1"))
        .await
        .unwrap();
    assert_eq!(record["status"], "queued");
    assert_eq!(record["class"], "utility");

    let results = e.drain().await;
    assert!(
        matches!(results.as_slice(), [Ok(SendOutcome::Sent { .. })]),
        "{results:?}"
    );
    let sent = e.fake.sent_messages();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0]["body"];
    assert_eq!(body["type"], "template");
    assert_eq!(body["to"], "+15550100302");
    assert_eq!(body["template"]["name"], "order_shipped");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(
        body["template"]["components"][0]["parameters"][1]["text"],
        "#4471"
    );
    assert_eq!(
        e.outbound.get(TENANT, "tpl-1").await.unwrap().unwrap()["status"],
        "sent"
    );
    e.fake.stop().await;
}

#[tokio::test]
async fn backoff_on_130429_then_sent_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0 + 5).await;
    let cid = e
        .customer_writes("15550100303", "wamid.BO1", T0, NEEDS_HUMAN)
        .await;
    e.clock.set(T0 + 60);
    e.outbound
        .request(reply(&cid, "busy-1", "ana", "Looking into it."))
        .await
        .unwrap();
    e.fake.fail_next_sends(1, 400, 130429);

    let queue = &e.queues.conversational;
    let msgs = queue.receive(10, 30).await.unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].receive_count, 1);
    let first = e.sender.deliver(&msgs[0].body, msgs[0].receive_count).await;
    let retry = first.expect_err("throughput limit: retry");
    assert_eq!(retry.after_secs, Some(1), "{retry:?}");
    assert!(retry.reason.contains("130429"), "{retry:?}");
    let record = e.outbound.get(TENANT, "busy-1").await.unwrap().unwrap();
    assert_eq!(record["status"], "retrying");
    assert_eq!(record["attempts"], 1);
    assert_eq!(record["retry_at"], T0 + 60 + 1);
    assert!(
        record["last_error"].as_str().unwrap().contains("130429"),
        "{record:#?}"
    );
    assert!(e.fake.sent_messages().is_empty());
    queue.release(&msgs[0].receipt, 0).await.unwrap();

    e.clock.set(T0 + 62);
    let msgs = queue.receive(10, 30).await.unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].receive_count, 2);
    let second = e.sender.deliver(&msgs[0].body, msgs[0].receive_count).await;
    assert!(matches!(second, Ok(SendOutcome::Sent { .. })), "{second:?}");
    queue.ack(&msgs[0].receipt).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert_eq!(e.fake.sent_messages().len(), 1);
    let record = e.outbound.get(TENANT, "busy-1").await.unwrap().unwrap();
    assert_eq!(record["status"], "sent");
    assert_eq!(record["attempts"], 2);

    // One audit entry: the outcome, not the attempts.
    let entries = audit::list(e.table.as_ref(), TENANT, e.clock.now(), Some(&cid), 500)
        .await
        .unwrap();
    let sends: Vec<_> = entries
        .iter()
        .filter(|a| {
            a["action"]
                .as_str()
                .unwrap_or_default()
                .starts_with("send.")
        })
        .map(|a| a["action"].clone())
        .collect();
    assert_eq!(sends, vec![json!("send.sent")], "{entries:#?}");
    e.fake.stop().await;
}

#[tokio::test]
async fn opt_out_blocks_templates_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0 + 5).await;
    e.approved_template().await;
    // The customer opted in last week (an earlier conversation), then writes STOP in Portuguese.
    let cid = e
        .customer_writes("15550100304", "wamid.STOP1", T0, "PARAR")
        .await;
    let contact = e.contact_id(&cid).await;
    consent::append(e.table.as_ref(), TENANT, &contact, &opt_in(T0 - 7 * 86_400))
        .await
        .unwrap();

    let ledger = consent::ledger(e.table.as_ref(), TENANT, &contact)
        .await
        .unwrap();
    let outs: Vec<_> = ledger
        .iter()
        .filter(|r| r.kind == ConsentKind::OptOut)
        .collect();
    assert_eq!(outs.len(), 1, "{ledger:#?}");
    assert_eq!(outs[0].source, "keyword");
    assert_eq!(outs[0].evidence, "parar");
    assert_eq!(outs[0].at, T0);
    assert_eq!(outs[0].actor.as_deref(), Some("customer"));
    assert!(ledger.iter().any(|r| r.kind == ConsentKind::OptIn));

    e.clock.set(T0 + 60);
    let refused = e.outbound.request(order_shipped(&cid, "tpl-stop")).await;
    assert!(
        matches!(&refused, Err(OutboundError::Refused(Refusal::OptedOut { evidence })) if evidence == "parar"),
        "{refused:?}"
    );
    // Free-form is silenced too, until the customer writes again.
    let quiet = e
        .outbound
        .request(reply(&cid, "after-stop", "ana", "Sorry to see you go"))
        .await;
    assert!(
        matches!(quiet, Err(OutboundError::Refused(Refusal::OptedOut { .. }))),
        "{quiet:?}"
    );
    e.customer_writes(
        "15550100304",
        "wamid.STOP2",
        T0 + 120,
        "what happened to my order?",
    )
    .await;
    e.clock.set(T0 + 180);
    e.outbound
        .request(reply(&cid, "after-return", "ana", "Your order left today."))
        .await
        .unwrap();
    let still = e.outbound.request(order_shipped(&cid, "tpl-stop-2")).await;
    assert!(
        matches!(still, Err(OutboundError::Refused(Refusal::OptedOut { .. }))),
        "writing again reopens replies, not business-initiated templates: {still:?}"
    );
    assert_eq!(e.outbound.get(TENANT, "tpl-stop").await.unwrap(), None);

    // The consent change is audited as the customer's.
    let entries = audit::list(e.table.as_ref(), TENANT, T0, Some(&cid), 500)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|a| a["action"] == "consent.opt_out" && a["actor"] == "customer"),
        "{entries:#?}"
    );
    e.fake.stop().await;
}

#[tokio::test]
async fn sla_warning_and_breach_once_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0).await;
    let cid = e
        .customer_writes("15550100305", "wamid.SLA1", T0, NEEDS_HUMAN)
        .await;
    // The handoff request at T0 starts the first-response clock.
    let queued = e.run_handoff_function().await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let conv = e
        .table
        .get(&Key::from(keys::conversation(TENANT, &cid)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv["handoff_requested_at"], T0);
    assert_eq!(conv["state"], "awaiting_agent");

    let sweeper = SlaSweeper {
        table: e.table.clone(),
        bus: e.bus.clone(),
        clock: e.clock.clone(),
        policies: e.policies.clone(),
    };
    let sweep_at = |t: i64| {
        e.clock.set(t);
        sweeper.sweep()
    };
    let r = sweep_at(T0 + 100).await.unwrap();
    assert_eq!((r.tenants, r.conversations), (1, 1), "{r:?}");
    assert_eq!((r.warnings, r.breaches), (0, 0), "{r:?}");
    let r = sweep_at(T0 + 301).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (1, 0), "{r:?}");
    let r = sweep_at(T0 + 302).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (0, 0), "raised once: {r:?}");
    let r = sweep_at(T0 + 601).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (0, 1), "{r:?}");
    let r = sweep_at(T0 + 700).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (0, 0), "raised once: {r:?}");

    let log = e.log_types().await;
    let of = |t: &str| {
        log.iter()
            .filter(|(ty, d)| ty == t && d["clock"] == "first_response")
            .collect::<Vec<_>>()
    };
    assert_eq!(of("sla.warning").len(), 1, "{log:#?}");
    assert_eq!(of("sla.breached").len(), 1, "{log:#?}");
    let breach = &of("sla.breached")[0].1;
    assert_eq!(breach["conversation_id"], cid.as_str());
    assert_eq!(breach["due_at"], T0 + 600);
    assert_eq!(of("sla.warning")[0].1["warn_at"], T0 + 300);
    assert!(
        !log.iter()
            .any(|(ty, d)| ty.starts_with("sla.") && d["clock"] == "resolution"),
        "{log:#?}"
    );

    let view = sla::queues(e.table.as_ref(), &e.policies, TENANT, e.clock.now(), None)
        .await
        .unwrap();
    let rows: Vec<&Value> = view["queues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["conversations"].as_array().unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{view:#}");
    assert_eq!(rows[0]["conversation_id"], cid.as_str());
    assert_eq!(rows[0]["sla"]["status"], "breached", "{view:#}");
    assert_eq!(rows[0]["sla"]["next_due_at"], T0 + 600);
    assert_eq!(view["policy_version"], "test.1");
    let conv = e
        .table
        .get(&Key::from(keys::conversation(TENANT, &cid)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv["sla_first_response"], "breached");
    e.fake.stop().await;
}

/// A request whose record was written but whose queue message was not (SQS unavailable) must be
/// queued by its retry: the operator saw an error and retries with the same idempotency key.
#[tokio::test]
async fn a_retried_request_after_a_queue_failure_is_sent_on_dynamodb() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(conf, T0 + 5).await;
    let cid = e
        .customer_writes("15550100306", "wamid.RQ1", T0, NEEDS_HUMAN)
        .await;
    e.clock.set(T0 + 60);
    let missing = format!(
        "{}/123456789012/does-not-exist.fifo",
        std::env::var("SWITCHBOARD_MOTO_URL").unwrap()
    );
    let unavailable: Arc<dyn Queue> = Arc::new(SqsQueue::new(e.sqs.clone(), missing));
    let host_without_sqs = Outbound {
        table: e.table.clone(),
        queues: OutboundQueues {
            conversational: unavailable.clone(),
            otp: unavailable,
        },
        clock: e.clock.clone(),
    };
    let req = reply(&cid, "retry-after-503", "ana", "We are on it.");
    let first = host_without_sqs.request(req.clone()).await;
    assert!(matches!(first, Err(OutboundError::Queue(_))), "{first:?}");

    // The retry, on a healthy host.
    let again = e.outbound.request(req).await.unwrap();
    assert_eq!(again["status"], "queued");
    assert_eq!(
        e.queues.conversational.depth().await.unwrap(),
        1,
        "the send reported as queued is on the queue"
    );
    let results = e.drain().await;
    assert!(
        matches!(results.as_slice(), [Ok(SendOutcome::Sent { .. })]),
        "{results:?}"
    );
    assert_eq!(e.fake.sent_messages().len(), 1);
    e.fake.stop().await;
}
