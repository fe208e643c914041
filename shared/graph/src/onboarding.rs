//! Phone-number onboarding calls (reference §7.1 steps 7, 8 and 10, §7.2, §1.9):
//! request and verify the ownership code, register for Cloud API, subscribe
//! the app to the WABA's webhooks and read the number's status.
//!
//! Every call sends `Authorization: Bearer {token}`, checks the ids are
//! numeric before any request is made, and maps Meta's error envelope to
//! [`GraphError`] like the other calls (401 / 190 → `TokenExpired`).

use serde::Deserialize;
use serde_json::Value;

use crate::client::{check_numeric_id, GraphClient};
use crate::error::{GraphError, NO_ERROR_CODE};

/// Fields [`GraphClient::phone_number`] asks for (reference §7.1 step 10,
/// §4.5 throughput and messaging limits).
pub(crate) const PHONE_NUMBER_FIELDS: &str = "status,quality_rating,verified_name,name_status,code_verification_status,display_phone_number,throughput,whatsapp_business_manager_messaging_limit";

/// Code delivery methods Meta documents for `request_code` (`IVR` appears in
/// the current Graph reference next to `SMS` and `VOICE`).
pub(crate) const CODE_METHODS: [&str; 3] = ["SMS", "VOICE", "IVR"];

/// Answer of `GET /{PHONE_NUMBER_ID}?fields=…`. Everything but `id` is
/// optional (Meta omits fields it has no value for, and the enums grow), and
/// unknown fields are kept in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumberInfo {
    /// The phone number id (Meta sends a string; a number is accepted too).
    pub id: String,
    /// `CONNECTED` once registered; also `PENDING`, `DISCONNECTED`,
    /// `FLAGGED`, `RESTRICTED`, `MIGRATED`, … .
    pub status: Option<String>,
    /// `GREEN` | `YELLOW` | `RED` (High / Medium / Low), or `UNKNOWN`.
    pub quality_rating: Option<String>,
    /// The display name.
    pub verified_name: Option<String>,
    /// Display-name review: `APPROVED` | `DECLINED` | `PENDING_REVIEW` |
    /// `AVAILABLE_WITHOUT_REVIEW` | `EXPIRED` | `NONE` | … (reference §7.3, §2.9).
    pub name_status: Option<String>,
    /// `VERIFIED` | `NOT_VERIFIED` | `EXPIRED`.
    pub code_verification_status: Option<String>,
    /// E.g. `+1 555-010-0001`.
    pub display_phone_number: Option<String>,
    /// `throughput.level`, e.g. `STANDARD` or `HIGH`.
    pub throughput_level: Option<String>,
    /// `whatsapp_business_manager_messaging_limit` (`TIER_250`, `TIER_2K`, …
    /// `TIER_UNLIMITED`), falling back to the deprecated `messaging_limit_tier`.
    pub messaging_limit: Option<String>,
    /// The whole answer, for fields not modelled here.
    pub raw: Value,
}

impl PhoneNumberInfo {
    /// Parse Meta's answer; `id` is required and non-empty, every other field
    /// is read leniently (absent, `null` or not a string → `None`).
    pub(crate) fn from_body(body: &[u8]) -> Result<PhoneNumberInfo, String> {
        let raw: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        if !raw.is_object() {
            return Err("phone number answer is not a JSON object".to_owned());
        }
        let id = match raw.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) if id.is_u64() || id.is_i64() => id.to_string(),
            _ => return Err("phone number answer has no id".to_owned()),
        };
        if id.is_empty() {
            return Err("phone number id is empty".to_owned());
        }
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        Ok(PhoneNumberInfo {
            id,
            status: text(raw.get("status")),
            quality_rating: text(raw.get("quality_rating")),
            verified_name: text(raw.get("verified_name")),
            name_status: text(raw.get("name_status")),
            code_verification_status: text(raw.get("code_verification_status")),
            display_phone_number: text(raw.get("display_phone_number")),
            throughput_level: text(raw.get("throughput").and_then(|t| t.get("level"))),
            messaging_limit: text(raw.get("whatsapp_business_manager_messaging_limit"))
                .or_else(|| text(raw.get("messaging_limit_tier"))),
            raw,
        })
    }
}

impl GraphClient {
    /// `POST {base}/{version}/{phone_number_id}/request_code?code_method=…&language=…`
    /// (reference §7.1 step 7) → `{"success": true}`: Meta sends the
    /// ownership code to the number by SMS or voice call.
    ///
    /// `code_method` and `language` go in the **query string**, as both the
    /// reference and Meta's Graph reference for this edge show them (the body
    /// is an empty JSON object). `code_method` must be `SMS`, `VOICE` or
    /// `IVR`; `language` a locale such as `en_US`; `phone_number_id` all
    /// digits — all checked before any request is made.
    ///
    /// Errors: 136024 "Request code error" (Meta could not send the code),
    /// 100 invalid parameter, 4 / 80007 rate limits; expired tokens as
    /// [`GraphError::TokenExpired`]. Not retried here: every successful call
    /// sends another SMS or call, and Meta throttles code requests.
    pub async fn request_code(
        &self,
        token: &str,
        phone_number_id: &str,
        code_method: &str,
        language: &str,
    ) -> Result<(), GraphError> {
        check_numeric_id("phone_number_id", phone_number_id)?;
        if !CODE_METHODS.contains(&code_method) {
            return Err(GraphError::InvalidInput(format!(
                "code_method must be one of {}",
                CODE_METHODS.join(", ")
            )));
        }
        check_locale(language)?;
        let query = [("code_method", code_method), ("language", language)];
        let body = self
            .post_json(
                token,
                phone_number_id,
                "request_code",
                &query,
                &serde_json::json!({}),
            )
            .await?;
        expect_success(&body)
    }

    /// `POST {base}/{version}/{phone_number_id}/verify_code` with
    /// `{"code": "<code>"}` (reference §7.1 step 7) → `{"success": true}`;
    /// the number's `code_verification_status` becomes `VERIFIED`.
    ///
    /// `code` must be 1–16 ASCII digits (the code as received, without
    /// separators; it is never included in errors). A wrong or stale code is
    /// [`GraphError::Api`] with status 400 (see `GraphFake` for the codes it
    /// uses); not retried here.
    pub async fn verify_code(
        &self,
        token: &str,
        phone_number_id: &str,
        code: &str,
    ) -> Result<(), GraphError> {
        check_numeric_id("phone_number_id", phone_number_id)?;
        if code.is_empty() || code.len() > 16 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GraphError::InvalidInput(
                "verification code must be 1-16 decimal digits".to_owned(),
            ));
        }
        let body = self
            .post_json(
                token,
                phone_number_id,
                "verify_code",
                &[],
                &serde_json::json!({ "code": code }),
            )
            .await?;
        expect_success(&body)
    }

    /// `POST {base}/{version}/{phone_number_id}/register` with
    /// `{"messaging_product":"whatsapp","pin":"<6 digits>"}` (reference §7.1
    /// step 8, §7.2 step 3) → `{"success": true}`; the number's `status`
    /// becomes `CONNECTED`. The PIN sets (first registration) or must equal
    /// the number's two-step verification PIN.
    ///
    /// `pin` must be exactly 6 ASCII digits (checked before any request; it
    /// is never included in errors). Meta's rejections, by [`GraphError::code`]:
    /// 133006 the number must be (re-)verified first (`request_code` /
    /// `verify_code`), 133005 PIN mismatch, 133008 / 133009 too many / too
    /// fast PIN attempts, 133016 more than 10 register/deregister calls in
    /// 72 h, 133015 number recently deleted (wait 5 min), 133000 incomplete
    /// deregistration. Not retried here: every call counts toward the
    /// 10-per-72 h limit.
    pub async fn register(
        &self,
        token: &str,
        phone_number_id: &str,
        pin: &str,
    ) -> Result<(), GraphError> {
        check_numeric_id("phone_number_id", phone_number_id)?;
        if !is_pin(pin) {
            return Err(GraphError::InvalidInput(
                "pin must be exactly 6 decimal digits".to_owned(),
            ));
        }
        let body = self
            .post_json(
                token,
                phone_number_id,
                "register",
                &[],
                &serde_json::json!({ "messaging_product": "whatsapp", "pin": pin }),
            )
            .await?;
        expect_success(&body)
    }

    /// `POST {base}/{version}/{waba_id}/subscribed_apps` (reference §1.9,
    /// §7.2 step 2) → `{"success": true}`: subscribes the token's app to the
    /// WABA's webhooks. Sent without an override, so it also removes a WABA
    /// callback override. Idempotent (safe to retry); counts toward the
    /// 200 req/h per-WABA Graph limit (error 4 / 80007).
    pub async fn subscribe_app(&self, token: &str, waba_id: &str) -> Result<(), GraphError> {
        check_numeric_id("waba_id", waba_id)?;
        let body = self
            .post_json(
                token,
                waba_id,
                "subscribed_apps",
                &[],
                &serde_json::json!({}),
            )
            .await?;
        expect_success(&body)
    }

    /// `GET {base}/{version}/{waba_id}/subscribed_apps` (reference §1.9) →
    /// the `data` array, one entry per subscribed app:
    /// `{"whatsapp_business_api_data":{"id","name","link"},
    /// "override_callback_uri"?}`. Empty when no app is subscribed. Only the
    /// first page is read (a WABA has a handful of apps at most).
    pub async fn subscribed_apps(
        &self,
        token: &str,
        waba_id: &str,
    ) -> Result<Vec<Value>, GraphError> {
        check_numeric_id("waba_id", waba_id)?;
        let body = self
            .get_json(token, waba_id, Some("subscribed_apps"), &[])
            .await?;
        #[derive(Deserialize)]
        struct Page {
            data: Vec<Value>,
        }
        serde_json::from_slice::<Page>(&body)
            .map(|page| page.data)
            .map_err(|e| GraphError::Decode(e.to_string()))
    }

    /// `GET {base}/{version}/{phone_number_id}?fields=status,quality_rating,
    /// verified_name,name_status,code_verification_status,display_phone_number,
    /// throughput,whatsapp_business_manager_messaging_limit` (reference §7.1
    /// step 10, §4.5) → [`PhoneNumberInfo`]. Ready to message means `status`
    /// `CONNECTED` and `code_verification_status` `VERIFIED`. Read-only, so
    /// safe to retry when [`GraphError::is_retryable`].
    pub async fn phone_number(
        &self,
        token: &str,
        phone_number_id: &str,
    ) -> Result<PhoneNumberInfo, GraphError> {
        check_numeric_id("phone_number_id", phone_number_id)?;
        let body = self
            .get_json(
                token,
                phone_number_id,
                None,
                &[("fields", PHONE_NUMBER_FIELDS)],
            )
            .await?;
        PhoneNumberInfo::from_body(&body).map_err(GraphError::Decode)
    }
}

/// Exactly six ASCII digits (Meta's two-step verification PIN).
pub(crate) fn is_pin(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A locale such as `en`, `en_US` or `zh_HK`: 2–16 ASCII letters, digits and
/// underscores, starting with a letter.
fn check_locale(language: &str) -> Result<(), GraphError> {
    let ok = (2..=16).contains(&language.len())
        && language.starts_with(|c: char| c.is_ascii_alphabetic())
        && language
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(GraphError::InvalidInput(
            "language must be a locale such as en_US".to_owned(),
        ))
    }
}

/// `{"success": true}`. A well-formed `{"success": false}` is reported as
/// [`GraphError::Api`] with the HTTP status 200 and no Meta code.
fn expect_success(body: &[u8]) -> Result<(), GraphError> {
    #[derive(Deserialize)]
    struct Answer {
        success: bool,
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer { success: true }) => Ok(()),
        Ok(Answer { success: false }) => Err(GraphError::Api {
            status: 200,
            code: NO_ERROR_CODE,
            message: "graph answered {\"success\": false}".to_owned(),
            details: None,
            fbtrace_id: None,
        }),
        Err(e) => Err(GraphError::Decode(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_number_info_reads_metas_answer() {
        let body = br#"{"verified_name":"Example Mugs","code_verification_status":"VERIFIED","display_phone_number":"+1 555-010-0001","quality_rating":"GREEN","name_status":"APPROVED","status":"CONNECTED","throughput":{"level":"STANDARD"},"whatsapp_business_manager_messaging_limit":"TIER_250","platform_type":"CLOUD_API","id":"106540352242922"}"#;
        let info = PhoneNumberInfo::from_body(body).unwrap();
        assert_eq!(info.id, "106540352242922");
        assert_eq!(info.status.as_deref(), Some("CONNECTED"));
        assert_eq!(info.quality_rating.as_deref(), Some("GREEN"));
        assert_eq!(info.verified_name.as_deref(), Some("Example Mugs"));
        assert_eq!(info.name_status.as_deref(), Some("APPROVED"));
        assert_eq!(info.code_verification_status.as_deref(), Some("VERIFIED"));
        assert_eq!(
            info.display_phone_number.as_deref(),
            Some("+1 555-010-0001")
        );
        assert_eq!(info.throughput_level.as_deref(), Some("STANDARD"));
        assert_eq!(info.messaging_limit.as_deref(), Some("TIER_250"));
        assert_eq!(info.raw["platform_type"], "CLOUD_API");
    }

    #[test]
    fn phone_number_info_is_lenient_except_for_id() {
        let info = PhoneNumberInfo::from_body(
            br#"{"id":106540352242922,"status":null,"throughput":"odd","messaging_limit_tier":"TIER_1K","new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(info.id, "106540352242922");
        assert_eq!(info.status, None);
        assert_eq!(info.throughput_level, None);
        assert_eq!(info.messaging_limit.as_deref(), Some("TIER_1K"));
        assert_eq!(info.raw["new_field"]["x"], 1);
        for bad in [
            &br#"{"status":"CONNECTED"}"#[..],
            br#"{"id":""}"#,
            br#"{"id":null}"#,
            br#"{"id":1.5}"#,
            br#"[]"#,
            b"not json",
        ] {
            assert!(
                PhoneNumberInfo::from_body(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn success_answers() {
        assert!(expect_success(br#"{"success":true}"#).is_ok());
        let refused = expect_success(br#"{"success":false}"#).unwrap_err();
        assert!(matches!(refused, GraphError::Api { status: 200, .. }));
        assert_eq!(refused.code(), None);
        assert!(matches!(
            expect_success(br#"{"id":"1"}"#),
            Err(GraphError::Decode(_))
        ));
    }

    #[test]
    fn pin_and_locale_checks() {
        assert!(is_pin("000000") && is_pin("123456"));
        for bad in ["", "12345", "1234567", "12345a", "12 456", "١٢٣٤٥٦"] {
            assert!(!is_pin(bad), "{bad}");
        }
        for ok in ["en", "en_US", "pt_BR", "zh_HK"] {
            assert!(check_locale(ok).is_ok(), "{ok}");
        }
        for bad in ["", "e", "en-US&x=1", "_en", "en US", &"a".repeat(17)] {
            assert!(check_locale(bad).is_err(), "{bad}");
        }
    }
}
