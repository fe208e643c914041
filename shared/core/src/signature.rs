//! Meta's `X-Hub-Signature-256`: HMAC-SHA256 of the app secret over the raw request body.
//!
//! The comparison is constant time (`Mac::verify_slice`). Meta's generic Graph webhooks doc says the
//! signature is computed over the body with non-ASCII characters escaped as `\uXXXX`; the raw bytes
//! are what WhatsApp signs in practice. So we hash the raw bytes first and, only when that fails and
//! the body has non-ASCII bytes, the escaped variant (reference §1.3).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 must be `sha256=` followed by 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (the full header value, `sha256=<hex>`) against `body` signed with `secret`.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_digest = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;

    if mac(secret, body).verify_slice(&expected).is_ok() {
        return Ok(());
    }
    if !body.is_ascii() {
        if let Ok(text) = std::str::from_utf8(body) {
            let escaped = escape_unicode(text);
            if mac(secret, escaped.as_bytes())
                .verify_slice(&expected)
                .is_ok()
            {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header value Meta would send for `body`: used by `switchboard post` and the tests.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let digest = mac(secret, body).finalize().into_bytes();
    format!("sha256={}", hex::encode(digest))
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    mac
}

/// `\uXXXX` escaping of every non-ASCII character (UTF-16 code units, lowercase hex), as Meta's
/// generic webhook docs and whatsapp-api-js's `escapeUnicode` do.
fn escape_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The reference's test vector (§1.3): invented secret, 425-byte ASCII body.
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"109876543210987","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100001","phone_number_id":"110000000000001"},"contacts":[{"profile":{"name":"Ana Test"},"wa_id":"15550109999"}],"messages":[{"from":"15550109999","id":"wamid.TEST0001","timestamp":"1767225600","type":"text","text":{"body":"Ol\u00e1!"}}]},"field":"messages"}]}]}"#;
    const HEADER: &str = "sha256=faa13a897e92924a767a41c20d4fd12101c2c0a71dd4e7524ae4432094bbdcee";

    #[test]
    fn reference_vector_verifies() {
        assert_eq!(BODY.len(), 425);
        assert_eq!(
            verify_signature(SECRET, BODY.as_bytes(), Some(HEADER)),
            Ok(())
        );
        assert_eq!(sign(SECRET, BODY.as_bytes()), HEADER);
    }

    #[test]
    fn decoded_body_verifies_through_the_escape_fallback() {
        // Meta signs the escaped form; a proxy that decoded `\u00e1` to `á` still verifies.
        let decoded = BODY.replace("\\u00e1", "á");
        assert_ne!(sign(SECRET, decoded.as_bytes()), HEADER);
        assert_eq!(
            sign(SECRET, decoded.as_bytes()),
            "sha256=25554977032c707be9b064d5e9d373f35e697e0bf686e183e43242cc244dec9f"
        );
        assert_eq!(
            verify_signature(SECRET, decoded.as_bytes(), Some(HEADER)),
            Ok(())
        );
    }

    #[test]
    fn rejections_are_specific() {
        let body = BODY.as_bytes();
        assert_eq!(
            verify_signature(SECRET, body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(SECRET, body, Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
        let mut flipped = HEADER.to_string();
        flipped.replace_range(HEADER.len() - 1.., "f");
        assert_eq!(
            verify_signature(SECRET, body, Some(&flipped)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"another secret", body, Some(HEADER)),
            Err(SignatureError::Mismatch)
        );
        let tampered = BODY.replace("Ana", "Bob");
        assert_eq!(
            verify_signature(SECRET, tampered.as_bytes(), Some(HEADER)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn astral_characters_escape_as_surrogate_pairs() {
        assert_eq!(escape_unicode("a👍"), "a\\ud83d\\udc4d");
    }
}
