//! `switchboard serve`: the webhook, the read API and the queue worker in one process, on the
//! local backend.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use switchboard_app::ingest::{Ingest, WebhookSecrets};
use switchboard_app::process::Processor;
use switchboard_app::{routes, worker, Clock, SystemClock};
use switchboard_http::{operator_router, webhook_router, Authenticator, DevIssuer, ReadApi, Role};
use switchboard_local::LocalStack;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ServeConfig;
use switchboard_app::handoff::HandoffRequests;
use switchboard_app::media::MediaFetcher;
use switchboard_app::outbound::{Outbound, Sender};
use switchboard_app::ports::{StaticPin, StaticTokens};
use switchboard_app::sla::SlaSweeper;
use switchboard_core::outbound::Limits;
use switchboard_core::sla::SlaPolicies;
use switchboard_graph::{GraphClient, GraphConfig, GraphFake, MediaGuard};

pub struct Server {
    pub addr: SocketAddr,
    pub stack: Arc<LocalStack>,
    /// The SLA sweeper the server runs on a timer; tests call it directly.
    pub sweeper: Arc<SlaSweeper>,
    /// The local onboarding executor (tests drive its timers with `tick`).
    pub flow: Arc<switchboard_local::LocalFlow>,
    /// The fake Graph API of `--demo`, for tests to script failures on.
    pub graph_fake: Option<Arc<GraphFake>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Stops accepting, lets the workers finish their current batch, and waits for them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The two-step PIN the demo registers its number with.
pub const DEMO_TWO_STEP_PIN: &str = "246810";

/// The token the demo's fake Graph API accepts.
pub const DEMO_GRAPH_TOKEN: &str = "switchboard-demo-graph-token";

/// The demo media, under the ids the sample payloads in events/payloads use.
const DEMO_MEDIA: [(&str, &[u8], &str); 2] = [
    (
        "900000000000001",
        include_bytes!("../../events/media/demo-image.jpg"),
        "image/jpeg",
    ),
    (
        "900000000000002",
        include_bytes!("../../events/media/demo-receipt.pdf"),
        "application/pdf",
    ),
];

/// The Graph client and token: Meta's, or with `--demo` a fake holding the demo media.
async fn graph(
    config: &ServeConfig,
) -> anyhow::Result<(GraphClient, Option<String>, Option<Arc<GraphFake>>)> {
    if config.demo {
        let fake = Arc::new(GraphFake::start().await);
        fake.add_token(DEMO_GRAPH_TOKEN);
        for (id, bytes, mime) in DEMO_MEDIA {
            fake.add_media(id, bytes.to_vec(), mime);
        }
        // The demo number, for walking through onboarding offline (its SMS code is 123456).
        fake.add_phone_number(&config.phone_number_id, "Switchboard Demo");
        let client = GraphClient::new(GraphConfig::for_fake(&fake))?;
        return Ok((client, Some(DEMO_GRAPH_TOKEN.to_string()), Some(fake)));
    }
    let client = GraphClient::new(GraphConfig {
        base_url: config.graph_url.clone(),
        version: config.graph_version.clone(),
        media_guard: MediaGuard::meta_defaults(),
        timeout: std::time::Duration::from_secs(60),
    })?;
    Ok((client, config.graph_token.clone(), None))
}

/// Starts the server and returns once it listens.
pub async fn start(config: &ServeConfig) -> anyhow::Result<Server> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    config: &ServeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Server> {
    let stack = Arc::new(
        LocalStack::open(&config.data_dir, clock.clone())
            .with_context(|| format!("opening data dir {}", config.data_dir.display()))?,
    );
    routes::set_phone_route(
        stack.table.as_ref(),
        &config.phone_number_id,
        &config.tenant,
    )
    .await?;
    routes::set_waba_route(stack.table.as_ref(), &config.waba_id, &config.tenant).await?;

    let ingest = Arc::new(Ingest {
        secrets: WebhookSecrets {
            app_secret: config.app_secret().to_string(),
            verify_token: config.verify_token().to_string(),
        },
        queue: stack.events.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
    });
    let sla = Arc::new(match &config.sla_config {
        Some(path) => SlaPolicies::from_json(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("SLA policies in {}", path.display()))?,
        None => SlaPolicies::default_policies(),
    });
    let handoff = Arc::new(switchboard_app::handoff::HandoffService {
        table: stack.table.clone(),
        bus: stack.bus.clone(),
        clock: clock.clone(),
        sla: sla.clone(),
    });
    let outbound = Arc::new(Outbound {
        table: stack.table.clone(),
        queues: stack.outbound_queues(),
        clock: clock.clone(),
    });
    let (graph, token, graph_fake) = graph(config).await?;
    // Onboarding: the same state machine file as on AWS, run by the local executor; its tasks
    // and Meta's answers share the onboarding queue.
    let flow = Arc::new(
        switchboard_local::LocalFlow::onboarding(
            "local://onboarding",
            stack.table.clone(),
            stack.onboarding.clone(),
            clock.clone(),
        )
        .context("loading statemachines/onboarding.asl.json")?,
    );
    let pin = config
        .two_step_pin
        .clone()
        .or_else(|| config.demo.then(|| DEMO_TWO_STEP_PIN.to_string()));
    let onboarding = Arc::new(switchboard_app::onboarding::Onboarding {
        table: stack.table.clone(),
        clock: clock.clone(),
        graph: graph.clone(),
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: token.clone(),
        }),
        pins: Arc::new(StaticPin(pin)),
        flow: flow.clone(),
        executions: flow.clone(),
    });
    let simulator: Option<Arc<dyn switchboard_http::demo::Simulator>> =
        graph_fake.as_ref().map(|fake| {
            Arc::new(crate::simulator::DemoSimulator {
                ingest: ingest.clone(),
                app_secret: config.app_secret().to_string(),
                tenant: config.tenant.clone(),
                phone_number_id: config.phone_number_id.clone(),
                waba_id: config.waba_id.clone(),
                fake: fake.clone(),
                clock: clock.clone(),
                seq: Default::default(),
            }) as Arc<dyn switchboard_http::demo::Simulator>
        });
    let read = Arc::new(ReadApi {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
        auth: Authenticator::Dev(DevIssuer::from_app_secret(config.app_secret())),
        simulator,
        dead_letters: Some(Arc::new(crate::dlq::local_dead_letters(
            &stack,
            &config.tenant,
        ))),
        handoff: handoff.clone(),
        outbound,
        sla: sla.clone(),
        onboarding: onboarding.clone(),
        governance: Arc::new(switchboard_app::governance::Governance {
            table: stack.table.clone(),
            clock: clock.clone(),
            queue: stack.templates.clone(),
        }),
    });
    let files = axum::Router::new()
        .route("/files/{*key}", axum::routing::get(serve_file))
        .with_state(stack.clone());
    let app = webhook_router(ingest)
        .merge(operator_router(read))
        .merge(files)
        .merge(crate::console::router(&config.web_dir));

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let addr = listener.local_addr()?;
    // Presigned URLs point back at this server; the key is derived from the app secret so they
    // survive a restart.
    let url_key =
        switchboard_core::signature::sign(config.app_secret().as_bytes(), b"local-file-urls");
    stack
        .blobs
        .set_public_url(&format!("http://{addr}"), url_key.as_bytes());
    let (tx, rx) = watch::channel(false);

    let mut http_rx = rx.clone();
    let http = tokio::spawn(async move {
        let shutdown = async move {
            let _ = http_rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "http server stopped");
        }
    });
    let processor = Processor {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
        bus: stack.bus.clone(),
        triage: Arc::new(switchboard_app::nlu::triager(None, None)?),
        outbound: stack.outbound_queues(),
    };
    let sweeper = Arc::new(SlaSweeper {
        table: stack.table.clone(),
        bus: stack.bus.clone(),
        clock: clock.clone(),
        policies: sla,
    });
    let handoff_requests = HandoffRequests { service: handoff };
    let queue = stack.events.clone();
    let sent = Some(queue.sent_signal());
    let events_rx = rx.clone();
    let work =
        tokio::spawn(async move { worker::run(queue.as_ref(), &processor, sent, events_rx).await });

    let fetcher = MediaFetcher {
        table: stack.table.clone(),
        blobs: stack.blobs.clone(),
        bus: stack.bus.clone(),
        clock: Arc::new(SystemClock),
        graph,
        tokens: Arc::new(StaticTokens {
            per_tenant: Default::default(),
            fallback: token,
        }),
    };
    let submitter = switchboard_app::governance::Submitter {
        table: stack.table.clone(),
        clock: Arc::new(SystemClock),
        graph: fetcher.graph.clone(),
        tokens: fetcher.tokens.clone(),
    };
    let templates = stack.templates.clone();
    let templates_sent = Some(templates.sent_signal());
    let templates_rx = rx.clone();
    let templates_work = tokio::spawn(async move {
        worker::run(templates.as_ref(), &submitter, templates_sent, templates_rx).await
    });
    // The sender: the only caller of Meta's messages endpoint (the demo's fake records sends).
    let sender = Arc::new(Sender {
        table: stack.table.clone(),
        bus: stack.bus.clone(),
        clock: clock.clone(),
        api: Arc::new(fetcher.graph.clone()),
        tokens: fetcher.tokens.clone(),
        limits: Limits::default(),
    });
    let mut tasks = vec![http, work, templates_work];
    for queue in [stack.outbound.clone(), stack.otp.clone()] {
        let sender = sender.clone();
        let signal = Some(queue.sent_signal());
        let stop = rx.clone();
        tasks.push(tokio::spawn(async move {
            worker::run(queue.as_ref(), sender.as_ref(), signal, stop).await
        }));
    }
    let handoff_queue = stack.handoff.clone();
    let handoff_signal = Some(handoff_queue.sent_signal());
    let handoff_rx = rx.clone();
    tasks.push(tokio::spawn(async move {
        worker::run(
            handoff_queue.as_ref(),
            &handoff_requests,
            handoff_signal,
            handoff_rx,
        )
        .await
    }));
    let onboarding_queue = stack.onboarding.clone();
    let onboarding_signal = Some(onboarding_queue.sent_signal());
    let onboarding_rx = rx.clone();
    tasks.push(tokio::spawn(async move {
        worker::run(
            onboarding_queue.as_ref(),
            onboarding.as_ref(),
            onboarding_signal,
            onboarding_rx,
        )
        .await
    }));
    // The executor's timers: retry delays, task timeouts, sends to resend.
    if config.flow_tick_secs > 0 {
        let flow = flow.clone();
        let clock = clock.clone();
        let every = std::time::Duration::from_secs(config.flow_tick_secs);
        let mut stop = rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = flow.tick(clock.now()).await {
                    tracing::error!(error = %e, "onboarding executor tick failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
            }
        }));
    }
    if config.sla_sweep_secs > 0 {
        let sweeper = sweeper.clone();
        let every = std::time::Duration::from_secs(config.sla_sweep_secs);
        let mut stop = rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match sweeper.sweep().await {
                    Ok(r) if r.warnings + r.breaches > 0 => {
                        tracing::info!(warnings = r.warnings, breaches = r.breaches, "SLA sweep")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "SLA sweep failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
            }
        }));
    }
    let media = stack.media.clone();
    let media_sent = Some(media.sent_signal());
    tasks.push(tokio::spawn(async move {
        worker::run(media.as_ref(), &fetcher, media_sent, rx).await
    }));

    Ok(Server {
        addr,
        stack,
        sweeper,
        flow,
        graph_fake,
        shutdown: tx,
        tasks,
    })
}

/// The operators `switchboard serve` prints login links for.
const DEMO_OPERATORS: [(&str, &[Role]); 3] = [
    ("ana", &[Role::Agent]),
    ("lee", &[Role::Lead, Role::Agent]),
    ("admin", &[Role::Admin, Role::Approver, Role::Lead]),
];

fn roles_label(roles: &[Role]) -> String {
    let names: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
    format!("({})", names.join(", "))
}

/// `switchboard serve` in the foreground until Ctrl-C.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let server = start(&config).await?;
    let base = format!("http://{}", server.addr);
    println!("Switchboard is listening on {base}");
    println!("  webhook        {base}/webhook");
    println!("  conversations  {base}/api/conversations");
    println!("  media          {base}/api/media");
    println!("  work queues    {base}/api/queues");
    println!("  onboarding     {base}/api/onboarding");
    println!("  metrics        {base}/api/metrics   diagnostic {base}/api/diagnostic");
    println!("  console        {base}/   (API description {base}/api/openapi.json)");
    println!("  data dir       {}", config.data_dir.display());
    println!(
        "  tenant         {} (phone number id {})",
        config.tenant, config.phone_number_id
    );
    if config.demo {
        println!(
            "  graph API      a local fake holding the demo media and recording sends (--demo)"
        );
        if let Some(fake) = &server.graph_fake {
            println!("  sent messages  {}/__fake/messages", fake.base_url());
        }
    }
    if config.is_demo() {
        println!();
        println!(
            "DEMO MODE: no SWITCHBOARD_APP_SECRET was given, so webhooks are checked against the"
        );
        println!(
            "documented demo secret {:?} and verify token {:?}.",
            crate::config::DEMO_APP_SECRET,
            crate::config::DEMO_VERIFY_TOKEN
        );
        if !server.addr.ip().is_loopback() {
            println!("WARNING: listening on {} with the public demo secret: anyone who can reach it can post webhooks.", server.addr);
        }
        println!("Do not expose this server. Try it:");
        println!("  switchboard post --fresh events/payloads/text.json events/payloads/image.json");
        println!("  curl {base}/api/conversations");
        println!("  curl {base}/api/media");
    }
    println!();
    println!("Sign in to the console (links valid 12 hours; mint more with `switchboard token`):");
    let issuer = DevIssuer::from_app_secret(config.app_secret());
    let now = SystemClock.now();
    for (user, roles) in DEMO_OPERATORS {
        let token = issuer.mint(user, &config.tenant, roles, now, 12 * 3600);
        println!(
            "  {user:<8} {:<22} {base}/#token={token}",
            roles_label(roles)
        );
    }
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    server.stop().await;
    Ok(())
}

#[derive(serde::Deserialize)]
struct FileParams {
    exp: i64,
    sig: String,
}

/// Serves a stored file to whoever holds a valid presigned URL (the local twin of S3's).
async fn serve_file(
    axum::extract::State(stack): axum::extract::State<Arc<LocalStack>>,
    axum::extract::Path(key): axum::extract::Path<String>,
    axum::extract::Query(p): axum::extract::Query<FileParams>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let now = SystemClock.now();
    if !stack.blobs.verify_presigned(&key, p.exp, &p.sig, now) {
        return (axum::http::StatusCode::FORBIDDEN, "invalid or expired link").into_response();
    }
    let Ok(path) = stack.blobs.path_of(&key) else {
        return (axum::http::StatusCode::BAD_REQUEST, "invalid key").into_response();
    };
    match tokio::fs::File::open(&path).await {
        Ok(file) => {
            let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
            (
                [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
                body,
            )
                .into_response()
        }
        Err(_) => (axum::http::StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
