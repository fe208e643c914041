//! Inbound media rules: what a media job carries, where a file lives, and what we accept.
//! WhatsApp is a transport, not storage: Meta's URL lives 5 minutes and the media id 7 days, so
//! every file is copied into our own store as soon as it arrives.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::webhook::InboundMessage;

/// Inbound media ids can be fetched for 7 days (reference §3.2).
pub const META_RETENTION_SECS: i64 = 7 * 24 * 3600;
/// Largest inbound file Meta delivers (reference §0).
pub const MAX_MEDIA_BYTES: u64 = 100 * 1024 * 1024;

/// The job the conversation pipeline emits for every media message (`media.received`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaJob {
    pub tenant: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub wamid: String,
    pub media_id: String,
    /// image, video, audio, document, sticker.
    pub kind: String,
    pub declared_mime: Option<String>,
    /// Base64 SHA-256 as Meta sends it.
    pub sha256: Option<String>,
    pub filename: Option<String>,
    pub caption: Option<String>,
    pub voice: bool,
    pub phone_number_id: Option<String>,
    /// Meta's timestamp of the message.
    pub sent_at: i64,
    pub received_at: i64,
}

impl MediaJob {
    /// The job for a media message, if it is one with a media id.
    #[allow(clippy::too_many_arguments)]
    pub fn of_message(
        message: &InboundMessage,
        tenant: &str,
        conversation_id: &str,
        contact_id: &str,
        phone_number_id: Option<&str>,
        sent_at: i64,
        received_at: i64,
    ) -> Option<Self> {
        let media = message.media()?;
        Some(Self {
            tenant: tenant.to_string(),
            conversation_id: conversation_id.to_string(),
            contact_id: contact_id.to_string(),
            wamid: message.id.clone(),
            media_id: media.id.clone().filter(|i| !i.is_empty())?,
            kind: message.kind.clone(),
            declared_mime: media.mime_type.clone(),
            sha256: media.sha256.clone(),
            filename: media.filename.clone(),
            caption: media.caption.clone(),
            voice: media.voice.unwrap_or(false),
            phone_number_id: phone_number_id.map(str::to_owned),
            sent_at,
            received_at,
        })
    }

    /// Past Meta's retention the media id no longer resolves: nothing to retry.
    pub fn past_retention(&self, now: i64) -> bool {
        now - self.sent_at > META_RETENTION_SECS
    }
}

/// Meta's base64 SHA-256 as lowercase hex, if it decodes to 32 bytes.
pub fn sha256_hex_of_base64(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

/// Content-addressed key: the same file sent twice is stored once per tenant.
pub fn content_key(tenant: &str, sha256_hex: &str) -> String {
    format!(
        "media/{tenant}/{}/{sha256_hex}",
        &sha256_hex[..2.min(sha256_hex.len())]
    )
}

/// The MIME type a file's first bytes show, for the types WhatsApp carries.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| head.starts_with(sig);
    Some(if starts(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"%PDF-") {
        "application/pdf"
    } else if head.get(4..8) == Some(b"ftyp") {
        match head.get(8..11) {
            Some(b"3gp") => "video/3gpp",
            Some(b"M4A") => "audio/mp4",
            _ => "video/mp4",
        }
    } else if starts(b"OggS") {
        "audio/ogg"
    } else if starts(b"ID3")
        || starts(&[0xFF, 0xFB])
        || starts(&[0xFF, 0xF3])
        || starts(&[0xFF, 0xF2])
    {
        "audio/mpeg"
    } else if starts(&[0xFF, 0xF1]) || starts(&[0xFF, 0xF9]) {
        "audio/aac"
    } else if starts(b"#!AMR") {
        "audio/amr"
    } else if starts(b"PK\x03\x04") {
        // docx, xlsx, pptx are zip containers.
        "application/zip"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // doc, xls, ppt are OLE compound files.
        "application/x-ole-storage"
    } else if !head.is_empty() && std::str::from_utf8(head).is_ok_and(|s| !s.contains('\0')) {
        "text/plain"
    } else {
        return None;
    })
}

/// Whether the sniffed type is consistent with the declared one. Containers count as the
/// formats built on them (a .docx is a zip), and parameters (`; codecs=opus`) are ignored.
pub fn mime_matches(declared: &str, sniffed: &str) -> bool {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if declared == sniffed {
        return true;
    }
    match sniffed {
        "application/zip" => declared.starts_with("application/vnd.openxmlformats-officedocument"),
        "application/x-ole-storage" => matches!(
            declared.as_str(),
            "application/msword" | "application/vnd.ms-excel" | "application/vnd.ms-powerpoint"
        ),
        "video/mp4" => matches!(declared.as_str(), "video/mp4" | "audio/mp4" | "video/3gpp"),
        "audio/mp4" => matches!(declared.as_str(), "audio/mp4" | "video/mp4"),
        "video/3gpp" => declared == "video/3gpp" || declared == "video/mp4",
        // Plain text sniffing is a guess: CSV and other text documents are fine too.
        "text/plain" => declared.starts_with("text/"),
        _ => false,
    }
}

/// A filename safe to show and to put in a Content-Disposition header: no path, no control
/// characters, no leading dots, at most 200 characters, the extension kept.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "file".to_string();
    }
    if cleaned.chars().count() <= 200 {
        return cleaned.to_string();
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if e.chars().count() <= 10 => (s, format!(".{e}")),
        _ => (cleaned, String::new()),
    };
    let keep = 200 - ext.chars().count();
    format!("{}{ext}", stem.chars().take(keep).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_whatsapp_types() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(b"\0\0\0\x18ftyp3gp4"), Some("video/3gpp"));
        assert_eq!(sniff(b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(sniff(b"#!AMR\n"), Some("audio/amr"));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some("application/zip"));
        assert_eq!(sniff(b"hello, plain text"), Some("text/plain"));
        assert_eq!(sniff(&[0x00, 0x01, 0xFE]), None);
    }

    #[test]
    fn declared_types_match_their_sniffed_families() {
        assert!(mime_matches("audio/ogg; codecs=opus", "audio/ogg"));
        assert!(mime_matches("image/jpeg", "image/jpeg"));
        assert!(mime_matches(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip"
        ));
        assert!(mime_matches(
            "application/msword",
            "application/x-ole-storage"
        ));
        assert!(
            !mime_matches("image/jpeg", "application/pdf"),
            "a PDF posing as a photo"
        );
        assert!(!mime_matches("application/pdf", "application/zip"));
        assert!(!mime_matches("image/png", "text/plain"));
    }

    #[test]
    fn filenames_are_sanitised() {
        assert_eq!(sanitize_filename("receipt-4471.pdf"), "receipt-4471.pdf");
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\ana\\x.docx"), "x.docx");
        assert_eq!(sanitize_filename(".hidden"), "hidden");
        assert_eq!(sanitize_filename("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(sanitize_filename("\"quoted\".pdf"), "_quoted_.pdf");
        assert_eq!(sanitize_filename(""), "file");
        let long = format!("{}.pdf", "x".repeat(500));
        let s = sanitize_filename(&long);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn keys_and_hashes() {
        let hex = sha256_hex_of_base64("SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=").unwrap();
        assert_eq!(hex.len(), 64);
        assert_eq!(
            content_key("acme", &hex),
            format!("media/acme/{}/{hex}", &hex[..2])
        );
        assert_eq!(sha256_hex_of_base64("not base64!"), None);
        assert_eq!(sha256_hex_of_base64("AAAA"), None, "wrong length");
    }
}
