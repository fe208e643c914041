//! Every rule the linter knows, with its stable id and severity. The id is the contract with the
//! editor, the API and CI; docs/template-rules.md explains each one (a test keeps the two in step).

use serde::Serialize;

use super::finding::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $severity:ident, $summary:literal;)*) => {
        $(pub(crate) const $name: Rule = Rule { id: $id, severity: Severity::$severity, summary: $summary };)*
        /// All rules, in documentation order.
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    NAME_MISSING = "name.missing", Error, "the template has no name";
    NAME_FORMAT = "name.format", Error, "name is not lowercase alphanumerics and underscores";
    NAME_LENGTH = "name.length", Error, "name longer than 512 characters";
    LANGUAGE_MISSING = "language.missing", Error, "no language code";
    LANGUAGE_FORMAT = "language.format", Error, "language code is not like en, en_US, pt_BR";
    LANGUAGE_UNSUPPORTED = "language.unsupported", Warning, "language code not in Meta's supported list";
    CATEGORY_MISSING = "category.missing", Error, "no category";
    CATEGORY_UNKNOWN = "category.unknown", Error, "category is not UTILITY, MARKETING or AUTHENTICATION";
    PARAMETER_FORMAT_UNKNOWN = "parameter_format.unknown", Error, "parameter_format is not positional or named";
    TTL_RANGE = "ttl.range", Error, "message_send_ttl_seconds outside the category's range";

    COMPONENT_UNKNOWN_TYPE = "component.unknown_type", Error, "component type is not HEADER, BODY, FOOTER or BUTTONS";
    COMPONENT_DUPLICATE = "component.duplicate", Error, "more than one component of a type";
    BODY_MISSING = "body.missing", Error, "no body, or a body without text";
    BODY_LENGTH = "body.length", Error, "body longer than 1024 characters";
    BODY_HYDRATED_LENGTH = "body.hydrated_length", Warning, "body with example values longer than 1024 characters";
    HEADER_FORMAT = "header.format", Error, "header format missing or unknown, or text header without text";
    HEADER_LENGTH = "header.length", Error, "header text longer than 60 characters";
    HEADER_VARIABLE_COUNT = "header.variable_count", Error, "more than one variable in the header";
    HEADER_MARKDOWN = "header.markdown", Error, "formatting markup in the header";
    HEADER_MEDIA_EXAMPLE = "header.media_example", Error, "media header without an example handle";
    HEADER_GIF = "header.gif", Warning, "GIF header outside the Marketing Messages API";
    FOOTER_LENGTH = "footer.length", Error, "footer longer than 60 characters";
    FOOTER_VARIABLE = "footer.variable", Error, "variable in the footer";

    BUTTONS_EMPTY = "buttons.empty", Error, "BUTTONS component without buttons";
    BUTTONS_COUNT = "buttons.count", Error, "more than 10 buttons";
    BUTTONS_TYPE_COUNT = "buttons.type_count", Error, "too many buttons of one type";
    BUTTONS_QUICK_REPLY_GROUPING = "buttons.quick_reply_grouping", Error, "quick replies not grouped together";
    BUTTON_UNKNOWN_TYPE = "button.unknown_type", Warning, "button type this linter does not know";
    BUTTON_LABEL_MISSING = "button.label_missing", Error, "button without a label";
    BUTTON_LABEL_LENGTH = "button.label_length", Error, "button label longer than 25 characters";
    BUTTON_URL_FORMAT = "button.url_format", Error, "URL button without an http(s) URL";
    BUTTON_URL_LENGTH = "button.url_length", Error, "URL longer than 2000 characters";
    BUTTON_URL_VARIABLE = "button.url_variable", Error, "URL variable not single or not at the end";
    BUTTON_URL_EXAMPLE = "button.url_example", Error, "URL variable without an example";
    BUTTON_PHONE_FORMAT = "button.phone_format", Error, "phone number not in international format";
    BUTTON_COPY_CODE_EXAMPLE = "button.copy_code_example", Error, "copy-code button example missing or longer than 15";

    VARIABLE_MALFORMED = "variable.malformed", Error, "missing or mismatched braces";
    VARIABLE_SPECIAL_CHARS = "variable.special_chars", Error, "special characters inside a placeholder";
    VARIABLE_WHITESPACE = "variable.whitespace", Error, "whitespace inside a placeholder";
    VARIABLE_SEQUENCE = "variable.sequence", Error, "positional variables not numbered 1, 2, 3…";
    VARIABLE_MIXED = "variable.mixed", Error, "named and positional variables mixed";
    VARIABLE_FORMAT_MISMATCH = "variable.format_mismatch", Error, "variables do not match parameter_format";
    VARIABLE_NAMED_FORMAT = "variable.named_format", Error, "named variable not lowercase letters and underscores";
    VARIABLE_NAMED_DUPLICATE = "variable.named_duplicate", Error, "named variable used twice in a component";
    VARIABLE_ADJACENT = "variable.adjacent", Error, "two variables with nothing between them";
    BODY_VARIABLE_AT_EDGE = "body.variable_at_edge", Error, "body starts or ends with a variable (2388299)";
    BODY_VARIABLE_RATIO = "body.variable_ratio", Error, "body is mostly variables (2388293)";
    BODY_VARIABLE_DENSITY = "body.variable_density", Warning, "few words per variable (2388293 risk)";
    EXAMPLE_MISSING = "example.missing", Error, "variable without an example value";
    EXAMPLE_EXTRA = "example.extra", Warning, "example value for no variable";
    EXAMPLE_EMPTY = "example.empty", Error, "empty example value";
    EXAMPLE_SHAPE = "example.shape", Error, "example in the wrong JSON shape";

    CONTENT_PROMOTIONAL = "content.promotional", Warning, "promotional language in a UTILITY template";
    CONTENT_PRESSURE = "content.pressure", Warning, "urgency or pressure wording";
    CONTENT_SHOUTING = "content.shouting", Warning, "word in ALL CAPS";
    CONTENT_PUNCTUATION = "content.punctuation", Warning, "repeated !!! or ???";
    CONTENT_EMOJI = "content.emoji", Warning, "too many emoji";
    CONTENT_URL_SHORTENER = "content.url_shortener", Error, "shortened URL";
    CONTENT_SENSITIVE_REQUEST = "content.sensitive_request", Error, "asks for a full card, account or national id number";
    CATEGORY_OTP_OUTSIDE_AUTH = "category.otp_outside_auth", Error, "one-time passcode outside AUTHENTICATION";
    UTILITY_USER_CONTEXT = "utility.user_context", Warning, "UTILITY template with nothing specific to the user";

    AUTH_OTP_BUTTON = "auth.otp_button", Error, "authentication template without exactly one OTP button";
    AUTH_OTP_TYPE = "auth.otp_type", Error, "otp_type not COPY_CODE, ONE_TAP or ZERO_TAP";
    AUTH_SUPPORTED_APPS = "auth.supported_apps", Error, "one-tap/zero-tap without a valid supported app";
    AUTH_SIGNATURE_HASH = "auth.signature_hash", Error, "app signature hash not 11 characters";
    AUTH_ZERO_TAP_TERMS = "auth.zero_tap_terms", Error, "zero-tap without zero_tap_terms_accepted";
    AUTH_NO_URL = "auth.no_url", Error, "URL in an authentication template";
    AUTH_NO_MEDIA = "auth.no_media", Error, "media or location header in an authentication template";
    AUTH_NO_EMOJI = "auth.no_emoji", Error, "emoji in an authentication template";
    AUTH_PARAMETER_LENGTH = "auth.parameter_length", Error, "authentication parameter longer than 15 characters";
    AUTH_CODE_EXPIRATION = "auth.code_expiration", Error, "code_expiration_minutes outside 1–90";
    AUTH_CUSTOM_TEXT = "auth.custom_text", Warning, "text outside Meta's preset authentication format";
    AUTH_TTL_EXCEEDS_EXPIRY = "auth.ttl_exceeds_expiry", Warning, "message outlives the code it carries";

    DUPLICATE_BODY_FOOTER = "duplicate.body_footer", Error, "same body and footer as an existing template";
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
