//! Product metrics computed from the event log (`outbox::read_log`), with the definitions in
//! docs/metrics.md. The computations are pure functions of the logged events, so a number can be
//! recomputed, and explained, from the log alone.
//!
//! Handoff rate and deflection rate, definitions [`DEFINITIONS_VERSION`]:
//!
//! - A **session** is one `conversation.opened` event. It lasts until the next
//!   `conversation.opened` of the same conversation, or forever. The sessions of a window
//!   `[from, to)` are those opened in it.
//! - A session is **handed off** when at least one `handoff.queued` falls in it (several count
//!   once).
//! - Otherwise, with at least one bot `message.sent` in it, it is **deflected** unless the
//!   customer wrote again (any `message.triaged` of the conversation, noise included) within
//!   `reopen_days` days after the session's last bot message; **customer returned** if they did;
//!   **pending** while that window is still open at `now` and they have not.
//! - Otherwise (neither bot message nor handoff) it is **bot_only_unanswered**.
//!
//! The five classes partition the sessions. Rates are over all sessions, 0 when there are none.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

use crate::outbox::read_log;
use crate::ports::{Item, StoreError, Table};

/// Version of the definitions below; bump it whenever a definition changes, and say how in
/// docs/metrics.md, so numbers computed under different definitions are never compared.
pub const DEFINITIONS_VERSION: &str = "2026-11-22.1";

/// The longest span the log is read over (`now - from`), in days: one log partition per day.
pub const MAX_READ_DAYS: i64 = 400;

const DAY: i64 = 86_400;

const OPENED: &str = "conversation.opened";
const TRIAGED: &str = "message.triaged";
const QUEUED: &str = "handoff.queued";
const SENT: &str = "message.sent";

/// One entry of the tenant's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The detail type, e.g. `conversation.opened`.
    pub kind: String,
    /// When it was logged (processing time, unix seconds), not WhatsApp's timestamp.
    pub at: i64,
    /// `detail.conversation_id`, when the event has one.
    pub conversation_id: Option<String>,
    pub detail: Value,
}

impl LoggedEvent {
    /// The event an event-log item (written by `outbox::outbox_ops`) records; `None` for an item
    /// that is not a logged event or lacks its type or time.
    pub fn from_item(item: &Item) -> Option<Self> {
        if item
            .get("kind")
            .is_some_and(|k| k.as_str() != Some("event"))
        {
            return None;
        }
        let kind = item.get("type")?.as_str()?.to_string();
        let at = item.get("at").and_then(whole_seconds)?;
        let detail = item.get("detail").cloned().unwrap_or(Value::Null);
        let conversation_id = detail
            .get("conversation_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Self {
            kind,
            at,
            conversation_id,
            detail,
        })
    }

    fn is_bot_message(&self) -> bool {
        self.kind == SENT
            && self
                .detail
                .get("origin")
                .and_then(|o| o.get("kind"))
                .and_then(Value::as_str)
                == Some("bot")
    }
}

fn whole_seconds(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && f.fract() == 0.0)
            .map(|f| f as i64)
    })
}

/// Handoff and deflection over the sessions opened in `[from, to)`, as of `now`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffDeflection {
    /// [`DEFINITIONS_VERSION`].
    pub definitions_version: &'static str,
    pub from: i64,
    pub to: i64,
    pub now: i64,
    pub reopen_days: i64,
    /// Sessions opened in `[from, to)` (at or before `now`).
    pub sessions: u64,
    /// Sessions with at least one `handoff.queued`.
    pub handed_off: u64,
    /// Bot answered, no handoff, the customer did not write again within `reopen_days`.
    pub deflected: u64,
    /// Bot answered, no handoff, no customer message since, `reopen_days` not over yet.
    pub pending: u64,
    /// Bot answered, no handoff, the customer wrote again within `reopen_days`.
    pub customer_returned: u64,
    /// Neither a bot message nor a handoff.
    pub bot_only_unanswered: u64,
    /// `handed_off / sessions`, 0 without sessions.
    pub handoff_rate: f64,
    /// `deflected / sessions`, 0 without sessions. Pending sessions are in the denominator.
    pub deflection_rate: f64,
}

#[derive(Debug)]
struct Session<'a> {
    conversation: &'a str,
    counted: bool,
    handed_off: bool,
    last_bot: Option<i64>,
}

/// Handoff and deflection rates of the sessions opened in `[from, to)`, judged as of `now`
/// (events after `now` are ignored), with a `reopen_days` window for the customer to come back.
///
/// `events` may be in any order and should cover everything logged from `from` to `now`: sessions
/// opened near `to` are judged on events logged after it. Events are ordered by time, then
/// `conversation.opened` first among events of the same second (nothing else of a conversation
/// can precede its opening in the same second: it opens only from no state or `resolved`; the
/// log orders one second by event key, not causally), then by position in `events`.
pub fn handoff_and_deflection(
    events: &[LoggedEvent],
    from: i64,
    to: i64,
    now: i64,
    reopen_days: i64,
) -> HandoffDeflection {
    let window = reopen_days.max(0).saturating_mul(DAY);
    let mut order: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].at <= now && events[i].conversation_id.is_some())
        .collect();
    order.sort_by_key(|&i| (events[i].at, events[i].kind != OPENED, i));

    let mut sessions: Vec<Session> = Vec::new();
    let mut current: HashMap<&str, usize> = HashMap::new();
    // Customer message times per conversation, ascending (the order above).
    let mut customer: HashMap<&str, Vec<i64>> = HashMap::new();
    for &i in &order {
        let e = &events[i];
        let Some(conversation) = e.conversation_id.as_deref() else {
            continue;
        };
        if e.kind == OPENED {
            current.insert(conversation, sessions.len());
            sessions.push(Session {
                conversation,
                counted: from <= e.at && e.at < to,
                handed_off: false,
                last_bot: None,
            });
            continue;
        }
        if e.kind == TRIAGED {
            customer.entry(conversation).or_default().push(e.at);
        }
        // Events before the conversation's first opening in `events` belong to no session.
        let Some(&s) = current.get(conversation) else {
            continue;
        };
        if e.kind == QUEUED {
            sessions[s].handed_off = true;
        } else if e.is_bot_message() {
            sessions[s].last_bot = Some(e.at);
        }
    }

    let mut r = HandoffDeflection {
        definitions_version: DEFINITIONS_VERSION,
        from,
        to,
        now,
        reopen_days,
        sessions: 0,
        handed_off: 0,
        deflected: 0,
        pending: 0,
        customer_returned: 0,
        bot_only_unanswered: 0,
        handoff_rate: 0.0,
        deflection_rate: 0.0,
    };
    for s in sessions.iter().filter(|s| s.counted) {
        r.sessions += 1;
        if s.handed_off {
            r.handed_off += 1;
            continue;
        }
        let Some(bot) = s.last_bot else {
            r.bot_only_unanswered += 1;
            continue;
        };
        let closes = bot.saturating_add(window);
        // The first customer message strictly after the bot's last one (a message processed in
        // the same second cannot be a reply to it), in any later session too.
        let times = customer.get(s.conversation).map_or(&[][..], Vec::as_slice);
        let next = times.get(times.partition_point(|&t| t <= bot));
        if next.is_some_and(|&t| t <= closes) {
            r.customer_returned += 1;
        } else if now < closes {
            r.pending += 1;
        } else {
            r.deflected += 1;
        }
    }
    if r.sessions > 0 {
        r.handoff_rate = r.handed_off as f64 / r.sessions as f64;
        r.deflection_rate = r.deflected as f64 / r.sessions as f64;
    }
    r
}

/// [`handoff_and_deflection`] over the tenant's event log, read from `from` through `now`
/// (a session opened at or after `from` is judged on events at or after its opening).
/// `Invalid` when that span exceeds [`MAX_READ_DAYS`].
pub async fn handoff_and_deflection_from_log(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
    now: i64,
    reopen_days: i64,
) -> Result<HandoffDeflection, StoreError> {
    if now.saturating_sub(from) > MAX_READ_DAYS * DAY {
        return Err(StoreError::Invalid(format!(
            "metrics read at most {MAX_READ_DAYS} days of log (from {from} to now {now})"
        )));
    }
    let items = read_log(table, tenant, from, now.saturating_add(1)).await?;
    let events: Vec<LoggedEvent> = items.iter().filter_map(LoggedEvent::from_item).collect();
    Ok(handoff_and_deflection(&events, from, to, now, reopen_days))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::outbox::outbox_ops;
    use crate::ports::{BusEvent, Condition, Key, Page, Query, SkRange, TxOp, Update};

    /// Day 0 of the worked example: 2026-11-16 00:00 UTC.
    const D0: i64 = 1_794_787_200;

    fn t(day: i64, h: i64, m: i64, s: i64) -> i64 {
        D0 + day * DAY + h * 3600 + m * 60 + s
    }

    fn ev(kind: &str, at: i64, conversation: &str, extra: Value) -> LoggedEvent {
        let mut detail = json!({"conversation_id": conversation});
        if let (Value::Object(d), Value::Object(x)) = (&mut detail, extra) {
            d.extend(x);
        }
        LoggedEvent {
            kind: kind.to_string(),
            at,
            conversation_id: Some(conversation.to_string()),
            detail,
        }
    }
    fn opened(at: i64, c: &str) -> LoggedEvent {
        ev(OPENED, at, c, json!({"reopened": false, "at": at}))
    }
    fn reopened(at: i64, c: &str) -> LoggedEvent {
        ev(OPENED, at, c, json!({"reopened": true, "at": at}))
    }
    fn triaged(at: i64, c: &str) -> LoggedEvent {
        ev(TRIAGED, at, c, json!({"triage": {}}))
    }
    fn noise(at: i64, c: &str) -> LoggedEvent {
        ev(
            TRIAGED,
            at,
            c,
            json!({"triage": {"noise": {"reason": "ack"}}}),
        )
    }
    fn queued(at: i64, c: &str) -> LoggedEvent {
        ev(
            QUEUED,
            at,
            c,
            json!({"from": "bot", "to": "awaiting_agent", "queue": "general"}),
        )
    }
    fn bot(at: i64, c: &str) -> LoggedEvent {
        ev(
            SENT,
            at,
            c,
            json!({"origin": {"kind": "bot"}, "class": "service"}),
        )
    }
    fn agent(at: i64, c: &str) -> LoggedEvent {
        ev(
            SENT,
            at,
            c,
            json!({"origin": {"kind": "agent", "name": "ana"}, "class": "service"}),
        )
    }
    fn system(at: i64, c: &str) -> LoggedEvent {
        ev(
            SENT,
            at,
            c,
            json!({"origin": {"kind": "system", "name": "crm"}, "class": "utility"}),
        )
    }

    const FROM: i64 = D0;
    const TO: i64 = D0 + 5 * DAY;

    fn now() -> i64 {
        t(6, 12, 0, 0)
    }

    /// The worked example of docs/metrics.md.
    fn worked_example() -> Vec<LoggedEvent> {
        vec![
            // Z: opened before `from`: not a session of the window.
            opened(t(-1, 23, 0, 0), "z"),
            triaged(t(-1, 23, 0, 0), "z"),
            bot(t(-1, 23, 0, 2), "z"),
            // A: the bot answers, then the customer asks for a person: handed off.
            opened(t(0, 9, 0, 0), "a"),
            triaged(t(0, 9, 0, 0), "a"),
            bot(t(0, 9, 0, 2), "a"),
            triaged(t(0, 9, 1, 0), "a"),
            queued(t(0, 9, 1, 1), "a"),
            ev("handoff.accepted", t(0, 9, 5, 0), "a", json!({})),
            agent(t(0, 9, 6, 0), "a"),
            // B: one question, one bot answer, silence: deflected.
            opened(t(1, 10, 0, 0), "b"),
            triaged(t(1, 10, 0, 0), "b"),
            bot(t(1, 10, 0, 2), "b"),
            // C: two questions, two bot answers, silence after the last: deflected.
            opened(t(2, 14, 0, 0), "c"),
            triaged(t(2, 14, 0, 0), "c"),
            bot(t(2, 14, 0, 2), "c"),
            triaged(t(2, 14, 3, 0), "c"),
            bot(t(2, 14, 3, 2), "c"),
            // E: bot answers, the customer writes again 7 hours later ("ok 👍", noise, no
            // reply): customer returned, not deflected.
            opened(t(3, 11, 0, 0), "e"),
            triaged(t(3, 11, 0, 0), "e"),
            bot(t(3, 11, 0, 2), "e"),
            noise(t(3, 18, 0, 0), "e"),
            // D: bot answers on day 4; its 3 days are not over at `now`: pending.
            opened(t(4, 20, 0, 0), "d"),
            triaged(t(4, 20, 0, 0), "d"),
            bot(t(4, 20, 0, 2), "d"),
            // F: opened after `to`: not a session of the window.
            opened(t(5, 9, 0, 0), "f"),
            triaged(t(5, 9, 0, 0), "f"),
            bot(t(5, 9, 0, 2), "f"),
        ]
    }

    fn check_invariants(r: &HandoffDeflection) {
        assert!(r.handed_off + r.deflected <= r.sessions, "{r:?}");
        assert!(
            r.handed_off + r.deflected + r.pending <= r.sessions,
            "{r:?}"
        );
        assert_eq!(
            r.handed_off + r.deflected + r.pending + r.customer_returned + r.bot_only_unanswered,
            r.sessions,
            "{r:?}"
        );
        assert!((0.0..=1.0).contains(&r.handoff_rate), "{r:?}");
        assert!((0.0..=1.0).contains(&r.deflection_rate), "{r:?}");
        assert!(r.handoff_rate + r.deflection_rate <= 1.0 + 1e-12, "{r:?}");
    }

    #[test]
    fn worked_example_numbers() {
        let mut events = worked_example();
        events.reverse(); // the slice's order does not matter
        let r = handoff_and_deflection(&events, FROM, TO, now(), 3);
        check_invariants(&r);
        assert_eq!(r.definitions_version, "2026-11-22.1");
        assert_eq!(r.sessions, 5);
        assert_eq!(r.handed_off, 1);
        assert_eq!(r.deflected, 2);
        assert_eq!(r.pending, 1);
        assert_eq!(r.customer_returned, 1);
        assert_eq!(r.bot_only_unanswered, 0);
        assert_eq!(r.handoff_rate, 0.2);
        assert_eq!(r.deflection_rate, 0.4);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"definitions_version": "2026-11-22.1", "from": FROM, "to": TO,
                   "now": now(), "reopen_days": 3, "sessions": 5, "handed_off": 1,
                   "deflected": 2, "pending": 1, "customer_returned": 1,
                   "bot_only_unanswered": 0, "handoff_rate": 0.2, "deflection_rate": 0.4})
        );
    }

    #[test]
    fn worked_example_as_time_passes() {
        let events = worked_example();
        // Day 8 00:00: D's window (until day 7 20:00:02) is over: deflected.
        let r = handoff_and_deflection(&events, FROM, TO, t(8, 0, 0, 0), 3);
        assert_eq!((r.deflected, r.pending, r.customer_returned), (3, 0, 1));
        assert_eq!(r.deflection_rate, 0.6);
        // Day 4 12:00: C's window is open (D not opened yet); B's closed at day 4 10:00:02.
        let r = handoff_and_deflection(&events, FROM, TO, t(4, 12, 0, 0), 3);
        assert_eq!(r.sessions, 4);
        assert_eq!((r.deflected, r.pending, r.customer_returned), (1, 1, 1));
        // No window at all (reopen_days 0): nobody is pending, and nobody can come back in time.
        let r = handoff_and_deflection(&events, FROM, TO, now(), 0);
        assert_eq!((r.deflected, r.pending, r.customer_returned), (4, 0, 0));
    }

    #[test]
    fn two_handoffs_in_one_session_count_once() {
        let events = vec![
            opened(t(0, 9, 0, 0), "a"),
            triaged(t(0, 9, 0, 0), "a"),
            queued(t(0, 9, 0, 1), "a"),
            ev("handoff.returned_to_bot", t(0, 9, 30, 0), "a", json!({})),
            bot(t(0, 9, 31, 0), "a"),
            queued(t(0, 10, 0, 0), "a"),
            opened(t(0, 11, 0, 0), "b"),
            triaged(t(0, 11, 0, 0), "b"),
        ];
        let r = handoff_and_deflection(&events, FROM, TO, now(), 3);
        check_invariants(&r);
        assert_eq!(r.sessions, 2);
        assert_eq!(r.handed_off, 1);
        assert_eq!(r.handoff_rate, 0.5);
        assert_eq!(
            r.deflected, 0,
            "a bot message after a handoff does not deflect"
        );
        assert_eq!(r.bot_only_unanswered, 1);
    }

    #[test]
    fn a_reopened_conversation_is_a_new_session() {
        let events = vec![
            // Session 1: handed off, resolved.
            opened(t(0, 9, 0, 0), "a"),
            triaged(t(0, 9, 0, 0), "a"),
            queued(t(0, 9, 0, 1), "a"),
            agent(t(0, 9, 10, 0), "a"),
            ev("handoff.resolved", t(0, 9, 20, 0), "a", json!({})),
            // Session 2: the customer is back; the bot answers; silence.
            reopened(t(1, 8, 0, 0), "a"),
            triaged(t(1, 8, 0, 0), "a"),
            bot(t(1, 8, 0, 2), "a"),
        ];
        let r = handoff_and_deflection(&events, FROM, TO, now(), 3);
        check_invariants(&r);
        assert_eq!(r.sessions, 2);
        assert_eq!((r.handed_off, r.deflected), (1, 1));

        // A handoff queued in the same second as the reopening belongs to the new session, even
        // when it comes first in the slice (the log orders one second by event key).
        let events = vec![
            opened(t(0, 9, 0, 0), "a"),
            triaged(t(0, 9, 0, 0), "a"),
            bot(t(0, 9, 0, 2), "a"),
            queued(t(2, 8, 0, 0), "a"),
            reopened(t(2, 8, 0, 0), "a"),
            triaged(t(2, 8, 0, 0), "a"),
        ];
        let r = handoff_and_deflection(&events, FROM, TO, now(), 1);
        assert_eq!(r.sessions, 2);
        assert_eq!(r.handed_off, 1);
        // Session 1's bot answer was followed by the customer only after the 1-day window.
        assert_eq!(r.deflected, 1);

        // The customer reopening within the window undoes session 1's deflection.
        let r = handoff_and_deflection(&events, FROM, TO, now(), 3);
        assert_eq!((r.handed_off, r.deflected, r.customer_returned), (1, 0, 1));
    }

    #[test]
    fn only_sessions_opened_in_the_window_count() {
        let events = vec![
            opened(FROM - 1, "before"),
            queued(FROM + 10, "before"), // handoff of a session opened before `from`
            bot(FROM + 20, "before"),
            opened(FROM, "first"), // `from` is included
            bot(FROM + 1, "first"),
            opened(TO - 1, "last"),
            system(TO, "last"),  // not a bot message
            opened(TO, "after"), // `to` is excluded
            queued(TO + 1, "after"),
            opened(now() + 1, "future"), // after `now`: not happened yet
            triaged(FROM + 5, "never-opened"),
            bot(FROM + 6, "never-opened"),
        ];
        let r = handoff_and_deflection(&events, FROM, TO, now(), 1);
        check_invariants(&r);
        assert_eq!(r.sessions, 2);
        assert_eq!(r.handed_off, 0);
        assert_eq!(r.deflected, 1);
        assert_eq!(r.bot_only_unanswered, 1);

        let empty = handoff_and_deflection(&[], FROM, TO, now(), 3);
        assert_eq!(
            (empty.sessions, empty.handoff_rate, empty.deflection_rate),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn pending_until_the_window_closes() {
        let events = vec![opened(FROM, "a"), bot(FROM + 2, "a")];
        let closes = FROM + 2 + 3 * DAY;
        let at = |now| handoff_and_deflection(&events, FROM, TO, now, 3);
        assert_eq!((at(closes - 1).pending, at(closes - 1).deflected), (1, 0));
        assert_eq!((at(closes).pending, at(closes).deflected), (0, 1));
        // A customer message in the same second as the bot's is not a reply to it; one on the
        // window's last second is.
        let mut with = events.clone();
        with.push(triaged(FROM + 2, "a"));
        assert_eq!(
            handoff_and_deflection(&with, FROM, TO, closes, 3).deflected,
            1
        );
        with.push(triaged(closes, "a"));
        let r = handoff_and_deflection(&with, FROM, TO, closes, 3);
        assert_eq!((r.deflected, r.customer_returned), (0, 1));
    }

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn invariants_over_random_event_sequences() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..5000 {
            let span = 10 * DAY;
            let start = D0 - 2 * DAY;
            // Half the cases with distinct times (order-independent), half with many ties.
            let distinct = case % 2 == 0;
            let n = rng.below(40) as usize;
            let conversations = ["a", "b", "c", "d"];
            let mut events = Vec::with_capacity(n);
            for i in 0..n {
                let at = if distinct {
                    start + (rng.below(span as u64 / 64) as i64) * 64 + i as i64
                } else {
                    start + (rng.below(40) as i64) * (span / 40)
                };
                let used = 1 + rng.below(4);
                let c = conversations[rng.below(used) as usize];
                let e = match rng.below(8) {
                    0 | 1 => opened(at, c),
                    2 | 3 => triaged(at, c),
                    4 => queued(at, c),
                    5 => bot(at, c),
                    6 => agent(at, c),
                    _ => ev("handoff.resolved", at, c, json!({})),
                };
                events.push(e);
            }
            let from = start + rng.below(span as u64 / 2) as i64;
            let to = from + rng.below(span as u64 / 2) as i64;
            let now = to + rng.below(span as u64) as i64 - (span / 4);
            let reopen_days = rng.below(5) as i64;
            let r = handoff_and_deflection(&events, from, to, now, reopen_days);
            check_invariants(&r);
            let oracle = events
                .iter()
                .filter(|e| e.kind == OPENED && from <= e.at && e.at < to && e.at <= now)
                .count() as u64;
            assert_eq!(r.sessions, oracle, "case {case}");
            if distinct {
                let mut shuffled = events.clone();
                for i in (1..shuffled.len()).rev() {
                    shuffled.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let s = handoff_and_deflection(&shuffled, from, to, now, reopen_days);
                assert_eq!(s, r, "case {case}: the slice's order changed the result");
            }
            // Nothing after `now` matters.
            let seen: Vec<LoggedEvent> = events.iter().filter(|e| e.at <= now).cloned().collect();
            assert_eq!(handoff_and_deflection(&seen, from, to, now, reopen_days), r);
        }
    }

    #[test]
    fn from_item_reads_what_the_outbox_logs() {
        let ops = outbox_ops(
            "t1",
            "msg:wamid.1",
            1234,
            &[BusEvent {
                tenant: "t1".into(),
                detail_type: SENT.into(),
                correlation: "msg:wamid.1".into(),
                detail: json!({"conversation_id": "c1", "origin": {"kind": "bot"}}),
            }],
        );
        let logged: Vec<LoggedEvent> = ops
            .iter()
            .filter_map(|op| match op {
                TxOp::Put { item, .. } => LoggedEvent::from_item(item),
                _ => None,
            })
            .collect();
        assert_eq!(logged.len(), 1, "the outbox item is not a logged event");
        assert_eq!(logged[0].kind, SENT);
        assert_eq!(logged[0].at, 1234);
        assert_eq!(logged[0].conversation_id.as_deref(), Some("c1"));
        assert!(logged[0].is_bot_message());

        let mut item = Item::new();
        item.insert("type".into(), json!("message.sent"));
        assert_eq!(LoggedEvent::from_item(&item), None, "no `at`");
        item.insert("at".into(), json!(12.0));
        let e = LoggedEvent::from_item(&item).unwrap();
        assert_eq!((e.at, e.conversation_id), (12, None));
    }

    /// The log partitions only: puts, and queries of one partition by sort-key range.
    #[derive(Default)]
    struct LogTable(Mutex<BTreeMap<(String, String), Item>>);

    #[async_trait]
    impl Table for LogTable {
        async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
            Err(StoreError::Invalid("not in this fake".into()))
        }
        async fn put(&self, _: Item, _: Option<Condition>) -> Result<(), StoreError> {
            Err(StoreError::Invalid("not in this fake".into()))
        }
        async fn update(
            &self,
            _: &Key,
            _: Update,
            _: Option<Condition>,
        ) -> Result<Item, StoreError> {
            Err(StoreError::Invalid("not in this fake".into()))
        }
        async fn delete(&self, _: &Key, _: Option<Condition>) -> Result<(), StoreError> {
            Err(StoreError::Invalid("not in this fake".into()))
        }
        async fn query(&self, q: &Query) -> Result<Page, StoreError> {
            let items = self.0.lock().unwrap();
            let in_range = |sk: &str| match &q.sk {
                SkRange::All => true,
                SkRange::BeginsWith(p) => sk.starts_with(p.as_str()),
                SkRange::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
            };
            Ok(Page {
                items: items
                    .iter()
                    .filter(|((pk, sk), _)| *pk == q.pk && in_range(sk))
                    .map(|(_, i)| i.clone())
                    .collect(),
                cursor: None,
            })
        }
        async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
            let mut items = self.0.lock().unwrap();
            for op in ops {
                if let TxOp::Put { item, .. } = op {
                    let key = crate::ports::table::key_of(&item)?;
                    items.insert((key.pk, key.sk), item);
                }
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn from_log_reads_from_from_through_now() {
        let table = LogTable::default();
        for (i, e) in worked_example().iter().enumerate() {
            let bus = BusEvent {
                tenant: "t1".into(),
                detail_type: e.kind.clone(),
                correlation: format!("msg:{i}"),
                detail: e.detail.clone(),
            };
            table
                .transact(outbox_ops("t1", &format!("msg:{i:03}"), e.at, &[bus]))
                .await
                .unwrap();
        }
        // Logged after `now`: must not be read.
        let late = BusEvent {
            tenant: "t1".into(),
            detail_type: TRIAGED.into(),
            correlation: "late".into(),
            detail: json!({"conversation_id": "b"}),
        };
        table
            .transact(outbox_ops("t1", "late", now() + 1, &[late]))
            .await
            .unwrap();

        let r = handoff_and_deflection_from_log(&table, "t1", FROM, TO, now(), 3)
            .await
            .unwrap();
        assert_eq!(
            r,
            handoff_and_deflection(&worked_example(), FROM, TO, now(), 3)
        );
        assert_eq!(
            (r.sessions, r.handed_off, r.deflected, r.pending),
            (5, 1, 2, 1)
        );
        let other = handoff_and_deflection_from_log(&table, "t2", FROM, TO, now(), 3)
            .await
            .unwrap();
        assert_eq!(other.sessions, 0);

        let too_long =
            handoff_and_deflection_from_log(&table, "t1", now() - 401 * DAY, TO, now(), 3).await;
        assert!(matches!(too_long, Err(StoreError::Invalid(_))));
    }
}

// ---------------------------------------------------------------------------------------------
// Roll-ups: the product metrics read O(days), rebuilt from the log on demand.
// ---------------------------------------------------------------------------------------------

/// `GET /api/metrics`: the roll-up report for `queue` (or every queue), with the escalation mix,
/// per-template delivery and read rates, rejection rates per category, and — tenant-wide — the
/// handoff and deflection rates computed from the event log.
pub async fn report(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
    queue: Option<&str>,
    now: i64,
    reopen_days: i64,
) -> Result<Value, StoreError> {
    use switchboard_core::rollup;
    let dims = crate::outbox::read_rollups(table, tenant, from, to.saturating_sub(1)).await?;
    let pick = |dim: &str| dims.get(dim).cloned().unwrap_or_default();
    let main = match queue {
        Some(q) => pick(&format!("queue:{q}")),
        None => pick("all"),
    };
    let handoffs: BTreeMap<String, i64> = dims
        .iter()
        .filter_map(|(d, c)| {
            let q = d.strip_prefix("queue:")?;
            Some((q.to_string(), c.get("handoffs").copied().unwrap_or(0)))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let templates: BTreeMap<&str, Value> = dims
        .iter()
        .filter_map(|(d, c)| Some((d.strip_prefix("template:")?, rollup::report(c))))
        .collect();
    let categories: BTreeMap<&str, Value> = dims
        .iter()
        .filter_map(|(d, c)| Some((d.strip_prefix("category:")?, rollup::report(c))))
        .collect();
    let mut out = json!({
        "definitions_version": rollup::DEFINITIONS_VERSION,
        "from": from, "to": to, "queue": queue,
        "metrics": rollup::report(&main),
        "escalation_mix": rollup::mix(&handoffs),
        "templates": templates,
        "template_categories": categories,
    });
    if queue.is_none() {
        let hd = handoff_and_deflection_from_log(table, tenant, from, to, now, reopen_days).await?;
        out["handoff_deflection"] = serde_json::to_value(hd).unwrap_or(Value::Null);
    }
    Ok(out)
}

/// What `switchboard metrics rebuild` found and did for one day.
#[derive(Debug, Clone, Serialize)]
pub struct RebuiltDay {
    pub day: String,
    pub events: usize,
    /// (dimension, metric, stored, rebuilt) where the incremental counters disagreed.
    pub differences: Vec<(String, String, i64, i64)>,
}

/// Recomputes the roll-ups of each day in `from..to` from the event log with the same fold the
/// incremental path uses; reports where the stored counters disagreed and, when `write`, replaces
/// them. `progress(done, total)` is called after each day.
pub async fn rebuild(
    table: &dyn Table,
    tenant: &str,
    from: i64,
    to: i64,
    write: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<RebuiltDay>, StoreError> {
    use switchboard_core::rollup;
    let days = crate::outbox::days(from, to.saturating_sub(1));
    let total = days.len();
    let mut out = Vec::new();
    for (i, day_name) in days.iter().enumerate() {
        let start = (from.div_euclid(86_400) + i as i64) * 86_400;
        let items = crate::outbox::read_log(table, tenant, start, start + 86_400).await?;
        let events: Vec<(String, i64, Value)> = items
            .iter()
            .filter_map(LoggedEvent::from_item)
            .map(|e| (e.kind, e.at, e.detail))
            .collect();
        let rebuilt = rollup::rebuild(&events);
        let stored = crate::outbox::read_rollups(table, tenant, start, start).await?;
        let mut differences = Vec::new();
        let mut dims: std::collections::BTreeSet<String> = stored.keys().cloned().collect();
        dims.extend(rebuilt.keys().map(|(_, d)| d.clone()));
        for dim in &dims {
            let s = stored.get(dim).cloned().unwrap_or_default();
            let r = rebuilt
                .get(&(day_name.clone(), dim.clone()))
                .cloned()
                .unwrap_or_default();
            let mut metrics: std::collections::BTreeSet<&String> = s.keys().collect();
            metrics.extend(r.keys());
            for m in metrics {
                let (a, b) = (
                    s.get(m).copied().unwrap_or(0),
                    r.get(m).copied().unwrap_or(0),
                );
                if a != b {
                    differences.push((dim.clone(), m.clone(), a, b));
                }
            }
        }
        if write && !differences.is_empty() {
            let pk = crate::outbox::rollup_pk(tenant, day_name);
            let page = table
                .query(&crate::ports::Query::partition(
                    crate::ports::Index::Table,
                    pk.clone(),
                ))
                .await?;
            for it in &page.items {
                table
                    .delete(&crate::ports::table::key_of(it)?, None)
                    .await?;
            }
            for ((day, dim), counters) in &rebuilt {
                table
                    .update(
                        &crate::ports::Key::new(pk.clone(), format!("{dim}#0")),
                        crate::outbox::rollup_update(day, dim, counters),
                        None,
                    )
                    .await?;
            }
        }
        out.push(RebuiltDay {
            day: day_name.clone(),
            events: events.len(),
            differences,
        });
        progress(i + 1, total);
    }
    Ok(out)
}

/// The seed article's seven-question diagnostic, answered from the system's own data where it
/// can be: one point per risk-side answer; 0–2 healthy, 3–4 at risk, 5+ rebuild candidate.
pub async fn diagnostic(
    table: &dyn Table,
    blobs: &dyn crate::ports::BlobStore,
    tenant: &str,
    now: i64,
    intents_with_own_threshold: usize,
    intents: usize,
) -> Result<Value, StoreError> {
    let month = now - 30 * 86_400;
    let quarter = now - 90 * 86_400;
    let dims = crate::outbox::read_rollups(table, tenant, quarter, now).await?;
    let all = dims.get("all").cloned().unwrap_or_default();
    let n = |m: &str| all.get(m).copied().unwrap_or(0);
    let hd = handoff_and_deflection_from_log(table, tenant, month, now + 1, now, 3).await?;
    let mut states = serde_json::Map::new();
    for st in [
        "bot",
        "awaiting_agent",
        "assigned",
        "awaiting_customer",
        "resolved",
    ] {
        let mut q = crate::ports::Query::partition(
            crate::ports::Index::Gsi1,
            switchboard_core::keys::conversations_by_state(tenant, st),
        );
        q.limit = 1000;
        states.insert(st.into(), json!(table.query(&q).await?.items.len()));
    }
    let media = |status: &str| crate::queries::MediaQuery {
        status: Some(status.into()),
        limit: Some(500),
        ..Default::default()
    };
    let lost = crate::queries::search_media(table, blobs, tenant, &media("lost"))
        .await?
        .items
        .len();
    let stale_pending = crate::queries::search_media(table, blobs, tenant, &media("pending"))
        .await?
        .items
        .iter()
        .filter(|m| m.received_at.unwrap_or(m.sent_at) < now - 86_400)
        .count();
    let stored = crate::queries::search_media(table, blobs, tenant, &media("stored"))
        .await?
        .items
        .len();
    let (rejected, approved) = (n("templates_rejected"), n("templates_approved"));
    let handoff_rate = (hd.sessions > 0).then_some(hd.handoff_rate);
    let questions = vec![
        json!({"id": "webhook_sync_work", "question": "Does the webhook handler do synchronous work before returning 200?",
               "answer": "no", "score": 0,
               "evidence": "ingest verifies the signature, splits the body and enqueues; everything else runs after the 200 (docs/architecture.md, docs/benchmarks.md: ack median 1.2 ms)"}),
        json!({"id": "template_lint", "question": "How long until authoring flags a Meta rejection reason?",
               "answer": "<1h: on every draft save and again before submission", "score": 0,
               "evidence": {"lint_rules": switchboard_core::template::RULES.len(), "templates_approved_90d": approved,
                            "templates_rejected_90d": rejected,
                            "rejection_rate_90d": (approved + rejected > 0).then(|| rejected as f64 / (approved + rejected) as f64)}}),
        json!({"id": "media_findable", "question": "Can an operator find a 30-day-old customer file in under 30 s?",
               "answer": "yes: GET /api/media by conversation, sender, type, date, filename", "score": 0,
               "evidence": {"media_stored": stored}}),
        json!({"id": "server_side_state", "question": "Is conversation state stored server-side and shown first?",
               "answer": "yes", "score": 0, "evidence": {"conversations_by_state": states}}),
        json!({"id": "handoff_rate_band", "question": "Is the 30-day handoff rate outside 2%–40%?",
               "answer": match handoff_rate { None => "no sessions in the last 30 days".to_string(),
                                               Some(r) => format!("{:.1}%", r * 100.0) },
               "score": i64::from(handoff_rate.is_some_and(|r| !(0.02..=0.40).contains(&r))),
               "evidence": {"sessions_30d": hd.sessions, "handed_off_30d": hd.handed_off}}),
        json!({"id": "per_intent_thresholds", "question": "Is intent coverage measured per intent, with per-intent thresholds?",
               "answer": "per intent", "score": 0,
               "evidence": {"intents": intents, "intents_with_own_threshold": intents_with_own_threshold,
                            "structured_90d": n("structured"), "nlu_90d": n("nlu"), "abstained_90d": n("nlu_abstained")}}),
        json!({"id": "media_lost_silently", "question": "Has an inbound media file ever been lost silently?",
               "answer": if stale_pending > 0 { "don't know: media jobs pending for over a day" } else { "no: every loss is recorded with its reason" },
               "score": i64::from(stale_pending > 0),
               "evidence": {"lost_recorded": lost, "pending_over_a_day": stale_pending}}),
    ];
    let score: i64 = questions.iter().filter_map(|q| q["score"].as_i64()).sum();
    let band = match score {
        0..=2 => "healthy",
        3..=4 => "at risk",
        _ => "rebuild candidate",
    };
    Ok(json!({"score": score, "out_of": 7, "band": band, "questions": questions, "at": now}))
}
