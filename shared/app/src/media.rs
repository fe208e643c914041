//! The media use case: fetch an inbound file from Meta before its copy expires, verify it, store
//! it content-addressed, index it for search, and make every failure visible.
//!
//! A job's record (`MEDIA#<ts>#<wamid>` in the conversation, indexed tenant-wide and per type) is
//! written first, as `pending`, then moves to exactly one of: `stored`, `quarantined` (content is
//! not what was declared), `lost` (retries exhausted, with the reason) or `unrecoverable` (past
//! Meta's 7-day retention). Nothing is dropped without one of those records.

use std::sync::{Arc, Mutex};

use base64::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_core::keys;
use switchboard_core::media::{
    content_key, mime_matches, sanitize_filename, sha256_hex_of_base64, sniff, MediaJob,
};
use switchboard_graph::{GraphClient, GraphError};

use crate::ports::blob::ByteStream;
use crate::ports::bus::delivered_data;
use crate::ports::table::item;
use crate::ports::{
    BlobError, BlobStore, BusEvent, Clock, Condition, EventBus, Key, StoreError, Table,
    TokenSource, Update,
};

/// Receives of one job before it is marked `lost` (the queue's redrive would move it at 5).
pub const MAX_ATTEMPTS: u32 = 4;
/// Fresh URLs fetched within one attempt when a download URL has expired.
const URL_REFRESHES: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub enum MediaOutcome {
    Stored {
        key: String,
        size: u64,
        sha256: String,
    },
    AlreadyStored,
    Quarantined {
        reason: String,
    },
    Lost {
        reason: String,
    },
    Unrecoverable {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Worth another attempt later (the message goes back to the queue).
    #[error("retry later: {0}")]
    Retry(String),
    #[error("not a media job: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct MediaFetcher {
    pub table: Arc<dyn Table>,
    pub blobs: Arc<dyn BlobStore>,
    pub bus: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub graph: GraphClient,
    pub tokens: Arc<dyn TokenSource>,
}

/// Why an attempt failed, and whether trying again can help.
enum Failure {
    Retry(String),
    Final(String),
    Quarantine(String),
}

pub fn media_key(job: &MediaJob) -> Key {
    Key::new(
        keys::conversation_pk(&job.tenant, &job.conversation_id),
        format!("MEDIA#{:012}#{}", job.sent_at, job.wamid),
    )
}

impl MediaFetcher {
    /// One queue message (an EventBridge delivery of `media.received`). `receive_count` decides
    /// when retries are exhausted.
    pub async fn handle(&self, body: &str, receive_count: u32) -> Result<MediaOutcome, MediaError> {
        let (_, job): (String, MediaJob) = delivered_data(body).map_err(MediaError::Corrupt)?;
        let key = media_key(&job);
        let now = self.clock.now();
        if let Some(existing) = self.table.get(&key).await? {
            if existing.get("status").and_then(Value::as_str) == Some("stored") {
                return Ok(MediaOutcome::AlreadyStored);
            }
        } else {
            self.create_record(&job, &key).await?;
        }
        if job.past_retention(now) {
            let reason = "past Meta's 7-day media retention".to_string();
            self.finish(&key, "unrecoverable", &reason, json!({}))
                .await?;
            return Ok(MediaOutcome::Unrecoverable { reason });
        }
        match self.attempt(&job).await {
            Ok(stored) => {
                let (k, size, sha, mime) = stored;
                self.finish(
                    &key,
                    "stored",
                    "",
                    json!({"blob_key": k, "size": size, "sha256": sha, "mime_type": mime}),
                )
                .await?;
                self.publish(
                    &job,
                    "media.stored",
                    json!({"blob_key": k, "size": size, "sha256": sha, "mime_type": mime}),
                )
                .await?;
                tracing::info!(wamid = %job.wamid, size, "media stored");
                Ok(MediaOutcome::Stored {
                    key: k,
                    size,
                    sha256: sha,
                })
            }
            Err(Failure::Quarantine(reason)) => {
                self.finish(&key, "quarantined", &reason, json!({})).await?;
                self.publish(&job, "media.quarantined", json!({"reason": reason}))
                    .await?;
                Ok(MediaOutcome::Quarantined { reason })
            }
            Err(Failure::Final(reason)) => self.lose(&job, &key, reason).await,
            Err(Failure::Retry(reason)) if receive_count >= MAX_ATTEMPTS => {
                self.lose(
                    &job,
                    &key,
                    format!("{reason} (after {receive_count} attempts)"),
                )
                .await
            }
            Err(Failure::Retry(reason)) => {
                self.table
                    .update(
                        &key,
                        Update::default()
                            .set("last_error", reason.as_str())
                            .add("attempts", 1),
                        None,
                    )
                    .await?;
                Err(MediaError::Retry(reason))
            }
        }
    }

    async fn create_record(&self, job: &MediaJob, key: &Key) -> Result<(), StoreError> {
        let sk = format!("{:012}#{}", job.sent_at, job.wamid);
        // The sender's phone and BSUID make the record searchable by sender; they stay out of
        // the bus event that carried the job.
        let contact = self
            .table
            .get(&Key::from(keys::contact(&job.tenant, &job.contact_id)))
            .await?;
        let attr = |a: &str| {
            contact
                .as_ref()
                .and_then(|c| c.get(a))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let filename = job.filename.as_deref().map(sanitize_filename);
        let it = item(
            key,
            json!({
                "kind": "media",
                "status": "pending",
                "tenant": job.tenant,
                "conversation_id": job.conversation_id,
                "contact_id": job.contact_id,
                "sender_phone": attr("wa_id"),
                "sender_bsuid": attr("bsuid"),
                "wamid": job.wamid,
                "media_id": job.media_id,
                "type": job.kind,
                "voice": job.voice,
                "declared_mime": job.declared_mime,
                "filename": filename,
                "filename_lower": filename.as_deref().map(str::to_lowercase),
                "caption": job.caption,
                "sent_at": job.sent_at,
                "received_at": job.received_at,
                keys::ATTR_GSI1PK: format!("T#{}#MEDIA", job.tenant),
                keys::ATTR_GSI1SK: sk,
                keys::ATTR_GSI2PK: format!("T#{}#MEDIA#{}", job.tenant, job.kind),
                keys::ATTR_GSI2SK: sk,
            }),
        );
        match self.table.put(it, Some(Condition::ItemNotExists)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn finish(
        &self,
        key: &Key,
        status: &str,
        reason: &str,
        extra: Value,
    ) -> Result<(), StoreError> {
        let mut up = Update::default()
            .set("status", status)
            .set("finished_at", self.clock.now());
        if !reason.is_empty() {
            up = up.set("reason", reason);
        }
        if let Value::Object(m) = extra {
            for (k, v) in m {
                up = up.set(&k, v);
            }
        }
        self.table.update(key, up, None).await.map(|_| ())
    }

    async fn lose(
        &self,
        job: &MediaJob,
        key: &Key,
        reason: String,
    ) -> Result<MediaOutcome, MediaError> {
        tracing::warn!(wamid = %job.wamid, reason = %reason, "media lost");
        self.finish(key, "lost", &reason, json!({})).await?;
        self.publish(job, "media.lost", json!({"reason": reason}))
            .await?;
        Ok(MediaOutcome::Lost { reason })
    }

    async fn publish(
        &self,
        job: &MediaJob,
        detail_type: &str,
        extra: Value,
    ) -> Result<(), MediaError> {
        let mut detail = json!({"conversation_id": job.conversation_id, "wamid": job.wamid,
                                "media_id": job.media_id, "type": job.kind});
        if let (Value::Object(a), Value::Object(b)) = (&mut detail, extra) {
            a.extend(b);
        }
        self.bus
            .publish(&[BusEvent {
                tenant: job.tenant.clone(),
                detail_type: detail_type.to_string(),
                correlation: format!("msg:{}", job.wamid),
                detail,
            }])
            .await
            .map_err(|e| MediaError::Retry(e.to_string()))
    }

    /// A tenant-level alert operators see: the Graph token no longer works.
    async fn token_alert(&self, job: &MediaJob, message: &str) {
        let now = self.clock.now();
        let key = Key::from(keys::notice(&job.tenant, "token_expired", now, &job.wamid));
        let _ = self
            .table
            .put(item(&key, json!({"kind": "notice", "field": "token_expired", "message": message, "at": now})), None)
            .await;
        let _ = self
            .publish(job, "tenant.token_expired", json!({"message": message}))
            .await;
    }

    /// Fetches and stores the file: (blob key, size, sha256 hex, sniffed MIME).
    async fn attempt(&self, job: &MediaJob) -> Result<(String, u64, String, String), Failure> {
        let token = self
            .tokens
            .token(&job.tenant)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let mut last = String::new();
        for _ in 0..=URL_REFRESHES {
            let info = match self
                .graph
                .media_info(&token, &job.media_id, job.phone_number_id.as_deref())
                .await
            {
                Ok(i) => i,
                Err(e) => return Err(self.classify(job, e).await),
            };
            let declared_sha = job
                .sha256
                .as_deref()
                .or(info.sha256.as_deref())
                .and_then(sha256_hex_of_base64);
            let download = match self.graph.download(&token, &info.url).await {
                Ok(d) => d,
                Err(e) if e.needs_fresh_url() => {
                    last = e.to_string();
                    continue;
                }
                Err(e) => return Err(self.classify(job, e).await),
            };
            let declared_mime = job
                .declared_mime
                .clone()
                .or(info.mime_type.clone())
                .or(download.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".into());
            let key = match &declared_sha {
                Some(hex) => content_key(&job.tenant, hex),
                None => format!(
                    "media/{}/incoming/{}",
                    job.tenant,
                    hex::encode(Sha256::digest(job.wamid.as_bytes()))
                ),
            };
            // Hash and sniff while the bytes stream through: the file is never held whole.
            let hasher = Arc::new(Mutex::new((Sha256::new(), Vec::<u8>::with_capacity(64))));
            let tap = hasher.clone();
            let failure = Arc::new(Mutex::new(None::<GraphError>));
            let failure_tap = failure.clone();
            let body: ByteStream = download
                .body
                .map(move |chunk| match chunk {
                    Ok(bytes) => {
                        let mut h = tap.lock().unwrap_or_else(|p| p.into_inner());
                        h.0.update(&bytes);
                        if h.1.len() < 64 {
                            let take = (64 - h.1.len()).min(bytes.len());
                            h.1.extend_from_slice(&bytes[..take]);
                        }
                        Ok(bytes)
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        *failure_tap.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        Err(BlobError::Source(msg))
                    }
                })
                .boxed();
            let size = match self.blobs.put_stream(&key, &declared_mime, body).await {
                Ok(n) => n,
                Err(BlobError::Source(msg)) => {
                    let cause = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
                    return Err(match cause {
                        Some(e) if e.needs_fresh_url() => {
                            last = msg;
                            continue;
                        }
                        Some(e) => self.classify(job, e).await,
                        None => Failure::Retry(msg),
                    });
                }
                Err(e) => return Err(Failure::Retry(e.to_string())),
            };
            let (digest, head) = {
                let h = hasher.lock().unwrap_or_else(|p| p.into_inner());
                (hex::encode(h.0.clone().finalize()), h.1.clone())
            };
            if let Some(expected) = &declared_sha {
                if &digest != expected {
                    let _ = self.blobs.delete(&key).await;
                    return Err(Failure::Retry(format!(
                        "sha256 mismatch: Meta declared {}, received {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(hex::decode(expected).unwrap_or_default()),
                        base64::engine::general_purpose::STANDARD
                            .encode(hex::decode(&digest).unwrap_or_default())
                    )));
                }
            }
            let sniffed = sniff(&head).unwrap_or("application/octet-stream");
            if !mime_matches(&declared_mime, sniffed) {
                return Err(Failure::Quarantine(format!(
                    "declared {declared_mime}, content looks like {sniffed}"
                )));
            }
            return Ok((key, size, digest, declared_mime));
        }
        Err(Failure::Retry(format!(
            "download URL kept expiring: {last}"
        )))
    }

    async fn classify(&self, job: &MediaJob, e: GraphError) -> Failure {
        if e.is_token_problem() {
            self.token_alert(job, &e.to_string()).await;
            return Failure::Retry(format!("Graph token rejected: {e}"));
        }
        match e {
            GraphError::TooLarge { limit } => {
                Failure::Final(format!("file is over the {limit}-byte limit"))
            }
            GraphError::Guard(g) => Failure::Final(format!("download refused: {g}")),
            GraphError::Redirect { location } => Failure::Final(format!(
                "download refused: redirect to {location} is not allowed"
            )),
            other if other.is_retryable() || other.needs_fresh_url() => {
                Failure::Retry(other.to_string())
            }
            other => Failure::Retry(other.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl crate::worker::Handler for MediaFetcher {
    async fn handle_message(
        &self,
        body: &str,
        receive_count: u32,
    ) -> Result<(), crate::worker::Retry> {
        self.handle(body, receive_count)
            .await
            .map(|_| ())
            .map_err(|e| crate::worker::Retry::now(e.to_string()))
    }
}
