//! AUTHENTICATION templates use Meta's preset format: preset body ("<code> is your verification
//! code."), optional security disclaimer and expiry footer, and one OTP button; no URLs, media or
//! emoji; parameters of at most 15 characters (§6.5, §6.6).

use super::Parts;
use crate::template::catalog::*;
use crate::template::finding::Finding;
use crate::template::model::{scalar_text, Button};
use crate::template::placeholder::Key;
use crate::template::text::{emoji_spans, urls};

const PARAMETER_MAX: usize = 15;
const PACKAGE_NAME_MAX: usize = 224;
const SIGNATURE_HASH_LEN: usize = 11;

pub(super) fn check(p: &Parts, out: &mut Vec<Finding>) {
    preset(p, out);
    no_urls_or_emoji(p, out);
    parameters(p, out);
    expiry(p, out);
    buttons(p, out);
}

fn preset(p: &Parts, out: &mut Vec<Finding>) {
    if let Some(f) = p.header_format.as_deref().filter(|f| *f != "TEXT") {
        out.push(
            Finding::new(
                AUTH_NO_MEDIA,
                "HEADER",
                format!("authentication templates have no media or location header; this one is {f} (§6.6)"),
            )
            .help("remove the header"),
        );
    }
    let custom = [
        ("HEADER", p.header_text.is_some(), "a header"),
        ("BODY", p.body_text.is_some(), "body text"),
        ("FOOTER", p.footer_text.is_some(), "footer text"),
    ];
    for (component, present, what) in custom {
        if present {
            out.push(
                Finding::new(
                    AUTH_CUSTOM_TEXT,
                    component,
                    format!("authentication templates use Meta's preset text (“<code> is your verification code.”); {what} of your own is not part of the preset format (§6.5)"),
                )
                .help(match component {
                    "BODY" => "remove \"text\" and set \"add_security_recommendation\": true for the disclaimer",
                    "FOOTER" => "remove \"text\" and set \"code_expiration_minutes\" for the expiry line",
                    _ => "remove the header",
                }),
            );
        }
    }
}

fn no_urls_or_emoji(p: &Parts, out: &mut Vec<Finding>) {
    for (component, text) in p.all_texts() {
        if !component.starts_with("BUTTONS") {
            for (s, e, _) in urls(&text.chars) {
                out.push(
                    Finding::new(
                        AUTH_NO_URL,
                        component.clone(),
                        "authentication templates cannot contain URLs (§6.6)",
                    )
                    .at(s, e)
                    .help("remove the link; the OTP button delivers the code"),
                );
            }
        }
        for (s, e) in emoji_spans(&text.chars) {
            out.push(
                Finding::new(
                    AUTH_NO_EMOJI,
                    component.clone(),
                    "authentication templates cannot contain emoji (§6.6)",
                )
                .at(s, e)
                .help("remove the emoji"),
            );
        }
    }
}

/// Example values stand for the code: at most 15 characters (§6.4, §4.3).
fn parameters(p: &Parts, out: &mut Vec<Finding>) {
    let (Some(body), Some(component)) = (&p.body_text, p.body) else {
        return;
    };
    let example = component.example.as_ref();
    let positional: Vec<String> = match example.and_then(|e| e.body_text.as_ref()) {
        Some(serde_json::Value::Array(rows)) => match rows.first() {
            Some(serde_json::Value::Array(row)) => row.iter().filter_map(scalar_text).collect(),
            _ => rows.iter().filter_map(scalar_text).collect(),
        },
        _ => Vec::new(),
    };
    let named: Vec<(String, String)> = example
        .and_then(|e| e.body_text_named_params.as_ref())
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((
                        o.get("param_name")?.as_str()?.to_string(),
                        o.get("example").and_then(scalar_text)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut reported: Vec<&Key> = Vec::new();
    for ph in &body.placeholders {
        if reported.contains(&&ph.key) {
            continue;
        }
        let value = match &ph.key {
            Key::Positional(n) => (*n as usize).checked_sub(1).and_then(|i| positional.get(i)),
            Key::Named(name) => named.iter().find(|(p, _)| p == name).map(|(_, v)| v),
            Key::Unusable => None,
        };
        if let Some(v) = value.filter(|v| v.chars().count() > PARAMETER_MAX) {
            reported.push(&ph.key);
            out.push(
                Finding::new(
                    AUTH_PARAMETER_LENGTH,
                    "BODY",
                    format!("the example “{v}” is {} characters; authentication parameters are at most {PARAMETER_MAX} (§6.4)", v.chars().count()),
                )
                .at(ph.start, ph.end)
                .help(format!("use a code of at most {PARAMETER_MAX} characters, e.g. \"482913\"")),
            );
        }
    }
}

fn expiry(p: &Parts, out: &mut Vec<Finding>) {
    let minutes = p.footer.and_then(|f| f.code_expiration_minutes);
    if let Some(m) = minutes.filter(|m| !(1..=90).contains(m)) {
        out.push(
            Finding::new(
                AUTH_CODE_EXPIRATION,
                "FOOTER",
                format!("code_expiration_minutes must be 1–90; got {m} (§6.6)"),
            )
            .help(format!(
                "set \"code_expiration_minutes\": {}",
                m.clamp(1, 90)
            )),
        );
    }
    let (Some(ttl), Some(m)) = (
        p.template.message_send_ttl_seconds,
        minutes.filter(|m| (1..=90).contains(m)),
    ) else {
        return;
    };
    if ttl > m * 60 {
        out.push(
            Finding::new(
                AUTH_TTL_EXCEEDS_EXPIRY,
                "message_send_ttl_seconds",
                format!("the message can be delivered up to {ttl} s after sending, but its code expires after {m} min: a late delivery carries a dead code (§6.6)"),
            )
            .help(format!("set message_send_ttl_seconds to at most {}", m * 60)),
        );
    }
}

fn buttons(p: &Parts, out: &mut Vec<Finding>) {
    let otp: Vec<(usize, &Button)> = p
        .buttons
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind_upper() == "OTP")
        .collect();
    if otp.is_empty() {
        out.push(
            Finding::new(
                AUTH_OTP_BUTTON,
                "BUTTONS",
                "authentication templates need an OTP button (copy code, one-tap or zero-tap) (§6.5)",
            )
            .help("add {\"type\": \"BUTTONS\", \"buttons\": [{\"type\": \"OTP\", \"otp_type\": \"COPY_CODE\", \"text\": \"Copy code\"}]}"),
        );
    }
    for (i, b) in p.buttons.iter().enumerate() {
        let kind = b.kind_upper();
        if kind != "OTP" {
            out.push(
                Finding::new(
                    AUTH_OTP_BUTTON,
                    format!("BUTTONS[{i}]"),
                    format!("authentication templates take exactly one OTP button; remove this {} button (§6.6)", if kind.is_empty() { "untyped" } else { &kind }),
                )
                .help("keep only the OTP button"),
            );
        } else if otp.first().is_some_and(|(first, _)| *first != i) {
            out.push(
                Finding::new(
                    AUTH_OTP_BUTTON,
                    format!("BUTTONS[{i}]"),
                    "authentication templates take exactly one OTP button",
                )
                .help("remove the extra OTP button"),
            );
        }
    }
    if let Some(&(i, b)) = otp.first() {
        otp_button(i, b, out);
    }
}

fn otp_button(i: usize, b: &Button, out: &mut Vec<Finding>) {
    let name = format!("BUTTONS[{i}]");
    let otp_type = b
        .otp_type
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    match otp_type.as_str() {
        "COPY_CODE" => {}
        "ONE_TAP" | "ZERO_TAP" => apps(&name, b, &otp_type, out),
        _ => {
            out.push(
                Finding::new(
                    AUTH_OTP_TYPE,
                    name.clone(),
                    format!(
                        "otp_type {} is not COPY_CODE, ONE_TAP or ZERO_TAP (§6.6)",
                        b.otp_type
                            .as_deref()
                            .map_or("is missing and".into(), |t| format!("“{t}”"))
                    ),
                )
                .help(
                    "set \"otp_type\": \"COPY_CODE\" (or ONE_TAP / ZERO_TAP with supported_apps)",
                ),
            );
        }
    }
}

/// One-tap and zero-tap hand the code to an Android app: Meta needs the app's package name and
/// its 11-character signing-key hash (§6.6).
fn apps(name: &str, b: &Button, otp_type: &str, out: &mut Vec<Finding>) {
    let mut apps: Vec<(Option<&str>, Option<&str>)> = b
        .supported_apps
        .iter()
        .flatten()
        .map(|a| (a.package_name.as_deref(), a.signature_hash.as_deref()))
        .collect();
    if apps.is_empty() && (b.package_name.is_some() || b.signature_hash.is_some()) {
        apps.push((b.package_name.as_deref(), b.signature_hash.as_deref()));
    }
    if apps.is_empty() {
        out.push(
            Finding::new(
                AUTH_SUPPORTED_APPS,
                name,
                format!("a {otp_type} button needs \"supported_apps\": the Android app that receives the code (§6.6)"),
            )
            .help("add \"supported_apps\": [{\"package_name\": \"com.example.app\", \"signature_hash\": \"K8a/AINcGX7\"}]"),
        );
    }
    for (j, (package, hash)) in apps.iter().enumerate() {
        let package = package.unwrap_or_default().trim();
        if package.is_empty() || package.chars().count() > PACKAGE_NAME_MAX {
            out.push(
                Finding::new(
                    AUTH_SUPPORTED_APPS,
                    name,
                    format!("supported app {j}: package_name must be 1–{PACKAGE_NAME_MAX} characters (§6.6)"),
                )
                .help("write the Android package name, e.g. \"com.example.app\""),
            );
        }
        let hash = hash.unwrap_or_default();
        if hash.chars().count() != SIGNATURE_HASH_LEN {
            out.push(
                Finding::new(
                    AUTH_SIGNATURE_HASH,
                    name,
                    format!("supported app {j}: signature_hash must be exactly {SIGNATURE_HASH_LEN} characters; got {} (§6.6)", hash.chars().count()),
                )
                .help("compute the app's 11-character hash from its signing key (Android SMS Retriever's AppSignatureHelper)"),
            );
        }
    }
    if otp_type == "ZERO_TAP" && b.zero_tap_terms_accepted != Some(true) {
        out.push(
            Finding::new(
                AUTH_ZERO_TAP_TERMS,
                name,
                "zero-tap buttons require \"zero_tap_terms_accepted\": true (§6.6)",
            )
            .help("accept Meta's zero-tap terms and set \"zero_tap_terms_accepted\": true"),
        );
    }
}
