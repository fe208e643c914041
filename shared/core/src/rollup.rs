//! Roll-ups: the one pure definition of how a logged event becomes counters per tenant, UTC day and
//! dimension. The incremental path (counters written in the transaction that appends the event)
//! and `switchboard metrics rebuild` (recomputing them from the log) both call [`fold`], so they
//! agree by construction. [`report`] turns summed counters into the product metrics; their
//! definitions are in `docs/metrics.md` ("Roll-ups and product metrics") and carry
//! [`DEFINITIONS_VERSION`].

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::keys::civil_date;

/// Version of the counter and metric definitions. Change a definition only with a new version.
pub const DEFINITIONS_VERSION: &str = "2026-11-22.2";

/// The dimension every delta also goes to.
pub const ALL: &str = "all";

/// Longest sanitized value inside a counter name (`refused_<reason>`, …).
const MAX_NAME: usize = 40;

/// One counter increment: add `n` to `metric` of the item (`day`, `dim`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delta {
    /// `YYYY-MM-DD`, UTC day of the event's `at`.
    pub day: String,
    /// `all`, `queue:<q>`, `template:<name>:<lang>` or `category:<CATEGORY>`.
    pub dim: String,
    /// Counter name. Dynamic for a few (`refused_<reason>`, `sent_by_<kind>`, …), so owned.
    pub metric: String,
    pub n: i64,
}

/// The counters one item (day, dim) holds.
pub type Counters = BTreeMap<String, i64>;
/// Items keyed by (day, dim).
pub type Items = BTreeMap<(String, String), Counters>;

/// The deltas of one logged event (`kind` = the event's `type`, `at` = unix seconds). Pure and
/// total: unknown kinds and missing fields give fewer (or no) deltas, never an error. Deltas of
/// the same (day, dim, metric) are merged, and zero increments are left out.
pub fn fold(kind: &str, at: i64, detail: &Value) -> Vec<Delta> {
    let mut f = Folder::default();
    match kind {
        "conversation.opened" => {
            f.add(None, "sessions_opened", 1);
            if detail.get("reopened").and_then(Value::as_bool) == Some(true) {
                f.add(None, "sessions_reopened", 1);
            }
        }
        "message.triaged" => {
            let triage = detail.get("triage").unwrap_or(&Value::Null);
            f.add(None, "inbound_messages", 1);
            let noise = triage.get("noise").is_some_and(|n| !n.is_null());
            if noise {
                f.add(None, "noise_filtered", 1);
            } else {
                let queue = queue_dim(triage);
                let intent = triage.get("intent").filter(|i| !i.is_null());
                let q = queue.as_deref();
                f.add(q, "inbound_routed", 1);
                match str_of(triage, "modality") {
                    Some("structured") => f.add(q, "structured", 1),
                    Some("nlu") => {
                        f.add(q, "nlu", 1);
                        if intent.is_none() {
                            f.add(q, "nlu_abstained", 1);
                        }
                    }
                    _ => {}
                }
            }
        }
        "handoff.queued" => f.add(queue_dim(detail).as_deref(), "handoffs", 1),
        "handoff.accepted" => f.add(queue_dim(detail).as_deref(), "accepted", 1),
        "handoff.transferred" => f.add(transfer_dim(detail).as_deref(), "transfers", 1),
        "handoff.returned_to_bot" => f.add(queue_dim(detail).as_deref(), "returned_to_bot", 1),
        "handoff.resolved" => {
            let q = queue_dim(detail);
            f.add(q.as_deref(), "resolved_by_agent", 1);
            if let Some(secs) = secs_of(detail, "resolution_secs") {
                f.add(q.as_deref(), "resolution_count", 1);
                f.add(q.as_deref(), "resolution_secs", secs);
            }
        }
        "message.sent_by_agent" => {
            let q = queue_dim(detail);
            f.add(q.as_deref(), "agent_replies", 1);
            for clock in ["first_response", "next_response"] {
                if let Some(secs) = secs_of(detail, &format!("{clock}_secs")) {
                    f.add(q.as_deref(), &format!("{clock}_count"), 1);
                    f.add(q.as_deref(), &format!("{clock}_secs"), secs);
                    let within = detail.get(format!("{clock}_within_sla"));
                    if within.and_then(Value::as_bool) == Some(true) {
                        f.add(q.as_deref(), &format!("{clock}_within_sla"), 1);
                    }
                }
            }
        }
        "conversation.auto_closed" => f.add(queue_dim(detail).as_deref(), "auto_closed", 1),
        // A customer-service window that closed with the customer's message unanswered.
        "window.expired" => f.add(queue_dim(detail).as_deref(), "windows_expired", 1),
        "sla.warning" | "sla.breached" => {
            let what = if kind == "sla.warning" {
                "sla_warning"
            } else {
                "sla_breached"
            };
            let clock = name_of(detail, "clock");
            f.add(queue_dim(detail).as_deref(), &format!("{what}_{clock}"), 1);
        }
        "message.sent" => {
            let t = template_dim(detail);
            let t = t.as_deref();
            let origin = detail.get("origin").unwrap_or(&Value::Null);
            f.add(t, "sent", 1);
            f.add(t, &format!("sent_by_{}", name_of(origin, "kind")), 1);
            f.add(t, &format!("sent_{}", name_of(detail, "class")), 1);
            if t.is_some() {
                f.add(t, "template_sent", 1);
            }
        }
        "message.refused" => {
            f.add(None, "refused", 1);
            f.add(None, &format!("refused_{}", name_of(detail, "reason")), 1);
        }
        "message.failed" => f.add(None, "failed", 1),
        // Counted only the first time a message reaches a status.
        "message.status" if detail.get("first").and_then(Value::as_bool) == Some(true) => {
            let t = template_dim(detail);
            let status = format!("status_{}", name_of(detail, "status"));
            f.add(t.as_deref(), &status, 1);
        }
        "consent.changed" => f.add(None, &format!("consent_{}", name_of(detail, "kind")), 1),
        "meta.message_template_status_update" => {
            let value = detail.get("value").unwrap_or(&Value::Null);
            let metric = match str_of(value, "event")
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("APPROVED") => Some("templates_approved"),
                Some("REJECTED") => Some("templates_rejected"),
                _ => None,
            };
            if let Some(metric) = metric {
                let category = str_of(value, "message_template_category")
                    .map(|c| format!("category:{}", c.to_ascii_uppercase()));
                f.add(category.as_deref(), metric, 1);
            }
        }
        _ => {}
    }
    let day = civil_date(at);
    f.0.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((dim, metric), n)| Delta {
            day: day.clone(),
            dim,
            metric,
            n,
        })
        .collect()
}

/// Groups deltas into the items a transaction writes: one per (day, dim), several counters each
/// (DynamoDB cannot touch one item twice in a transaction). Zero sums are left out.
pub fn merge(deltas: impl IntoIterator<Item = Delta>) -> Items {
    let mut items = Items::new();
    for d in deltas {
        *items
            .entry((d.day, d.dim))
            .or_default()
            .entry(d.metric)
            .or_insert(0) += d.n;
    }
    for counters in items.values_mut() {
        counters.retain(|_, n| *n != 0);
    }
    items.retain(|_, counters| !counters.is_empty());
    items
}

/// Recomputes every item from a log of `(type, at, detail)` events: what
/// `switchboard metrics rebuild` writes. Order does not matter.
pub fn rebuild(events: &[(String, i64, Value)]) -> Items {
    merge(
        events
            .iter()
            .flat_map(|(kind, at, detail)| fold(kind, *at, detail)),
    )
}

/// Adds `items` into `into` counter by counter (what the incremental path's `ADD` does).
pub fn add_into(into: &mut Items, items: Items) {
    for (key, counters) in items {
        let target = into.entry(key).or_default();
        for (metric, n) in counters {
            *target.entry(metric).or_insert(0) += n;
        }
    }
    for counters in into.values_mut() {
        counters.retain(|_, n| *n != 0);
    }
    into.retain(|_, counters| !counters.is_empty());
}

/// Each derived metric: its name, the counters summed for the numerator, and for the denominator
/// (docs/metrics.md gives the same formulas). On a template dim `sent` = `template_sent`.
const RATIOS: &[(&str, &[&str], &[&str])] = &[
    (
        "noise_filtered_pct",
        &["noise_filtered"],
        &["inbound_messages"],
    ),
    ("structured_share", &["structured"], &["structured", "nlu"]),
    ("nlu_abstain_rate", &["nlu_abstained"], &["nlu"]),
    (
        "avg_first_response_secs",
        &["first_response_secs"],
        &["first_response_count"],
    ),
    (
        "avg_next_response_secs",
        &["next_response_secs"],
        &["next_response_count"],
    ),
    (
        "avg_resolution_secs",
        &["resolution_secs"],
        &["resolution_count"],
    ),
    (
        "first_response_sla_adherence",
        &["first_response_within_sla"],
        &["first_response_count"],
    ),
    (
        "next_response_sla_adherence",
        &["next_response_within_sla"],
        &["next_response_count"],
    ),
    ("reopen_rate", &["sessions_reopened"], &["sessions_opened"]),
    ("auto_closure_rate", &["auto_closed"], &["sessions_opened"]),
    (
        "template_rejection_rate",
        &["templates_rejected"],
        &["templates_approved", "templates_rejected"],
    ),
    ("delivery_rate", &["status_delivered"], &["sent"]),
    ("read_rate", &["status_read"], &["status_delivered"]),
    (
        "opt_out_rate",
        &["consent_opt_out", "consent_marketing_stop"],
        &["sessions_opened"],
    ),
];

/// The derived metrics of one dimension's counters, summed over the days asked for. Every rate is
/// a number in [0, 1] or `null` when its denominator is 0; averages are seconds or `null`. The raw
/// counters are under `counters`.
pub fn report(counters: &BTreeMap<String, i64>) -> Value {
    let c = |k: &str| counters.get(k).copied().unwrap_or(0);
    let structured_share = ratio(c("structured"), c("structured") + c("nlu"));
    let coverage_warning = match structured_share {
        Some(s) if s < 0.70 => json!("below_70"),
        Some(s) if s > 0.95 => json!("above_95"),
        _ => Value::Null,
    };
    let sum = |ks: &[&str]| ks.iter().map(|k| c(k)).sum::<i64>();
    let mut out = Map::new();
    for (name, num, den) in RATIOS {
        let v = if *name == "structured_share" {
            structured_share
        } else {
            ratio(sum(num), sum(den))
        };
        out.insert((*name).to_owned(), v.map_or(Value::Null, |v| json!(v)));
    }
    out.insert("coverage_warning".into(), coverage_warning);
    out.insert(
        "definitions_version".into(),
        Value::from(DEFINITIONS_VERSION),
    );
    out.insert("counters".into(), json!(counters));
    Value::Object(out)
}

/// The escalation destination mix: each queue's share of handoffs (`handoffs` of each `queue:<q>`
/// dim). Shares sum to 1; empty when there are no handoffs.
pub fn mix(per_queue: &BTreeMap<String, i64>) -> BTreeMap<String, f64> {
    let total: i64 = per_queue.values().filter(|n| **n > 0).sum();
    if total == 0 {
        return BTreeMap::new();
    }
    per_queue
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(q, n)| (q.clone(), *n as f64 / total as f64))
        .collect()
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

/// Deltas of one event, keyed by (dim, metric) so the same counter is merged.
#[derive(Default)]
struct Folder(BTreeMap<(String, String), i64>);

impl Folder {
    /// Adds `n` to `metric` on `all` and, when given, on `dim`.
    fn add(&mut self, dim: Option<&str>, metric: &str, n: i64) {
        for d in std::iter::once(ALL).chain(dim) {
            *self.0.entry((d.to_owned(), metric.to_owned())).or_insert(0) += n;
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A value used inside a counter name: lower case, `[a-z_]` only, at most 40 characters;
/// `unknown` when missing or empty.
fn name_of(v: &Value, key: &str) -> String {
    let raw = str_of(v, key).unwrap_or("");
    let s: String = raw
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() { c } else { '_' })
        .take(MAX_NAME)
        .collect();
    if s.trim_matches('_').is_empty() {
        "unknown".to_owned()
    } else {
        s
    }
}

/// A duration in whole seconds (business seconds), when present and not negative.
fn secs_of(v: &Value, key: &str) -> Option<i64> {
    let v = v.get(key)?;
    let secs = v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.round() as i64)
    })?;
    (secs >= 0).then_some(secs)
}

fn queue_dim(v: &Value) -> Option<String> {
    str_of(v, "queue").map(|q| format!("queue:{q}"))
}

/// A transfer counts for the queue it goes to.
fn transfer_dim(v: &Value) -> Option<String> {
    str_of(v, "queue")
        .or_else(|| str_of(v, "to"))
        .map(|q| format!("queue:{q}"))
}

/// `template:<name>:<lang>` from `detail.template` = {name, language}; a bare name string is
/// tolerated (language `und`).
fn template_dim(v: &Value) -> Option<String> {
    let t = v.get("template")?;
    let (name, lang) = match t {
        Value::String(name) => (Some(name.trim()).filter(|n| !n.is_empty()), None),
        _ => (str_of(t, "name"), str_of(t, "language")),
    };
    Some(format!("template:{}:{}", name?, lang.unwrap_or("und")))
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_unanswered_window_counts_once_on_its_queue() {
        let d = fold(
            "window.expired",
            1_795_316_400,
            &serde_json::json!({"queue": "finance"}),
        );
        let got: Vec<(String, String, i64)> =
            d.into_iter().map(|d| (d.dim, d.metric, d.n)).collect();
        assert!(got.contains(&("all".into(), "windows_expired".into(), 1)));
        assert!(got.contains(&("queue:finance".into(), "windows_expired".into(), 1)));
    }

    use super::*;

    /// 2026-11-16 00:00 UTC.
    const DAY0: i64 = 1_794_787_200;
    const D0: &str = "2026-11-16";

    fn deltas(kind: &str, detail: Value) -> Vec<(String, String, i64)> {
        fold(kind, DAY0 + 3600, &detail)
            .into_iter()
            .map(|d| {
                assert_eq!(d.day, D0);
                (d.dim, d.metric, d.n)
            })
            .collect()
    }

    fn set(items: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
        let mut v: Vec<_> = items
            .iter()
            .map(|(d, m, n)| (d.to_string(), m.to_string(), *n))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn civil_day_is_utc() {
        let d = fold("conversation.opened", DAY0 - 1, &json!({}));
        assert_eq!(d[0].day, "2026-11-15");
        let d = fold("conversation.opened", DAY0 + 86_399, &json!({}));
        assert_eq!(d[0].day, D0);
    }

    #[test]
    fn opened_and_reopened() {
        assert_eq!(
            deltas("conversation.opened", json!({"reopened": false})),
            set(&[("all", "sessions_opened", 1)])
        );
        assert_eq!(
            deltas("conversation.opened", json!({"reopened": true})),
            set(&[
                ("all", "sessions_opened", 1),
                ("all", "sessions_reopened", 1)
            ])
        );
        assert_eq!(
            deltas("conversation.opened", Value::Null),
            set(&[("all", "sessions_opened", 1)])
        );
    }

    #[test]
    fn triaged_by_modality_and_noise() {
        let t = |triage: Value| deltas("message.triaged", json!({ "triage": triage }));
        assert_eq!(
            t(
                json!({"intent": "billing", "modality": "structured", "noise": null, "queue": "finance"})
            ),
            set(&[
                ("all", "inbound_messages", 1),
                ("all", "inbound_routed", 1),
                ("all", "structured", 1),
                ("queue:finance", "inbound_routed", 1),
                ("queue:finance", "structured", 1),
            ])
        );
        assert_eq!(
            t(json!({"intent": null, "modality": "nlu", "noise": null, "queue": "tier1"})),
            set(&[
                ("all", "inbound_messages", 1),
                ("all", "inbound_routed", 1),
                ("all", "nlu", 1),
                ("all", "nlu_abstained", 1),
                ("queue:tier1", "inbound_routed", 1),
                ("queue:tier1", "nlu", 1),
                ("queue:tier1", "nlu_abstained", 1),
            ])
        );
        assert_eq!(
            t(json!({"intent": "order", "modality": "nlu", "noise": null})),
            set(&[
                ("all", "inbound_messages", 1),
                ("all", "inbound_routed", 1),
                ("all", "nlu", 1),
            ])
        );
        // Noise counts as inbound, never in coverage nor on a queue.
        assert_eq!(
            t(
                json!({"intent": null, "modality": "none", "noise": {"reason": "ack"}, "queue": "tier1"})
            ),
            set(&[("all", "inbound_messages", 1), ("all", "noise_filtered", 1)])
        );
        assert_eq!(
            t(json!({"modality": "none", "noise": null})),
            set(&[("all", "inbound_messages", 1), ("all", "inbound_routed", 1)])
        );
        assert_eq!(
            deltas("message.triaged", json!({})),
            set(&[("all", "inbound_messages", 1), ("all", "inbound_routed", 1)])
        );
    }

    #[test]
    fn handoff_transitions() {
        let d = json!({"queue": "finance", "from": "bot", "to": "finance", "actor": "bot",
                       "action": {"action": "handoff", "reason": "asked"}});
        assert_eq!(
            deltas("handoff.queued", d),
            set(&[("all", "handoffs", 1), ("queue:finance", "handoffs", 1)])
        );
        assert_eq!(
            deltas("handoff.accepted", json!({"queue": "finance"})),
            set(&[("all", "accepted", 1), ("queue:finance", "accepted", 1)])
        );
        assert_eq!(
            deltas(
                "handoff.transferred",
                json!({"from": "tier1", "to": "finance"})
            ),
            set(&[("all", "transfers", 1), ("queue:finance", "transfers", 1)])
        );
        assert_eq!(
            deltas("handoff.returned_to_bot", json!({})),
            set(&[("all", "returned_to_bot", 1)])
        );
        assert_eq!(
            deltas(
                "handoff.resolved",
                json!({"queue": "q", "resolution_secs": 1200})
            ),
            set(&[
                ("all", "resolution_count", 1),
                ("all", "resolution_secs", 1200),
                ("all", "resolved_by_agent", 1),
                ("queue:q", "resolution_count", 1),
                ("queue:q", "resolution_secs", 1200),
                ("queue:q", "resolved_by_agent", 1),
            ])
        );
        // A negative or non-numeric duration is ignored, not counted.
        assert_eq!(
            deltas("handoff.resolved", json!({"resolution_secs": -5})),
            set(&[("all", "resolved_by_agent", 1)])
        );
        assert_eq!(
            deltas("handoff.resolved", json!({"resolution_secs": "12"})),
            set(&[("all", "resolved_by_agent", 1)])
        );
    }

    #[test]
    fn agent_replies_carry_response_times() {
        assert_eq!(
            deltas(
                "message.sent_by_agent",
                json!({"queue": "tier1", "first_response_secs": 300, "first_response_within_sla": true})
            ),
            set(&[
                ("all", "agent_replies", 1),
                ("all", "first_response_count", 1),
                ("all", "first_response_secs", 300),
                ("all", "first_response_within_sla", 1),
                ("queue:tier1", "agent_replies", 1),
                ("queue:tier1", "first_response_count", 1),
                ("queue:tier1", "first_response_secs", 300),
                ("queue:tier1", "first_response_within_sla", 1),
            ])
        );
        assert_eq!(
            deltas(
                "message.sent_by_agent",
                json!({"next_response_secs": 60, "next_response_within_sla": false})
            ),
            set(&[
                ("all", "agent_replies", 1),
                ("all", "next_response_count", 1),
                ("all", "next_response_secs", 60),
            ])
        );
        // "Within SLA" without a duration is not counted (numerator ⊆ denominator).
        assert_eq!(
            deltas(
                "message.sent_by_agent",
                json!({"first_response_within_sla": true})
            ),
            set(&[("all", "agent_replies", 1)])
        );
        // A zero duration counts the reply, adds no seconds.
        assert_eq!(
            deltas("message.sent_by_agent", json!({"first_response_secs": 0})),
            set(&[
                ("all", "agent_replies", 1),
                ("all", "first_response_count", 1)
            ])
        );
    }

    #[test]
    fn auto_closed_and_sla() {
        assert_eq!(
            deltas("conversation.auto_closed", json!({})),
            set(&[("all", "auto_closed", 1)])
        );
        assert_eq!(
            deltas(
                "sla.warning",
                json!({"clock": "first_response", "queue": "vip"})
            ),
            set(&[
                ("all", "sla_warning_first_response", 1),
                ("queue:vip", "sla_warning_first_response", 1),
            ])
        );
        assert_eq!(
            deltas("sla.breached", json!({"clock": "resolution"})),
            set(&[("all", "sla_breached_resolution", 1)])
        );
    }

    #[test]
    fn sends_refusals_failures() {
        assert_eq!(
            deltas(
                "message.sent",
                json!({"origin": {"kind": "bot"}, "class": "service", "template": null})
            ),
            set(&[
                ("all", "sent", 1),
                ("all", "sent_by_bot", 1),
                ("all", "sent_service", 1),
            ])
        );
        let t = "template:order_update:pt_BR";
        assert_eq!(
            deltas(
                "message.sent",
                json!({"origin": {"kind": "system", "name": "crm"}, "class": "utility",
                       "template": {"name": "order_update", "language": "pt_BR"}})
            ),
            set(&[
                ("all", "sent", 1),
                ("all", "sent_by_system", 1),
                ("all", "sent_utility", 1),
                ("all", "template_sent", 1),
                (t, "sent", 1),
                (t, "sent_by_system", 1),
                (t, "sent_utility", 1),
                (t, "template_sent", 1),
            ])
        );
        assert_eq!(
            deltas(
                "message.refused",
                json!({"reason": "Window-Closed!", "message": "x"})
            ),
            set(&[("all", "refused", 1), ("all", "refused_window_closed_", 1)])
        );
        assert_eq!(
            deltas("message.refused", json!({"reason": "x".repeat(100)})),
            set(&[
                ("all", "refused", 1),
                ("all", &format!("refused_{}", "x".repeat(40)), 1)
            ])
        );
        assert_eq!(
            deltas("message.refused", json!({})),
            set(&[("all", "refused", 1), ("all", "refused_unknown", 1)])
        );
        assert_eq!(
            deltas("message.failed", json!({"message": "boom"})),
            set(&[("all", "failed", 1)])
        );
    }

    #[test]
    fn statuses_count_once_per_message() {
        let t = "template:promo:en";
        assert_eq!(
            deltas(
                "message.status",
                json!({"status": "delivered", "first": true, "template": {"name": "promo", "language": "en"}})
            ),
            set(&[("all", "status_delivered", 1), (t, "status_delivered", 1)])
        );
        assert_eq!(
            deltas(
                "message.status",
                json!({"status": "read", "first": false, "template": null})
            ),
            set(&[])
        );
        assert_eq!(
            deltas("message.status", json!({"status": "read"})),
            set(&[])
        );
    }

    #[test]
    fn consent_and_template_reviews() {
        assert_eq!(
            deltas("consent.changed", json!({"kind": "marketing_stop"})),
            set(&[("all", "consent_marketing_stop", 1)])
        );
        assert_eq!(
            deltas(
                "meta.message_template_status_update",
                json!({"value": {"event": "REJECTED", "message_template_category": "marketing"}})
            ),
            set(&[
                ("all", "templates_rejected", 1),
                ("category:MARKETING", "templates_rejected", 1),
            ])
        );
        assert_eq!(
            deltas(
                "meta.message_template_status_update",
                json!({"value": {"event": "APPROVED", "message_template_category": "UTILITY"}})
            ),
            set(&[
                ("all", "templates_approved", 1),
                ("category:UTILITY", "templates_approved", 1),
            ])
        );
        assert_eq!(
            deltas(
                "meta.message_template_status_update",
                json!({"value": {"event": "PAUSED"}})
            ),
            set(&[])
        );
    }

    #[test]
    fn other_events_give_nothing() {
        assert!(fold("handoff.requested", DAY0, &json!({"queue": "x"})).is_empty());
        assert!(fold("webhook.unparsed", DAY0, &Value::Null).is_empty());
        assert!(fold("", DAY0, &json!([1, 2])).is_empty());
    }

    #[test]
    fn merge_groups_by_day_and_dim() {
        let mut all = fold("handoff.queued", DAY0, &json!({"queue": "a"}));
        all.extend(fold("handoff.queued", DAY0 + 10, &json!({"queue": "a"})));
        all.extend(fold("handoff.accepted", DAY0 + 20, &json!({"queue": "a"})));
        all.extend(fold(
            "handoff.queued",
            DAY0 + 86_400,
            &json!({"queue": "b"}),
        ));
        let items = merge(all);
        assert_eq!(items.len(), 4);
        let a = &items[&(D0.to_owned(), "queue:a".to_owned())];
        assert_eq!(a.get("handoffs"), Some(&2));
        assert_eq!(a.get("accepted"), Some(&1));
        assert_eq!(items[&(D0.to_owned(), "all".to_owned())].len(), 2);
        assert_eq!(
            items[&("2026-11-17".to_owned(), "queue:b".to_owned())].get("handoffs"),
            Some(&1)
        );
        // Zero sums disappear.
        let z = merge(vec![
            Delta {
                day: D0.into(),
                dim: "all".into(),
                metric: "x".into(),
                n: 2,
            },
            Delta {
                day: D0.into(),
                dim: "all".into(),
                metric: "x".into(),
                n: -2,
            },
        ]);
        assert!(z.is_empty());
    }

    #[test]
    fn mix_shares_sum_to_one() {
        let m = mix(&BTreeMap::from([
            ("finance".to_owned(), 2),
            ("tier1".to_owned(), 1),
            ("empty".to_owned(), 0),
        ]));
        assert_eq!(m.len(), 2);
        assert_eq!(m["finance"], 2.0 / 3.0);
        assert_eq!(m["tier1"], 1.0 / 3.0);
        assert!((m.values().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(mix(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn report_is_null_without_denominators() {
        let r = report(&BTreeMap::new());
        for k in [
            "noise_filtered_pct",
            "structured_share",
            "coverage_warning",
            "nlu_abstain_rate",
            "avg_first_response_secs",
            "delivery_rate",
            "opt_out_rate",
            "template_rejection_rate",
        ] {
            assert_eq!(r[k], Value::Null, "{k}");
        }
        assert_eq!(r["definitions_version"], DEFINITIONS_VERSION);
        let warn = |s: i64, n: i64| {
            report(&BTreeMap::from([
                ("structured".to_owned(), s),
                ("nlu".to_owned(), n),
            ]))["coverage_warning"]
                .clone()
        };
        assert_eq!(warn(69, 31), "below_70");
        assert_eq!(warn(70, 30), Value::Null);
        assert_eq!(warn(95, 5), Value::Null);
        assert_eq!(warn(96, 4), "above_95");
    }

    /// The worked example of `docs/metrics.md`: one day, dimension `all`.
    #[test]
    fn worked_example_numbers() {
        let mut log: Vec<(String, i64, Value)> = Vec::new();
        let mut at = DAY0 + 8 * 3600;
        let mut push = |kind: &str, detail: Value| {
            at += 60;
            log.push((kind.to_owned(), at, detail));
        };
        for i in 0..10 {
            push("conversation.opened", json!({"reopened": i < 2}));
        }
        for _ in 0..3 {
            push(
                "message.triaged",
                json!({"triage": {"intent": null, "modality": "none", "noise": {"reason": "ack"}, "queue": null}}),
            );
        }
        for _ in 0..20 {
            push(
                "message.triaged",
                json!({"triage": {"intent": "order_status", "modality": "structured", "noise": null, "queue": "tier1"}}),
            );
        }
        for i in 0..7 {
            let intent = if i == 0 {
                Value::Null
            } else {
                json!("billing")
            };
            push(
                "message.triaged",
                json!({"triage": {"intent": intent, "modality": "nlu", "noise": null, "queue": "tier1"}}),
            );
        }
        for q in ["finance", "finance", "tier1"] {
            push(
                "handoff.queued",
                json!({"queue": q, "from": "bot", "to": q}),
            );
        }
        push(
            "message.sent_by_agent",
            json!({"queue": "finance", "first_response_secs": 300, "first_response_within_sla": true}),
        );
        push(
            "message.sent_by_agent",
            json!({"queue": "tier1", "first_response_secs": 900, "first_response_within_sla": false}),
        );
        for i in 0..12 {
            let kind = if i < 10 { "bot" } else { "agent" };
            push(
                "message.sent",
                json!({"origin": {"kind": kind}, "class": "service", "template": null}),
            );
        }
        for i in 0..12 {
            push("message.status", json!({"status": "sent", "first": true}));
            if i < 10 {
                push(
                    "message.status",
                    json!({"status": "delivered", "first": true}),
                );
            }
            if i < 7 {
                push("message.status", json!({"status": "read", "first": true}));
                // A repeated read is recorded but not counted again.
                push("message.status", json!({"status": "read", "first": false}));
            }
        }
        push("consent.changed", json!({"kind": "opt_out"}));
        assert!(log.iter().all(|(_, at, _)| civil_date(*at) == D0));

        let items = rebuild(&log);
        let all = &items[&(D0.to_owned(), ALL.to_owned())];
        let r = report(all);
        let expect = json!({
            "noise_filtered_pct": 0.1,
            "structured_share": 20.0 / 27.0,
            "coverage_warning": null,
            "nlu_abstain_rate": 1.0 / 7.0,
            "avg_first_response_secs": 600.0,
            "avg_next_response_secs": null,
            "avg_resolution_secs": null,
            "first_response_sla_adherence": 0.5,
            "next_response_sla_adherence": null,
            "reopen_rate": 0.2,
            "auto_closure_rate": 0.0,
            "template_rejection_rate": null,
            "delivery_rate": 10.0 / 12.0,
            "read_rate": 0.7,
            "opt_out_rate": 0.1,
        });
        for (k, v) in expect.as_object().unwrap() {
            assert_eq!(&r[k], v, "{k}");
        }
        // The numbers as docs/metrics.md prints them.
        assert_eq!(r["structured_share"], json!(0.7407407407407407));
        assert_eq!(r["nlu_abstain_rate"], json!(0.14285714285714285));
        assert_eq!(r["delivery_rate"], json!(0.8333333333333334));
        let c = &r["counters"];
        for (k, v) in [
            ("sessions_opened", 10),
            ("sessions_reopened", 2),
            ("inbound_messages", 30),
            ("noise_filtered", 3),
            ("inbound_routed", 27),
            ("structured", 20),
            ("nlu", 7),
            ("nlu_abstained", 1),
            ("handoffs", 3),
            ("agent_replies", 2),
            ("first_response_count", 2),
            ("first_response_secs", 1200),
            ("first_response_within_sla", 1),
            ("sent", 12),
            ("sent_by_bot", 10),
            ("sent_by_agent", 2),
            ("status_sent", 12),
            ("status_delivered", 10),
            ("status_read", 7),
            ("consent_opt_out", 1),
        ] {
            assert_eq!(c[k], json!(v), "{k}");
        }
        let per_queue: BTreeMap<String, i64> = items
            .iter()
            .filter_map(|((_, dim), c)| {
                Some((dim.strip_prefix("queue:")?.to_owned(), *c.get("handoffs")?))
            })
            .collect();
        let m = mix(&per_queue);
        assert_eq!(m["finance"], 0.6666666666666666);
        assert_eq!(m["tier1"], 0.3333333333333333);
        let tier1 = report(&items[&(D0.to_owned(), "queue:tier1".to_owned())]);
        assert_eq!(tier1["structured_share"], json!(20.0 / 27.0));
        assert_eq!(tier1["avg_first_response_secs"], json!(900.0));
        assert_eq!(tier1["delivery_rate"], Value::Null);
    }

    /// xorshift64*: a small deterministic generator for the property tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    const QUEUES: &[&str] = &["tier1", "finance", "vip"];
    const TEMPLATES: &[(&str, &str)] = &[("promo", "en"), ("order_update", "pt_BR")];

    /// A consistent random history: sessions with their lifecycle (each message's statuses follow
    /// its send and reach each level once, at most one auto-close and one opt-out/stop per session),
    /// plus template reviews and malformed or unknown events.
    fn history(seed: u64, sessions: usize) -> Vec<(String, i64, Value)> {
        let mut r = Rng(seed | 1);
        let mut steps = Rng(seed.rotate_left(17) | 1);
        let mut log = Vec::new();
        for _ in 0..sessions {
            let mut at = DAY0 + r.below(20 * 86_400) as i64;
            let mut ev = |kind: &str, detail: Value| {
                at += 1 + steps.below(4 * 3600) as i64;
                log.push((kind.to_owned(), at, detail));
            };
            ev("conversation.opened", json!({"reopened": r.chance(20)}));
            let queue = r.pick(QUEUES);
            for _ in 0..r.below(6) {
                let triage = match r.below(5) {
                    0 => {
                        json!({"intent": null, "modality": "none", "noise": {"reason": "ack"}, "queue": queue})
                    }
                    1 | 2 => {
                        json!({"intent": "x", "modality": "structured", "noise": null, "queue": queue})
                    }
                    3 => {
                        let intent = if r.chance(30) {
                            Value::Null
                        } else {
                            json!("y")
                        };
                        json!({"intent": intent, "modality": "nlu", "noise": null, "queue": queue})
                    }
                    _ => json!({"modality": "none", "noise": null}),
                };
                ev("message.triaged", json!({ "triage": triage }));
            }
            for _ in 0..r.below(4) {
                let template = if r.chance(40) {
                    let (n, l) = TEMPLATES[r.below(2) as usize];
                    json!({"name": n, "language": l})
                } else {
                    Value::Null
                };
                let kind = r.pick(&["bot", "agent", "system"]);
                let class = r.pick(&["service", "utility", "marketing"]);
                match r.below(10) {
                    0 => ev(
                        "message.refused",
                        json!({"reason": r.pick(&["window_closed", "opted_out", "Bad Reason"])}),
                    ),
                    1 => ev("message.failed", json!({})),
                    _ => {
                        ev(
                            "message.sent",
                            json!({"origin": {"kind": kind}, "class": class, "template": template}),
                        );
                        // Statuses rise: sent → delivered → read (or failed), each first once,
                        // possibly repeated (first = false).
                        let reach = r.below(5);
                        let levels: &[&str] = match reach {
                            0 => &[],
                            1 => &["sent"],
                            2 => &["sent", "delivered"],
                            3 => &["sent", "delivered", "read"],
                            _ => &["sent", "failed"],
                        };
                        for s in levels {
                            ev(
                                "message.status",
                                json!({"status": s, "first": true, "template": template}),
                            );
                            if r.chance(20) {
                                ev(
                                    "message.status",
                                    json!({"status": s, "first": false, "template": template}),
                                );
                            }
                        }
                    }
                }
            }
            if r.chance(40) {
                ev(
                    "handoff.queued",
                    json!({"queue": queue, "from": "bot", "to": queue}),
                );
                ev("handoff.accepted", json!({"queue": queue}));
                let mut first = true;
                for _ in 0..r.below(4) {
                    let secs = r.below(3600) as i64;
                    let within = r.chance(60);
                    let d = if first {
                        json!({"queue": queue, "first_response_secs": secs, "first_response_within_sla": within})
                    } else {
                        json!({"queue": queue, "next_response_secs": secs, "next_response_within_sla": within})
                    };
                    first = false;
                    ev("message.sent_by_agent", d);
                }
                if r.chance(20) {
                    let clock = r.pick(&["first_response", "next_response", "resolution"]);
                    ev("sla.warning", json!({"clock": clock, "queue": queue}));
                    if r.chance(50) {
                        ev("sla.breached", json!({"clock": clock, "queue": queue}));
                    }
                }
                match r.below(4) {
                    0 => ev(
                        "handoff.transferred",
                        json!({"from": queue, "to": "vip", "queue": "vip"}),
                    ),
                    1 => ev("handoff.returned_to_bot", json!({"queue": queue})),
                    _ => {
                        let d = if r.chance(70) {
                            json!({"queue": queue, "resolution_secs": r.below(86_400)})
                        } else {
                            json!({"queue": queue})
                        };
                        ev("handoff.resolved", d);
                    }
                }
            } else if r.chance(30) {
                ev("conversation.auto_closed", json!({}));
            }
            if r.chance(10) {
                let kind = r.pick(&["opt_out", "marketing_stop"]);
                ev("consent.changed", json!({ "kind": kind }));
                if r.chance(30) {
                    let back = if kind == "opt_out" {
                        "opt_in"
                    } else {
                        "marketing_resume"
                    };
                    ev("consent.changed", json!({ "kind": back }));
                }
            }
            if r.chance(5) {
                let event = r.pick(&["APPROVED", "REJECTED", "PAUSED"]);
                let category = r.pick(&["MARKETING", "UTILITY"]);
                ev(
                    "meta.message_template_status_update",
                    json!({"value": {"event": event, "message_template_category": category}}),
                );
            }
            if r.chance(5) {
                let kind = r.pick(&[
                    "message.triaged",
                    "message.sent",
                    "handoff.resolved",
                    "nope",
                ]);
                ev(
                    kind,
                    json!({"triage": 3, "origin": [], "template": {"name": 1}}),
                );
            }
        }
        log
    }

    const RATES: &[&str] = &[
        "noise_filtered_pct",
        "structured_share",
        "nlu_abstain_rate",
        "first_response_sla_adherence",
        "next_response_sla_adherence",
        "reopen_rate",
        "auto_closure_rate",
        "template_rejection_rate",
        "delivery_rate",
        "read_rate",
        "opt_out_rate",
    ];

    /// Rates whose numerator is counted by the same event as (part of) its denominator: within
    /// [0, 1] for any window, even a single day.
    const SAME_EVENT_RATES: &[&str] = &[
        "noise_filtered_pct",
        "structured_share",
        "nlu_abstain_rate",
        "first_response_sla_adherence",
        "next_response_sla_adherence",
        "reopen_rate",
        "template_rejection_rate",
    ];

    fn in_unit(r: &Value, keys: &[&str], what: &str) {
        for k in keys {
            match &r[*k] {
                Value::Null => {}
                v => {
                    let x = v.as_f64().unwrap_or_else(|| panic!("{what} {k}: {v}"));
                    assert!((0.0..=1.0).contains(&x), "{what} {k} = {x}");
                }
            }
        }
        for k in [
            "avg_first_response_secs",
            "avg_next_response_secs",
            "avg_resolution_secs",
        ] {
            if let Some(x) = r[k].as_f64() {
                assert!(x >= 0.0, "{what} {k} = {x}");
            }
        }
    }

    #[test]
    fn property_incremental_equals_rebuild_and_rates_in_unit_interval() {
        for seed in 1..=8u64 {
            let log = history(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 600);
            assert!(log.len() > 3_000, "{}", log.len());

            // Incremental: one transaction per event, adding its merged items.
            let mut incremental = Items::new();
            for (kind, at, detail) in &log {
                let items = merge(fold(kind, *at, detail));
                // One item per (day, dim) per transaction.
                let keys: std::collections::BTreeSet<_> = items.keys().collect();
                assert_eq!(keys.len(), items.len());
                add_into(&mut incremental, items);
            }
            // Rebuild: the whole log at once, in another order, and per day then summed.
            let mut shuffled = log.clone();
            shuffled.reverse();
            let rebuilt = rebuild(&shuffled);
            assert_eq!(incremental, rebuilt, "seed {seed}");
            let mut by_day: BTreeMap<String, Vec<(String, i64, Value)>> = BTreeMap::new();
            for e in &log {
                by_day.entry(civil_date(e.1)).or_default().push(e.clone());
            }
            let mut per_day = Items::new();
            for events in by_day.values() {
                add_into(&mut per_day, rebuild(events));
            }
            assert_eq!(per_day, rebuilt, "seed {seed}");

            // Every (day, dim): same-event rates within [0, 1].
            for ((day, dim), counters) in &rebuilt {
                in_unit(&report(counters), SAME_EVENT_RATES, &format!("{day} {dim}"));
            }
            // Summed over the whole history, per dim: every rate within [0, 1].
            let mut per_dim: BTreeMap<String, Counters> = BTreeMap::new();
            for ((_, dim), counters) in &rebuilt {
                let t = per_dim.entry(dim.clone()).or_default();
                for (k, n) in counters {
                    *t.entry(k.clone()).or_insert(0) += n;
                }
            }
            for (dim, counters) in &per_dim {
                in_unit(&report(counters), RATES, dim);
            }
            // The history exercises every mapping.
            let all = &per_dim["all"];
            for k in [
                "sessions_reopened",
                "noise_filtered",
                "nlu_abstained",
                "handoffs",
                "transfers",
                "returned_to_bot",
                "resolution_secs",
                "first_response_within_sla",
                "next_response_within_sla",
                "auto_closed",
                "sla_breached_resolution",
                "template_sent",
                "refused_bad_reason",
                "failed",
                "status_read",
                "status_failed",
                "consent_marketing_resume",
                "templates_approved",
                "templates_rejected",
            ] {
                assert!(all.get(k).is_some_and(|n| *n > 0), "seed {seed}: no {k}");
            }
            // Queue dims' handoffs add up to all's, and the mix sums to 1.
            let per_queue: BTreeMap<String, i64> = per_dim
                .iter()
                .filter_map(|(d, c)| {
                    Some((d.strip_prefix("queue:")?.to_owned(), *c.get("handoffs")?))
                })
                .collect();
            assert_eq!(per_queue.values().sum::<i64>(), per_dim["all"]["handoffs"]);
            let m = mix(&per_queue);
            assert!((m.values().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!(m.values().all(|s| (0.0..=1.0).contains(s)));
        }
    }
}
