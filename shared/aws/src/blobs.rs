//! The blob port on S3: single PUTs for small bodies, multipart uploads for streams.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream as S3Body;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use futures_util::StreamExt;
use switchboard_app::ports::blob::{validate_key, ByteStream};
use switchboard_app::ports::{BlobError, BlobStore};

/// Multipart part size: S3's minimum is 5 MiB; 8 MiB keeps memory flat (one part buffered at a
/// time) and a 100 MB file under 13 parts.
const PART_BYTES: usize = 8 * 1024 * 1024;

pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// An S3 client from the shared config; path-style when an endpoint override (an emulator) is set.
    pub fn client(config: &aws_config::SdkConfig) -> Client {
        let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build();
        Client::from_conf(conf)
    }

    async fn multipart(
        &self,
        key: &str,
        upload_id: &str,
        first: Vec<u8>,
        body: &mut ByteStream,
    ) -> Result<u64, BlobError> {
        let mut parts = Vec::new();
        let mut buf = first;
        let mut size = 0u64;
        let mut ended = false;
        while !ended {
            while buf.len() < PART_BYTES {
                match body.next().await {
                    Some(chunk) => buf.extend_from_slice(&chunk?),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            if buf.is_empty() {
                break;
            }
            let number = parts.len() as i32 + 1;
            size += buf.len() as u64;
            let out = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(S3Body::from(std::mem::take(&mut buf)))
                .send()
                .await
                .map_err(unavailable)?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(size)
    }
}

fn unavailable<E: std::fmt::Debug>(e: E) -> BlobError {
    BlobError::Unavailable(format!("{e:?}"))
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(S3Body::from(bytes))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        validate_key(key)?;
        let res = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match res {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(unavailable)?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        mut body: ByteStream,
    ) -> Result<u64, BlobError> {
        validate_key(key)?;
        // Read up to one part: a small body is a single PUT, a large one a multipart upload.
        let mut first = Vec::new();
        let mut ended = false;
        while first.len() < PART_BYTES {
            match body.next().await {
                Some(chunk) => first.extend_from_slice(&chunk?),
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            let size = first.len() as u64;
            self.put(key, first, content_type).await?;
            return Ok(size);
        }
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(unavailable)?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        match self.multipart(key, &upload_id, first, &mut body).await {
            Ok(size) => Ok(size),
            Err(e) => {
                // Abandoned parts cost money until aborted.
                let _ = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                Err(e)
            }
        }
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, BlobError> {
        validate_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(SdkError::ServiceError(e)) if e.err().is_not_found() => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn presign_get(&self, key: &str, expires_secs: u64) -> Result<String, BlobError> {
        validate_key(key)?;
        let config = PresigningConfig::expires_in(Duration::from_secs(expires_secs))
            .map_err(|e| BlobError::Unavailable(e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(req.uri().to_string())
    }
}
