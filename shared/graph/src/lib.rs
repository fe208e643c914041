//! WhatsApp Cloud API (Graph) client for Switchboard: media, templates,
//! message sends and phone-number onboarding.
//!
//! * [`GraphClient::media_info`] — `GET /{version}/{media_id}` → [`MediaInfo`].
//! * [`GraphClient::download`] — streams the media URL with the bearer token,
//!   behind an SSRF guard ([`MediaGuard`]) and a size cap.
//! * [`GraphClient::create_template`] — `POST /{version}/{waba_id}/message_templates`
//!   → [`CreatedTemplate`].
//! * [`GraphClient::send_message`] — `POST /{version}/{phone_number_id}/messages`
//!   with a caller-built body (`to`, or `recipient` for a BSUID) → [`SentMessage`].
//! * Onboarding (§1.9, §7): [`GraphClient::request_code`] and
//!   [`GraphClient::verify_code`] (number ownership), [`GraphClient::register`]
//!   (6-digit two-step PIN), [`GraphClient::subscribe_app`] /
//!   [`GraphClient::subscribed_apps`] (webhooks for a WABA) and
//!   [`GraphClient::phone_number`] → [`PhoneNumberInfo`] (status, quality,
//!   display-name review, code verification, throughput, messaging limit).
//! * [`GraphError`] — Meta's error envelope plus transport/guard failures, with
//!   `is_retryable` / `needs_fresh_url` / `is_token_problem` classification and
//!   [`GraphError::code`] for Meta's code (131047, 130429, 131056, 131026,
//!   133005, 133006, 133016, …).
//! * `fake` (feature) — [`GraphFake`], an in-process fake of these endpoints
//!   that also records sent messages, keeps per-phone-number onboarding state
//!   and injects failures.
//!
//! The contract followed is `whatsapp-cloud-api.md` §1.9 (subscribed apps),
//! §2.2 (BSUID recipients), §3 (Media), §4 (sending messages, errors,
//! throughput), §6.1 (template creation) and §7 (onboarding).

mod client;
mod error;
#[cfg(feature = "fake")]
mod fake;
mod guard;
mod media;
mod net;
mod onboarding;
mod send;
mod template;

pub use client::{GraphClient, GraphConfig};
pub use error::{GraphError, NO_ERROR_CODE};
#[cfg(feature = "fake")]
pub use fake::GraphFake;
pub use guard::{GuardError, MediaGuard};
pub use media::{Download, MediaInfo};
pub use onboarding::PhoneNumberInfo;
pub use send::SentMessage;
pub use template::CreatedTemplate;
