//! The SLA sweeper: an EventBridge schedule (every minute) runs one pass over every tenant's
//! handed-off conversations and raises `sla.warning` / `sla.breached` once per clock and level.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_app::sla::SlaSweeper;
use switchboard_app::SystemClock;
use switchboard_aws::lambda::{bus_from_env, env, table_from_env};

/// The scheduled event's content does not matter: every invocation is a full, idempotent pass.
pub async fn handle(sweeper: &SlaSweeper, _event: Value) -> anyhow::Result<Value> {
    let r = sweeper.sweep().await?;
    tracing::info!(
        tenants = r.tenants,
        conversations = r.conversations,
        warnings = r.warnings,
        breaches = r.breaches,
        auto_closed = r.auto_closed,
        "SLA sweep"
    );
    Ok(
        json!({"tenants": r.tenants, "conversations": r.conversations,
              "warnings": r.warnings, "breaches": r.breaches, "auto_closed": r.auto_closed,
              "windows_expired": r.windows_expired}),
    )
}

/// On AWS: `TABLE_NAME`, `BUS_NAME`, optional `SLA_POLICIES`. With `SWITCHBOARD_BACKEND=local`:
/// `SWITCHBOARD_DATA_DIR`.
pub async fn from_env() -> anyhow::Result<SlaSweeper> {
    let clock = Arc::new(SystemClock);
    let policies = Arc::new(handoff::policies_from_env()?);
    if std::env::var("SWITCHBOARD_BACKEND").as_deref() == Ok("local") {
        let dir = PathBuf::from(env("SWITCHBOARD_DATA_DIR")?);
        let stack = switchboard_local::LocalStack::open(&dir, clock.clone())?;
        return Ok(SlaSweeper {
            table: stack.table,
            bus: stack.bus,
            clock,
            policies,
        });
    }
    let conf = switchboard_aws::sdk_config().await;
    Ok(SlaSweeper {
        table: table_from_env(&conf, clock.clone())?,
        bus: bus_from_env(&conf)?,
        clock,
        policies,
    })
}
