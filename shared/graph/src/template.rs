//! Message-template management types (reference §6.1).

use serde::{Deserialize, Deserializer};

/// Answer of `POST /{WABA_ID}/message_templates`:
/// `{"id":"<TEMPLATE_ID>","status":"PENDING"|"APPROVED"|"REJECTED","category":"UTILITY"}`.
///
/// `status` can already be final in this answer (Meta sometimes approves
/// instantly), and `category` may differ from the one submitted (Meta
/// re-categorises UTILITY as MARKETING instead of rejecting, §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedTemplate {
    /// Template id. Meta documents a string, but numbers are seen in
    /// practice; both are accepted and kept as the decimal string.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
}

fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    let id = match Id::deserialize(de)? {
        Id::Text(s) => s,
        Id::Unsigned(n) => n.to_string(),
        Id::Signed(n) => n.to_string(),
    };
    if id.is_empty() {
        return Err(serde::de::Error::custom("template id is empty"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_accepts_string_or_number() {
        let a: CreatedTemplate = serde_json::from_str(
            r#"{"id":"1234567890123456","status":"PENDING","category":"UTILITY"}"#,
        )
        .unwrap();
        let b: CreatedTemplate = serde_json::from_str(
            r#"{"id":1234567890123456,"status":"PENDING","category":"UTILITY"}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id, "1234567890123456");
        assert_eq!(a.category.as_deref(), Some("UTILITY"));
    }

    #[test]
    fn category_is_optional_but_id_and_status_are_not() {
        let t: CreatedTemplate = serde_json::from_str(r#"{"id":"1","status":"APPROVED"}"#).unwrap();
        assert_eq!(t.category, None);
        for bad in [
            r#"{"status":"PENDING"}"#,
            r#"{"id":"1"}"#,
            r#"{"id":"","status":"PENDING"}"#,
            r#"{"id":1.5,"status":"PENDING"}"#,
            r#"{"id":null,"status":"PENDING"}"#,
        ] {
            assert!(
                serde_json::from_str::<CreatedTemplate>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
