//! `switchboard serve`: the webhook, the read API and the queue worker in one process, on the
//! local backend.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use switchboard_app::ingest::{Ingest, WebhookSecrets};
use switchboard_app::process::Processor;
use switchboard_app::{routes, worker, Clock, SystemClock};
use switchboard_http::{api_router, webhook_router, ReadApi};
use switchboard_local::LocalStack;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ServeConfig;

pub struct Server {
    pub addr: SocketAddr,
    pub stack: Arc<LocalStack>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Stops accepting, lets the worker finish its current batch, and waits for both.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
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

    let ingest = Arc::new(Ingest {
        secrets: WebhookSecrets {
            app_secret: config.app_secret().to_string(),
            verify_token: config.verify_token().to_string(),
        },
        queue: stack.events.clone(),
        blobs: stack.blobs.clone(),
        clock: clock.clone(),
    });
    let read = Arc::new(ReadApi {
        table: stack.table.clone(),
        clock: clock.clone(),
        tenant: config.tenant.clone(),
        // One local operator owns the whole machine.
        admin: true,
    });
    let app = webhook_router(ingest).merge(api_router(read));

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let addr = listener.local_addr()?;
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
        clock,
        bus: stack.bus.clone(),
        triage: Arc::new(switchboard_app::nlu::triager(None, None)?),
    };
    let queue = stack.events.clone();
    let sent = Some(queue.sent_signal());
    let work = tokio::spawn(async move { worker::run(queue.as_ref(), &processor, sent, rx).await });

    Ok(Server {
        addr,
        stack,
        shutdown: tx,
        tasks: vec![http, work],
    })
}

/// `switchboard serve` in the foreground until Ctrl-C.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let server = start(&config).await?;
    let base = format!("http://{}", server.addr);
    println!("Switchboard is listening on {base}");
    println!("  webhook        {base}/webhook");
    println!("  conversations  {base}/api/conversations");
    println!("  data dir       {}", config.data_dir.display());
    println!(
        "  tenant         {} (phone number id {})",
        config.tenant, config.phone_number_id
    );
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
        println!("  switchboard post events/payloads/text.json");
        println!("  curl {base}/api/conversations");
    }
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    server.stop().await;
    Ok(())
}
