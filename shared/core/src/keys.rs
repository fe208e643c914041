//! The single-table key design, in one place for both backends (DynamoDB and SQLite).
//!
//! Every key is tenant-scoped (`T#{tenant}#…`) except the routes that find the tenant. GSI1 lists a
//! tenant's conversations by state, GSI2 all of a tenant's conversations, both by last activity.

/// Tenant that keeps events for phone numbers and WABAs nobody has claimed yet.
pub const UNROUTED_TENANT: &str = "unrouted";

pub const ATTR_PK: &str = "pk";
pub const ATTR_SK: &str = "sk";
pub const ATTR_GSI1PK: &str = "gsi1pk";
pub const ATTR_GSI1SK: &str = "gsi1sk";
pub const ATTR_GSI2PK: &str = "gsi2pk";
pub const ATTR_GSI2SK: &str = "gsi2sk";
/// The TTL attribute (unix seconds). Readers treat `expires_at <= now` as gone.
pub const ATTR_EXPIRES_AT: &str = "expires_at";

pub fn phone_route(phone_number_id: &str) -> (String, String) {
    (format!("PN#{phone_number_id}"), "ROUTE".into())
}

pub fn waba_route(waba_id: &str) -> (String, String) {
    (format!("WABA#{waba_id}"), "ROUTE".into())
}

/// The dedupe marker of a processed event.
pub fn processed(tenant: &str, event_key: &str) -> (String, String) {
    (format!("T#{tenant}#EVT#{event_key}"), "EVT".into())
}

/// Maps one identifier (`wa:…`, `bsuid:…`) to the contact id.
pub fn contact_alias(tenant: &str, identifier: &str) -> (String, String) {
    (format!("T#{tenant}#ALIAS#{identifier}"), "ALIAS".into())
}

pub fn contact(tenant: &str, contact_id: &str) -> (String, String) {
    (format!("T#{tenant}#C#{contact_id}"), "CONTACT".into())
}

pub fn conversation(tenant: &str, conversation_id: &str) -> (String, String) {
    (conversation_pk(tenant, conversation_id), "META".into())
}

pub fn conversation_pk(tenant: &str, conversation_id: &str) -> String {
    format!("T#{tenant}#CONV#{conversation_id}")
}

/// Messages sort by Meta's timestamp, then wamid: a listing is oldest first.
pub fn message(tenant: &str, conversation_id: &str, ts: i64, wamid: &str) -> (String, String) {
    (
        conversation_pk(tenant, conversation_id),
        format!("{MESSAGE_PREFIX}{ts:012}#{wamid}"),
    )
}

pub const MESSAGE_PREFIX: &str = "MSG#";

/// Delivery status of an outbound message, by wamid.
pub fn outbound(tenant: &str, wamid: &str) -> (String, String) {
    (format!("T#{tenant}#OUT#{wamid}"), "STATUS".into())
}

pub fn window(tenant: &str, contact_id: &str) -> (String, String) {
    (format!("T#{tenant}#WIN#{contact_id}"), "WINDOW".into())
}

/// Tenant-level notices: template, account and quality updates, async errors, unparsed bodies.
pub fn notice(tenant: &str, field: &str, ts: i64, event_key: &str) -> (String, String) {
    (notices_pk(tenant, field), format!("{ts:012}#{event_key}"))
}

pub fn notices_pk(tenant: &str, field: &str) -> String {
    format!("T#{tenant}#NOTICE#{field}")
}

pub fn conversations_by_state(tenant: &str, state: &str) -> String {
    format!("T#{tenant}#STATE#{state}")
}

pub fn conversations_all(tenant: &str) -> String {
    format!("T#{tenant}#CONVS")
}

/// Sort key on both conversation GSIs: last activity, then id for a stable order.
pub fn activity_sort(last_activity: i64, conversation_id: &str) -> String {
    format!("{last_activity:012}#{conversation_id}")
}

/// The tenant's event log, one partition per UTC day, sorted by time then cause.
pub fn event_log(tenant: &str, at: i64, suffix: &str) -> (String, String) {
    (event_log_pk(tenant, at), format!("{at:012}#{suffix}"))
}

pub fn event_log_pk(tenant: &str, at: i64) -> String {
    format!("T#{tenant}#LOG#{}", civil_date(at))
}

/// Audit trail: who did what, one partition per UTC day.
pub fn audit(tenant: &str, at_ms: i64, id: &str) -> (String, String) {
    (audit_pk(tenant, at_ms / 1000), format!("{at_ms:015}#{id}"))
}

pub fn audit_pk(tenant: &str, at: i64) -> String {
    format!("T#{tenant}#AUDIT#{}", civil_date(at))
}

/// The append-only consent ledger of one contact, oldest first.
pub fn consent(tenant: &str, contact_id: &str, at: i64, id: &str) -> (String, String) {
    (consent_pk(tenant, contact_id), format!("{at:012}#{id}"))
}

pub fn consent_pk(tenant: &str, contact_id: &str) -> String {
    format!("T#{tenant}#CONSENT#{contact_id}")
}

/// One outbound send, by its idempotency key.
pub fn send(tenant: &str, idempotency_key: &str) -> (String, String) {
    (format!("T#{tenant}#SEND#{idempotency_key}"), "SEND".into())
}

/// Shared token-bucket state (`bucket` names the number or the recipient pair).
pub fn rate_bucket(tenant: &str, bucket: &str) -> (String, String) {
    (format!("T#{tenant}#RATE#{bucket}"), "BUCKET".into())
}

/// `YYYY-MM-DD` (UTC) of a unix time (Howard Hinnant's days-to-civil algorithm).
pub fn civil_date(unix: i64) -> String {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC), as AWS writes event times.
pub fn rfc3339(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        civil_date(unix),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_795_305_600 + 86_399), "2026-11-22");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert_eq!(rfc3339(1_795_316_400), "2026-11-22T03:00:00Z");
    }
}
