//! Routing: which tenant a business phone number or WABA belongs to.

use serde_json::json;
use switchboard_core::keys;

use crate::ports::table::item;
use crate::ports::{Index, Key, Query, StoreError, Table};

pub async fn set_phone_route(
    table: &dyn Table,
    phone_number_id: &str,
    tenant: &str,
) -> Result<(), StoreError> {
    let key = Key::from(keys::phone_route(phone_number_id));
    table
        .put(item(&key, json!({"tenant": tenant, "kind": "route"})), None)
        .await?;
    register_tenant(table, tenant).await
}

/// Routes a number and a WABA to `tenant` unless another tenant holds either: onboarding must
/// never move a number that is live for someone else. `Ok(false)` when one is taken.
pub async fn claim_routes(
    table: &dyn Table,
    phone_number_id: &str,
    waba_id: &str,
    tenant: &str,
) -> Result<bool, StoreError> {
    use crate::ports::Condition;
    let mine = || {
        Some(Condition::Or(vec![
            Condition::ItemNotExists,
            Condition::AttrEquals("tenant".into(), json!(tenant)),
        ]))
    };
    for key in [
        keys::phone_route(phone_number_id),
        keys::waba_route(waba_id),
    ] {
        let key = Key::from(key);
        match table
            .put(
                item(&key, json!({"tenant": tenant, "kind": "route"})),
                mine(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    set_waba_route(table, waba_id, tenant).await?;
    register_tenant(table, tenant).await?;
    Ok(true)
}

/// The tenant registry: what scheduled jobs (the SLA sweeper) iterate over.
const TENANTS_PK: &str = "TENANTS";

pub async fn register_tenant(table: &dyn Table, tenant: &str) -> Result<(), StoreError> {
    table
        .put(
            item(
                &Key::new(TENANTS_PK, tenant),
                json!({"kind": "tenant", "tenant": tenant}),
            ),
            None,
        )
        .await
}

pub async fn tenants(table: &dyn Table) -> Result<Vec<String>, StoreError> {
    let mut q = Query::partition(Index::Table, TENANTS_PK);
    q.limit = 1000;
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(
            page.items
                .iter()
                .filter_map(|i| i.get("tenant").and_then(|t| t.as_str()).map(str::to_owned)),
        );
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

pub async fn set_waba_route(
    table: &dyn Table,
    waba_id: &str,
    tenant: &str,
) -> Result<(), StoreError> {
    let key = Key::from(keys::waba_route(waba_id));
    table
        .put(item(&key, json!({"tenant": tenant, "kind": "route"})), None)
        .await?;
    // The reverse: template submissions need the tenant's WABA.
    let config = Key::new(format!("T#{tenant}#CONFIG"), "WABA");
    table
        .put(
            item(&config, json!({"waba_id": waba_id, "kind": "config"})),
            None,
        )
        .await
}

/// The WABA a tenant's templates are created in.
pub async fn tenant_waba(table: &dyn Table, tenant: &str) -> Result<Option<String>, StoreError> {
    Ok(table
        .get(&Key::new(format!("T#{tenant}#CONFIG"), "WABA"))
        .await?
        .and_then(|i| i.get("waba_id").and_then(|w| w.as_str()).map(str::to_owned)))
}

/// The tenant of an event: by phone number id, then by WABA, else `unrouted`.
pub async fn resolve_tenant(
    table: &dyn Table,
    phone_number_id: Option<&str>,
    waba_id: Option<&str>,
) -> Result<String, StoreError> {
    let candidates = [
        phone_number_id.map(keys::phone_route),
        waba_id.map(keys::waba_route),
    ];
    for key in candidates.into_iter().flatten() {
        if let Some(it) = table.get(&Key::from(key)).await? {
            if let Some(t) = it.get("tenant").and_then(|t| t.as_str()) {
                return Ok(t.to_string());
            }
        }
    }
    Ok(keys::UNROUTED_TENANT.to_string())
}
