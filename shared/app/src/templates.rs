//! Template status as Meta reports it: every `message_template_status_update` and
//! `template_category_update` webhook updates the template's current status and appends to its
//! history (rejection reasons kept), and feeds the rejection analytics.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use switchboard_core::event::ChangeView;
use switchboard_core::webhook::template_id;
use switchboard_core::Event;

use crate::ports::table::item;
use crate::ports::{Index, Item, Key, Query, SkRange, StoreError, Table, TxOp, Update};

fn template_pk(tenant: &str, name: &str) -> String {
    format!("T#{tenant}#TPL#{name}")
}

fn events_pk(tenant: &str) -> String {
    format!("T#{tenant}#TPLEVT")
}

/// The writes a template webhook implies, for the same transaction as its dedupe marker.
pub fn ops_for(tenant: &str, event: &Event) -> Vec<TxOp> {
    let Some(Ok(view)) = event.change() else {
        return Vec::new();
    };
    let at = event.entry_time.unwrap_or(event.received_at);
    match view {
        ChangeView::TemplateStatus(t) => {
            let (Some(name), Some(lang)) = (
                t.message_template_name.clone(),
                t.message_template_language.clone(),
            ) else {
                return Vec::new();
            };
            let category = t.message_template_category.clone().unwrap_or_default();
            let reason = t.reason.clone().filter(|r| r != "NONE");
            let detail = t
                .rejection_info
                .as_ref()
                .and_then(|r| r.get("reason"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let sort = format!("{at:012}#{name}#{lang}#{}", t.event);
            let mut current = Update::default()
                .set("kind", "template")
                .set("name", name.as_str())
                .set("language", lang.as_str())
                .set("template_id", template_id(&t.message_template_id))
                .set("status", t.event.as_str())
                .set("status_at", at);
            if !category.is_empty() {
                current = current.set("category", category.as_str());
            }
            if t.event == "REJECTED" {
                current = current
                    .set(
                        "rejection_reason",
                        reason.clone().map_or(Value::Null, Value::from),
                    )
                    .set(
                        "rejection_detail",
                        detail.clone().map_or(Value::Null, Value::from),
                    );
            }
            vec![
                TxOp::Update {
                    key: Key::new(template_pk(tenant, &name), format!("LANG#{lang}")),
                    update: current,
                    condition: None,
                },
                TxOp::Put {
                    item: item(
                        &Key::new(
                            template_pk(tenant, &name),
                            format!("LANG#{lang}#EVT#{at:012}#{}", t.event),
                        ),
                        json!({
                            "kind": "template_event", "name": name, "language": lang, "event": t.event,
                            "category": category, "reason": reason, "detail": detail, "at": at,
                            "other_info": t.other_info, "gsi1pk": events_pk(tenant), "gsi1sk": sort,
                        }),
                    ),
                    condition: None,
                },
            ]
        }
        ChangeView::TemplateCategory(c) => {
            let (Some(name), Some(lang)) = (
                c.message_template_name.clone(),
                c.message_template_language.clone(),
            ) else {
                return Vec::new();
            };
            // Impending (a correct_category announced) or completed (previous → new).
            let mut up = Update::default()
                .set("kind", "template")
                .set("name", name.as_str())
                .set("language", lang.as_str());
            if let Some(correct) = &c.correct_category {
                up = up.set("pending_category", correct.as_str()).set(
                    "pending_category_at",
                    c.category_update_timestamp.clone().unwrap_or(Value::Null),
                );
            } else if let Some(new) = &c.new_category {
                up = up
                    .set("category", new.as_str())
                    .remove("pending_category")
                    .remove("pending_category_at");
            }
            vec![
                TxOp::Update {
                    key: Key::new(template_pk(tenant, &name), format!("LANG#{lang}")),
                    update: up,
                    condition: None,
                },
                TxOp::Put {
                    item: item(
                        &Key::new(
                            template_pk(tenant, &name),
                            format!("LANG#{lang}#EVT#{at:012}#CATEGORY"),
                        ),
                        json!({"kind": "template_event", "name": name, "language": lang, "event": "CATEGORY_UPDATE",
                               "previous_category": c.previous_category, "new_category": c.new_category,
                               "correct_category": c.correct_category, "at": at}),
                    ),
                    condition: None,
                },
            ]
        }
        _ => Vec::new(),
    }
}

/// A template in every language, with its status history, newest first.
pub async fn template_history(
    table: &dyn Table,
    tenant: &str,
    name: &str,
) -> Result<Vec<Item>, StoreError> {
    let mut q = Query::partition(Index::Table, template_pk(tenant, name));
    q.sk = SkRange::BeginsWith("LANG#".into());
    q.forward = false;
    q.limit = 200;
    Ok(table.query(&q).await?.items)
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct CategoryRejections {
    pub decided: u64,
    pub approved: u64,
    pub rejected: u64,
    /// rejected ÷ decided (approvals and rejections in the period).
    pub rejection_rate: f64,
    /// Meta's reason codes (`INVALID_FORMAT`, `PROMOTIONAL`, …) by count.
    pub reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RejectionAnalytics {
    pub from: i64,
    pub to: i64,
    pub by_category: BTreeMap<String, CategoryRejections>,
    /// The most frequent rejection reasons overall, most frequent first: the first candidates for
    /// new lint rules.
    pub top_reasons: Vec<(String, u64)>,
}

/// Rejection rate per category and reasons bucketed, over template decisions in `[from, to]`.
pub async fn rejection_analytics(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
) -> Result<RejectionAnalytics, StoreError> {
    let mut q = Query::partition(Index::Gsi1, events_pk(tenant));
    q.sk = SkRange::Between(
        format!("{:012}", from.max(0)),
        format!("{:012}~", to.max(0)),
    );
    q.limit = 200;
    let mut by_category: BTreeMap<String, CategoryRejections> = BTreeMap::new();
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let page = table.query(&q).await?;
        for it in &page.items {
            let event = it.get("event").and_then(Value::as_str).unwrap_or("");
            if event != "APPROVED" && event != "REJECTED" {
                continue;
            }
            let category = it
                .get("category")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .unwrap_or("UNKNOWN");
            let c = by_category.entry(category.to_string()).or_default();
            c.decided += 1;
            if event == "APPROVED" {
                c.approved += 1;
            } else {
                c.rejected += 1;
                let reason = it
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("UNSPECIFIED")
                    .to_string();
                *c.reasons.entry(reason.clone()).or_default() += 1;
                *all.entry(reason).or_default() += 1;
            }
        }
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    for c in by_category.values_mut() {
        c.rejection_rate = if c.decided == 0 {
            0.0
        } else {
            c.rejected as f64 / c.decided as f64
        };
    }
    let mut top_reasons: Vec<(String, u64)> = all.into_iter().collect();
    top_reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(RejectionAnalytics {
        from,
        to,
        by_category,
        top_reasons,
    })
}
