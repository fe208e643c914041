//! A pure interpreter of the subset of the Amazon States Language (JSONPath flavour) that
//! `statemachines/onboarding.asl.json` uses, so `switchboard serve` runs the very file Step
//! Functions runs on AWS.
//!
//! [`Machine::parse`] refuses everything outside the subset — unknown state types or fields,
//! other resources, JSONPaths beyond the simple ones, dangling transitions, unreachable states —
//! so the file and this executor cannot drift apart silently: a new feature in the file fails
//! `serve` (and the unit tests) at load time, not halfway through an onboarding.
//!
//! # The subset
//!
//! * Top level: `Comment`, `StartAt`, `States`.
//! * `Task`: `Resource` must be `arn:aws:states:::sqs:sendMessage.waitForTaskToken`;
//!   `Parameters` holds a literal `QueueUrl` and a `MessageBody` (a payload template, or
//!   `MessageBody.$`) that passes `$$.Task.Token`; `ResultPath`, `TimeoutSeconds`, `Retry`
//!   (`ErrorEquals`, `IntervalSeconds`, `MaxAttempts`, `BackoffRate`), `Catch` (`ErrorEquals`,
//!   `ResultPath`, `Next`), `Next`/`End`, `Comment`.
//! * `Pass`: `Parameters`, `Result`, `ResultPath`, `Next`/`End`, `Comment`.
//! * `Choice`: `Choices`, `Default`, `Comment`. Rules: `And`, `Or`, `Not`, and `Variable` with
//!   one of `String{Equals,LessThan,GreaterThan,LessThanEquals,GreaterThanEquals}`,
//!   `Numeric…` (same five), `BooleanEquals` — each also with its `…Path` form — and `IsNull`,
//!   `IsPresent`, `IsString`, `IsNumeric`, `IsBoolean`. Timestamp operators, `IsTimestamp` and
//!   `StringMatches` are refused.
//! * `Succeed`: `Comment`. `Fail`: `Error`, `Cause`, `Comment`.
//! * Paths: `$`, `$.a.b.c` (segments of ASCII letters, digits and `_`), and the context paths
//!   `$$.Execution.Id`, `$$.Execution.Name`, `$$.State.Name`, `$$.Task.Token` (the last only
//!   in a Task's `Parameters`). No `InputPath`, `OutputPath`, `ResultSelector`, intrinsic
//!   functions, `HeartbeatSeconds`, JSONata or variables.
//!
//! # Semantics (as the AWS documentation describes them)
//!
//! * Payload templates: a key ending in `.$` takes the value its path selects from the state
//!   input (`$…`) or the context object (`$$…`), under the key without `.$`; a path that
//!   selects nothing fails the execution with `States.Runtime` (not catchable).
//! * `ResultPath`: absent or `$` replaces the input with the result, `null` discards the result,
//!   `$.a.b` sets that field (creating objects on the way); a non-object on the way is
//!   `States.ResultPathMatchFailure`.
//! * Errors of a Task go through `Retry` first: the first retrier whose `ErrorEquals` matches
//!   retries after `IntervalSeconds × BackoffRate^n` (n = retries that retrier already made in
//!   this visit of the state) while n < `MaxAttempts`; each retrier counts separately and the
//!   counts restart when the state is entered anew. Once the matching retrier is exhausted (or
//!   none matches) the first matching catcher places `{"Error", "Cause"}` at its `ResultPath`
//!   into the state input and transitions to its `Next`; otherwise the execution fails with
//!   the error. `States.ALL` matches every error but `States.Runtime` and
//!   `States.DataLimitExceeded`; `States.TaskFailed` every one of those but `States.Timeout`;
//!   `States.ALL` must stand alone in the last retrier or catcher.
//! * A Task times out `TimeoutSeconds` after each dispatch (the executor keeps the clock and
//!   reports `States.Timeout` through [`Machine::failed`]).
//!
//! # Driving it
//!
//! The interpreter holds no execution state. [`Machine::start`], [`Machine::succeeded`],
//! [`Machine::failed`] and [`Machine::retry`] run Pass and Choice states until the execution
//! waits on a Task or ends, and return a [`Step`]: dispatch a task message (and keep its
//! [`Visit`] under its token), retry the visit later, or the execution's end. The executor
//! (`switchboard_local::LocalFlow`) persists visits, tokens and timers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The only Task resource: SQS `SendMessage` that waits for `SendTaskSuccess`/`Failure`.
pub const SQS_SEND_MESSAGE_WAIT: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

/// The onboarding state machine, as deployed (`${OnboardingQueueUrl}` still to substitute).
pub const ONBOARDING_DEFINITION: &str = include_str!("../../../statemachines/onboarding.asl.json");

/// Errors the runtime reports (names from the States Language).
pub const ERROR_ALL: &str = "States.ALL";
pub const ERROR_TASK_FAILED: &str = "States.TaskFailed";
pub const ERROR_TIMEOUT: &str = "States.Timeout";
pub const ERROR_RUNTIME: &str = "States.Runtime";
pub const ERROR_RESULT_PATH: &str = "States.ResultPathMatchFailure";
pub const ERROR_NO_CHOICE: &str = "States.NoChoiceMatched";

/// Error names with the reserved `States.` prefix a definition may match on.
const KNOWN_STATES_ERRORS: &[&str] = &[
    "States.ALL",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
    "States.BranchFailed",
];

/// Largest `TimeoutSeconds`, `IntervalSeconds` and `MaxAttempts` Step Functions accepts.
const MAX_SECONDS: u64 = 99_999_999;
/// Pass/Choice transitions in one call before the interpreter gives up (a loop without a task).
const MAX_TRANSITIONS: usize = 10_000;

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AslError {
    #[error("state machine is not valid JSON: {0}")]
    Json(String),
    /// `at` locates the offending part (`States.verify_code.Retry[0].BackoffRate`).
    #[error("{at}: {reason}")]
    Invalid { at: String, reason: String },
}

fn invalid(at: &str, reason: impl Into<String>) -> AslError {
    AslError::Invalid {
        at: at.to_string(),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime types
// ---------------------------------------------------------------------------------------------

/// What the context object (`$$`) exposes for one transition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    pub execution_id: String,
    pub execution_name: String,
    /// The token of the task this call may dispatch (`$$.Task.Token`); fresh for every call
    /// that can dispatch, since a dispatch always starts a new wait.
    pub token: String,
}

/// One visit of a Task state: the state, its input, and how many retries each of its retriers
/// (in definition order) made so far in this visit. The executor keeps it while the task waits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub state: String,
    pub input: Value,
    pub retries: Vec<u32>,
}

/// A task message to send: what the SQS integration does on AWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    /// Keep it under `Context::token`; pass it back to `succeeded`/`failed`.
    pub visit: Visit,
    /// `Parameters.QueueUrl` (after substitution).
    pub queue_url: String,
    /// The resolved `MessageBody`.
    pub message: Value,
    /// The task fails with `States.Timeout` this long after the dispatch.
    pub timeout_secs: Option<u64>,
}

impl Dispatch {
    /// The SQS message body: a string `MessageBody` as is, anything else as JSON.
    pub fn body(&self) -> String {
        match &self.message {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// What the executor does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send the task message and wait for its token.
    Dispatch(Dispatch),
    /// The task failed and a retrier matched: call [`Machine::retry`] with `visit` after
    /// `after_secs`.
    RetryAfter { visit: Visit, after_secs: u64 },
    /// The execution succeeded with `output`.
    Succeeded { output: Value },
    /// The execution failed (a Fail state, or an error no catcher took).
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
}

fn fail_with(error: &str, cause: impl Into<String>) -> Step {
    Step::Failed {
        error: Some(error.to_string()),
        cause: Some(cause.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Paths and templates
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContextField {
    TaskToken,
    ExecutionId,
    ExecutionName,
    StateName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Path {
    /// `$` (empty) or `$.a.b`.
    Input(Vec<String>),
    Context(ContextField),
}

fn parse_segments(path: &str, at: &str) -> Result<Vec<String>, AslError> {
    if path == "$" {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix("$.") else {
        return Err(invalid(at, format!("unsupported JSONPath {path:?}")));
    };
    rest.split('.')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(seg.to_string())
            } else {
                Err(invalid(
                    at,
                    format!("unsupported JSONPath {path:?} (only `$` and `$.a.b.c`)"),
                ))
            }
        })
        .collect()
}

/// A path: `$`, `$.a.b`, or one of the supported context paths (`$$.Task.Token` only where
/// `task_token` allows it).
fn parse_path(path: &str, at: &str, task_token: bool) -> Result<Path, AslError> {
    if path.starts_with("$$") {
        let field = match path {
            "$$.Execution.Id" => ContextField::ExecutionId,
            "$$.Execution.Name" => ContextField::ExecutionName,
            "$$.State.Name" => ContextField::StateName,
            "$$.Task.Token" if task_token => ContextField::TaskToken,
            "$$.Task.Token" => {
                return Err(invalid(
                    at,
                    "$$.Task.Token exists only in a Task's Parameters",
                ))
            }
            _ => return Err(invalid(at, format!("unsupported context path {path:?}"))),
        };
        return Ok(Path::Context(field));
    }
    Ok(Path::Input(parse_segments(path, at)?))
}

fn select<'a>(doc: &'a Value, segments: &[String]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(doc, |v, seg| v.as_object()?.get(seg))
}

/// Values of the context object for one state.
struct Ctx<'a> {
    ctx: &'a Context,
    state: &'a str,
}

impl Ctx<'_> {
    fn resolve(&self, path: &Path, input: &Value) -> Option<Value> {
        match path {
            Path::Input(segs) => select(input, segs).cloned(),
            Path::Context(f) => Some(Value::String(
                match f {
                    ContextField::TaskToken => &self.ctx.token,
                    ContextField::ExecutionId => &self.ctx.execution_id,
                    ContextField::ExecutionName => &self.ctx.execution_name,
                    ContextField::StateName => self.state,
                }
                .to_string(),
            )),
        }
    }
}

fn path_text(path: &Path) -> String {
    match path {
        Path::Input(segs) if segs.is_empty() => "$".into(),
        Path::Input(segs) => format!("$.{}", segs.join(".")),
        Path::Context(f) => match f {
            ContextField::TaskToken => "$$.Task.Token",
            ContextField::ExecutionId => "$$.Execution.Id",
            ContextField::ExecutionName => "$$.Execution.Name",
            ContextField::StateName => "$$.State.Name",
        }
        .into(),
    }
}

/// A payload template (`Parameters`, `MessageBody`).
#[derive(Debug, Clone, PartialEq)]
enum Template {
    Object(Vec<(String, Entry)>),
    Literal(Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Path(Path),
    Value(Template),
}

fn no_dollar_keys(v: &Value, at: &str) -> Result<(), AslError> {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k.ends_with(".$") {
                    return Err(invalid(
                        at,
                        format!("`{k}` inside an array is not supported"),
                    ));
                }
                no_dollar_keys(v, at)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(|v| no_dollar_keys(v, at)),
        _ => Ok(()),
    }
}

impl Template {
    fn parse(v: &Value, at: &str, task_token: bool) -> Result<Template, AslError> {
        match v {
            Value::Object(m) => {
                let mut entries = Vec::new();
                let mut names = BTreeSet::new();
                for (k, v) in m {
                    let here = format!("{at}.{k}");
                    let (name, entry) = match k.strip_suffix(".$") {
                        Some(name) => {
                            let p = v.as_str().ok_or_else(|| {
                                invalid(&here, "a `.$` field takes a path string")
                            })?;
                            (name, Entry::Path(parse_path(p, &here, task_token)?))
                        }
                        None => (
                            k.as_str(),
                            Entry::Value(Template::parse(v, &here, task_token)?),
                        ),
                    };
                    if name.is_empty() || !names.insert(name.to_string()) {
                        return Err(invalid(&here, format!("duplicate or empty field {name:?}")));
                    }
                    entries.push((name.to_string(), entry));
                }
                Ok(Template::Object(entries))
            }
            Value::Array(_) => {
                no_dollar_keys(v, at)?;
                Ok(Template::Literal(v.clone()))
            }
            other => Ok(Template::Literal(other.clone())),
        }
    }

    fn uses_token(&self) -> bool {
        match self {
            Template::Object(entries) => entries.iter().any(|(_, e)| match e {
                Entry::Path(p) => *p == Path::Context(ContextField::TaskToken),
                Entry::Value(t) => t.uses_token(),
            }),
            Template::Literal(_) => false,
        }
    }

    /// The resolved payload, or the `States.Runtime` cause.
    fn resolve(&self, input: &Value, ctx: &Ctx) -> Result<Value, String> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(entries) => {
                let mut out = Map::new();
                for (name, e) in entries {
                    let v = match e {
                        Entry::Value(t) => t.resolve(input, ctx)?,
                        Entry::Path(p) => ctx.resolve(p, input).ok_or_else(|| {
                            format!(
                                "The JSONPath '{}' specified for the field '{name}.$' could not be \
                                 found in the input",
                                path_text(p)
                            )
                        })?,
                    };
                    out.insert(name.clone(), v);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// `ResultPath` (for states and catchers).
#[derive(Debug, Clone, PartialEq)]
enum ResultPath {
    Discard,
    /// Empty = `$`.
    At(Vec<String>),
}

impl ResultPath {
    fn parse(v: Option<&Value>, at: &str) -> Result<Self, AslError> {
        match v {
            None => Ok(ResultPath::At(Vec::new())),
            Some(Value::Null) => Ok(ResultPath::Discard),
            Some(Value::String(s)) => {
                if s.starts_with("$$") {
                    return Err(invalid(
                        at,
                        "ResultPath cannot point into the context object",
                    ));
                }
                Ok(ResultPath::At(parse_segments(s, at)?))
            }
            Some(_) => Err(invalid(at, "ResultPath must be a path string or null")),
        }
    }

    /// The state output: `result` placed into `input`, or the `ResultPathMatchFailure` cause.
    fn apply(&self, input: Value, result: Value) -> Result<Value, String> {
        let segs = match self {
            ResultPath::Discard => return Ok(input),
            ResultPath::At(segs) if segs.is_empty() => return Ok(result),
            ResultPath::At(segs) => segs,
        };
        let mut doc = input;
        let mut cur = &mut doc;
        for (i, seg) in segs.iter().enumerate() {
            let Value::Object(m) = cur else {
                let parent = match i {
                    0 => "$".to_string(),
                    _ => format!("$.{}", segs[..i].join(".")),
                };
                return Err(format!(
                    "Unable to apply ResultPath \"$.{}\": {parent} is not an object",
                    segs.join(".")
                ));
            };
            if i + 1 == segs.len() {
                m.insert(seg.clone(), result);
                return Ok(doc);
            }
            cur = m
                .entry(seg.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        unreachable!("segments is not empty")
    }
}

// ---------------------------------------------------------------------------------------------
// States
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Transition {
    Next(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Retrier {
    errors: Vec<String>,
    interval_secs: u64,
    max_attempts: u32,
    backoff_rate: f64,
}

impl Retrier {
    /// Delay before retry number `n + 1` (n retries already made).
    fn delay(&self, n: u32) -> u64 {
        let d = self.interval_secs as f64 * self.backoff_rate.powi(n as i32);
        if d.is_finite() && d < MAX_SECONDS as f64 {
            d.round() as u64
        } else {
            MAX_SECONDS
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Catcher {
    errors: Vec<String>,
    result_path: ResultPath,
    next: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Task {
    queue_url: String,
    body: Entry,
    result_path: ResultPath,
    timeout_secs: Option<u64>,
    retry: Vec<Retrier>,
    catch: Vec<Catcher>,
    transition: Transition,
}

#[derive(Debug, Clone, PartialEq)]
struct Pass {
    parameters: Option<Template>,
    result: Option<Value>,
    result_path: ResultPath,
    transition: Transition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Numeric,
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    String,
    Numeric,
    Boolean,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: Path,
        kind: Kind,
        rel: Rel,
        operand: Operand,
    },
    Is {
        variable: Path,
        test: TypeTest,
        expected: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Choice {
    choices: Vec<(Rule, String)>,
    default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Task(Task),
    Pass(Pass),
    Choice(Choice),
    Succeed,
    Fail {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// A parsed, validated state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    comment: Option<String>,
    start_at: String,
    states: BTreeMap<String, State>,
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// An object whose fields are checked against an allow-list.
struct Fields<'a> {
    at: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn new(v: &'a Value, at: &str, allowed: &[&str]) -> Result<Self, AslError> {
        let map = v
            .as_object()
            .ok_or_else(|| invalid(at, "must be a JSON object"))?;
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(
                at,
                format!(
                    "unsupported field {k:?} (supported: {})",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self {
            at: at.to_string(),
            map,
        })
    }

    fn here(&self, field: &str) -> String {
        format!("{}.{field}", self.at)
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    fn string(&self, field: &str) -> Result<Option<String>, AslError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(&self.here(field), "must be a string")),
        }
    }

    fn required_string(&self, field: &str) -> Result<String, AslError> {
        self.string(field)?
            .ok_or_else(|| invalid(&self.at, format!("missing {field}")))
    }

    fn integer(&self, field: &str, min: u64, max: u64) -> Result<Option<u64>, AslError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid(
                    &self.here(field),
                    format!("must be an integer from {min} to {max}"),
                )),
            },
        }
    }

    fn transition(&self) -> Result<Transition, AslError> {
        match (self.map.get("Next"), self.map.get("End")) {
            (Some(Value::String(n)), None) => Ok(Transition::Next(n.clone())),
            (None, Some(Value::Bool(true))) => Ok(Transition::End),
            _ => Err(invalid(
                &self.at,
                "needs exactly one of `Next` (a state name) or `\"End\": true`",
            )),
        }
    }
}

fn parse_errors(v: Option<&Value>, at: &str) -> Result<Vec<String>, AslError> {
    let at = format!("{at}.ErrorEquals");
    let list = v
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid(&at, "must be a non-empty array of error names"))?;
    let errors = list
        .iter()
        .map(|e| {
            let e = e
                .as_str()
                .filter(|e| !e.is_empty())
                .ok_or_else(|| invalid(&at, "error names are non-empty strings"))?;
            if e.starts_with("States.") && !KNOWN_STATES_ERRORS.contains(&e) {
                return Err(invalid(&at, format!("unknown error name {e:?}")));
            }
            Ok(e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if errors.iter().any(|e| e == ERROR_ALL) && errors.len() > 1 {
        return Err(invalid(&at, "States.ALL must appear alone"));
    }
    Ok(errors)
}

/// `States.ALL` only in the last retrier or catcher.
fn all_last(lists: &[&Vec<String>], at: &str) -> Result<(), AslError> {
    for (i, errors) in lists.iter().enumerate() {
        if i + 1 < lists.len() && errors.iter().any(|e| e == ERROR_ALL) {
            return Err(invalid(
                &format!("{at}[{i}]"),
                "States.ALL must be the last",
            ));
        }
    }
    Ok(())
}

fn parse_task(v: &Value, at: &str) -> Result<Task, AslError> {
    let f = Fields::new(
        v,
        at,
        &[
            "Type",
            "Comment",
            "Resource",
            "Parameters",
            "ResultPath",
            "TimeoutSeconds",
            "Retry",
            "Catch",
            "Next",
            "End",
        ],
    )?;
    f.string("Comment")?;
    let resource = f.required_string("Resource")?;
    if resource != SQS_SEND_MESSAGE_WAIT {
        return Err(invalid(
            &f.here("Resource"),
            format!("unsupported resource {resource:?} (only {SQS_SEND_MESSAGE_WAIT})"),
        ));
    }
    let p_at = f.here("Parameters");
    let params = Fields::new(
        f.get("Parameters")
            .ok_or_else(|| invalid(at, "missing Parameters"))?,
        &p_at,
        &["QueueUrl", "MessageBody", "MessageBody.$"],
    )?;
    let queue_url = params.required_string("QueueUrl")?;
    let body = match (params.get("MessageBody"), params.get("MessageBody.$")) {
        (Some(b), None) => Entry::Value(Template::parse(b, &params.here("MessageBody"), true)?),
        (None, Some(Value::String(p))) => {
            Entry::Path(parse_path(p, &params.here("MessageBody.$"), true)?)
        }
        _ => {
            return Err(invalid(
                &p_at,
                "needs exactly one of MessageBody or MessageBody.$ (a path)",
            ))
        }
    };
    let passes_token = match &body {
        Entry::Value(t) => t.uses_token(),
        Entry::Path(p) => *p == Path::Context(ContextField::TaskToken),
    };
    if !passes_token {
        return Err(invalid(
            &p_at,
            "the MessageBody must pass $$.Task.Token, or nobody can resume the task",
        ));
    }
    let retry = match f.get("Retry") {
        None => Vec::new(),
        Some(Value::Array(rs)) => rs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = format!("{}[{i}]", f.here("Retry"));
                let r = Fields::new(
                    r,
                    &at,
                    &[
                        "ErrorEquals",
                        "IntervalSeconds",
                        "MaxAttempts",
                        "BackoffRate",
                    ],
                )?;
                let backoff_rate = match r.get("BackoffRate") {
                    None => 2.0,
                    Some(b) => b
                        .as_f64()
                        .filter(|b| *b >= 1.0 && b.is_finite())
                        .ok_or_else(|| {
                            invalid(&r.here("BackoffRate"), "must be a number >= 1.0")
                        })?,
                };
                Ok(Retrier {
                    errors: parse_errors(r.get("ErrorEquals"), &at)?,
                    interval_secs: r.integer("IntervalSeconds", 1, MAX_SECONDS)?.unwrap_or(1),
                    max_attempts: r.integer("MaxAttempts", 0, MAX_SECONDS)?.unwrap_or(3) as u32,
                    backoff_rate,
                })
            })
            .collect::<Result<Vec<_>, AslError>>()?,
        Some(_) => return Err(invalid(&f.here("Retry"), "must be an array")),
    };
    all_last(
        &retry.iter().map(|r| &r.errors).collect::<Vec<_>>(),
        &f.here("Retry"),
    )?;
    let catch = match f.get("Catch") {
        None => Vec::new(),
        Some(Value::Array(cs)) => cs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = format!("{}[{i}]", f.here("Catch"));
                let c = Fields::new(c, &at, &["ErrorEquals", "ResultPath", "Next"])?;
                Ok(Catcher {
                    errors: parse_errors(c.get("ErrorEquals"), &at)?,
                    result_path: ResultPath::parse(c.get("ResultPath"), &c.here("ResultPath"))?,
                    next: c.required_string("Next")?,
                })
            })
            .collect::<Result<Vec<_>, AslError>>()?,
        Some(_) => return Err(invalid(&f.here("Catch"), "must be an array")),
    };
    all_last(
        &catch.iter().map(|c| &c.errors).collect::<Vec<_>>(),
        &f.here("Catch"),
    )?;
    Ok(Task {
        queue_url,
        body,
        result_path: ResultPath::parse(f.get("ResultPath"), &f.here("ResultPath"))?,
        timeout_secs: f.integer("TimeoutSeconds", 1, MAX_SECONDS)?,
        retry,
        catch,
        transition: f.transition()?,
    })
}

fn parse_pass(v: &Value, at: &str) -> Result<Pass, AslError> {
    let f = Fields::new(
        v,
        at,
        &[
            "Type",
            "Comment",
            "Parameters",
            "Result",
            "ResultPath",
            "Next",
            "End",
        ],
    )?;
    f.string("Comment")?;
    let parameters = match f.get("Parameters") {
        None => None,
        Some(p @ Value::Object(_)) => Some(Template::parse(p, &f.here("Parameters"), false)?),
        Some(_) => return Err(invalid(&f.here("Parameters"), "must be an object")),
    };
    Ok(Pass {
        parameters,
        result: f.get("Result").cloned(),
        result_path: ResultPath::parse(f.get("ResultPath"), &f.here("ResultPath"))?,
        transition: f.transition()?,
    })
}

const COMPARISONS: &[(&str, Kind, Rel)] = &[
    ("StringEquals", Kind::String, Rel::Eq),
    ("StringLessThan", Kind::String, Rel::Lt),
    ("StringGreaterThan", Kind::String, Rel::Gt),
    ("StringLessThanEquals", Kind::String, Rel::Le),
    ("StringGreaterThanEquals", Kind::String, Rel::Ge),
    ("NumericEquals", Kind::Numeric, Rel::Eq),
    ("NumericLessThan", Kind::Numeric, Rel::Lt),
    ("NumericGreaterThan", Kind::Numeric, Rel::Gt),
    ("NumericLessThanEquals", Kind::Numeric, Rel::Le),
    ("NumericGreaterThanEquals", Kind::Numeric, Rel::Ge),
    ("BooleanEquals", Kind::Boolean, Rel::Eq),
];

const TYPE_TESTS: &[(&str, TypeTest)] = &[
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsString", TypeTest::String),
    ("IsNumeric", TypeTest::Numeric),
    ("IsBoolean", TypeTest::Boolean),
];

fn parse_rule(v: &Value, at: &str, top: bool) -> Result<Rule, AslError> {
    let m = v
        .as_object()
        .ok_or_else(|| invalid(at, "a choice rule must be an object"))?;
    if top != m.contains_key("Next") {
        return Err(invalid(
            at,
            if top {
                "a top-level choice rule needs Next"
            } else {
                "a nested choice rule cannot have Next"
            },
        ));
    }
    let ops: Vec<&String> = m.keys().filter(|k| *k != "Next").collect();
    let [a, b] = match ops.as_slice() {
        [one] => [one.as_str(), ""],
        [x, y] => [x.as_str(), y.as_str()],
        _ => {
            return Err(invalid(
                at,
                "a choice rule is And, Or, Not, or Variable with one operator",
            ))
        }
    };
    if b.is_empty() {
        let here = format!("{at}.{a}");
        let sub = m.get(a).expect("key exists");
        return match a {
            "And" | "Or" => {
                let rules = sub
                    .as_array()
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| invalid(&here, "must be a non-empty array of rules"))?
                    .iter()
                    .enumerate()
                    .map(|(i, r)| parse_rule(r, &format!("{here}[{i}]"), false))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if a == "And" {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                })
            }
            "Not" => Ok(Rule::Not(Box::new(parse_rule(sub, &here, false)?))),
            _ => Err(invalid(
                at,
                format!("unsupported choice rule field {a:?} (And, Or, Not, or Variable with one operator)"),
            )),
        };
    }
    let op = if a == "Variable" {
        b
    } else if b == "Variable" {
        a
    } else {
        return Err(invalid(
            at,
            "a comparison has Variable and exactly one operator",
        ));
    };
    let variable = match m.get("Variable") {
        Some(Value::String(p)) => parse_path(p, &format!("{at}.Variable"), false)?,
        _ => return Err(invalid(at, "Variable must be a path string")),
    };
    let here = format!("{at}.{op}");
    let operand = m.get(op).expect("key exists");
    if let Some((_, test)) = TYPE_TESTS.iter().find(|(n, _)| *n == op) {
        let expected = operand
            .as_bool()
            .ok_or_else(|| invalid(&here, "must be true or false"))?;
        return Ok(Rule::Is {
            variable,
            test: *test,
            expected,
        });
    }
    let (name, by_path) = match op.strip_suffix("Path") {
        Some(n) => (n, true),
        None => (op, false),
    };
    let Some((_, kind, rel)) = COMPARISONS.iter().find(|(n, _, _)| *n == name) else {
        return Err(invalid(
            &here,
            format!("unsupported comparison operator {op:?} (timestamps and StringMatches are not implemented)"),
        ));
    };
    let operand = if by_path {
        let p = operand
            .as_str()
            .ok_or_else(|| invalid(&here, "must be a path string"))?;
        Operand::Path(parse_path(p, &here, false)?)
    } else {
        let ok = match kind {
            Kind::String => operand.is_string(),
            Kind::Numeric => operand.is_number(),
            Kind::Boolean => operand.is_boolean(),
        };
        if !ok {
            return Err(invalid(
                &here,
                format!("must be a {kind:?} value").to_lowercase(),
            ));
        }
        Operand::Literal(operand.clone())
    };
    Ok(Rule::Compare {
        variable,
        kind: *kind,
        rel: *rel,
        operand,
    })
}

fn parse_choice(v: &Value, at: &str) -> Result<Choice, AslError> {
    let f = Fields::new(v, at, &["Type", "Comment", "Choices", "Default"])?;
    f.string("Comment")?;
    let here = f.here("Choices");
    let choices = f
        .get("Choices")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid(&here, "must be a non-empty array of rules"))?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let at = format!("{here}[{i}]");
            let rule = parse_rule(c, &at, true)?;
            let next = c
                .get("Next")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(&at, "Next must be a state name"))?;
            Ok((rule, next.to_string()))
        })
        .collect::<Result<Vec<_>, AslError>>()?;
    Ok(Choice {
        choices,
        default: f.string("Default")?,
    })
}

fn parse_state(v: &Value, at: &str) -> Result<State, AslError> {
    let ty = v
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(at, "missing Type"))?;
    match ty {
        "Task" => Ok(State::Task(parse_task(v, at)?)),
        "Pass" => Ok(State::Pass(parse_pass(v, at)?)),
        "Choice" => Ok(State::Choice(parse_choice(v, at)?)),
        "Succeed" => {
            Fields::new(v, at, &["Type", "Comment"])?.string("Comment")?;
            Ok(State::Succeed)
        }
        "Fail" => {
            let f = Fields::new(v, at, &["Type", "Comment", "Error", "Cause"])?;
            f.string("Comment")?;
            Ok(State::Fail {
                error: f.string("Error")?,
                cause: f.string("Cause")?,
            })
        }
        other => Err(invalid(
            &format!("{at}.Type"),
            format!("unsupported state type {other:?} (Task, Pass, Choice, Succeed, Fail)"),
        )),
    }
}

/// Replaces `${Name}` in every string value; refuses a placeholder left unresolved.
fn substitute(v: &mut Value, subs: &[(&str, &str)], at: &str) -> Result<(), AslError> {
    match v {
        Value::String(s) => {
            for (name, value) in subs {
                let placeholder = format!("${{{name}}}");
                if s.contains(&placeholder) {
                    *s = s.replace(&placeholder, value);
                }
            }
            if let Some(start) = s.find("${") {
                let rest = &s[start + 2..];
                if let Some(end) = rest.find('}') {
                    let name = &rest[..end];
                    if !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(invalid(
                            at,
                            format!("unresolved substitution ${{{name}}} (pass it to parse_with)"),
                        ));
                    }
                }
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, v)| substitute(v, subs, &format!("{at}[{i}]"))),
        Value::Object(m) => m
            .iter_mut()
            .try_for_each(|(k, v)| substitute(v, subs, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Choice evaluation
// ---------------------------------------------------------------------------------------------

fn compare(kind: Kind, rel: Rel, left: &Value, right: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match kind {
        Kind::String => match (left, right) {
            (Value::String(l), Value::String(r)) => Some(l.cmp(r)),
            _ => None,
        },
        Kind::Numeric => match (
            left.as_f64(),
            right.as_f64(),
            left.is_number(),
            right.is_number(),
        ) {
            (Some(l), Some(r), true, true) => l.partial_cmp(&r),
            _ => None,
        },
        Kind::Boolean => match (left, right) {
            (Value::Bool(l), Value::Bool(r)) if rel == Rel::Eq => Some(if l == r {
                Ordering::Equal
            } else {
                Ordering::Less
            }),
            _ => None,
        },
    };
    // A value of another type than the operator's never matches.
    ord.is_some_and(|o| match rel {
        Rel::Eq => o == Ordering::Equal,
        Rel::Lt => o == Ordering::Less,
        Rel::Gt => o == Ordering::Greater,
        Rel::Le => o != Ordering::Greater,
        Rel::Ge => o != Ordering::Less,
    })
}

impl Rule {
    /// Whether the rule holds, or the `States.Runtime` cause (a path that selects nothing).
    fn eval(&self, input: &Value, ctx: &Ctx) -> Result<bool, String> {
        let missing = |p: &Path| {
            format!(
                "Invalid path '{}': no such field in the input",
                path_text(p)
            )
        };
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(input, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(input, ctx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(input, ctx)?),
            Rule::Is {
                variable,
                test,
                expected,
            } => {
                let v = ctx.resolve(variable, input);
                let holds = match (test, &v) {
                    (TypeTest::Present, v) => v.is_some(),
                    (_, None) => return Err(missing(variable)),
                    (TypeTest::Null, Some(v)) => v.is_null(),
                    (TypeTest::String, Some(v)) => v.is_string(),
                    (TypeTest::Numeric, Some(v)) => v.is_number(),
                    (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                };
                Ok(holds == *expected)
            }
            Rule::Compare {
                variable,
                kind,
                rel,
                operand,
            } => {
                let left = ctx
                    .resolve(variable, input)
                    .ok_or_else(|| missing(variable))?;
                let right = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => ctx.resolve(p, input).ok_or_else(|| missing(p))?,
                };
                Ok(compare(*kind, *rel, &left, &right))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

/// Whether a retrier's or catcher's `ErrorEquals` matches `error`.
fn matches(errors: &[String], error: &str) -> bool {
    if error == ERROR_RUNTIME || error == "States.DataLimitExceeded" {
        return false;
    }
    errors
        .iter()
        .any(|e| e == error || e == ERROR_ALL || (e == ERROR_TASK_FAILED && error != ERROR_TIMEOUT))
}

impl Machine {
    /// Parses and validates a definition with no `${…}` placeholders.
    pub fn parse(json: &str) -> Result<Machine, AslError> {
        Self::parse_with(json, &[])
    }

    /// Parses and validates a definition after replacing each `${name}` by its value in every
    /// string (what SAM's `DefinitionSubstitutions` does on AWS), e.g.
    /// `&[("OnboardingQueueUrl", url)]`. A placeholder left over is refused.
    pub fn parse_with(json: &str, substitutions: &[(&str, &str)]) -> Result<Machine, AslError> {
        let mut doc: Value =
            serde_json::from_str(json).map_err(|e| AslError::Json(e.to_string()))?;
        substitute(&mut doc, substitutions, "$")?;
        let top = Fields::new(&doc, "$", &["Comment", "StartAt", "States"])?;
        let comment = top.string("Comment")?;
        let start_at = top.required_string("StartAt")?;
        let raw = top
            .get("States")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("$.States", "must be a non-empty object"))?;
        let mut states = BTreeMap::new();
        for (name, v) in raw {
            if name.is_empty() || name.chars().count() > 80 {
                return Err(invalid(
                    "$.States",
                    format!("bad state name {name:?} (1-80 characters)"),
                ));
            }
            states.insert(name.clone(), parse_state(v, &format!("States.{name}"))?);
        }
        let machine = Machine {
            comment,
            start_at,
            states,
        };
        if !machine.states.contains_key(&machine.start_at) {
            return Err(invalid(
                "$.StartAt",
                format!("no state named {:?}", machine.start_at),
            ));
        }
        for name in machine.states.keys() {
            for target in machine.transitions(name) {
                if !machine.states.contains_key(target) {
                    return Err(invalid(
                        &format!("States.{name}"),
                        format!("transition to a state that does not exist: {target:?}"),
                    ));
                }
            }
        }
        let reachable = machine.reachable();
        if let Some(orphan) = machine
            .states
            .keys()
            .find(|n| !reachable.contains(n.as_str()))
        {
            return Err(invalid(
                &format!("States.{orphan}"),
                "state is not reachable from StartAt",
            ));
        }
        Ok(machine)
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    pub fn start_at(&self) -> &str {
        &self.start_at
    }

    /// Every state name, sorted.
    pub fn state_names(&self) -> Vec<&str> {
        self.states.keys().map(String::as_str).collect()
    }

    /// The state's type name (`Task`, `Pass`, `Choice`, `Succeed`, `Fail`).
    pub fn state_type(&self, state: &str) -> Option<&'static str> {
        self.states.get(state).map(|s| match s {
            State::Task(_) => "Task",
            State::Pass(_) => "Pass",
            State::Choice(_) => "Choice",
            State::Succeed => "Succeed",
            State::Fail { .. } => "Fail",
        })
    }

    /// The states `state` can transition to: `Next`, catchers' `Next`, choices and `Default`.
    pub fn transitions(&self, state: &str) -> Vec<&str> {
        fn next(t: &Transition) -> Option<&str> {
            match t {
                Transition::Next(n) => Some(n.as_str()),
                Transition::End => None,
            }
        }
        match self.states.get(state) {
            Some(State::Task(t)) => next(&t.transition)
                .into_iter()
                .chain(t.catch.iter().map(|c| c.next.as_str()))
                .collect(),
            Some(State::Pass(p)) => next(&p.transition).into_iter().collect(),
            Some(State::Choice(c)) => c
                .choices
                .iter()
                .map(|(_, n)| n.as_str())
                .chain(c.default.as_deref())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The states reachable from `StartAt` (itself included).
    pub fn reachable(&self) -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut todo = VecDeque::from([self.start_at.as_str()]);
        while let Some(s) = todo.pop_front() {
            if self.states.contains_key(s) && seen.insert(s) {
                todo.extend(self.transitions(s));
            }
        }
        seen
    }

    /// Starts an execution with `input`.
    pub fn start(&self, input: Value, ctx: &Context) -> Step {
        self.enter(self.start_at.clone(), input, None, ctx)
    }

    /// The task of `visit` succeeded with `output` (`SendTaskSuccess`).
    pub fn succeeded(&self, visit: Visit, output: Value, ctx: &Context) -> Step {
        let Some(State::Task(task)) = self.states.get(&visit.state) else {
            return not_a_task(&visit.state);
        };
        match task.result_path.apply(visit.input.clone(), output) {
            Ok(doc) => match &task.transition {
                Transition::Next(n) => self.enter(n.clone(), doc, None, ctx),
                Transition::End => Step::Succeeded { output: doc },
            },
            Err(cause) => self.handle_error(task, visit, ERROR_RESULT_PATH, &cause, ctx),
        }
    }

    /// The task of `visit` failed with `error` and `cause` (`SendTaskFailure`, or
    /// `States.Timeout` from the executor's clock): retry, catch, or fail the execution.
    pub fn failed(&self, visit: Visit, error: &str, cause: &str, ctx: &Context) -> Step {
        let Some(State::Task(task)) = self.states.get(&visit.state) else {
            return not_a_task(&visit.state);
        };
        self.handle_error(task, visit, error, cause, ctx)
    }

    /// Runs the task of `visit` again (after a [`Step::RetryAfter`]'s delay).
    pub fn retry(&self, visit: Visit, ctx: &Context) -> Step {
        if !matches!(self.states.get(&visit.state), Some(State::Task(_))) {
            return not_a_task(&visit.state);
        }
        self.enter(visit.state, visit.input, Some(visit.retries), ctx)
    }

    fn handle_error(
        &self,
        task: &Task,
        mut visit: Visit,
        error: &str,
        cause: &str,
        ctx: &Context,
    ) -> Step {
        if let Some((i, r)) = task
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| matches(&r.errors, error))
        {
            visit.retries.resize(task.retry.len(), 0);
            let n = visit.retries[i];
            if n < r.max_attempts {
                visit.retries[i] = n + 1;
                return Step::RetryAfter {
                    visit,
                    after_secs: r.delay(n),
                };
            }
        }
        if let Some(c) = task.catch.iter().find(|c| matches(&c.errors, error)) {
            let error_output = serde_json::json!({"Error": error, "Cause": cause});
            return match c.result_path.apply(visit.input, error_output) {
                Ok(doc) => self.enter(c.next.clone(), doc, None, ctx),
                Err(cause) => fail_with(ERROR_RESULT_PATH, cause),
            };
        }
        fail_with(error, cause)
    }

    /// Enters `state` with `input` and runs until a task waits or the execution ends.
    fn enter(
        &self,
        mut state: String,
        mut input: Value,
        mut retries: Option<Vec<u32>>,
        ctx: &Context,
    ) -> Step {
        for _ in 0..MAX_TRANSITIONS {
            let Some(s) = self.states.get(&state) else {
                return fail_with(ERROR_RUNTIME, format!("no state {state:?}"));
            };
            let cx = Ctx { ctx, state: &state };
            let (doc, transition) = match s {
                State::Task(t) => {
                    let message = match &t.body {
                        Entry::Value(tpl) => tpl.resolve(&input, &cx),
                        Entry::Path(p) => cx.resolve(p, &input).ok_or_else(|| {
                            format!(
                                "The JSONPath '{}' specified for the field 'MessageBody.$' could \
                                 not be found in the input",
                                path_text(p)
                            )
                        }),
                    };
                    return match message {
                        Ok(message) => {
                            let mut retries = retries.take().unwrap_or_default();
                            retries.resize(t.retry.len(), 0);
                            Step::Dispatch(Dispatch {
                                visit: Visit {
                                    state,
                                    input,
                                    retries,
                                },
                                queue_url: t.queue_url.clone(),
                                message,
                                timeout_secs: t.timeout_secs,
                            })
                        }
                        Err(cause) => fail_with(ERROR_RUNTIME, cause),
                    };
                }
                State::Pass(p) => {
                    let result = match (&p.result, &p.parameters) {
                        (Some(r), _) => r.clone(),
                        (None, Some(tpl)) => match tpl.resolve(&input, &cx) {
                            Ok(v) => v,
                            Err(cause) => return fail_with(ERROR_RUNTIME, cause),
                        },
                        (None, None) => input.clone(),
                    };
                    match p.result_path.apply(input, result) {
                        Ok(doc) => (doc, p.transition.clone()),
                        Err(cause) => return fail_with(ERROR_RESULT_PATH, cause),
                    }
                }
                State::Choice(c) => {
                    let mut chosen = None;
                    for (rule, next) in &c.choices {
                        match rule.eval(&input, &cx) {
                            Ok(true) => {
                                chosen = Some(next.clone());
                                break;
                            }
                            Ok(false) => {}
                            Err(cause) => return fail_with(ERROR_RUNTIME, cause),
                        }
                    }
                    match chosen.or_else(|| c.default.clone()) {
                        Some(next) => (input, Transition::Next(next)),
                        None => {
                            return fail_with(
                                ERROR_NO_CHOICE,
                                format!(
                                    "no choice rule of {state:?} matched and it has no Default"
                                ),
                            )
                        }
                    }
                }
                State::Succeed => return Step::Succeeded { output: input },
                State::Fail { error, cause } => {
                    return Step::Failed {
                        error: error.clone(),
                        cause: cause.clone(),
                    }
                }
            };
            match transition {
                Transition::Next(n) => {
                    state = n;
                    input = doc;
                    retries = None;
                }
                Transition::End => return Step::Succeeded { output: doc },
            }
        }
        fail_with(
            ERROR_RUNTIME,
            format!("more than {MAX_TRANSITIONS} transitions without waiting on a task"),
        )
    }
}

fn not_a_task(state: &str) -> Step {
    fail_with(
        ERROR_RUNTIME,
        format!("{state:?} is not a Task state of this machine"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/onboarding";

    const STEPS: [&str; 10] = [
        "create_tenant",
        "business_verification",
        "request_code",
        "verify_code",
        "register",
        "display_name_review",
        "subscribe_app",
        "self_checks",
        "first_templates",
        "go_live",
    ];

    fn onboarding() -> Machine {
        Machine::parse_with(ONBOARDING_DEFINITION, &[("OnboardingQueueUrl", URL)]).unwrap()
    }

    fn ctx(n: u32) -> Context {
        Context {
            execution_id: "arn:aws:states:local:000000000000:execution:onboarding:acme-1".into(),
            execution_name: "acme-1".into(),
            token: format!("tok-{n}"),
        }
    }

    fn input() -> Value {
        json!({"tenant": "acme", "phone_number_id": "123", "waba_id": "456"})
    }

    fn dispatch(step: Step) -> Dispatch {
        match step {
            Step::Dispatch(d) => d,
            other => panic!("expected a dispatch, got {other:?}"),
        }
    }

    #[test]
    fn onboarding_file_parses_and_every_state_is_reachable() {
        let m = onboarding();
        assert_eq!(m.start_at(), "create_tenant");
        let names = m.state_names();
        assert_eq!(names.len(), 22);
        let reachable = m.reachable();
        for n in &names {
            assert!(reachable.contains(n), "{n} unreachable");
        }
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(m.state_type(s), Some("Task"));
            let next = STEPS.get(i + 1).copied().unwrap_or("live");
            assert_eq!(m.transitions(s), vec![next, &format!("{s}_failed")]);
            assert_eq!(m.transitions(&format!("{s}_failed")), vec![*s, "abandoned"]);
        }
        assert_eq!(m.state_type("live"), Some("Succeed"));
        assert_eq!(m.state_type("abandoned"), Some("Fail"));
        // The placeholder must be substituted.
        let err = Machine::parse(ONBOARDING_DEFINITION).unwrap_err();
        assert!(err.to_string().contains("${OnboardingQueueUrl}"), "{err}");
    }

    #[test]
    fn full_walk_from_start_to_live() {
        let m = onboarding();
        let mut step = m.start(input(), &ctx(0));
        for (i, s) in STEPS.iter().enumerate() {
            let d = dispatch(step);
            assert_eq!(d.visit.state, *s);
            assert_eq!(d.queue_url, URL);
            assert_eq!(d.message["step"], *s);
            assert_eq!(d.message["tenant"], "acme");
            assert_eq!(d.message["token"], format!("tok-{i}"));
            assert_eq!(d.message["execution"], ctx(0).execution_id);
            assert_eq!(d.message["input"]["waba_id"], "456");
            let body: Value = serde_json::from_str(&d.body()).unwrap();
            assert_eq!(body, d.message);
            let timeout = match *s {
                "business_verification" => 30 * 86_400,
                "display_name_review" => 14 * 86_400,
                "verify_code" | "self_checks" | "first_templates" => 7 * 86_400,
                _ => 900,
            };
            assert_eq!(d.timeout_secs, Some(timeout), "{s}");
            step = m.succeeded(d.visit, json!({"done": s}), &ctx(i as u32 + 1));
        }
        let Step::Succeeded { output } = step else {
            panic!("{step:?}")
        };
        assert_eq!(output["tenant"], "acme");
        for s in STEPS {
            assert_eq!(output["steps"][s], json!({"done": s}));
        }
    }

    #[test]
    fn retryable_failure_is_retried_then_caught_and_retry_resumes_the_step() {
        let m = onboarding();
        let d = dispatch(m.start(input(), &ctx(0)));
        let d = dispatch(m.succeeded(d.visit, json!({}), &ctx(1)));
        assert_eq!(d.visit.state, "business_verification");
        // Two retries: after 1 s, then 2 s (IntervalSeconds 1, BackoffRate 2).
        let mut visit = d.visit;
        for (n, delay) in [(1, 1), (2, 2)] {
            match m.failed(visit, "Graph.Retryable", "429", &ctx(2)) {
                Step::RetryAfter {
                    visit: v,
                    after_secs,
                } => {
                    assert_eq!(after_secs, delay);
                    assert_eq!(v.retries, vec![n]);
                    visit = v;
                }
                other => panic!("{other:?}"),
            }
            let d = dispatch(m.retry(visit, &ctx(3)));
            assert_eq!(d.visit.state, "business_verification");
            assert_eq!(d.visit.retries, vec![n]);
            visit = d.visit;
        }
        // Retries exhausted: caught into the _failed state with the error output.
        let d = dispatch(m.failed(visit, "Graph.Retryable", "still 429", &ctx(4)));
        assert_eq!(d.visit.state, "business_verification_failed");
        assert_eq!(d.message["step"], "await_retry");
        assert_eq!(d.message["failed_step"], "business_verification");
        assert_eq!(d.message["token"], "tok-4");
        assert_eq!(
            d.message["failure"],
            json!({"Error": "Graph.Retryable", "Cause": "still 429"})
        );
        assert_eq!(d.timeout_secs, None);
        // An operator's retry runs the step again, with fresh retry counts.
        let d = dispatch(m.succeeded(d.visit, json!({"retried_at": 5}), &ctx(5)));
        assert_eq!(d.visit.state, "business_verification");
        assert_eq!(d.visit.retries, vec![0]);
        assert_eq!(d.visit.input["retry"], json!({"retried_at": 5}));
        assert_eq!(d.message["input"]["failure"]["Cause"], "still 429");
        // Giving up from the _failed state abandons the onboarding.
        let d = dispatch(m.failed(d.visit, "Onboarding.Failed", "no", &ctx(6)));
        assert_eq!(d.visit.state, "business_verification_failed");
        assert_eq!(
            m.failed(d.visit, "Onboarding.Abandoned", "operator", &ctx(7)),
            Step::Failed {
                error: Some("Onboarding.Abandoned".into()),
                cause: Some("A failed onboarding step was abandoned instead of retried.".into()),
            }
        );
    }

    #[test]
    fn non_retryable_failure_and_timeout_are_caught_at_once() {
        let m = onboarding();
        let d = dispatch(m.start(input(), &ctx(0)));
        let d = dispatch(m.failed(d.visit, "Onboarding.Failed", "bad number", &ctx(1)));
        assert_eq!(d.visit.state, "create_tenant_failed");
        let d = dispatch(m.succeeded(d.visit, json!({}), &ctx(2)));
        assert_eq!(d.visit.state, "create_tenant");
        let d = dispatch(m.failed(d.visit, ERROR_TIMEOUT, "timed out", &ctx(3)));
        assert_eq!(d.visit.state, "create_tenant_failed");
        assert_eq!(d.message["failure"]["Error"], "States.Timeout");
    }

    fn task(extra: Value) -> Value {
        let mut t = json!({
            "Type": "Task",
            "Resource": SQS_SEND_MESSAGE_WAIT,
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "x.$": "$.x"}},
            "End": true
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() && k != "ResultPath" {
                t.as_object_mut().unwrap().remove(k);
            } else {
                t[k] = v.clone();
            }
        }
        t
    }

    fn machine(states: Value) -> Result<Machine, AslError> {
        Machine::parse(&json!({"StartAt": "a", "States": states}).to_string())
    }

    #[test]
    fn unsupported_features_are_refused() {
        let refused = |states: Value, needle: &str| {
            let err = machine(states).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        };
        refused(
            json!({"a": task(json!({"Resource": "arn:aws:states:::lambda:invoke"}))}),
            "unsupported resource",
        );
        refused(
            json!({"a": {"Type": "Map", "ItemsPath": "$.items", "End": true}}),
            "unsupported state type \"Map\"",
        );
        refused(
            json!({"a": {"Type": "Wait", "Seconds": 1, "End": true}}),
            "state type",
        );
        refused(
            json!({"a": task(json!({"InputPath": "$.x"}))}),
            "\"InputPath\"",
        );
        refused(
            json!({"a": task(json!({"HeartbeatSeconds": 60}))}),
            "\"HeartbeatSeconds\"",
        );
        refused(
            json!({"a": task(json!({"Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "x.$": "$.items[0]"}}}))}),
            "unsupported JSONPath",
        );
        refused(
            json!({"a": task(json!({"Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "x.$": "States.Format('{}', $.x)"}}}))}),
            "unsupported JSONPath",
        );
        refused(
            json!({"a": task(json!({"Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Execution.StartTime"}}}))}),
            "unsupported context path",
        );
        refused(
            json!({"a": task(json!({"Parameters": {"QueueUrl": "q", "MessageBody": {"x": 1}}}))}),
            "$$.Task.Token",
        );
        refused(
            json!({"a": task(json!({"Parameters": {"QueueUrl": "q", "MessageGroupId": "g", "MessageBody": {"t.$": "$$.Task.Token"}}}))}),
            "\"MessageGroupId\"",
        );
        refused(
            json!({"a": task(json!({"End": null, "Next": "nowhere"}))}),
            "does not exist",
        );
        refused(
            json!({"a": task(json!({"End": null}))}),
            "exactly one of `Next`",
        );
        refused(
            json!({"a": task(json!({"Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}))}),
            "States.ALL must be the last",
        );
        refused(
            json!({"a": task(json!({"Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}))}),
            "must appear alone",
        );
        refused(
            json!({"a": task(json!({"Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}]}))}),
            "\"JitterStrategy\"",
        );
        refused(
            json!({"a": task(json!({"Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}))}),
            ">= 1.0",
        );
        refused(
            json!({"a": task(json!({"Catch": [{"ErrorEquals": ["States.Bogus"], "Next": "a"}]}))}),
            "unknown error name",
        );
        refused(
            json!({"a": task(json!({"ResultPath": "$$.x"}))}),
            "context object",
        );
        refused(
            json!({"a": {"Type": "Pass", "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}),
            "only in a Task",
        );
        refused(
            json!({"a": {"Type": "Pass", "End": true}, "b": {"Type": "Succeed"}}),
            "not reachable",
        );
        refused(
            json!({"a": {"Type": "Choice", "Choices": [{"Variable": "$.t", "TimestampEquals": "2020-01-01T00:00:00Z", "Next": "b"}]}, "b": {"Type": "Succeed"}}),
            "unsupported comparison operator",
        );
        refused(
            json!({"a": {"Type": "Choice", "Choices": [{"Variable": "$.t", "StringEquals": 1, "Next": "b"}]}, "b": {"Type": "Succeed"}}),
            "must be a string value",
        );
        let err = Machine::parse(
            r#"{"StartAt": "a", "States": {"a": {"Type": "Succeed"}}, "TimeoutSeconds": 5}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("TimeoutSeconds"));
        let err = Machine::parse(r#"{"StartAt": "b", "States": {"a": {"Type": "Succeed"}}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("no state named"));
        assert!(matches!(Machine::parse("{"), Err(AslError::Json(_))));
    }

    #[test]
    fn result_path_null_discards_and_conflicts_are_caught() {
        let m = machine(json!({
            "a": task(json!({"ResultPath": null, "End": null, "Next": "b"})),
            "b": task(json!({"ResultPath": "$.x.y",
                              "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "ResultPath": "$.err", "Next": "c"}]})),
            "c": {"Type": "Succeed"}
        }))
        .unwrap();
        let d = dispatch(m.start(json!({"x": 1}), &ctx(0)));
        assert_eq!(d.message, json!({"token": "tok-0", "x": 1}));
        let d = dispatch(m.succeeded(d.visit, json!({"ignored": true}), &ctx(1)));
        assert_eq!(d.visit.state, "b");
        assert_eq!(d.visit.input, json!({"x": 1}));
        // `$.x` is a number, so `$.x.y` cannot be set.
        let Step::Succeeded { output } = m.succeeded(d.visit, json!(2), &ctx(2)) else {
            panic!()
        };
        assert_eq!(output["x"], 1);
        assert_eq!(output["err"]["Error"], ERROR_RESULT_PATH);
    }

    #[test]
    fn missing_parameter_path_fails_with_runtime_error_not_caught() {
        let m = machine(json!({
            "a": task(json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "b"}]})),
            "b": {"Type": "Succeed"}
        }))
        .unwrap();
        match m.start(json!({}), &ctx(0)) {
            Step::Failed { error, .. } => assert_eq!(error.as_deref(), Some(ERROR_RUNTIME)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retriers_count_separately_and_task_failed_skips_timeouts() {
        let m = machine(json!({
            "a": task(json!({"Retry": [
                {"ErrorEquals": ["A"], "IntervalSeconds": 3, "MaxAttempts": 1},
                {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 5, "MaxAttempts": 2, "BackoffRate": 1.5}
            ]}))
        }))
        .unwrap();
        let v = dispatch(m.start(json!({"x": 0}), &ctx(0))).visit;
        let Step::RetryAfter {
            visit,
            after_secs: 3,
        } = m.failed(v, "A", "", &ctx(1))
        else {
            panic!()
        };
        let Step::RetryAfter {
            visit,
            after_secs: 5,
        } = m.failed(visit, "B", "", &ctx(1))
        else {
            panic!()
        };
        // `A` is exhausted; it does not fall through to the next retrier.
        assert_eq!(
            m.failed(visit.clone(), "A", "c", &ctx(1)),
            fail_with("A", "c")
        );
        let Step::RetryAfter {
            visit,
            after_secs: 8,
        } = m.failed(visit, "B", "", &ctx(1))
        else {
            panic!()
        };
        assert_eq!(visit.retries, vec![1, 2]);
        assert_eq!(
            m.failed(visit, ERROR_TIMEOUT, "t", &ctx(1)),
            fail_with(ERROR_TIMEOUT, "t")
        );
    }

    #[test]
    fn pass_and_choice_run_without_waiting() {
        let m = machine(json!({
            "a": {"Type": "Pass", "Parameters": {"n.$": "$.n", "who.$": "$$.Execution.Name", "k": [1, {"z": 2}]},
                  "ResultPath": "$.p", "Next": "c"},
            "c": {"Type": "Choice", "Choices": [
                    {"And": [{"Variable": "$.p.n", "NumericGreaterThanEquals": 10},
                             {"Not": {"Variable": "$.p.who", "StringEquals": "nobody"}}], "Next": "big"},
                    {"Variable": "$.missing", "IsPresent": true, "Next": "big"},
                    {"Variable": "$.p.n", "StringEquals": "5", "Next": "big"},
                    {"Variable": "$.p.n", "NumericLessThanPath": "$.limit", "Next": "small"}
                 ], "Default": "none"},
            "big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true},
            "small": {"Type": "Pass", "Result": {"size": "small"}, "End": true},
            "none": {"Type": "Fail", "Error": "E"}
        }))
        .unwrap();
        let out = |n: i64| m.start(json!({"n": n, "limit": 5}), &ctx(0));
        let Step::Succeeded { output } = out(12) else {
            panic!()
        };
        assert_eq!(output["size"], "big");
        assert_eq!(
            output["p"],
            json!({"n": 12, "who": "acme-1", "k": [1, {"z": 2}]})
        );
        assert_eq!(
            out(3),
            Step::Succeeded {
                output: json!({"size": "small"})
            }
        );
        assert_eq!(
            out(7),
            Step::Failed {
                error: Some("E".into()),
                cause: None
            }
        );
        // A comparison on a missing variable is a runtime error.
        let m = machine(json!({
            "a": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "b"}]},
            "b": {"Type": "Succeed"}
        }))
        .unwrap();
        assert!(matches!(m.start(json!({}), &ctx(0)),
            Step::Failed { error: Some(e), .. } if e == ERROR_RUNTIME));
        assert!(matches!(m.start(json!({"n": 2}), &ctx(0)),
            Step::Failed { error: Some(e), .. } if e == ERROR_NO_CHOICE));
    }
}
