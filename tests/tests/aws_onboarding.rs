//! The onboarding state machine file on moto's Step Functions (executions enabled): its SQS
//! `waitForTaskToken` tasks go to a real queue, the onboarding use case answers them with
//! SendTaskSuccess/Failure through the Step Functions adapter, and Meta's answers are delivered
//! as the bus would. One tenant goes from start to live through every wait; another has a step
//! fail, get retried by the state machine, parked, and succeed when an operator retries it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard_app::onboarding::{Input, Onboarding};
use switchboard_app::ports::bus::as_delivered;
use switchboard_app::ports::{
    BusEvent, ExecutionStatus, Executions, Queue, StaticPin, StaticTokens,
};
use switchboard_app::SystemClock;
use switchboard_aws::{provision, DynamoTable, SqsQueue, StepFunctions};
use switchboard_graph::{GraphClient, GraphConfig, GraphFake};

const TOKEN: &str = "moto-onboarding-token";
const PNID: &str = "110000000000009";
const WABA: &str = "109876543210999";

struct Env {
    onboarding: Onboarding,
    queue: SqsQueue,
    sfn: Arc<StepFunctions>,
    fake: GraphFake,
    tenant: String,
}

async fn env(conf: &aws_config::SdkConfig) -> Env {
    // Executions only run when moto is told to run them.
    let moto = std::env::var("SWITCHBOARD_MOTO_URL").unwrap();
    reqwest::Client::new()
        .post(format!("{moto}/moto-api/config"))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(conf);
    let url = sqs
        .create_queue()
        .queue_name(provision::unique_name("onboarding"))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let definition = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../statemachines/onboarding.asl.json"
    ))
    .unwrap()
    .replace("${OnboardingQueueUrl}", &url);
    let sfn_client = aws_sdk_sfn::Client::new(conf);
    let machine = sfn_client
        .create_state_machine()
        .name(provision::unique_name("onboarding"))
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/switchboard-onboarding")
        .send()
        .await
        .unwrap();
    let sfn = Arc::new(StepFunctions::new(sfn_client, machine.state_machine_arn()));
    let ddb = aws_sdk_dynamodb::Client::new(conf);
    let table_name = provision::unique_name("onboarding");
    provision::create_table(&ddb, &table_name).await.unwrap();
    let clock = Arc::new(SystemClock);
    let fake = GraphFake::start().await;
    fake.add_token(TOKEN);
    fake.add_phone_number(PNID, "Example Mugs");
    let tenant = provision::unique_name("tenant");
    Env {
        onboarding: Onboarding {
            table: Arc::new(DynamoTable::new(ddb, table_name, clock.clone())),
            clock,
            graph: GraphClient::new(GraphConfig::for_fake(&fake)).unwrap(),
            tokens: Arc::new(StaticTokens {
                per_tenant: Default::default(),
                fallback: Some(TOKEN.into()),
            }),
            pins: Arc::new(StaticPin(Some("246810".into()))),
            flow: sfn.clone(),
            executions: sfn.clone(),
        },
        queue: SqsQueue::new(sqs, url),
        sfn,
        fake,
        tenant,
    }
}

impl Env {
    /// Handles what the state machine sends until `done` holds for the checklist (moto runs the
    /// execution in the background, so tasks arrive when they arrive).
    async fn pump_until(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..300 {
            for m in self.queue.receive(10, 30).await.unwrap() {
                self.onboarding
                    .handle(&m.body)
                    .await
                    .unwrap_or_else(|e| panic!("{e}: {}", m.body));
                self.queue.ack(&m.receipt).await.unwrap();
            }
            let list = self.onboarding.checklist(&self.tenant).await.unwrap();
            if done(&list) {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "never reached: {what}: {:#}",
            self.onboarding.checklist(&self.tenant).await.unwrap()
        );
    }

    async fn signal(&self, detail_type: &str, detail: Value) {
        let event = BusEvent {
            tenant: self.tenant.clone(),
            detail_type: detail_type.into(),
            correlation: format!("test:{detail_type}"),
            detail,
        };
        self.onboarding
            .handle(&as_delivered(&event, 0).to_string())
            .await
            .unwrap();
    }

    /// Starts onboarding and completes business verification (the first human checkpoint).
    async fn start_verified(&self, display_name: Option<&str>) {
        self.onboarding
            .start(&Input {
                tenant: self.tenant.clone(),
                phone_number_id: PNID.into(),
                waba_id: WABA.into(),
                display_name: display_name.map(str::to_owned),
            })
            .await
            .unwrap();
        self.pump_until(
            "business verification waits",
            is("business_verification", "waiting_on_business"),
        )
        .await;
        assert_eq!(self.execution_status().await, ExecutionStatus::Running);
        self.onboarding
            .complete(
                &self.tenant,
                "business_verification",
                &json!({"evidence": "case 7"}),
                "olga",
            )
            .await
            .unwrap();
    }

    async fn execution_status(&self) -> ExecutionStatus {
        let list = self.onboarding.checklist(&self.tenant).await.unwrap();
        let id = list["execution"]["id"].as_str().unwrap();
        self.sfn.describe(id).await.unwrap().status
    }
}

fn status_of<'a>(list: &'a Value, step: &str) -> &'a str {
    list["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == step)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
}

fn is(step: &'static str, status: &'static str) -> impl Fn(&Value) -> bool {
    move |l| status_of(l, step) == status
}

#[tokio::test]
async fn onboarding_runs_to_live_on_step_functions() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(&conf).await;
    e.start_verified(Some("Example Mugs")).await;
    e.pump_until(
        "the code is asked for",
        is("verify_code", "waiting_on_business"),
    )
    .await;
    e.onboarding
        .complete(&e.tenant, "verify_code", &json!({"code": "123456"}), "olga")
        .await
        .unwrap();
    e.pump_until(
        "the display name is reviewed",
        is("display_name_review", "waiting_on_meta"),
    )
    .await;
    e.signal(
        "meta.phone_number_name_update",
        json!({"field": "phone_number_name_update", "waba_id": WABA,
               "value": {"decision": "APPROVED", "requested_verified_name": "Example Mugs"}}),
    )
    .await;
    // No webhook has reached this tenant yet: the self-checks wait for one.
    e.pump_until(
        "the self-checks wait for a signed event",
        is("self_checks", "waiting_on_business"),
    )
    .await;
    e.signal(
        "conversation.opened",
        json!({"conversation_id": "cv_1", "wamid": "wamid.T1"}),
    )
    .await;
    e.pump_until("templates wait", is("first_templates", "waiting_on_meta"))
        .await;
    e.signal(
        "meta.message_template_status_update",
        json!({"field": "message_template_status_update",
               "value": {"event": "APPROVED", "message_template_name": "order_shipped",
                         "message_template_language": "en_US"}}),
    )
    .await;
    let list = e.pump_until("live", is("go_live", "done")).await;
    assert!(
        list["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "done"),
        "{list:#}"
    );
    for _ in 0..100 {
        if e.execution_status().await == ExecutionStatus::Succeeded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(e.execution_status().await, ExecutionStatus::Succeeded);
    assert_eq!(e.fake.phone_state(PNID)["status"], "CONNECTED");
}

#[tokio::test]
async fn a_failed_step_is_retried_by_the_machine_then_by_an_operator_on_step_functions() {
    let Some(conf) = provision::emulator_from_env().await else {
        return;
    };
    let e = env(&conf).await;
    // Three temporary failures: the state machine's two retries, then the Catch.
    e.fake.fail_next("request_code", 3, 500, 131000);
    e.start_verified(None).await;
    let list = e
        .pump_until("request_code parked for an operator", |l| {
            l["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["step"] == "request_code" && s["actions"] == json!(["retry"]))
        })
        .await;
    let failed = list["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "request_code")
        .unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"], 3, "{failed:#}");
    assert!(failed["last_error"].as_str().unwrap().contains("131000"));
    assert_eq!(e.execution_status().await, ExecutionStatus::Running);

    e.onboarding.retry(&e.tenant, "request_code").await.unwrap();
    e.pump_until(
        "the retried step went through",
        is("verify_code", "waiting_on_business"),
    )
    .await;
    let list = e.onboarding.checklist(&e.tenant).await.unwrap();
    assert_eq!(status_of(&list, "request_code"), "done");
}
