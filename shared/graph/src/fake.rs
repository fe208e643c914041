//! An in-process fake of the Graph media, template-creation and message-send
//! endpoints (feature `fake`).
//!
//! It follows Meta's documented contract (reference §2.2, §3, §4, §6.1):
//! bearer token on every call, 401 + code 190 envelope for bad tokens, 400 +
//! code 100 for unknown ids and invalid parameters, download URLs of the
//! lookaside shape that expire (5 minutes by default) and then answer 404,
//! `POST /{waba_id}/message_templates` that refuses a second template with the
//! same name+language, and `POST /{phone_number_id}/messages` that validates
//! the body (`to`, or `recipient` for a BSUID), answers a `wamid` and records
//! the send (also served, without auth, at `GET /__fake/messages`). Knobs
//! inject the failures callers must survive. Served on `127.0.0.1:0`, plain
//! HTTP.

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
            .route("/{version}/{media_id}", get(media_info))
            .route(
                "/{version}/{waba_id}/message_templates",
                post(create_template),
            )
            .route("/{version}/{phone_number_id}/messages", post(send_message))
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

    /// Every accepted send, in order, as
    /// `{"phone_number_id":..,"wamid":..,"body":<request JSON>,"at":<unix secs>}`;
    /// also served as `{"data":[...]}` at `GET /__fake/messages` (no auth).
    pub fn sent_messages(&self) -> Vec<serde_json::Value> {
        self.state().sent.clone()
    }

    /// `METHOD /path` of every request seen, with only non-secret query
    /// parameters kept (`mid`, `phone_number_id`; never `hash`/`ext`).
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

async fn media_info(
    State(shared): State<Arc<Shared>>,
    Path((version, media_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = parse_query(query.as_deref());
    let mut state = shared.lock();
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
        return envelope(&mut state, status, code, "OAuthException", &message);
    }
    if !authorized(&state, &headers) {
        return token_error(&mut state);
    }
    let media = if version == VERSION {
        state.media.get(&media_id)
    } else {
        None
    };
    let Some(media) = media else {
        // Meta's wording for ids that do not exist or are not visible.
        let message = format!(
            "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        return envelope(&mut state, 400, 100, "GraphMethodException", &message);
    };
    let (mime, sha256, size) = (
        media.mime.clone(),
        media.sha256.clone(),
        media.content.len(),
    );

    state.serial += 1;
    let ext = now() + state.url_ttl;
    let hash = shared.sign(&format!("{media_id}:{ext}:{}", state.serial));
    state.issued.insert(hash.clone(), (media_id.clone(), ext));
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
            return send_error(&mut state, 400, code, Some(&details));
        }
    };
    if let Some((n, status, code)) = state.fail_sends.take() {
        state.fail_sends = (n > 1).then_some((n - 1, status, code));
        return send_error(&mut state, status, code, None);
    }
    let key = recipient_key(&send.recipient);
    if state.unreachable.contains(&key) {
        return send_error(&mut state, 400, 131026, None);
    }
    if !send.is_template && state.closed_windows.contains(&key) {
        return send_error(&mut state, 400, 131047, None);
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

/// A send error in Meta's format: message `(#code) Title`, the reason in
/// `error_data.details` (`details` overrides the default text for `code`).
fn send_error(state: &mut FakeState, status: u16, code: i64, details: Option<&str>) -> Response {
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
    let (title, default_details) = send_error_text(code);
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

/// Title and `details` Meta uses for the send error codes (reference §4.4).
fn send_error_text(code: i64) -> (&'static str, &'static str) {
    match code {
        1 => ("An unknown error occurred", "An unknown error occurred."),
        2 => ("Service temporarily unavailable", "Service temporarily unavailable."),
        4 => ("Application request limit reached", "The app has reached its API call rate limit."),
        100 => ("Invalid parameter", "Invalid parameter."),
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
        133004 => ("Server temporarily unavailable", "Server temporarily unavailable."),
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
