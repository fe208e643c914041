//! WhatsApp Cloud API (Graph) media access for Switchboard.
//!
//! * [`GraphClient::media_info`] — `GET /{version}/{media_id}` → [`MediaInfo`].
//! * [`GraphClient::download`] — streams the media URL with the bearer token,
//!   behind an SSRF guard ([`MediaGuard`]) and a size cap.
//! * [`GraphClient::create_template`] — `POST /{version}/{waba_id}/message_templates`
//!   → [`CreatedTemplate`].
//! * [`GraphClient::send_message`] — `POST /{version}/{phone_number_id}/messages`
//!   with a caller-built body (`to`, or `recipient` for a BSUID) → [`SentMessage`].
//! * [`GraphError`] — Meta's error envelope plus transport/guard failures, with
//!   `is_retryable` / `needs_fresh_url` / `is_token_problem` classification and
//!   [`GraphError::code`] for Meta's code (131047, 130429, 131056, 131026, …).
//! * `fake` (feature) — [`GraphFake`], an in-process fake of these endpoints
//!   that also records sent messages and injects send failures.
//!
//! The contract followed is `whatsapp-cloud-api.md` §2.2 (BSUID recipients),
//! §3 (Media), §4 (sending messages, errors, throughput) and §6.1 (template
//! creation).

mod client;
mod error;
#[cfg(feature = "fake")]
mod fake;
mod guard;
mod media;
mod net;
mod send;
mod template;

pub use client::{GraphClient, GraphConfig};
pub use error::{GraphError, NO_ERROR_CODE};
#[cfg(feature = "fake")]
pub use fake::GraphFake;
pub use guard::{GuardError, MediaGuard};
pub use media::{Download, MediaInfo};
pub use send::SentMessage;
pub use template::CreatedTemplate;
