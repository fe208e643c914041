//! Outbound message types (reference §4.1).

use serde::Deserialize;

/// Answer of `POST /{PHONE_NUMBER_ID}/messages`:
/// `{"messaging_product":"whatsapp","contacts":[{"input":"+1555…","wa_id":"1555…"}],
/// "messages":[{"id":"wamid.…","message_status":"accepted"}]}`.
///
/// It only means Meta **accepted** the message; delivery (or failure, e.g. an
/// async 131047) arrives later as a status webhook keyed by `wamid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// `messages[0].id`, the id status webhooks and replies refer to.
    pub wamid: String,
    /// `contacts[0].wa_id`. Can differ from `input` (Brazil, Mexico) and is
    /// absent for sends to a BSUID (`recipient`, reference §2.2).
    pub wa_id: Option<String>,
    /// `contacts[0].input`: the `to` (or `recipient`) as sent.
    pub input: Option<String>,
    /// `messages[0].message_status`, present for template sends under
    /// template pacing: `accepted` or `held_for_quality_assessment`.
    pub message_status: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    contacts: Vec<RawContact>,
    messages: Vec<RawMessage>,
}

#[derive(Deserialize)]
struct RawContact {
    input: Option<String>,
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    id: String,
    message_status: Option<String>,
}

impl SentMessage {
    /// Parse Meta's answer; `messages[0].id` is required and non-empty.
    pub(crate) fn from_body(body: &[u8]) -> Result<SentMessage, String> {
        let raw: Raw = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let Some(message) = raw.messages.into_iter().next() else {
            return Err("response has no messages[0]".to_owned());
        };
        if message.id.is_empty() {
            return Err("messages[0].id is empty".to_owned());
        }
        let contact = raw.contacts.into_iter().next();
        let (input, wa_id) = contact.map_or((None, None), |c| (c.input, c.wa_id));
        Ok(SentMessage {
            wamid: message.id,
            wa_id,
            input,
            message_status: message.message_status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_template_send_answer() {
        let body = br#"{"messaging_product":"whatsapp","contacts":[{"input":"+15550109999","wa_id":"15550109999"}],"messages":[{"id":"wamid.HBgLMTU1NTAxMDk5OTkVAgARGBJCVVNJTkVTU01TRzAwMDAyMAA=","message_status":"accepted"}]}"#;
        let sent = SentMessage::from_body(body).unwrap();
        assert_eq!(
            sent,
            SentMessage {
                wamid: "wamid.HBgLMTU1NTAxMDk5OTkVAgARGBJCVVNJTkVTU01TRzAwMDAyMAA=".to_owned(),
                wa_id: Some("15550109999".to_owned()),
                input: Some("+15550109999".to_owned()),
                message_status: Some("accepted".to_owned()),
            }
        );
    }

    #[test]
    fn contacts_and_status_are_optional() {
        let sent = SentMessage::from_body(br#"{"messages":[{"id":"wamid.X"}]}"#).unwrap();
        assert_eq!(sent.wamid, "wamid.X");
        assert_eq!(
            (sent.wa_id, sent.input, sent.message_status),
            (None, None, None)
        );
        let bsuid = SentMessage::from_body(
            br#"{"contacts":[{"input":"US.13491208655302741918"}],"messages":[{"id":"wamid.Y"}]}"#,
        )
        .unwrap();
        assert_eq!(bsuid.input.as_deref(), Some("US.13491208655302741918"));
        assert_eq!(bsuid.wa_id, None);
    }

    #[test]
    fn message_id_is_required() {
        for bad in [
            &br#"{"contacts":[]}"#[..],
            br#"{"messages":[]}"#,
            br#"{"messages":[{}]}"#,
            br#"{"messages":[{"id":""}]}"#,
            br#"{"messages":[{"id":5}]}"#,
            b"not json",
        ] {
            assert!(
                SentMessage::from_body(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
