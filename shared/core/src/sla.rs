//! SLA clocks: business hours, the policy for a queue and urgency, deadlines and their status.
//!
//! Everything is measured in *business seconds*: seconds during which the queue is open, in the
//! tenant's time zone. A customer who writes on Friday evening to a Mon–Fri 09:00–18:00 team is
//! not "waiting" over the weekend as far as the SLA is concerned; the clock starts on Monday at
//! 09:00. Queues that never close (trust and safety) use 24/7 hours, where business seconds are
//! plain seconds.
//!
//! Instants are Unix seconds (`i64`, UTC), as everywhere else in the domain. Opening hours are
//! local wall-clock times; they are turned into instants day by day with the time zone's rules,
//! so a DST change never shifts or stretches an opening interval by an hour.
//!
//! Pure: no clock is read here; `now` is always an argument.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

use crate::conversation::ConversationState;
use crate::triage::tags::Urgency;

/// The default SLA configuration, compiled in so a function needs no file to start.
pub const DEFAULT_JSON: &str = include_str!("../../../config/sla/default.json");

/// Share of the allowed business time after which a deadline turns to "warning".
pub const DEFAULT_WARN_FRACTION: f64 = 0.8;

/// How far ahead (in local days) business time is looked for before giving up. Two years: far
/// beyond any real SLA, yet it bounds the work when holidays or a sparse week fill long stretches.
pub const HORIZON_DAYS: u32 = 2 * 366;

/// The deadline that is never reached: `add_business_secs` answers it when the business time does
/// not fit within [`HORIZON_DAYS`]. `status` never reports a breach for it.
pub const NEVER: i64 = i64::MAX;

const DAY_SECS: u32 = 86_400;

/// Supported instants: 1900-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z. Outside it calendar
/// arithmetic is meaningless for a support desk (and chrono's range ends not far beyond).
const MIN_UNIX: i64 = -2_208_988_800;
const MAX_UNIX: i64 = 253_402_300_799;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const URGENCIES: [Urgency; 4] = [
    Urgency::Low,
    Urgency::Normal,
    Urgency::Priority,
    Urgency::Immediate,
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlaError {
    #[error("SLA config is not valid JSON: {0}")]
    Json(String),
    #[error("unknown time zone {0:?} (expected an IANA name such as \"America/Sao_Paulo\")")]
    UnknownTimeZone(String),
    #[error("business hours need a time zone")]
    MissingTimeZone,
    #[error("{day}: bad time {value:?} (expected HH:MM between 00:00 and 24:00)")]
    BadTime { day: &'static str, value: String },
    #[error("{day}: {open}–{close} must open before it closes, on the same day (no crossing midnight; use 24:00 for end of day)")]
    OpenNotBeforeClose {
        day: &'static str,
        open: String,
        close: String,
    },
    #[error("{day}: intervals {first} and {second} overlap")]
    Overlap {
        day: &'static str,
        first: String,
        second: String,
    },
    #[error("bad holiday {0:?} (expected a local date YYYY-MM-DD)")]
    BadHoliday(String),
    #[error("the week has no opening hours at all")]
    NeverOpen,
    #[error("`always_open` and `week` cannot both be given")]
    AlwaysOpenWithWeek,
    #[error("{0}")]
    BadPolicy(&'static str),
    #[error("unknown urgency {0:?} (expected low, normal, priority or immediate)")]
    UnknownUrgency(String),
    #[error("{0} is required")]
    Missing(&'static str),
    /// An error inside one part of an SLA config, with where it is (`queues.finance.policy`).
    #[error("{at}: {source}")]
    At { at: String, source: Box<SlaError> },
    #[error("no business time left within {HORIZON_DAYS} days of {start}")]
    BeyondHorizon { start: i64 },
    #[error("instant {0} is outside the supported range (years 1900..=9999)")]
    OutOfRange(i64),
}

impl SlaError {
    fn at(self, at: impl Into<String>) -> Self {
        SlaError::At {
            at: at.into(),
            source: Box::new(self),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Business hours
// ---------------------------------------------------------------------------------------------

/// When a queue is staffed: weekly opening intervals in a time zone, minus holidays.
///
/// (De)serialised as
/// `{"timezone":"America/Sao_Paulo","week":{"mon":[["09:00","18:00"]],…},"holidays":["2026-12-25"]}`
/// (a weekday left out is closed; `"24:00"` closes at the end of the day), or as
/// `{"timezone":"UTC","always_open":true}`. Checked when loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HoursSpec", into = "HoursSpec")]
pub struct BusinessHours {
    tz: Tz,
    /// Opening intervals per weekday, Monday first, in seconds since local midnight: sorted,
    /// disjoint and not touching (touching ones are merged), `open < close <= 86_400`.
    week: [Vec<(u32, u32)>; 7],
    /// Local dates closed all day.
    holidays: BTreeSet<NaiveDate>,
}

/// The JSON shape of [`BusinessHours`]. `timezone` may be left out inside an SLA config: the
/// tenant's applies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    always_open: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    week: Option<WeekSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    holidays: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeekSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mon: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tue: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    wed: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    thu: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fri: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sat: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sun: Vec<(String, String)>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl WeekSpec {
    fn days(&self) -> [&[(String, String)]; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

impl TryFrom<HoursSpec> for BusinessHours {
    type Error = SlaError;

    fn try_from(spec: HoursSpec) -> Result<Self, SlaError> {
        let tz = parse_tz(spec.timezone.as_deref().ok_or(SlaError::MissingTimeZone)?)?;
        let week = match (spec.always_open, &spec.week) {
            (true, Some(_)) => return Err(SlaError::AlwaysOpenWithWeek),
            (true, None) => std::array::from_fn(|_| vec![(0, DAY_SECS)]),
            (false, None) => return Err(SlaError::NeverOpen),
            (false, Some(w)) => {
                let days = w.days();
                let mut week: [Vec<(u32, u32)>; 7] = Default::default();
                for (i, intervals) in days.iter().enumerate() {
                    week[i] = parse_day(WEEKDAYS[i], intervals)?;
                }
                week
            }
        };
        // A queue that never opens would push every deadline to NEVER: surely a config mistake.
        if week.iter().all(Vec::is_empty) {
            return Err(SlaError::NeverOpen);
        }
        let holidays = spec
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d")
                    .map_err(|_| SlaError::BadHoliday(h.clone()))
            })
            .collect::<Result<_, _>>()?;
        Ok(BusinessHours { tz, week, holidays })
    }
}

impl From<BusinessHours> for HoursSpec {
    fn from(h: BusinessHours) -> Self {
        let always_open = h.week.iter().all(|d| d[..] == [(0, DAY_SECS)]);
        let day = |i: usize| -> Vec<(String, String)> {
            h.week[i]
                .iter()
                .map(|&(o, c)| (fmt_hhmm(o), fmt_hhmm(c)))
                .collect()
        };
        HoursSpec {
            timezone: Some(h.tz.name().to_string()),
            always_open,
            week: (!always_open).then(|| WeekSpec {
                mon: day(0),
                tue: day(1),
                wed: day(2),
                thu: day(3),
                fri: day(4),
                sat: day(5),
                sun: day(6),
            }),
            holidays: h
                .holidays
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
        }
    }
}

fn parse_tz(name: &str) -> Result<Tz, SlaError> {
    name.parse::<Tz>()
        .map_err(|_| SlaError::UnknownTimeZone(name.to_string()))
}

/// "09:00" → 32 400. "24:00" is allowed (the end of the day); seconds are not.
fn parse_hhmm(day: &'static str, s: &str) -> Result<u32, SlaError> {
    let bad = || SlaError::BadTime {
        day,
        value: s.to_string(),
    };
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let digits = |x: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

fn fmt_hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// One weekday's intervals: each opens before it closes (so none crosses midnight), none overlaps
/// another; touching intervals are merged so a 24 h day is one interval however it is written.
fn parse_day(
    day: &'static str,
    intervals: &[(String, String)],
) -> Result<Vec<(u32, u32)>, SlaError> {
    let mut parsed = Vec::with_capacity(intervals.len());
    for (open, close) in intervals {
        let (o, c) = (parse_hhmm(day, open)?, parse_hhmm(day, close)?);
        if o >= c {
            return Err(SlaError::OpenNotBeforeClose {
                day,
                open: open.clone(),
                close: close.clone(),
            });
        }
        parsed.push((o, c));
    }
    parsed.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(parsed.len());
    for (o, c) in parsed {
        match merged.last_mut() {
            Some(last) if o < last.1 => {
                return Err(SlaError::Overlap {
                    day,
                    first: format!("{}–{}", fmt_hhmm(last.0), fmt_hhmm(last.1)),
                    second: format!("{}–{}", fmt_hhmm(o), fmt_hhmm(c)),
                })
            }
            Some(last) if o == last.1 => last.1 = c,
            _ => merged.push((o, c)),
        }
    }
    Ok(merged)
}

impl BusinessHours {
    /// Open around the clock, every day (UTC; without holidays the zone makes no difference).
    pub fn always_open() -> Self {
        BusinessHours {
            tz: Tz::UTC,
            week: std::array::from_fn(|_| vec![(0, DAY_SECS)]),
            holidays: BTreeSet::new(),
        }
    }

    /// Hours from an IANA zone, intervals per weekday (Monday first, `("09:00", "18:00")`) and
    /// holiday dates (`"2026-12-25"`), with the same checks as loading from JSON.
    pub fn new(
        timezone: &str,
        week: [&[(&str, &str)]; 7],
        holidays: &[&str],
    ) -> Result<Self, SlaError> {
        let day = |i: usize| -> Vec<(String, String)> {
            week[i]
                .iter()
                .map(|&(o, c)| (o.to_string(), c.to_string()))
                .collect()
        };
        BusinessHours::try_from(HoursSpec {
            timezone: Some(timezone.to_string()),
            always_open: false,
            week: Some(WeekSpec {
                mon: day(0),
                tue: day(1),
                wed: day(2),
                thu: day(3),
                fri: day(4),
                sat: day(5),
                sun: day(6),
            }),
            holidays: holidays.iter().map(|h| h.to_string()).collect(),
        })
    }

    pub fn from_json(json: &str) -> Result<Self, SlaError> {
        // Through the spec, so that validation errors keep their type.
        let spec: HoursSpec =
            serde_json::from_str(json).map_err(|e| SlaError::Json(e.to_string()))?;
        BusinessHours::try_from(spec)
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// 24/7 with no holidays: business seconds are plain seconds.
    pub fn is_always_open(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|d| d[..] == [(0, DAY_SECS)])
    }

    /// Whether the queue is open at instant `t` (intervals are half-open: open at 09:00:00,
    /// closed at 18:00:00).
    pub fn is_open(&self, t: i64) -> bool {
        if !(MIN_UNIX..=MAX_UNIX).contains(&t) {
            return false;
        }
        if self.is_always_open() {
            return true;
        }
        // The next day too: when the clock falls back across midnight, the repeated hour reads
        // as the previous date but already belongs to the new day's opening hours.
        let day = self.local_date(t);
        [Some(day), day.succ_opt()]
            .into_iter()
            .flatten()
            .any(|d| self.segments(d).any(|(open, close)| open <= t && t < close))
    }

    /// The instant `secs` business seconds after `start_unix`. If the queue is closed at
    /// `start_unix` the clock starts at the next opening (so `secs == 0` gives the next opening,
    /// or `start_unix` itself when open). Negative `secs` count as 0. [`NEVER`] when the time does
    /// not fit within [`HORIZON_DAYS`] (or `start_unix` is out of range).
    pub fn add_business_secs(&self, start_unix: i64, secs: i64) -> i64 {
        self.try_add_business_secs(start_unix, secs)
            .unwrap_or(NEVER)
    }

    /// [`Self::add_business_secs`], saying why there is no answer instead of saturating.
    ///
    /// Walks local days from the start's date, subtracting each opening interval whole: the cost
    /// is a few time-zone lookups per day spanned, never a step per second or minute, and at most
    /// [`HORIZON_DAYS`] days. (Skipping whole weeks by their nominal length would be wrong in a
    /// week holding a DST change or a holiday, and proving a week has neither costs as much as
    /// walking its seven days.)
    pub fn try_add_business_secs(&self, start_unix: i64, secs: i64) -> Result<i64, SlaError> {
        if !(MIN_UNIX..=MAX_UNIX).contains(&start_unix) {
            return Err(SlaError::OutOfRange(start_unix));
        }
        let mut remaining = secs.max(0);
        if self.is_always_open() {
            return Ok(start_unix.saturating_add(remaining));
        }
        // Days before the start's local date end at or before the start (see `first_instant_at`).
        let mut day = self.local_date(start_unix);
        for _ in 0..HORIZON_DAYS {
            for (open, close) in self.segments(day) {
                let from = open.max(start_unix);
                if close <= from {
                    continue;
                }
                let available = close - from;
                if remaining <= available {
                    return Ok(from + remaining);
                }
                remaining -= available;
            }
            day = next_day(day);
        }
        Err(SlaError::BeyondHorizon { start: start_unix })
    }

    /// Business seconds in `[a, b)`; 0 if `b <= a`. The inverse of [`Self::add_business_secs`]:
    /// `business_secs_between(a, add_business_secs(a, s)) == s`. Like it, counts at most
    /// [`HORIZON_DAYS`] days from `a`.
    pub fn business_secs_between(&self, a: i64, b: i64) -> i64 {
        let (a, b) = (a.clamp(MIN_UNIX, MAX_UNIX), b.clamp(MIN_UNIX, MAX_UNIX));
        if b <= a {
            return 0;
        }
        if self.is_always_open() {
            return b - a;
        }
        let mut total = 0;
        let mut day = self.local_date(a);
        for _ in 0..HORIZON_DAYS {
            for (open, close) in self.segments(day) {
                let (from, to) = (open.max(a), close.min(b));
                if to > from {
                    total += to - from;
                }
            }
            day = next_day(day);
            // Every later interval starts at or after the next local midnight.
            if self.first_instant_at(local_midnight(day)) >= b {
                break;
            }
        }
        total
    }

    /// The local date at instant `t` (in range).
    fn local_date(&self, t: i64) -> NaiveDate {
        instant(t).with_timezone(&self.tz).date_naive()
    }

    /// The opening intervals of local date `day` as half-open instant ranges `[open, close)`, in
    /// order. Empty on holidays and closed weekdays; an interval wholly inside a DST gap comes
    /// out empty (`open == close`).
    fn segments(&self, day: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        let intervals: &[(u32, u32)] = if self.holidays.contains(&day) {
            &[]
        } else {
            &self.week[day.weekday().num_days_from_monday() as usize]
        };
        let midnight = local_midnight(day);
        intervals.iter().map(move |&(o, c)| {
            (
                self.first_instant_at(midnight + i64::from(o)),
                self.first_instant_at(midnight + i64::from(c)),
            )
        })
    }

    /// The first instant at which the local wall clock reads `wall` or later (`wall` is the local
    /// date-time written as seconds, as if it were UTC): the earliest valid instant.
    /// - Ordinary time: its one instant.
    /// - Ambiguous (the clock falls back and shows it twice): the first occurrence.
    /// - Nonexistent (the clock springs forward over it): the moment of the jump, e.g. an opening
    ///   at 02:30 on the night New York skips 02:00–03:00 opens at 03:00 EDT.
    ///
    /// It never decreases as `wall` grows, so a day's intervals map to ordered, disjoint ranges,
    /// each day's after the previous day's, whatever the DST rules do.
    fn first_instant_at(&self, wall: i64) -> i64 {
        let naive = instant(wall).naive_utc();
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.timestamp(),
            LocalResult::Ambiguous(x, y) => x.timestamp().min(y.timestamp()),
            LocalResult::None => GapInfo::new(&naive, &self.tz)
                .and_then(|gap| gap.end)
                .map(|end| end.timestamp())
                // Not expected (a gap at the very end of the zone's table): read the wall time
                // with the offset in force just after it.
                .unwrap_or_else(|| {
                    let offset = self
                        .tz
                        .offset_from_utc_datetime(&naive)
                        .fix()
                        .local_minus_utc();
                    wall - i64::from(offset)
                }),
        }
    }
}

/// Instant `t` as a chrono date-time. Callers pass instants within years 1900..=9999 (or wall
/// times a few years past them), well inside chrono's range.
fn instant(t: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(t, 0).expect("within chrono's range")
}

/// Local midnight of `day` as wall-clock seconds (see `first_instant_at`).
fn local_midnight(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp()
}

fn next_day(day: NaiveDate) -> NaiveDate {
    day.succ_opt()
        .expect("dates stay within years 1900..=10002")
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/// How much business time a conversation is allowed, per clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// From the handoff request to the first agent reply.
    pub first_response_secs: i64,
    /// From a customer message (while a human owns the conversation) to the agent's next reply.
    pub next_response_secs: i64,
    /// From the handoff request to resolution.
    pub resolution_secs: i64,
    /// Share of the allowed business time after which the deadline warns (0.8: at 80 %).
    #[serde(default = "default_warn_fraction")]
    pub warn_fraction: f64,
}

fn default_warn_fraction() -> f64 {
    DEFAULT_WARN_FRACTION
}

impl SlaPolicy {
    pub fn allowed_secs(&self, clock: Clock) -> i64 {
        match clock {
            Clock::FirstResponse => self.first_response_secs,
            Clock::NextResponse => self.next_response_secs,
            Clock::Resolution => self.resolution_secs,
        }
    }

    fn validate(&self) -> Result<(), SlaError> {
        if self.first_response_secs <= 0
            || self.next_response_secs <= 0
            || self.resolution_secs <= 0
        {
            return Err(SlaError::BadPolicy("every allowed time must be positive"));
        }
        // `!(x > 0)` also refuses NaN.
        if !(self.warn_fraction > 0.0 && self.warn_fraction <= 1.0) {
            return Err(SlaError::BadPolicy("warn_fraction must be in (0, 1]"));
        }
        Ok(())
    }
}

/// Rank of an urgency for ordering queues: `immediate` 3, `priority` 2, `normal` 1, `low` 0.
/// An unknown value ranks as `normal`, so a typo neither jumps nor sinks in the queue.
pub fn priority(urgency: &str) -> u8 {
    match urgency {
        "immediate" => 3,
        "priority" => 2,
        "low" => 0,
        _ => 1,
    }
}

/// The SLA policies of a tenant: default hours and policy, and overrides per queue (the queue ids
/// of the taxonomy) and per urgency (`Urgency::as_str`). See `config/sla/default.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "PoliciesSpec")]
pub struct SlaPolicies {
    pub version: String,
    timezone: Tz,
    default: Rules,
    default_hours: BusinessHours,
    default_policy: SlaPolicy,
    queues: BTreeMap<String, Rules>,
}

/// A queue's own hours and policies; what it leaves out comes from the default.
#[derive(Debug, Clone, PartialEq)]
struct Rules {
    hours: Option<BusinessHours>,
    policy: Option<SlaPolicy>,
    by_urgency: BTreeMap<String, SlaPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliciesSpec {
    version: String,
    /// The tenant's zone; hours that name none use it.
    timezone: String,
    /// `business_hours` and `policy` are required here.
    default: RulesSpec,
    #[serde(default)]
    queues: BTreeMap<String, RulesSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSpec {
    #[serde(default)]
    business_hours: Option<HoursSpec>,
    #[serde(default)]
    policy: Option<SlaPolicy>,
    #[serde(default)]
    urgency: BTreeMap<String, SlaPolicy>,
}

impl RulesSpec {
    fn resolve(self, tenant_tz: &str, at: &str) -> Result<Rules, SlaError> {
        let hours = self
            .business_hours
            .map(|mut h| {
                h.timezone.get_or_insert_with(|| tenant_tz.to_string());
                BusinessHours::try_from(h).map_err(|e| e.at(format!("{at}.business_hours")))
            })
            .transpose()?;
        if let Some(p) = &self.policy {
            p.validate().map_err(|e| e.at(format!("{at}.policy")))?;
        }
        for (u, p) in &self.urgency {
            let here = format!("{at}.urgency.{u}");
            if !URGENCIES.iter().any(|known| known.as_str() == u) {
                return Err(SlaError::UnknownUrgency(u.clone()).at(here));
            }
            p.validate().map_err(|e| e.at(here))?;
        }
        Ok(Rules {
            hours,
            policy: self.policy,
            by_urgency: self.urgency,
        })
    }
}

impl TryFrom<PoliciesSpec> for SlaPolicies {
    type Error = SlaError;

    fn try_from(spec: PoliciesSpec) -> Result<Self, SlaError> {
        let timezone = parse_tz(&spec.timezone).map_err(|e| e.at("timezone"))?;
        let default = spec.default.resolve(&spec.timezone, "default")?;
        let default_hours = default
            .hours
            .clone()
            .ok_or(SlaError::Missing("default.business_hours"))?;
        let default_policy = default.policy.ok_or(SlaError::Missing("default.policy"))?;
        let mut queues = BTreeMap::new();
        for (name, rules) in spec.queues {
            if name.trim().is_empty() {
                return Err(SlaError::BadPolicy("a queue name is empty").at("queues"));
            }
            let rules = rules.resolve(&spec.timezone, &format!("queues.{name}"))?;
            queues.insert(name, rules);
        }
        Ok(SlaPolicies {
            version: spec.version,
            timezone,
            default,
            default_hours,
            default_policy,
            queues,
        })
    }
}

impl SlaPolicies {
    pub fn from_json(json: &str) -> Result<Self, SlaError> {
        let spec: PoliciesSpec =
            serde_json::from_str(json).map_err(|e| SlaError::Json(e.to_string()))?;
        SlaPolicies::try_from(spec)
    }

    /// The policies shipped with Switchboard (config/sla/default.json).
    pub fn default_policies() -> Self {
        Self::from_json(DEFAULT_JSON).expect("the shipped SLA config is valid (tested)")
    }

    /// The tenant's time zone.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// Queues with their own rules (to check against the taxonomy's queue ids).
    pub fn queues(&self) -> impl Iterator<Item = &str> {
        self.queues.keys().map(String::as_str)
    }

    /// The policy and hours for a conversation in `queue` at `urgency` (`Urgency::as_str`).
    ///
    /// Policy, first match wins: the queue's policy for that urgency → the queue's own policy →
    /// the default's policy for that urgency → the default policy. So a queue that sets `policy`
    /// must also list the urgencies that need faster answers (the shipped config does, and a test
    /// checks that answers never get slower as urgency rises). An unknown queue gets the default.
    /// Hours: the queue's, else the default's.
    pub fn policy_for(&self, queue: &str, urgency: &str) -> (&SlaPolicy, &BusinessHours) {
        let rules = self.queues.get(queue);
        let policy = rules
            .and_then(|r| r.by_urgency.get(urgency).or(r.policy.as_ref()))
            .or_else(|| self.default.by_urgency.get(urgency))
            .unwrap_or(&self.default_policy);
        let hours = rules
            .and_then(|r| r.hours.as_ref())
            .unwrap_or(&self.default_hours);
        (policy, hours)
    }

    /// The deadline of `clock` started at `started_at` for a conversation in `queue` at `urgency`.
    pub fn deadline(&self, queue: &str, urgency: &str, clock: Clock, started_at: i64) -> Deadline {
        let (policy, hours) = self.policy_for(queue, urgency);
        deadline(policy, hours, clock, started_at)
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

/// The SLA clocks of a handed-off conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// From the handoff request until the first agent reply. A transfer back to a queue is a new
    /// request: the clock restarts there, under the new queue's policy.
    FirstResponse,
    /// From the first customer message an agent has not answered yet (later ones don't restart
    /// it), while a human owns the conversation, until the agent's next reply.
    NextResponse,
    /// From the handoff request until resolved; keeps running while waiting on the customer.
    Resolution,
}

impl Clock {
    pub const ALL: [Clock; 3] = [Clock::FirstResponse, Clock::NextResponse, Clock::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Clock::FirstResponse => "first_response",
            Clock::NextResponse => "next_response",
            Clock::Resolution => "resolution",
        }
    }
}

/// Which clocks run for a conversation in `state`; `agent_replied` says whether an agent has
/// replied since the handoff request.
///
/// | state               | no reply yet              | after a reply             |
/// |---------------------|---------------------------|---------------------------|
/// | `bot`, `resolved`   | –                         | –                         |
/// | `awaiting_agent`    | first response, resolution| first response, resolution|
/// | `assigned`          | first response, resolution| next response, resolution |
/// | `awaiting_customer` | resolution                | resolution                |
///
/// (`assigned` after a reply means the customer wrote again: `awaiting_customer` goes back to
/// `assigned` on a customer message. `awaiting_agent` after a reply is a transfer, which restarts
/// the first response.)
pub fn running_clocks(state: ConversationState, agent_replied: bool) -> &'static [Clock] {
    use ConversationState::*;
    match (state, agent_replied) {
        (Bot | Resolved, _) => &[],
        (AwaitingAgent, _) | (Assigned, false) => &[Clock::FirstResponse, Clock::Resolution],
        (Assigned, true) => &[Clock::NextResponse, Clock::Resolution],
        (AwaitingCustomer, _) => &[Clock::Resolution],
    }
}

/// When one clock is due, and when it starts warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub clock: Clock,
    pub started_at: i64,
    /// The last instant that still meets the SLA ([`NEVER`] if out of reach).
    pub due_at: i64,
    pub warn_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    Ok,
    Warning,
    Breached,
}

/// The deadline of `clock` started at `started_at`: due once the allowed business time has
/// elapsed, warning once `warn_fraction` of it has. Both are business time, so a deadline due at
/// 09:30 tomorrow warns at 09:18 tomorrow, not overnight.
pub fn deadline(
    policy: &SlaPolicy,
    hours: &BusinessHours,
    clock: Clock,
    started_at: i64,
) -> Deadline {
    let allowed = policy.allowed_secs(clock).max(0);
    let warn_after = (allowed as f64 * policy.warn_fraction.clamp(0.0, 1.0)).round() as i64;
    Deadline {
        clock,
        started_at,
        due_at: hours.add_business_secs(started_at, allowed),
        warn_at: hours.add_business_secs(started_at, warn_after.min(allowed)),
    }
}

/// Where `deadline` stands at `now`: breached once `now` is past `due_at` (a reply at exactly
/// `due_at` is in time), warning from `warn_at`, otherwise ok.
pub fn status(deadline: &Deadline, now: i64) -> SlaStatus {
    if now > deadline.due_at {
        SlaStatus::Breached
    } else if now >= deadline.warn_at {
        SlaStatus::Warning
    } else {
        SlaStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a local date-time in `tz` (must be unambiguous).
    fn at(tz: &str, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        let tz: Tz = tz.parse().unwrap();
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("unambiguous local time")
            .timestamp()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        at("UTC", y, mo, d, h, mi)
    }

    const SP: &str = "America/Sao_Paulo";
    const H: i64 = 3600;

    /// Mon–Fri 09:00–18:00 in São Paulo (UTC−3, no DST), Christmas closed.
    fn office() -> BusinessHours {
        let d: &[(&str, &str)] = &[("09:00", "18:00")];
        BusinessHours::new(SP, [d, d, d, d, d, &[], &[]], &["2026-12-25"]).unwrap()
    }

    #[test]
    fn within_a_day() {
        let h = office();
        // Monday 2026-11-23.
        let start = at(SP, 2026, 11, 23, 10, 0);
        assert_eq!(
            h.add_business_secs(start, 2 * H),
            at(SP, 2026, 11, 23, 12, 0)
        );
        assert_eq!(
            h.add_business_secs(start, 8 * H),
            at(SP, 2026, 11, 23, 18, 0)
        );
        assert_eq!(h.add_business_secs(start, 0), start);
        assert!(h.is_open(start));
        assert!(!h.is_open(at(SP, 2026, 11, 23, 18, 0)), "half-open");
        assert!(h.is_open(at(SP, 2026, 11, 23, 9, 0)));
    }

    #[test]
    fn across_the_night_and_the_weekend() {
        let h = office();
        let mon_17 = at(SP, 2026, 11, 23, 17, 0);
        assert_eq!(
            h.add_business_secs(mon_17, 2 * H),
            at(SP, 2026, 11, 24, 10, 0)
        );
        let fri_17 = at(SP, 2026, 11, 27, 17, 0);
        assert_eq!(
            h.add_business_secs(fri_17, 2 * H),
            at(SP, 2026, 11, 30, 10, 0)
        );
        // A whole business week from Monday 09:00 ends Friday 18:00, not the next Monday.
        let mon_9 = at(SP, 2026, 11, 23, 9, 0);
        assert_eq!(
            h.add_business_secs(mon_9, 45 * H),
            at(SP, 2026, 11, 27, 18, 0)
        );
        assert_eq!(
            h.business_secs_between(fri_17, at(SP, 2026, 11, 30, 10, 0)),
            2 * H
        );
    }

    #[test]
    fn starting_outside_hours_waits_for_the_opening() {
        let h = office();
        let sat = at(SP, 2026, 11, 28, 12, 0);
        assert!(!h.is_open(sat));
        assert_eq!(h.add_business_secs(sat, 0), at(SP, 2026, 11, 30, 9, 0));
        assert_eq!(h.add_business_secs(sat, H), at(SP, 2026, 11, 30, 10, 0));
        let early = at(SP, 2026, 11, 24, 7, 30);
        assert_eq!(
            h.add_business_secs(early, 30 * 60),
            at(SP, 2026, 11, 24, 9, 30)
        );
        let at_close = at(SP, 2026, 11, 24, 18, 0);
        assert_eq!(
            h.add_business_secs(at_close, 60),
            at(SP, 2026, 11, 25, 9, 1)
        );
        assert_eq!(h.add_business_secs(early, -5), at(SP, 2026, 11, 24, 9, 0));
    }

    #[test]
    fn holidays_are_closed_all_day() {
        let h = office();
        // Thursday 24th 17:00 + 2 h: one hour on Thursday, Friday 25th is Christmas, then Monday.
        let thu = at(SP, 2026, 12, 24, 17, 0);
        assert_eq!(h.add_business_secs(thu, 2 * H), at(SP, 2026, 12, 28, 10, 0));
        assert!(!h.is_open(at(SP, 2026, 12, 25, 11, 0)));
        assert_eq!(
            h.business_secs_between(thu, at(SP, 2026, 12, 28, 10, 0)),
            2 * H
        );
    }

    #[test]
    fn long_holiday_stretches_and_the_horizon() {
        // Closed for the whole first quarter of 2027.
        let mut q1 = Vec::new();
        let mut d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        while d < NaiveDate::from_ymd_opt(2027, 4, 1).unwrap() {
            q1.push(d.format("%Y-%m-%d").to_string());
            d = d.succ_opt().unwrap();
        }
        let refs: Vec<&str> = q1.iter().map(String::as_str).collect();
        let day: &[(&str, &str)] = &[("09:00", "18:00")];
        let h = BusinessHours::new(SP, [day; 7], &refs).unwrap();
        let start = at(SP, 2026, 12, 31, 17, 0);
        assert_eq!(h.add_business_secs(start, 2 * H), at(SP, 2027, 4, 1, 10, 0));

        // Closed for three years: nothing within the horizon.
        let mut all = Vec::new();
        let mut d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        while d < NaiveDate::from_ymd_opt(2029, 1, 1).unwrap() {
            all.push(d.format("%Y-%m-%d").to_string());
            d = d.succ_opt().unwrap();
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let h = BusinessHours::new(SP, [day; 7], &refs).unwrap();
        let start = at(SP, 2026, 6, 1, 10, 0);
        assert_eq!(
            h.try_add_business_secs(start, 60),
            Err(SlaError::BeyondHorizon { start })
        );
        assert_eq!(h.add_business_secs(start, 60), NEVER);
        assert_eq!(h.business_secs_between(start, NEVER), 0);
        let policy = *SlaPolicies::default_policies()
            .policy_for("tier1", "normal")
            .0;
        let d = deadline(&policy, &h, Clock::FirstResponse, start);
        assert_eq!(status(&d, MAX_UNIX), SlaStatus::Ok);
    }

    #[test]
    fn long_durations_are_cheap() {
        let h = office();
        let start = at(SP, 2026, 11, 23, 9, 0);
        // 100 business weeks (45 h each), minus the one holiday on a weekday: 100 weeks + 9 h later.
        let t = h.add_business_secs(start, 100 * 45 * H);
        assert_eq!(h.business_secs_between(start, t), 100 * 45 * H);
        assert_eq!(t, h.add_business_secs(at(SP, 2028, 10, 23, 9, 0), 9 * H));
        let began = std::time::Instant::now();
        for i in 0..200 {
            h.add_business_secs(start + i * 977, 60 * 45 * H);
        }
        assert!(began.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn new_york_spring_forward() {
        // 2026-03-08 (Sunday): 02:00 EST jumps to 03:00 EDT.
        const NY: &str = "America/New_York";
        let sun: &[(&str, &str)] = &[("01:00", "05:00")];
        let h = BusinessHours::new(NY, [&[], &[], &[], &[], &[], &[], sun], &[]).unwrap();
        // 01:00 EST = 06:00Z; the hour 02:00–03:00 does not exist, so 01:00–05:00 is 3 h.
        let open = utc(2026, 3, 8, 6, 0);
        assert_eq!(h.business_secs_between(open, utc(2026, 3, 9, 0, 0)), 3 * H);
        assert_eq!(h.add_business_secs(open, 2 * H), utc(2026, 3, 8, 8, 0)); // 04:00 EDT
        assert_eq!(h.add_business_secs(open, 3 * H), utc(2026, 3, 8, 9, 0)); // 05:00 EDT

        // An opening inside the gap opens at the jump: 02:30 → 03:00 EDT = 07:00Z.
        let gap: &[(&str, &str)] = &[("02:30", "05:00")];
        let h = BusinessHours::new(NY, [&[], &[], &[], &[], &[], &[], gap], &[]).unwrap();
        assert_eq!(
            h.add_business_secs(utc(2026, 3, 8, 0, 0), 0),
            utc(2026, 3, 8, 7, 0)
        );
        assert!(!h.is_open(utc(2026, 3, 8, 6, 59)));
        assert!(h.is_open(utc(2026, 3, 8, 7, 0)));

        // Office hours across the DST weekend: Friday 17:00 EST + 2 h = Monday 10:00 EDT.
        let d: &[(&str, &str)] = &[("09:00", "18:00")];
        let h = BusinessHours::new(NY, [d, d, d, d, d, &[], &[]], &[]).unwrap();
        let fri = at(NY, 2026, 3, 6, 17, 0);
        assert_eq!(fri, utc(2026, 3, 6, 22, 0));
        assert_eq!(h.add_business_secs(fri, 2 * H), utc(2026, 3, 9, 14, 0));
    }

    #[test]
    fn berlin_fall_back() {
        // 2026-10-25 (Sunday): 03:00 CEST falls back to 02:00 CET; 02:00–03:00 happens twice.
        const BER: &str = "Europe/Berlin";
        let sun: &[(&str, &str)] = &[("00:00", "06:00")];
        let h = BusinessHours::new(BER, [&[], &[], &[], &[], &[], &[], sun], &[]).unwrap();
        let open = utc(2026, 10, 24, 22, 0); // 00:00 CEST
        assert_eq!(
            h.business_secs_between(open, utc(2026, 10, 26, 0, 0)),
            7 * H
        );
        assert_eq!(h.add_business_secs(open, 7 * H), utc(2026, 10, 25, 5, 0)); // 06:00 CET

        // An opening at an ambiguous time opens at its first occurrence (02:30 CEST = 00:30Z).
        let amb: &[(&str, &str)] = &[("02:30", "04:00")];
        let h = BusinessHours::new(BER, [&[], &[], &[], &[], &[], &[], amb], &[]).unwrap();
        assert_eq!(
            h.add_business_secs(utc(2026, 10, 24, 12, 0), 0),
            utc(2026, 10, 25, 0, 30)
        );
        // 02:30 CEST … 04:00 CET is 2.5 h, the repeated hour included.
        assert_eq!(
            h.business_secs_between(utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 0, 0)),
            2 * H + H / 2
        );
        assert!(h.is_open(utc(2026, 10, 25, 1, 30))); // 02:30 CET, the second time round

        // Open all day every day, with a holiday so the 24/7 shortcut is not taken: a day of
        // business time across the change is a day of real time, and Sunday lasts 25 h.
        let all: &[(&str, &str)] = &[("00:00", "24:00")];
        let h = BusinessHours::new(BER, [all; 7], &["2030-01-01"]).unwrap();
        let sat_noon = at(BER, 2026, 10, 24, 12, 0);
        assert_eq!(h.add_business_secs(sat_noon, 86_400), sat_noon + 86_400);
        assert_eq!(
            h.business_secs_between(at(BER, 2026, 10, 25, 0, 0), at(BER, 2026, 10, 26, 0, 0)),
            25 * H
        );
    }

    #[test]
    fn always_open_is_plain_time() {
        let h = BusinessHours::always_open();
        assert!(h.is_always_open());
        let t = utc(2026, 11, 28, 3, 0);
        assert!(h.is_open(t));
        assert_eq!(h.add_business_secs(t, 300), t + 300);
        assert_eq!(h.business_secs_between(t, t + 12_345), 12_345);
        assert_eq!(h.business_secs_between(t, t - 1), 0);
        // Written as a full week, it is the same thing.
        let j = r#"{"timezone":"UTC","week":{"mon":[["00:00","12:00"],["12:00","24:00"]],
            "tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],
            "fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}"#;
        assert_eq!(BusinessHours::from_json(j).unwrap(), h);
    }

    /// A small deterministic generator (64-bit LCG), enough to spread starts and durations.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, below: u64) -> i64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % below) as i64
        }
    }

    #[test]
    fn between_inverts_add() {
        let split: &[(&str, &str)] = &[("08:00", "12:00"), ("13:30", "17:45")];
        let sun: &[(&str, &str)] = &[("00:00", "06:00")];
        let hours = [
            office(),
            BusinessHours::new(
                "America/New_York",
                [
                    split,
                    split,
                    split,
                    split,
                    split,
                    &[("10:00", "14:00")],
                    &[("01:00", "05:00")],
                ],
                &["2026-11-26", "2027-01-01"],
            )
            .unwrap(),
            BusinessHours::new(
                "Europe/Berlin",
                [split, split, split, split, split, &[], sun],
                &["2026-12-24", "2026-12-25", "2026-12-26"],
            )
            .unwrap(),
            BusinessHours::new("Asia/Kolkata", [sun, &[], &[], &[], &[], &[], &[]], &[]).unwrap(),
            BusinessHours::always_open(),
        ];
        let base = utc(2026, 1, 1, 0, 0);
        let mut rng = Lcg(42);
        for h in &hours {
            for _ in 0..400 {
                let mut a = base + rng.next(2 * 365 * 86_400);
                if rng.next(4) == 0 {
                    a = h.add_business_secs(a, 0); // start exactly at an opening
                }
                let secs = match rng.next(3) {
                    0 => rng.next(3_600),
                    1 => rng.next(3 * 86_400),
                    _ => rng.next(60 * 86_400),
                };
                let b = h.add_business_secs(a, secs);
                if b == NEVER {
                    // Sparse hours: that much business time does not fit in the horizon.
                    assert!(h.business_secs_between(a, MAX_UNIX) < secs);
                    continue;
                }
                assert!(b >= a);
                assert_eq!(
                    h.business_secs_between(a, b),
                    secs,
                    "{h:?} from {a} + {secs}"
                );

                // The other way round: the business time up to an instant `c` leads back to `c`
                // when open, else to the end of the last open stretch before it (or, with none
                // since `a`, to the next opening).
                let c = a + rng.next(20 * 86_400);
                let between = h.business_secs_between(a, c);
                let back = h.add_business_secs(a, between);
                if h.is_open(c) {
                    assert_eq!(back, c);
                } else if between > 0 {
                    assert!(back < c);
                    assert_eq!(h.business_secs_between(back, c), 0);
                } else {
                    assert!(back >= c);
                }
            }
        }
    }

    #[test]
    fn hours_from_json_and_back() {
        let j = r#"{"timezone":"America/Sao_Paulo",
            "week":{"mon":[["09:00","18:00"]],"sat":[["14:00","16:00"],["9:00","12:00"]]},
            "holidays":["2026-12-25"]}"#;
        let h: BusinessHours = serde_json::from_str(j).unwrap();
        let back: BusinessHours =
            serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(v["week"]["sat"][0][0], "09:00", "sorted, zero-padded");
        assert_eq!(v["holidays"][0], "2026-12-25");
        let v = serde_json::to_value(BusinessHours::always_open()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"timezone": "UTC", "always_open": true})
        );
    }

    #[test]
    fn bad_hours_are_refused() {
        let err = |j: &str| BusinessHours::from_json(j).unwrap_err();
        assert_eq!(
            err(r#"{"timezone":"Mars/Olympus","week":{"mon":[["09:00","18:00"]]}}"#),
            SlaError::UnknownTimeZone("Mars/Olympus".into())
        );
        assert_eq!(
            err(r#"{"week":{"mon":[["09:00","18:00"]]}}"#),
            SlaError::MissingTimeZone
        );
        for bad in ["25:00", "09:60", "0900", "24:30", "9h", "-1:00", "09:00:00"] {
            let j = format!(r#"{{"timezone":"UTC","week":{{"tue":[["{bad}","23:00"]]}}}}"#);
            assert!(
                matches!(err(&j), SlaError::BadTime { day: "tue", .. }),
                "{bad}"
            );
        }
        assert!(matches!(
            err(r#"{"timezone":"UTC","week":{"fri":[["22:00","02:00"]]}}"#),
            SlaError::OpenNotBeforeClose { day: "fri", .. }
        ));
        assert!(matches!(
            err(r#"{"timezone":"UTC","week":{"fri":[["09:00","09:00"]]}}"#),
            SlaError::OpenNotBeforeClose { .. }
        ));
        assert!(matches!(
            err(r#"{"timezone":"UTC","week":{"wed":[["09:00","13:00"],["12:00","18:00"]]}}"#),
            SlaError::Overlap { day: "wed", .. }
        ));
        assert_eq!(
            err(
                r#"{"timezone":"UTC","week":{"mon":[["09:00","18:00"]]},"holidays":["25/12/2026"]}"#
            ),
            SlaError::BadHoliday("25/12/2026".into())
        );
        assert_eq!(
            err(r#"{"timezone":"UTC","always_open":true,"week":{}}"#),
            SlaError::AlwaysOpenWithWeek
        );
        assert!(matches!(
            err(r#"{"timezone":"UTC","week":{"monday":[["09:00","18:00"]]}}"#),
            SlaError::Json(_)
        ));
    }

    #[test]
    fn a_week_without_opening_hours_is_refused() {
        assert_eq!(
            BusinessHours::from_json(r#"{"timezone":"UTC","week":{}}"#),
            Err(SlaError::NeverOpen)
        );
        assert_eq!(
            BusinessHours::from_json(r#"{"timezone":"UTC","week":{"mon":[],"sun":[]}}"#),
            Err(SlaError::NeverOpen)
        );
        assert_eq!(
            BusinessHours::from_json(r#"{"timezone":"UTC"}"#),
            Err(SlaError::NeverOpen)
        );
        assert_eq!(
            BusinessHours::new("UTC", [&[]; 7], &[]),
            Err(SlaError::NeverOpen)
        );
    }

    #[test]
    fn policy_falls_back_queue_then_default() {
        let p = SlaPolicies::default_policies();
        let secs = |q: &str, u: &str| p.policy_for(q, u).0.first_response_secs;
        // The queue's policy for the urgency.
        assert_eq!(secs("trust_safety", "immediate"), 300);
        assert_eq!(secs("engineering", "priority"), 900);
        // The queue's own policy when it has none for that urgency.
        assert_eq!(secs("trust_safety", "low"), 1800);
        assert_eq!(secs("engineering", "normal"), 7200);
        // A queue without its own policy (comms, tier1): the default's for that urgency, then
        // the default policy.
        assert_eq!(secs("comms", "priority"), 1800);
        assert_eq!(secs("comms", "immediate"), 300);
        assert_eq!(secs("tier1", "normal"), 3600);
        assert_eq!(secs("tier1", "low"), 14_400);
        // An unknown queue or urgency: the default.
        assert_eq!(secs("nope", "priority"), 900);
        assert_eq!(secs("nope", "whatever"), 3600);
        // Hours: trust and safety never closes, the others keep office hours in the tenant zone.
        assert!(p.policy_for("trust_safety", "low").1.is_always_open());
        let office = p.policy_for("finance", "normal").1;
        assert!(!office.is_always_open());
        assert_eq!(office.timezone(), p.timezone());
        assert_eq!(p.policy_for("nope", "low").1, office);
        assert_eq!(
            p.policy_for("nope", "low").0.warn_fraction,
            DEFAULT_WARN_FRACTION
        );
    }

    #[test]
    fn warning_then_breach() {
        let p = SlaPolicies::default_policies();
        // Tier 1, normal: first response within 1 business hour, warning at 48 minutes.
        let start = at(SP, 2026, 11, 23, 17, 30); // Monday, 30 minutes before closing
        let d = p.deadline("tier1", "normal", Clock::FirstResponse, start);
        assert_eq!(d.clock, Clock::FirstResponse);
        assert_eq!(d.started_at, start);
        assert_eq!(d.due_at, at(SP, 2026, 11, 24, 9, 30));
        assert_eq!(d.warn_at, at(SP, 2026, 11, 24, 9, 18));
        assert_eq!(status(&d, start), SlaStatus::Ok);
        assert_eq!(
            status(&d, at(SP, 2026, 11, 24, 8, 0)),
            SlaStatus::Ok,
            "night is free"
        );
        assert_eq!(status(&d, d.warn_at - 1), SlaStatus::Ok);
        assert_eq!(status(&d, d.warn_at), SlaStatus::Warning);
        assert_eq!(
            status(&d, d.due_at),
            SlaStatus::Warning,
            "due_at is still in time"
        );
        assert_eq!(status(&d, d.due_at + 1), SlaStatus::Breached);

        // Trust and safety, immediate: 5 minutes around the clock, warning at 60 %.
        let sun_night = at(SP, 2026, 11, 29, 3, 0);
        let d = p.deadline("trust_safety", "immediate", Clock::FirstResponse, sun_night);
        assert_eq!(d.due_at, sun_night + 300);
        assert_eq!(d.warn_at, sun_night + 180);
        assert_eq!(status(&d, sun_night + 200), SlaStatus::Warning);
        assert_eq!(status(&d, sun_night + 301), SlaStatus::Breached);

        let d = deadline(
            &SlaPolicy {
                first_response_secs: 100,
                next_response_secs: 100,
                resolution_secs: 1000,
                warn_fraction: 1.0,
            },
            &BusinessHours::always_open(),
            Clock::Resolution,
            0,
        );
        assert_eq!((d.warn_at, d.due_at), (1000, 1000));
        let j = serde_json::to_value(d).unwrap();
        assert_eq!(j["clock"], "resolution");
    }

    #[test]
    fn which_clocks_run() {
        use Clock::*;
        use ConversationState::*;
        assert!(running_clocks(Bot, false).is_empty());
        assert!(running_clocks(Resolved, true).is_empty());
        assert_eq!(
            running_clocks(AwaitingAgent, false),
            [FirstResponse, Resolution]
        );
        assert_eq!(running_clocks(Assigned, false), [FirstResponse, Resolution]);
        assert_eq!(running_clocks(Assigned, true), [NextResponse, Resolution]);
        assert_eq!(running_clocks(AwaitingCustomer, true), [Resolution]);
        assert_eq!(
            serde_json::to_string(&Clock::ALL).unwrap(),
            r#"["first_response","next_response","resolution"]"#
        );
        for c in Clock::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn urgency_priority_orders_queues() {
        let mut urgencies: Vec<&str> = URGENCIES.iter().map(|u| u.as_str()).collect();
        urgencies.sort_by_key(|u| std::cmp::Reverse(priority(u)));
        assert_eq!(urgencies, ["immediate", "priority", "normal", "low"]);
        assert_eq!(priority("critical?"), priority("normal"));
    }

    #[test]
    fn shipped_config_loads_and_is_consistent() {
        let p = SlaPolicies::from_json(include_str!("../../../config/sla/default.json")).unwrap();
        assert_eq!(p.timezone(), Tz::America__Sao_Paulo);
        // Every queue it names is a queue of the shipped taxonomy (the ids triage routes to).
        let taxonomy = crate::triage::taxonomy::Taxonomy::default_taxonomy();
        for q in p.queues() {
            assert!(
                taxonomy.queues.iter().any(|t| t.id == q),
                "unknown queue {q}"
            );
        }
        for q in crate::triage::taxonomy::REQUIRED_QUEUES {
            assert!(p.queues().any(|name| name == q), "{q} has no SLA entry");
        }
        // Answers never get slower as urgency rises, in any queue.
        for q in p.queues().chain(["unknown"]) {
            for w in URGENCIES.windows(2) {
                let (lower, higher) = (
                    p.policy_for(q, w[0].as_str()).0,
                    p.policy_for(q, w[1].as_str()).0,
                );
                for c in Clock::ALL {
                    assert!(
                        higher.allowed_secs(c) <= lower.allowed_secs(c),
                        "{q}: {} slower than {} for {}",
                        w[1].as_str(),
                        w[0].as_str(),
                        c.as_str()
                    );
                }
            }
        }
    }

    #[test]
    fn bad_policies_are_refused() {
        let base = serde_json::json!({
            "version": "t",
            "timezone": "UTC",
            "default": {
                "business_hours": {"week": {"mon": [["09:00", "17:00"]]}},
                "policy": {"first_response_secs": 60, "next_response_secs": 60, "resolution_secs": 600}
            }
        });
        assert!(SlaPolicies::from_json(&base.to_string()).is_ok());
        let with = |path: &[&str], value: serde_json::Value| {
            let mut j = base.clone();
            let mut slot = &mut j;
            for k in path {
                slot = &mut slot[*k];
            }
            *slot = value;
            SlaPolicies::from_json(&j.to_string()).unwrap_err()
        };
        assert_eq!(
            with(&["default", "business_hours"], serde_json::Value::Null),
            SlaError::Missing("default.business_hours")
        );
        assert_eq!(
            with(&["timezone"], "Nowhere/City".into()),
            SlaError::UnknownTimeZone("Nowhere/City".into()).at("timezone")
        );
        let e = with(
            &["queues"],
            serde_json::json!({"finance": {"urgency": {"critical": {"first_response_secs": 1, "next_response_secs": 1, "resolution_secs": 1}}}}),
        );
        assert_eq!(
            e,
            SlaError::UnknownUrgency("critical".into()).at("queues.finance.urgency.critical")
        );
        let e = with(
            &["queues"],
            serde_json::json!({"ops": {"policy": {"first_response_secs": 0, "next_response_secs": 1, "resolution_secs": 1}}}),
        );
        assert_eq!(
            e.to_string(),
            "queues.ops.policy: every allowed time must be positive"
        );
        let e = with(
            &["queues"],
            serde_json::json!({"ops": {"policy": {"first_response_secs": 1, "next_response_secs": 1, "resolution_secs": 1, "warn_fraction": 1.5}}}),
        );
        assert!(matches!(e, SlaError::At { .. }));
        let e = with(
            &["queues"],
            serde_json::json!({"ops": {"business_hours": {"week": {}}}}),
        );
        assert_eq!(e, SlaError::NeverOpen.at("queues.ops.business_hours"));
        // A queue's hours name their own zone, or inherit the tenant's.
        let mut j = base.clone();
        j["queues"] = serde_json::json!({"apac": {"business_hours": {"timezone": "Asia/Jakarta", "week": {"mon": [["09:00", "17:00"]]}}}});
        let p = SlaPolicies::from_json(&j.to_string()).unwrap();
        assert_eq!(p.policy_for("apac", "low").1.timezone(), Tz::Asia__Jakarta);
        assert_eq!(p.policy_for("other", "low").1.timezone(), Tz::UTC);
    }
}
