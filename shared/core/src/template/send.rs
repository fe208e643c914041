//! Send-time validation: a template message's parameters checked against the approved
//! definition before it reaches Meta, catching what Meta would answer with 132000 (count
//! mismatch), 132012 (format mismatch), 132001 (missing or not approved), 132015/132016 (paused,
//! disabled) and 132005 (hydrated text too long) — reference §4.3.

use serde::Serialize;
use serde_json::Value;

use super::model::{Category, Template};
use super::placeholder::{scan, Key};

/// Body text limit once parameters are filled in (132005).
const MAX_HYDRATED_BODY: usize = 1024;
/// Authentication parameters (the code) are at most 15 characters.
const MAX_AUTH_PARAMETER: usize = 15;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendProblem {
    /// The Meta error code this prevents.
    pub code: u32,
    /// `header`, `body`, `button[1]` or `template`.
    pub component: String,
    pub message: String,
}

fn problem(code: u32, component: &str, message: String) -> SendProblem {
    SendProblem {
        code,
        component: component.to_string(),
        message,
    }
}

/// Checks the `components` of a send request (Meta's `template.components` array) against the
/// stored template and its status (`APPROVED`, `PAUSED`, …).
pub fn validate_send(approved: &Template, status: &str, components: &Value) -> Vec<SendProblem> {
    let mut out = Vec::new();
    match status {
        "APPROVED" => {}
        "PAUSED" => out.push(problem(
            132015,
            "template",
            "the template is paused for low quality; sends are rejected until it is unpaused"
                .into(),
        )),
        "DISABLED" => out.push(problem(
            132016,
            "template",
            "the template is disabled".into(),
        )),
        other => out.push(problem(
            132001,
            "template",
            format!("the template is {other}, not APPROVED, in this language"),
        )),
    }
    let sent: Vec<&Value> = components
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let find = |kind: &'static str| {
        sent.iter().copied().filter(move |c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
    };
    let is_auth = approved.category() == Some(Category::Authentication);

    for c in &approved.components {
        let kind = c.kind.as_deref().unwrap_or("").to_ascii_uppercase();
        match kind.as_str() {
            "HEADER" => {
                let format = c.format.as_deref().unwrap_or("TEXT").to_ascii_uppercase();
                let params = find("header").next().map(params_of).unwrap_or_default();
                if format == "TEXT" {
                    let wanted = variables(c.text.as_deref().unwrap_or(""));
                    check_text_params(&mut out, "header", &wanted, &params, is_auth);
                } else {
                    let wanted = match format.as_str() {
                        "IMAGE" => "image",
                        "VIDEO" => "video",
                        "DOCUMENT" => "document",
                        "LOCATION" => "location",
                        _ => continue,
                    };
                    match params.as_slice() {
                        [p] if p["type"].as_str() == Some(wanted)
                            && (p[wanted]["id"].is_string()
                                || p[wanted]["link"].is_string()
                                || wanted == "location") => {}
                        [p] => out.push(problem(
                            132012,
                            "header",
                            format!(
                                "the header is a {wanted} header; got a {} parameter",
                                p["type"].as_str().unwrap_or("typeless")
                            ),
                        )),
                        [] => out.push(problem(
                            132000,
                            "header",
                            format!("the {wanted} header needs its {wanted} parameter"),
                        )),
                        _ => out.push(problem(
                            132000,
                            "header",
                            format!("the {wanted} header takes exactly one parameter"),
                        )),
                    }
                }
            }
            "BODY" => {
                let text = c.text.as_deref().unwrap_or("");
                // Authentication bodies are Meta's preset, "{{1}} is your verification code.":
                // the one parameter is the code.
                let wanted = if is_auth && c.text.is_none() {
                    vec![Key::Positional(1)]
                } else {
                    variables(text)
                };
                let params = find("body").next().map(params_of).unwrap_or_default();
                check_text_params(&mut out, "body", &wanted, &params, is_auth);
                let hydrated = text.chars().count()
                    + params
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .map(|t| t.chars().count())
                        .sum::<usize>();
                if hydrated > MAX_HYDRATED_BODY {
                    out.push(problem(132005, "body", format!("the body would be {hydrated} characters with its parameters; the limit is {MAX_HYDRATED_BODY}")));
                }
            }
            "BUTTONS" => {
                for (i, b) in c.buttons.iter().flatten().enumerate() {
                    let btype = b.kind.as_deref().unwrap_or("").to_ascii_uppercase();
                    let sent_button = find("button").find(|s| index_of(s) == Some(i));
                    let needs_param = match btype.as_str() {
                        "URL" => b.url.as_deref().is_some_and(|u| u.contains("{{")),
                        // OTP buttons are sent as URL buttons carrying the code.
                        "OTP" => true,
                        _ => false,
                    };
                    let label = format!("button[{i}]");
                    match (needs_param, sent_button) {
                        (true, None) => out.push(problem(
                            132000,
                            &label,
                            format!("the {btype} button needs its text parameter (index {i})"),
                        )),
                        (true, Some(s)) => {
                            let ps = params_of(s);
                            if ps.len() != 1 || ps[0]["type"].as_str() != Some("text") {
                                out.push(problem(
                                    132012,
                                    &label,
                                    "a URL/OTP button takes exactly one text parameter".into(),
                                ));
                            } else if is_auth
                                && ps[0]["text"]
                                    .as_str()
                                    .is_some_and(|t| t.chars().count() > MAX_AUTH_PARAMETER)
                            {
                                out.push(problem(132012, &label, format!("authentication codes are at most {MAX_AUTH_PARAMETER} characters")));
                            }
                        }
                        (false, Some(s)) if btype == "QUICK_REPLY" => {
                            if params_of(s)
                                .iter()
                                .any(|p| p["type"].as_str() != Some("payload"))
                            {
                                out.push(problem(
                                    132012,
                                    &label,
                                    "a quick-reply button takes a payload parameter".into(),
                                ));
                            }
                        }
                        (false, Some(_)) => out.push(problem(
                            132000,
                            &label,
                            format!("the {btype} button takes no parameter"),
                        )),
                        (false, None) => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn params_of(c: &Value) -> Vec<Value> {
    c["parameters"].as_array().cloned().unwrap_or_default()
}

fn index_of(c: &Value) -> Option<usize> {
    match &c["index"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        _ => None,
    }
}

/// The variables of a text in order of first appearance, deduplicated.
fn variables(text: &str) -> Vec<Key> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Key> = Vec::new();
    for p in scan(&chars).placeholders {
        if p.key != Key::Unusable && !out.contains(&p.key) {
            out.push(p.key);
        }
    }
    out
}

fn check_text_params(
    out: &mut Vec<SendProblem>,
    component: &str,
    wanted: &[Key],
    params: &[Value],
    is_auth: bool,
) {
    if params.len() != wanted.len() {
        out.push(problem(
            132000,
            component,
            format!(
                "the {component} has {} variable(s); {} parameter(s) were given",
                wanted.len(),
                params.len()
            ),
        ));
        return;
    }
    let named = wanted.iter().any(|k| matches!(k, Key::Named(_)));
    for p in params {
        let ptype = p["type"].as_str().unwrap_or("");
        if !matches!(ptype, "text" | "currency" | "date_time") {
            out.push(problem(
                132012,
                component,
                format!("{component} parameters are text, currency or date_time; got {ptype:?}"),
            ));
        }
        if ptype == "text" && !p["text"].is_string() {
            out.push(problem(
                132012,
                component,
                "a text parameter needs its \"text\"".into(),
            ));
        }
        if is_auth
            && p["text"]
                .as_str()
                .is_some_and(|t| t.chars().count() > MAX_AUTH_PARAMETER)
        {
            out.push(problem(
                132012,
                component,
                format!("authentication parameters are at most {MAX_AUTH_PARAMETER} characters"),
            ));
        }
        if named {
            let name = p["parameter_name"].as_str().unwrap_or("");
            if !wanted
                .iter()
                .any(|k| matches!(k, Key::Named(n) if n == name))
            {
                out.push(problem(132012, component, format!("no variable {{{{{name}}}}} in the {component}; named templates need parameter_name on every parameter")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::template::parse_json;

    fn order_shipped() -> Template {
        parse_json(&json!({
            "name": "order_shipped", "language": "en_US", "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::x"]}},
                {"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped.", "example": {"body_text": [["Ana", "4471"]]}},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop updates"},
                    {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}", "example": ["4471"]}]}
            ]
        }).to_string()).unwrap()
    }

    fn good() -> Value {
        json!([
            {"type": "header", "parameters": [{"type": "image", "image": {"id": "900000000000010"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "4471"}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "optout"}]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "4471"}]}
        ])
    }

    fn codes(v: &[SendProblem]) -> Vec<u32> {
        v.iter().map(|p| p.code).collect()
    }

    #[test]
    fn a_matching_send_passes() {
        assert!(validate_send(&order_shipped(), "APPROVED", &good()).is_empty());
    }

    #[test]
    fn status_problems() {
        assert_eq!(
            codes(&validate_send(&order_shipped(), "PENDING", &good())),
            [132001]
        );
        assert_eq!(
            codes(&validate_send(&order_shipped(), "PAUSED", &good())),
            [132015]
        );
        assert_eq!(
            codes(&validate_send(&order_shipped(), "DISABLED", &good())),
            [132016]
        );
    }

    #[test]
    fn count_and_format_mismatches() {
        let mut c = good();
        c[1]["parameters"].as_array_mut().unwrap().pop();
        assert_eq!(
            codes(&validate_send(&order_shipped(), "APPROVED", &c)),
            [132000]
        );
        let mut c = good();
        c[0]["parameters"][0] = json!({"type": "text", "text": "not an image"});
        assert_eq!(
            codes(&validate_send(&order_shipped(), "APPROVED", &c)),
            [132012]
        );
        let mut c = good();
        c.as_array_mut().unwrap().pop();
        assert_eq!(
            codes(&validate_send(&order_shipped(), "APPROVED", &c)),
            [132000],
            "URL button parameter missing"
        );
        let mut c = good();
        c[1]["parameters"][0] = json!({"type": "image", "image": {"id": "1"}});
        assert_eq!(
            codes(&validate_send(&order_shipped(), "APPROVED", &c)),
            [132012]
        );
        let mut c = good();
        c[1]["parameters"][0]["text"] = json!("x".repeat(1100));
        assert_eq!(
            codes(&validate_send(&order_shipped(), "APPROVED", &c)),
            [132005]
        );
    }

    #[test]
    fn named_and_authentication_templates() {
        let named = parse_json(&json!({"name": "welcome", "language": "en", "category": "UTILITY", "parameter_format": "named",
            "components": [{"type": "BODY", "text": "Hi {{first_name}}, welcome back.",
                            "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]}}]}).to_string()).unwrap();
        let ok = json!([{"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Ana"}]}]);
        assert!(validate_send(&named, "APPROVED", &ok).is_empty());
        let wrong = json!([{"type": "body", "parameters": [{"type": "text", "parameter_name": "name", "text": "Ana"}]}]);
        assert_eq!(codes(&validate_send(&named, "APPROVED", &wrong)), [132012]);

        let auth = parse_json(&json!({"name": "login_code", "language": "en", "category": "AUTHENTICATION",
            "components": [{"type": "BODY", "add_security_recommendation": true},
                           {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}).to_string()).unwrap();
        let send = |code: &str| {
            json!([{"type": "body", "parameters": [{"type": "text", "text": code}]},
                                       {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": code}]}])
        };
        assert!(validate_send(&auth, "APPROVED", &send("493021")).is_empty());
        let problems = validate_send(&auth, "APPROVED", &send("1234567890123456"));
        assert!(
            problems.iter().all(|p| p.code == 132012) && !problems.is_empty(),
            "{problems:?}"
        );
    }
}
