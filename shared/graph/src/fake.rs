//! An in-process fake of the Graph media, template-creation, message-send
//! and phone-number onboarding endpoints (feature `fake`).
//!
//! It follows Meta's documented contract (reference §1.9, §2.2, §3, §4,
//! §6.1, §7): bearer token on every call, 401 + code 190 envelope for bad
//! tokens, 400 + code 100 for unknown ids and invalid parameters, download
//! URLs of the lookaside shape that expire (5 minutes by default) and then
//! answer 404, `POST /{waba_id}/message_templates` that refuses a second
//! template with the same name+language, and `POST /{phone_number_id}/messages`
//! that validates the body (`to`, or `recipient` for a BSUID), answers a
//! `wamid` and records the send (also served, without auth, at
//! `GET /__fake/messages`).
//!
//! Onboarding keeps state per phone number, created on first use:
//! `request_code` marks a code as sent, `verify_code` checks it (`123456`
//! unless changed) and sets `code_verification_status` `VERIFIED`,
//! `register` needs `VERIFIED` (else 133006), fixes the two-step PIN on its
//! first success (a different PIN later is 133005), refuses the 11th call
//! (133016) and sets `status` `CONNECTED`; `GET /{phone_number_id}?fields=…`
//! reads the state; `POST`/`GET /{waba_id}/subscribed_apps` subscribe and
//! list the fake's single app. A `verify_code` without an outstanding code
//! or with a wrong one is 100 with the reason in `error_data.details`
//! (the reference lists no dedicated code for either).
//!
//! Knobs inject the failures callers must survive. Served on `127.0.0.1:0`,
//! plain HTTP.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::GraphConfig;
use crate::guard::MediaGuard;

/// Meta: "Media URLs expire after 5 minutes".
const DEFAULT_URL_TTL_SECS: i64 = 300;
/// Generated media is produced in blocks of this size.
const BLOCK: usize = 64 * 1024;
const VERSION: &str = "v23.0";
const ATTACHMENTS_PATH: &str = "/whatsapp_business/attachments/";
/// Template ids are 16 digits, like Meta's.
const FIRST_TEMPLATE_ID: u64 = 1_000_000_000_000_000;
/// Meta's `error_subcode` for "Content in this language already exists".
const DUPLICATE_SUBCODE: i64 = 2_388_024;
/// Message `type`s the fake accepts on `POST /{phone_number_id}/messages`.
const SEND_TYPES: [&str; 11] = [
    "text",
    "template",
    "interactive",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
];
/// Media types, which need an uploaded `id` or a `link`.
const MEDIA_TYPES: [&str; 5] = ["image", "audio", "video", "document", "sticker"];
/// Meta: text body ≤ 4096 characters (reference §4.2).
const MAX_TEXT_BODY: usize = 4096;
/// Operations [`GraphFake::fail_next`] can inject failures into.
const ONBOARDING_OPS: [&str; 5] = [
    "request_code",
    "verify_code",
    "register",
    "subscribed_apps",
    "phone_number",
];
/// The code `verify_code` accepts unless `set_verification_code` changes it.
const DEFAULT_VERIFICATION_CODE: &str = "123456";
/// `verified_name` of numbers not created with `add_phone_number`.
const DEFAULT_VERIFIED_NAME: &str = "Test Number";
/// Meta: 10 register/deregister calls per number per 72 h (reference §4.4
/// 133016, §7.1 step 8). The fake's window never resets.
const REGISTER_LIMIT: usize = 10;
/// Fields `GET /{phone_number_id}` returns without `fields` (Meta's defaults).
const DEFAULT_PHONE_FIELDS: [&str; 6] = [
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
];
/// The app `subscribe_app` subscribes (the fake has a single app).
const FAKE_APP_ID: &str = "1000000000000001";
const FAKE_APP_NAME: &str = "Switchboard (fake)";
/// `verify_code` refusals. Meta's error-code table in the reference (§4.4)
/// lists no code for them, so they are 100 "Invalid parameter" with the
/// reason in `error_data.details`.
const WRONG_CODE_DETAILS: &str =
    "Code couldn't be verified. Check that the code is correct and try again.";
const NO_CODE_DETAILS: &str =
    "Code couldn't be verified: no verification code was requested for this phone number. Call request_code first.";
const ALREADY_VERIFIED_DETAILS: &str =
    "Code couldn't be verified: you have already verified ownership of this phone number and no new code was requested.";

/// A running fake Graph API. Dropping it aborts the server; [`stop`](Self::stop)
/// shuts it down gracefully.
pub struct GraphFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Shared {
    base_url: String,
    key: [u8; 32],
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    tokens: HashSet<String>,
    media: HashMap<String, FakeMedia>,
    /// hash → (media id, expiry). Clearing it revokes every issued URL.
    issued: HashMap<String, (String, i64)>,
    url_ttl: i64,
    serial: u64,
    fail_downloads: Option<(usize, u16)>,
    fail_info: Option<(usize, u16, i64)>,
    redirect_to: Option<String>,
    hide_content_length: bool,
    requests: Vec<String>,
    trace: u64,
    /// JSON bodies of authorised template creations, in arrival order.
    templates: Vec<serde_json::Value>,
    /// (name, language) of templates created successfully.
    template_keys: HashSet<(String, String)>,
    template_serial: u64,
    reject_template: Option<(i64, String)>,
    approve_instantly: bool,
    /// Accepted sends, `{"phone_number_id","wamid","body","at"}`, in order.
    sent: Vec<serde_json::Value>,
    send_serial: u64,
    fail_sends: Option<(usize, u16, i64)>,
    /// Recipients (see `recipient_key`) whose customer-service window is closed.
    closed_windows: HashSet<String>,
    /// Recipients every send to which is undeliverable.
    unreachable: HashSet<String>,
    /// Onboarding state per phone number id, created on first use.
    phones: HashMap<String, FakePhone>,
    /// Subscribed WABA ids → the override callback URI, if one was given.
    subscriptions: HashMap<String, Option<String>>,
    /// Injected onboarding failures per operation (see `ONBOARDING_OPS`):
    /// (remaining, HTTP status, Meta code).
    fail_ops: HashMap<&'static str, (usize, u16, i64)>,
}

/// A business phone number as the onboarding endpoints see it.
struct FakePhone {
    display_phone_number: String,
    verified_name: String,
    /// `PENDING` until registered, then `CONNECTED`.
    status: String,
    quality_rating: String,
    name_status: String,
    /// `NOT_VERIFIED` → `VERIFIED` (→ `EXPIRED` via the knob).
    code_verification_status: String,
    messaging_limit: String,
    throughput_level: String,
    /// The code `verify_code` accepts.
    expected_code: String,
    /// `(code_method, language)` of the outstanding `request_code`, consumed
    /// by a successful `verify_code`.
    code_sent: Option<(String, String)>,
    /// Two-step PIN, fixed by the first successful `register`.
    pin: Option<String>,
    /// Register calls that reached the number (refused ones included).
    register_calls: usize,
}

impl FakePhone {
    fn new(id: &str) -> Self {
        let digits = digits(id);
        let tail = &digits[digits.len().saturating_sub(4)..];
        FakePhone {
            display_phone_number: format!("+1 555-010-{tail:0>4}"),
            verified_name: DEFAULT_VERIFIED_NAME.to_owned(),
            status: "PENDING".to_owned(),
            quality_rating: "GREEN".to_owned(),
            name_status: "PENDING_REVIEW".to_owned(),
            code_verification_status: "NOT_VERIFIED".to_owned(),
            messaging_limit: "TIER_250".to_owned(),
            throughput_level: "STANDARD".to_owned(),
            expected_code: DEFAULT_VERIFICATION_CODE.to_owned(),
            code_sent: None,
            pin: None,
            register_calls: 0,
        }
    }

    /// Every field `GET /{phone_number_id}` can return, keyed by field name.
    fn graph_fields(&self, id: &str) -> serde_json::Map<String, serde_json::Value> {
        let fields = serde_json::json!({
            "id": id,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "status": self.status,
            "quality_rating": self.quality_rating,
            "name_status": self.name_status,
            "code_verification_status": self.code_verification_status,
            "throughput": { "level": self.throughput_level },
            "whatsapp_business_manager_messaging_limit": self.messaging_limit,
            "messaging_limit_tier": self.messaging_limit,
            "platform_type": if self.status == "CONNECTED" { "CLOUD_API" } else { "NOT_APPLICABLE" },
            "account_mode": "LIVE",
            "is_official_business_account": false,
            "is_pin_enabled": self.pin.is_some(),
        });
        match fields {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}

struct FakeMedia {
    content: Content,
    mime: String,
    sha256: String,
    corrupt: bool,
}

#[derive(Clone)]
enum Content {
    Bytes(Bytes),
    /// Deterministic bytes produced block by block while streaming.
    Generated {
        size: u64,
        seed: u64,
    },
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Generated { size, .. } => *size,
        }
    }
}

impl GraphFake {
    /// Start on an ephemeral loopback port.
    ///
    /// # Panics
    /// If no loopback port can be bound — this is test support, and a test
    /// cannot proceed without its server. Use [`try_start`](Self::try_start)
    /// to handle that case.
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(fake) => fake,
            Err(e) => panic!("GraphFake could not bind 127.0.0.1:0: {e}"),
        }
    }

    pub async fn try_start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            key: random_key(),
            state: Mutex::new(FakeState {
                url_ttl: DEFAULT_URL_TTL_SECS,
                ..FakeState::default()
            }),
        });
        let app = Router::new()
            .route(ATTACHMENTS_PATH, get(download))
            .route("/{version}/{id}", get(get_node))
            .route(
                "/{version}/{waba_id}/message_templates",
                post(create_template),
            )
            .route("/{version}/{phone_number_id}/messages", post(send_message))
            .route(
                "/{version}/{phone_number_id}/request_code",
                post(request_code),
            )
            .route(
                "/{version}/{phone_number_id}/verify_code",
                post(verify_code),
            )
            .route("/{version}/{phone_number_id}/register", post(register))
            .route(
                "/{version}/{waba_id}/subscribed_apps",
                get(list_subscribed_apps).post(subscribe_app),
            )
            .route("/__fake/messages", get(list_sent))
            .with_state(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            // A server error ends the task; tests then see connection errors.
            let _ = server.await;
        });
        Ok(GraphFake {
            shared,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `v23.0`
    pub fn version(&self) -> &str {
        VERSION
    }

    pub fn add_token(&self, token: &str) {
        self.state().tokens.insert(token.to_owned());
    }

    /// Register media; returns its base64 SHA-256 (what `media_info` advertises).
    pub fn add_media(&self, id: &str, bytes: Vec<u8>, mime: &str) -> String {
        let sha256 = b64(&Sha256::digest(&bytes));
        self.insert(id, Content::Bytes(Bytes::from(bytes)), mime, sha256.clone());
        sha256
    }

    /// Register `size` bytes of deterministic content that is generated while
    /// streaming and never held in memory. Computing the digest reads the
    /// content once, so this costs time proportional to `size`.
    pub fn add_large_media(&self, id: &str, size: u64, mime: &str) -> String {
        let seed = seed_for(id);
        let mut hasher = Sha256::new();
        for index in 0..block_count(size) {
            hasher.update(generated_block(seed, size, index));
        }
        let sha256 = b64(&hasher.finalize());
        self.insert(id, Content::Generated { size, seed }, mime, sha256.clone());
        sha256
    }

    /// Lifetime of URLs issued from now on (may be 0 or negative: born expired).
    pub fn set_url_ttl(&self, secs: i64) {
        self.state().url_ttl = secs;
    }

    /// Every URL issued so far answers 404 from now on.
    pub fn expire_urls(&self) {
        self.state().issued.clear();
    }

    /// The next `n` downloads answer `status` with a Meta error envelope.
    pub fn fail_downloads(&self, n: usize, status: u16) {
        self.state().fail_downloads = (n > 0).then_some((n, status));
    }

    /// The next `n` `GET /{media_id}` calls answer `status` with error `code`.
    pub fn fail_info(&self, n: usize, status: u16, code: i64) {
        self.state().fail_info = (n > 0).then_some((n, status, code));
    }

    /// Serve bytes for `id` that do not match its advertised sha256 (same length).
    pub fn corrupt(&self, id: &str) {
        if let Some(media) = self.state().media.get_mut(id) {
            media.corrupt = true;
        }
    }

    /// Answer every authorised download with `302 Location: url`.
    pub fn redirect_downloads_to(&self, url: &str) {
        self.state().redirect_to = Some(url.to_owned());
    }

    /// Stop redirecting downloads.
    pub fn clear_redirect(&self) {
        self.state().redirect_to = None;
    }

    /// Serve downloads without `Content-Length` (chunked), like a server that
    /// does not announce the size — the cap must then hold while streaming.
    pub fn hide_content_length(&self, hide: bool) {
        self.state().hide_content_length = hide;
    }

    /// The next authorised template creation answers 400 with Meta's error
    /// envelope carrying `code` and `message` (also as `error_data.details`),
    /// e.g. `2388299` for a variable at the start or end of the body.
    pub fn reject_next_template(&self, code: i64, message: &str) {
        self.state().reject_template = Some((code, message.to_owned()));
    }

    /// JSON bodies of every authorised `POST .../message_templates`, in
    /// order — including ones then refused (invalid, duplicate, injected).
    pub fn templates(&self) -> Vec<serde_json::Value> {
        self.state().templates.clone()
    }

    /// Answer new templates with status `APPROVED` instead of `PENDING`, as
    /// Meta sometimes does (e.g. authentication templates).
    pub fn approve_instantly(&self, on: bool) {
        self.state().approve_instantly = on;
    }

    /// The next `n` authorised, well-formed `POST .../messages` answer HTTP
    /// `http_status` with Meta error `code` (`n == 0` clears), e.g.
    /// `(1, 400, 130429)` throughput, `(1, 400, 131056)` pair rate limit,
    /// `(1, 400, 131026)` undeliverable, `(1, 401, 190)` token expired,
    /// `(1, 500, 131000)` unknown error. Injected sends are not recorded.
    pub fn fail_next_sends(&self, n: usize, http_status: u16, code: i64) {
        self.state().fail_sends = (n > 0).then_some((n, http_status, code));
    }

    /// Non-template sends to `recipient` (a `to` phone number in any
    /// punctuation, or a BSUID `recipient`) answer 400 code 131047
    /// (re-engagement: the 24 h window is closed); template sends still succeed.
    pub fn close_window_for(&self, recipient: &str) {
        self.state().closed_windows.insert(recipient_key(recipient));
    }

    /// Undo [`close_window_for`](Self::close_window_for), as when the customer
    /// writes in again.
    pub fn open_window_for(&self, recipient: &str) {
        self.state()
            .closed_windows
            .remove(&recipient_key(recipient));
    }

    /// Every send to `recipient`, templates included, answers 400 code 131026
    /// (message undeliverable: not on WhatsApp, outdated client, ...).
    pub fn unreachable(&self, recipient: &str) {
        self.state().unreachable.insert(recipient_key(recipient));
    }

    /// Id of the app `subscribe_app` subscribes, as listed in
    /// `whatsapp_business_api_data.id` by `GET /{waba_id}/subscribed_apps`.
    pub fn app_id(&self) -> &str {
        FAKE_APP_ID
    }

    /// Create phone number `pnid` with display name (`verified_name`)
    /// `display_name`, in the default state: `status` `PENDING`,
    /// `code_verification_status` `NOT_VERIFIED`, not registered,
    /// `name_status` `PENDING_REVIEW`, quality `GREEN`, `TIER_250`, throughput
    /// `STANDARD`, expected code `123456`. Numbers first used without this
    /// are created the same way, named `Test Number`. For an existing number
    /// only the name changes.
    pub fn add_phone_number(&self, pnid: &str, display_name: &str) {
        phone_mut(&mut self.state(), pnid).verified_name = display_name.to_owned();
    }

    /// The code `verify_code` accepts for `pnid` from now on (default `123456`).
    pub fn set_verification_code(&self, pnid: &str, code: &str) {
        phone_mut(&mut self.state(), pnid).expected_code = code.to_owned();
    }

    /// `name_status` of `pnid`, e.g. `APPROVED` or `DECLINED` (what Meta's
    /// display-name review, reference §2.9 / §7.3, would set).
    pub fn set_name_status(&self, pnid: &str, status: &str) {
        phone_mut(&mut self.state(), pnid).name_status = status.to_owned();
    }

    /// `quality_rating` of `pnid`: `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub fn set_quality(&self, pnid: &str, rating: &str) {
        phone_mut(&mut self.state(), pnid).quality_rating = rating.to_owned();
    }

    /// `code_verification_status` of `pnid` becomes `EXPIRED` and any
    /// outstanding code is dropped, so `register` answers 133006 until the
    /// number is verified again.
    pub fn expire_verification(&self, pnid: &str) {
        let mut state = self.state();
        let phone = phone_mut(&mut state, pnid);
        phone.code_verification_status = "EXPIRED".to_owned();
        phone.code_sent = None;
    }

    /// The next `n` authorised, well-formed calls of onboarding operation
    /// `op` answer HTTP `http_status` with Meta error `code` and change no
    /// state (`n == 0` clears). `op` is one of `request_code`, `verify_code`,
    /// `register`, `subscribed_apps` (both `GET` and `POST`) and
    /// `phone_number` (`GET /{phone_number_id}`). E.g. `("register", 1, 400,
    /// 133005)`, `("request_code", 1, 400, 136024)`, `("phone_number", 1,
    /// 401, 190)`, `("subscribed_apps", 2, 400, 80007)`.
    ///
    /// # Panics
    /// On any other `op`, so a typo cannot silently inject nothing.
    pub fn fail_next(&self, op: &str, n: usize, http_status: u16, code: i64) {
        let Some(op) = ONBOARDING_OPS.iter().find(|known| **known == op) else {
            panic!(
                "GraphFake::fail_next: unknown op {op:?}; expected one of {}",
                ONBOARDING_OPS.join(", ")
            );
        };
        let mut state = self.state();
        if n == 0 {
            state.fail_ops.remove(op);
        } else {
            state.fail_ops.insert(op, (n, http_status, code));
        }
    }

    /// The fake's view of `pnid`, for assertions: the Graph fields (`id`,
    /// `status`, `quality_rating`, `verified_name`, `name_status`,
    /// `code_verification_status`, `display_phone_number`,
    /// `throughput.level`, `whatsapp_business_manager_messaging_limit`, …)
    /// plus `code_requested` (bool), `code_method`, `code_language`,
    /// `registered` (bool, a PIN is set) and `register_calls` (count). The
    /// PIN and the expected code are never included. `Null` for a number the
    /// fake has never seen (this does not create it). WABA subscriptions are
    /// read with `GET /{waba_id}/subscribed_apps`.
    pub fn phone_state(&self, pnid: &str) -> serde_json::Value {
        let state = self.state();
        let Some(phone) = state.phones.get(pnid) else {
            return serde_json::Value::Null;
        };
        let mut fields = phone.graph_fields(pnid);
        let (method, language) = match &phone.code_sent {
            Some((method, language)) => (
                serde_json::Value::from(method.as_str()),
                serde_json::Value::from(language.as_str()),
            ),
            None => (serde_json::Value::Null, serde_json::Value::Null),
        };
        fields.insert("code_requested".into(), phone.code_sent.is_some().into());
        fields.insert("code_method".into(), method);
        fields.insert("code_language".into(), language);
        fields.insert("registered".into(), phone.pin.is_some().into());
        fields.insert("register_calls".into(), phone.register_calls.into());
        serde_json::Value::Object(fields)
    }

    /// Every accepted send, in order, as
    /// `{"phone_number_id":..,"wamid":..,"body":<request JSON>,"at":<unix secs>}`;
    /// also served as `{"data":[...]}` at `GET /__fake/messages` (no auth).
    pub fn sent_messages(&self) -> Vec<serde_json::Value> {
        self.state().sent.clone()
    }

    /// `METHOD /path` of every request seen, with only non-secret query
    /// parameters kept (`mid`, `phone_number_id`, `fields`; never
    /// `hash`/`ext`). Onboarding `POST`s are recorded as the bare path (no
    /// code, PIN or parameters).
    pub fn requests(&self) -> Vec<String> {
        self.state().requests.clone()
    }

    /// Graceful shutdown; in-flight responses get a moment to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    fn insert(&self, id: &str, content: Content, mime: &str, sha256: String) {
        self.state().media.insert(
            id.to_owned(),
            FakeMedia {
                content,
                mime: mime.to_owned(),
                sha256,
                corrupt: false,
            },
        );
    }

    fn state(&self) -> MutexGuard<'_, FakeState> {
        self.shared.lock()
    }
}

impl Drop for GraphFake {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for GraphFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphFake")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl GraphConfig {
    /// A config pointing at `fake`, whose guard admits exactly the fake's
    /// host over plain HTTP on loopback.
    pub fn for_fake(fake: &GraphFake) -> GraphConfig {
        GraphConfig {
            base_url: fake.base_url(),
            version: fake.version().to_owned(),
            media_guard: MediaGuard {
                allowed_hosts: vec![fake.socket_addr().ip().to_string()],
                allow_plain_http: true,
                allow_private_addresses: true,
                ..MediaGuard::meta_defaults()
            },
            timeout: Duration::from_secs(10),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A panicking test thread must not wedge every later request.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sign(&self, message: &str) -> String {
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(message.as_bytes());
                hex::encode(&mac.finalize().into_bytes()[..16])
            }
            // HMAC accepts keys of any length; keep a unique value regardless.
            Err(_) => hex::encode(&Sha256::digest(message.as_bytes())[..16]),
        }
    }
}

// ---- handlers ---------------------------------------------------------------

/// `GET /{version}/{id}`: a phone number when `fields` is asked for (media
/// lookups never send it) or the id is a known phone number and not media;
/// media otherwise.
async fn get_node(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = parse_query(query.as_deref());
    let mut state = shared.lock();
    let is_phone = params.contains_key("fields")
        || (state.phones.contains_key(&id) && !state.media.contains_key(&id));
    if is_phone {
        phone_number(&mut state, &version, &id, &params, &headers)
    } else {
        media_info(&shared, &mut state, &version, &id, &params, &headers)
    }
}

fn media_info(
    shared: &Shared,
    state: &mut FakeState,
    version: &str,
    media_id: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let mut line = format!("GET /{version}/{media_id}");
    if let Some(phone) = params.get("phone_number_id") {
        line.push_str(&format!("?phone_number_id={phone}"));
    }
    state.requests.push(line);

    if let Some((n, status, code)) = state.fail_info.take() {
        state.fail_info = (n > 1).then_some((n - 1, status, code));
        let message = if code == 190 {
            token_expired_message().to_owned()
        } else {
            format!("(#{code}) Injected failure")
        };
        return envelope(state, status, code, "OAuthException", &message);
    }
    if !authorized(state, headers) {
        return token_error(state);
    }
    let media = if version == VERSION {
        state.media.get(media_id)
    } else {
        None
    };
    let Some(media) = media else {
        // Meta's wording for ids that do not exist or are not visible.
        let message = format!(
            "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        return envelope(state, 400, 100, "GraphMethodException", &message);
    };
    let (mime, sha256, size) = (
        media.mime.clone(),
        media.sha256.clone(),
        media.content.len(),
    );

    state.serial += 1;
    let ext = now() + state.url_ttl;
    let hash = shared.sign(&format!("{media_id}:{ext}:{}", state.serial));
    state
        .issued
        .insert(hash.clone(), (media_id.to_owned(), ext));
    let url = format!(
        "{}{ATTACHMENTS_PATH}?mid={media_id}&ext={ext}&hash={hash}",
        shared.base_url
    );
    let body = serde_json::json!({
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": mime,
        "sha256": sha256,
        "file_size": size,
        "id": media_id,
    });
    json(StatusCode::OK, &body)
}

async fn create_template(
    State(shared): State<Arc<Shared>>,
    Path((version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    state
        .requests
        .push(format!("POST /{version}/{waba_id}/message_templates"));

    if !authorized(&state, &headers) {
        return token_error(&mut state);
    }
    if version != VERSION || waba_id.is_empty() || !waba_id.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!(
            "Unsupported post request. Object with ID '{waba_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        return envelope(&mut state, 400, 100, "GraphMethodException", &message);
    }
    let template = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) if value.is_object() => value,
        _ => return invalid_parameter(
            &mut state,
            "The request body must be a JSON object with name, language, category and components.",
        ),
    };
    state.templates.push(template.clone());

    if let Some((code, message)) = state.reject_template.take() {
        return envelope(&mut state, 400, code, "OAuthException", &message);
    }
    let text = |field: &str| {
        template
            .get(field)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (name, language, category) = (text("name"), text("language"), text("category"));
    let components = template
        .get("components")
        .is_some_and(serde_json::Value::is_array);
    let (Some(name), Some(language), Some(category), true) = (name, language, category, components)
    else {
        let missing: Vec<&str> = [
            ("name", name.is_none()),
            ("language", language.is_none()),
            ("category", category.is_none()),
            ("components", !components),
        ]
        .into_iter()
        .filter_map(|(field, bad)| bad.then_some(field))
        .collect();
        let details = format!(
            "Missing or invalid required parameter(s): {}",
            missing.join(", ")
        );
        return invalid_parameter(&mut state, &details);
    };
    if !state
        .template_keys
        .insert((name.to_owned(), language.to_owned()))
    {
        // Meta's duplicate answer: code 100, subcode 2388024.
        let title = "Content in this language already exists";
        let extra = serde_json::json!({
            "error_subcode": DUPLICATE_SUBCODE,
            "is_transient": false,
            "error_user_title": title,
            "error_user_msg": format!(
                "There is already {language} content for this template. You can create a new template and try again."
            ),
        });
        return envelope_with(
            &mut state,
            400,
            100,
            "OAuthException",
            "Invalid parameter",
            title,
            extra,
        );
    }
    state.template_serial += 1;
    let id = (FIRST_TEMPLATE_ID + state.template_serial).to_string();
    let status = if state.approve_instantly {
        "APPROVED"
    } else {
        "PENDING"
    };
    let body = serde_json::json!({"id": id, "status": status, "category": category});
    json(StatusCode::OK, &body)
}

async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    state
        .requests
        .push(format!("POST /{version}/{phone_number_id}/messages"));

    if !authorized(&state, &headers) {
        return token_error(&mut state);
    }
    if version != VERSION
        || phone_number_id.is_empty()
        || !phone_number_id.bytes().all(|b| b.is_ascii_digit())
    {
        let message = format!(
            "Unsupported post request. Object with ID '{phone_number_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        return envelope(&mut state, 400, 100, "GraphMethodException", &message);
    }
    let send = match validate_send(&body) {
        Ok(send) => send,
        Err(Rejection { code, details }) => {
            return meta_error(&mut state, 400, code, Some(&details));
        }
    };
    if let Some((n, status, code)) = state.fail_sends.take() {
        state.fail_sends = (n > 1).then_some((n - 1, status, code));
        return meta_error(&mut state, status, code, None);
    }
    let key = recipient_key(&send.recipient);
    if state.unreachable.contains(&key) {
        return meta_error(&mut state, 400, 131026, None);
    }
    if !send.is_template && state.closed_windows.contains(&key) {
        return meta_error(&mut state, 400, 131047, None);
    }

    state.send_serial += 1;
    let who = send.wa_id.as_deref().unwrap_or(&send.recipient);
    let wamid = wamid(&shared, state.send_serial, who);
    state.sent.push(serde_json::json!({
        "phone_number_id": phone_number_id,
        "wamid": wamid,
        "body": send.body,
        "at": now(),
    }));
    let mut contact = serde_json::json!({ "input": send.recipient });
    if let Some(wa_id) = send.wa_id {
        contact["wa_id"] = serde_json::Value::String(wa_id);
    }
    let mut message = serde_json::json!({ "id": wamid });
    if send.is_template {
        // Template pacing (reference §4.1): the fake never holds messages.
        message["message_status"] = serde_json::Value::from("accepted");
    }
    let answer = serde_json::json!({
        "messaging_product": "whatsapp",
        "contacts": [contact],
        "messages": [message],
    });
    json(StatusCode::OK, &answer)
}

/// `GET /__fake/messages`: the recorded sends, for demo consoles and browser
/// tests. Not part of Graph, so no token and not listed in `requests`.
async fn list_sent(State(shared): State<Arc<Shared>>) -> Response {
    let data = shared.lock().sent.clone();
    let mut response = json(StatusCode::OK, &serde_json::json!({ "data": data }));
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn download(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = parse_query(query.as_deref());
    let mid = params.get("mid").cloned().unwrap_or_default();
    let mut state = shared.lock();
    state
        .requests
        .push(format!("GET {ATTACHMENTS_PATH}?mid={mid}"));

    if let Some((n, status)) = state.fail_downloads.take() {
        state.fail_downloads = (n > 1).then_some((n - 1, status));
        let code = match status {
            429 => 4,
            s if s >= 500 => 2,
            _ => 100,
        };
        let message = format!("(#{code}) Injected download failure");
        return envelope(&mut state, status, code, "OAuthException", &message);
    }
    if !authorized(&state, &headers) {
        return token_error(&mut state);
    }
    if let Some(location) = state.redirect_to.clone() {
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    let hash = params.get("hash").map(String::as_str).unwrap_or_default();
    let ext = params.get("ext").and_then(|e| e.parse::<i64>().ok());
    let valid = state
        .issued
        .get(hash)
        .is_some_and(|(id, issued_ext)| *id == mid && Some(*issued_ext) == ext);
    // Meta answers 404 for expired (or otherwise unusable) media URLs.
    if !valid || ext.is_none_or(|ext| now() >= ext) {
        return (StatusCode::NOT_FOUND, "URL expired").into_response();
    }
    let Some(media) = state.media.get(&mid) else {
        return (StatusCode::NOT_FOUND, "media deleted").into_response();
    };
    let content = media.content.clone();
    let corrupt = media.corrupt;
    let mime = media.mime.clone();
    let hide_length = state.hide_content_length;
    drop(state);

    let size = content.len();
    let body = match content {
        Content::Bytes(bytes) if corrupt => Body::from(corrupted(bytes)),
        Content::Bytes(bytes) => Body::from(bytes),
        Content::Generated { size, seed } => {
            Body::from_stream(generated_stream(seed, size, corrupt))
        }
    };
    let mut response = Response::new(body);
    if let Ok(value) = HeaderValue::from_str(&mime) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if hide_length {
        // Re-wrapping as a plain stream drops the exact size hint, so hyper
        // falls back to chunked encoding and sends no Content-Length.
        let body = std::mem::replace(response.body_mut(), Body::empty());
        *response.body_mut() = Body::from_stream(body.into_data_stream());
    } else {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    response
}

// ---- message sends ----------------------------------------------------------

/// A send body that passed validation.
struct ValidSend {
    body: serde_json::Value,
    /// `to` if present (it wins over `recipient`), else `recipient`.
    recipient: String,
    /// Digits of `to`; `None` for BSUID (`recipient`) sends.
    wa_id: Option<String>,
    is_template: bool,
}

/// Why a send body was refused: Meta `code` (100 invalid, 131008 missing)
/// and the `error_data.details` text.
struct Rejection {
    code: i64,
    details: String,
}

fn invalid(details: impl Into<String>) -> Rejection {
    Rejection {
        code: 100,
        details: details.into(),
    }
}

fn missing(parameter: &str) -> Rejection {
    Rejection {
        code: 131_008,
        details: format!("The parameter {parameter} is required."),
    }
}

/// Non-empty string field, or the rejection for it (`name` as in details).
fn required_text<'a>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    field: &str,
    name: &str,
) -> Result<&'a str, Rejection> {
    match object.get(field) {
        None | Some(serde_json::Value::Null) => Err(missing(name)),
        Some(serde_json::Value::String(text)) if !text.is_empty() => Ok(text),
        Some(_) => Err(invalid(format!("Param {name} must be a non-empty string."))),
    }
}

/// Meta's send contract (reference §2.2, §4.1–4.3), checked as far as the
/// fake needs: product, recipient, type and the object named after it.
fn validate_send(raw: &[u8]) -> Result<ValidSend, Rejection> {
    let body = serde_json::from_slice::<serde_json::Value>(raw)
        .map_err(|_| invalid("The request body must be a JSON object."))?;
    let object = body
        .as_object()
        .ok_or_else(|| invalid("The request body must be a JSON object."))?;
    if required_text(object, "messaging_product", "messaging_product")? != "whatsapp" {
        return Err(invalid("Param messaging_product must be 'whatsapp'."));
    }
    if let Some(kind) = object.get("recipient_type") {
        if !matches!(kind.as_str(), Some("individual" | "group")) {
            return Err(invalid(
                "Param recipient_type must be one of {individual, group}.",
            ));
        }
    }
    // `to` wins when both are given (reference §2.2).
    let present = |field: &str| object.get(field).is_some_and(|v| !v.is_null());
    let (recipient, wa_id) = if present("to") {
        let to = required_text(object, "to", "to")?;
        let digits = digits(to);
        if digits.is_empty() || !is_phone_like(to) {
            return Err(invalid(
                "Param to must be a phone number with country code, e.g. +15550109999.",
            ));
        }
        (to.to_owned(), Some(digits))
    } else if present("recipient") {
        (
            required_text(object, "recipient", "recipient")?.to_owned(),
            None,
        )
    } else {
        return Err(missing("to"));
    };
    let kind = required_text(object, "type", "type")?;
    if !SEND_TYPES.contains(&kind) {
        return Err(invalid(format!(
            "Param type must be one of {{{}}}.",
            SEND_TYPES.join(", ")
        )));
    }
    let payload = match object.get(kind) {
        None | Some(serde_json::Value::Null) => return Err(missing(kind)),
        Some(serde_json::Value::Object(payload)) => payload,
        Some(_) => return Err(invalid(format!("Param {kind} must be a JSON object."))),
    };
    match kind {
        "text" => {
            let text = required_text(payload, "body", "text['body']")?;
            if text.chars().count() > MAX_TEXT_BODY {
                return Err(invalid(format!(
                    "Param text['body'] must be at most {MAX_TEXT_BODY} characters long."
                )));
            }
        }
        "template" => {
            required_text(payload, "name", "template['name']")?;
            match payload.get("language") {
                None | Some(serde_json::Value::Null) => {
                    return Err(missing("template['language']['code']"));
                }
                Some(serde_json::Value::Object(language)) => {
                    required_text(language, "code", "template['language']['code']")?;
                }
                Some(_) => {
                    return Err(invalid("Param template['language'] must be a JSON object."));
                }
            }
        }
        media if MEDIA_TYPES.contains(&media) => {
            let has = |field: &str| {
                payload
                    .get(field)
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|value| !value.is_empty())
            };
            if !has("id") && !has("link") {
                return Err(missing(&format!("{media}['id'] or {media}['link']")));
            }
        }
        _ => {}
    }
    let is_template = kind == "template";
    Ok(ValidSend {
        body,
        recipient,
        wa_id,
        is_template,
    })
}

/// An error in Meta's format: message `(#code) Title`, the reason in
/// `error_data.details` (`details` overrides the default text for `code`).
/// Used for sends, onboarding and injected failures.
fn meta_error(state: &mut FakeState, status: u16, code: i64, details: Option<&str>) -> Response {
    if code == 190 {
        let mut response = envelope(
            state,
            status,
            code,
            "OAuthException",
            token_expired_message(),
        );
        if status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\""),
            );
        }
        return response;
    }
    let (title, default_details) = error_text(code);
    envelope_with(
        state,
        status,
        code,
        "OAuthException",
        &format!("(#{code}) {title}"),
        details.unwrap_or(default_details),
        serde_json::Value::Null,
    )
}

/// Title and `details` Meta uses for the send and onboarding error codes
/// (reference §4.4; 136024 from Meta's Graph reference for `request_code`).
fn error_text(code: i64) -> (&'static str, &'static str) {
    match code {
        1 => ("An unknown error occurred", "An unknown error occurred."),
        2 => ("Service temporarily unavailable", "Service temporarily unavailable."),
        4 => ("Application request limit reached", "The app has reached its API call rate limit."),
        10 => ("Permission denied", "Permission is either not granted or has been removed."),
        100 => ("Invalid parameter", "Invalid parameter."),
        200..=299 => ("API Permission", "Permission is either not granted or has been removed."),
        80007 => ("Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
        130429 => ("Rate limit hit", "Cloud API message throughput has been reached."),
        131000 => ("Something went wrong", "Message failed to send due to an unknown error."),
        131008 => ("Required parameter is missing", "A required parameter is missing."),
        131009 => ("Parameter value is not valid", "One or more parameter values are invalid."),
        131016 => ("Service unavailable", "A service is temporarily unavailable."),
        131026 => (
            "Message undeliverable",
            "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version.",
        ),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131048 => (
            "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
        ),
        131049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
        131050 => (
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
            "The recipient has stopped marketing messages from this business.",
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        ),
        131057 => ("Account in maintenance mode", "Business Account is in maintenance mode."),
        131062 => (
            "Business-scoped user ID recipients not supported",
            "This message cannot be sent to a business-scoped user ID.",
        ),
        133000 => (
            "Incomplete deregistration",
            "A previous deregistration attempt failed. Deregister the number again before registering.",
        ),
        133004 => ("Server temporarily unavailable", "Server temporarily unavailable."),
        133005 => ("Two step verification PIN Mismatch", "Two-step verification PIN incorrect."),
        133006 => (
            "Phone number re-verification needed",
            "Phone number needs to be verified before registering.",
        ),
        133008 => (
            "Too many two step verification PIN guesses",
            "Too many incorrect two-step verification PIN guesses for this phone number.",
        ),
        133009 => (
            "Two step verification PIN Guessed Too Fast",
            "Two-step verification PIN was entered too quickly.",
        ),
        133010 => (
            "Phone number Not Registered",
            "Phone number not registered on the WhatsApp Business Platform.",
        ),
        133015 => (
            "Please wait a few minutes before attempting to register this phone number",
            "The phone number you are attempting to register was recently deleted, and deletion has not yet completed.",
        ),
        133016 => (
            "Account register deregister rate limit exceeded",
            "Registration or deregistration failed because there were too many attempts for this phone number in a short period of time.",
        ),
        136024 => ("Request code error", "The verification code could not be sent."),
        _ => ("Injected failure", "Injected failure."),
    }
}

/// A Meta-shaped wamid: base64 of the recipient and a unique id
/// (`wamid.HBgL...`), unique per fake (serial) and across fakes (keyed tag).
fn wamid(shared: &Shared, serial: u64, recipient: &str) -> String {
    let tag = shared.sign(&format!("wamid:{serial}")).to_ascii_uppercase();
    let id = format!("{serial:06X}{}", &tag[..12]);
    let who = &recipient.as_bytes()[..recipient.len().min(200)];
    let mut raw = vec![0x1c, 0x18, who.len() as u8];
    raw.extend_from_slice(who);
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, id.len() as u8]);
    raw.extend_from_slice(id.as_bytes());
    raw.push(0x00);
    format!("wamid.{}", b64(&raw))
}

fn digits(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

/// Meta accepts `+`, `-`, `()` and spaces in `to` (reference §4.1).
fn is_phone_like(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'(' | b')' | b' '))
}

/// Knob key for a recipient: the digits of a phone number (so `+1 555-0100`
/// and `15550100` match), anything else (a BSUID) as given.
fn recipient_key(value: &str) -> String {
    let digits = digits(value);
    if !digits.is_empty() && is_phone_like(value) {
        digits
    } else {
        value.to_owned()
    }
}

// ---- onboarding ---------------------------------------------------------------

/// `GET /{version}/{phone_number_id}[?fields=a,b]`: the requested fields plus
/// `id` (Meta's default set without `fields`); an unknown field is Meta's
/// 100 "Tried accessing nonexisting field".
fn phone_number(
    state: &mut FakeState,
    version: &str,
    id: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let mut line = format!("GET /{version}/{id}");
    if let Some(fields) = params.get("fields") {
        line.push_str(&format!("?fields={fields}"));
    }
    state.requests.push(line);

    if !authorized(state, headers) {
        return token_error(state);
    }
    if version != VERSION || !is_numeric_id(id) {
        return unknown_object(state, "get", id);
    }
    if let Some(response) = take_failure(state, "phone_number") {
        return response;
    }
    let all = phone_mut(state, id).graph_fields(id);
    let requested: Vec<&str> = match params.get("fields") {
        Some(fields) => fields
            .split(',')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .collect(),
        None => DEFAULT_PHONE_FIELDS.to_vec(),
    };
    let mut answer = serde_json::Map::new();
    for field in requested {
        let Some(value) = all.get(field) else {
            let message = format!(
                "(#100) Tried accessing nonexisting field ({field}) on node type (WhatsAppBusinessPhoneNumber)"
            );
            return envelope(state, 400, 100, "OAuthException", &message);
        };
        answer.insert(field.to_owned(), value.clone());
    }
    answer.insert("id".to_owned(), serde_json::Value::from(id));
    json(StatusCode::OK, &serde_json::Value::Object(answer))
}

/// `POST /{version}/{phone_number_id}/request_code` with `code_method` and
/// `language` in the query string (as Meta documents) or the body (JSON or
/// form): marks a code as sent.
async fn request_code(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let params = match onboarding_call(
        &mut state,
        "request_code",
        &version,
        &id,
        query.as_deref(),
        &headers,
        &body,
    ) {
        Ok(params) => params,
        Err(response) => return *response,
    };
    let method = match params.get("code_method").map(String::as_str) {
        None | Some("") => return missing_parameter(&mut state, "code_method"),
        Some(method) if crate::onboarding::CODE_METHODS.contains(&method) => method.to_owned(),
        Some(_) => {
            let details = format!(
                "Param code_method must be one of {{{}}}.",
                crate::onboarding::CODE_METHODS.join(", ")
            );
            return meta_error(&mut state, 400, 100, Some(&details));
        }
    };
    let language = match params.get("language").map(String::as_str) {
        None | Some("") => return missing_parameter(&mut state, "language"),
        Some(language) => language.to_owned(),
    };
    if let Some(response) = take_failure(&mut state, "request_code") {
        return response;
    }
    phone_mut(&mut state, &id).code_sent = Some((method, language));
    success()
}

/// `POST /{version}/{phone_number_id}/verify_code` with `code` (JSON body,
/// form or query).
async fn verify_code(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let params = match onboarding_call(
        &mut state,
        "verify_code",
        &version,
        &id,
        query.as_deref(),
        &headers,
        &body,
    ) {
        Ok(params) => params,
        Err(response) => return *response,
    };
    let Some(code) = params.get("code").filter(|code| !code.is_empty()) else {
        return missing_parameter(&mut state, "code");
    };
    if let Some(response) = take_failure(&mut state, "verify_code") {
        return response;
    }
    let phone = phone_mut(&mut state, &id);
    let refusal = if phone.code_sent.is_none() {
        Some(if phone.code_verification_status == "VERIFIED" {
            ALREADY_VERIFIED_DETAILS
        } else {
            NO_CODE_DETAILS
        })
    } else if *code != phone.expected_code {
        // The outstanding code stays valid: the business can try again.
        Some(WRONG_CODE_DETAILS)
    } else {
        phone.code_sent = None;
        phone.code_verification_status = "VERIFIED".to_owned();
        None
    };
    match refusal {
        Some(details) => meta_error(&mut state, 400, 100, Some(details)),
        None => success(),
    }
}

/// `POST /{version}/{phone_number_id}/register` with
/// `{"messaging_product":"whatsapp","pin":"<6 digits>"}`.
async fn register(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let params = match onboarding_call(
        &mut state,
        "register",
        &version,
        &id,
        query.as_deref(),
        &headers,
        &body,
    ) {
        Ok(params) => params,
        Err(response) => return *response,
    };
    match params.get("messaging_product").map(String::as_str) {
        None | Some("") => return missing_parameter(&mut state, "messaging_product"),
        Some("whatsapp") => {}
        Some(_) => {
            return meta_error(
                &mut state,
                400,
                100,
                Some("Param messaging_product must be 'whatsapp'."),
            );
        }
    }
    let pin = match params.get("pin").map(String::as_str) {
        None | Some("") => return missing_parameter(&mut state, "pin"),
        Some(pin) if crate::onboarding::is_pin(pin) => pin.to_owned(),
        Some(_) => {
            return meta_error(
                &mut state,
                400,
                100,
                Some("Param pin must be a 6-digit number."),
            );
        }
    };
    if let Some(response) = take_failure(&mut state, "register") {
        return response;
    }
    let phone = phone_mut(&mut state, &id);
    phone.register_calls += 1;
    let refusal = if phone.register_calls > REGISTER_LIMIT {
        Some(133_016)
    } else if phone.code_verification_status != "VERIFIED" {
        Some(133_006)
    } else if phone.pin.as_ref().is_some_and(|fixed| *fixed != pin) {
        Some(133_005)
    } else {
        phone.pin = Some(pin);
        phone.status = "CONNECTED".to_owned();
        None
    };
    match refusal {
        Some(code) => meta_error(&mut state, 400, code, None),
        None => success(),
    }
}

/// `POST /{version}/{waba_id}/subscribed_apps`, optionally with
/// `override_callback_uri` + `verify_token` (reference §1.9); without them a
/// previous override is removed.
async fn subscribe_app(
    State(shared): State<Arc<Shared>>,
    Path((version, waba_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let params = match onboarding_call(
        &mut state,
        "subscribed_apps",
        &version,
        &waba_id,
        query.as_deref(),
        &headers,
        &body,
    ) {
        Ok(params) => params,
        Err(response) => return *response,
    };
    let uri = params
        .get("override_callback_uri")
        .filter(|uri| !uri.is_empty())
        .cloned();
    if let Some(uri) = &uri {
        if uri.chars().count() > 200 {
            return meta_error(
                &mut state,
                400,
                100,
                Some("Param override_callback_uri must be at most 200 characters long."),
            );
        }
        if params.get("verify_token").is_none_or(String::is_empty) {
            return missing_parameter(&mut state, "verify_token");
        }
    }
    if let Some(response) = take_failure(&mut state, "subscribed_apps") {
        return response;
    }
    state.subscriptions.insert(waba_id, uri);
    success()
}

/// `GET /{version}/{waba_id}/subscribed_apps`: `{"data":[…]}`, one entry
/// once `POST` subscribed the fake's app.
async fn list_subscribed_apps(
    State(shared): State<Arc<Shared>>,
    Path((version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = shared.lock();
    state
        .requests
        .push(format!("GET /{version}/{waba_id}/subscribed_apps"));
    if !authorized(&state, &headers) {
        return token_error(&mut state);
    }
    if version != VERSION || !is_numeric_id(&waba_id) {
        return unknown_object(&mut state, "get", &waba_id);
    }
    if let Some(response) = take_failure(&mut state, "subscribed_apps") {
        return response;
    }
    let data: Vec<serde_json::Value> = state
        .subscriptions
        .get(&waba_id)
        .map(|uri| {
            let mut app = serde_json::json!({
                "whatsapp_business_api_data": {
                    "id": FAKE_APP_ID,
                    "link": format!("https://www.facebook.com/games/?app_id={FAKE_APP_ID}"),
                    "name": FAKE_APP_NAME,
                }
            });
            if let Some(uri) = uri {
                app["override_callback_uri"] = serde_json::Value::from(uri.as_str());
            }
            app
        })
        .into_iter()
        .collect();
    json(StatusCode::OK, &serde_json::json!({ "data": data }))
}

/// The common front of the onboarding `POST`s: record the call (bare path),
/// check the token, version and numeric id, and collect the parameters from
/// the query string and the body (JSON object or form; the query wins).
fn onboarding_call(
    state: &mut FakeState,
    edge: &str,
    version: &str,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, Box<Response>> {
    state.requests.push(format!("POST /{version}/{id}/{edge}"));
    if !authorized(state, headers) {
        return Err(Box::new(token_error(state)));
    }
    if version != VERSION || !is_numeric_id(id) {
        return Err(Box::new(unknown_object(state, "post", id)));
    }
    request_params(query, body)
        .map_err(|details| Box::new(meta_error(state, 400, 100, Some(&details))))
}

/// Query parameters, then body parameters not already given: a JSON object
/// (strings, numbers and booleans as text) or an urlencoded form.
fn request_params(query: Option<&str>, body: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut params = parse_query(query);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(object)) => {
            for (key, value) in object {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Number(number) => number.to_string(),
                    serde_json::Value::Bool(flag) => flag.to_string(),
                    _ => return Err(format!("Param {key} must be a string.")),
                };
                params.entry(key).or_insert(text);
            }
        }
        Ok(_) => return Err("The request body must be a JSON object.".to_owned()),
        Err(_) => {
            for (key, value) in url::form_urlencoded::parse(body).into_owned() {
                params.entry(key).or_insert(value);
            }
        }
    }
    Ok(params)
}

/// Consume one injected failure of `op`, if any.
fn take_failure(state: &mut FakeState, op: &'static str) -> Option<Response> {
    let (n, status, code) = state.fail_ops.remove(op)?;
    if n > 1 {
        state.fail_ops.insert(op, (n - 1, status, code));
    }
    Some(meta_error(state, status, code, None))
}

/// The number's state, created in the default state on first use.
fn phone_mut<'a>(state: &'a mut FakeState, id: &str) -> &'a mut FakePhone {
    state
        .phones
        .entry(id.to_owned())
        .or_insert_with(|| FakePhone::new(id))
}

fn missing_parameter(state: &mut FakeState, parameter: &str) -> Response {
    let details = format!("The parameter {parameter} is required.");
    meta_error(state, 400, 100, Some(&details))
}

fn success() -> Response {
    json(StatusCode::OK, &serde_json::json!({ "success": true }))
}

fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Meta's answer for ids that do not exist, are not visible or do not
/// support the operation (`method` is `get` or `post`).
fn unknown_object(state: &mut FakeState, method: &str, id: &str) -> Response {
    let message = format!(
        "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    envelope(state, 400, 100, "GraphMethodException", &message)
}

// ---- helpers ----------------------------------------------------------------

fn authorized(state: &FakeState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| state.tokens.contains(token))
}

fn token_expired_message() -> &'static str {
    "Error validating access token: Session has expired on Tuesday, 15-Jul-25 10:00:00 PDT. The current time is Tuesday, 15-Jul-25 11:00:00 PDT."
}

fn token_error(state: &mut FakeState) -> Response {
    let mut response = envelope(state, 401, 190, "OAuthException", token_expired_message());
    // Graph sends this challenge alongside 401s.
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\""),
    );
    response
}

/// 400 + code 100 "Invalid parameter", the reason in `error_data.details`.
fn invalid_parameter(state: &mut FakeState, details: &str) -> Response {
    envelope_with(
        state,
        400,
        100,
        "OAuthException",
        "Invalid parameter",
        details,
        serde_json::Value::Null,
    )
}

/// Meta's error envelope (reference §4.4).
fn envelope(state: &mut FakeState, status: u16, code: i64, kind: &str, message: &str) -> Response {
    envelope_with(
        state,
        status,
        code,
        kind,
        message,
        message,
        serde_json::Value::Null,
    )
}

/// Meta's error envelope with distinct `details` and extra fields merged into
/// the error object (`error_subcode`, `error_user_title`, ...).
fn envelope_with(
    state: &mut FakeState,
    status: u16,
    code: i64,
    kind: &str,
    message: &str,
    details: &str,
    extra: serde_json::Value,
) -> Response {
    state.trace += 1;
    let mut error = serde_json::json!({
        "message": message,
        "type": kind,
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": format!("FakeTrace{:06}", state.trace),
    });
    if let (Some(error), serde_json::Value::Object(extra)) = (error.as_object_mut(), extra) {
        error.extend(extra);
    }
    let body = serde_json::json!({ "error": error });
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &body,
    )
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn corrupted(bytes: Bytes) -> Bytes {
    let mut bytes = bytes.to_vec();
    match bytes.first_mut() {
        Some(first) => *first ^= 0xff,
        None => bytes.push(0), // empty media: any byte is a mismatch
    }
    Bytes::from(bytes)
}

fn generated_stream(
    seed: u64,
    size: u64,
    corrupt: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    futures_util::stream::iter(0..block_count(size)).map(move |index| {
        let mut block = generated_block(seed, size, index);
        if corrupt && index == 0 {
            if let Some(first) = block.first_mut() {
                *first ^= 0xff;
            }
        }
        Ok(Bytes::from(block))
    })
}

fn block_count(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64)
}

/// Block `index` of the generated content: a seeded pseudo-random block with
/// the index stamped in front, so blocks differ and reordering is detectable.
fn generated_block(seed: u64, size: u64, index: u64) -> Vec<u8> {
    let start = index * BLOCK as u64;
    let len = size.saturating_sub(start).min(BLOCK as u64) as usize;
    let mut block = Vec::with_capacity(BLOCK);
    let mut x = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while block.len() < len {
        // splitmix64: fast and deterministic; quality is irrelevant here.
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        block.extend_from_slice(&z.to_le_bytes());
    }
    block.truncate(len);
    block
}

fn seed_for(id: &str) -> u64 {
    // Fixed (not RandomState) so the same id always yields the same bytes.
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    for chunk in key.chunks_mut(8) {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(now() as u64);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    key
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
