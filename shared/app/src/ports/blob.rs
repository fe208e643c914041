use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
    /// The stream being stored failed (a download broke off, a size cap was hit).
    #[error("source stream failed: {0}")]
    Source(String),
}

/// A body to store, chunk by chunk: large files never sit in memory whole.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// Object storage: S3 on AWS, a directory locally. Keys are `/`-separated relative paths.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Stores a stream (multipart on S3) and returns its size. On error nothing is left behind.
    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        body: ByteStream,
    ) -> Result<u64, BlobError>;
    /// Size of the object, if it exists.
    async fn head(&self, key: &str) -> Result<Option<u64>, BlobError>;
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// A URL that fetches the object without credentials until it expires.
    async fn presign_get(&self, key: &str, expires_secs: u64) -> Result<String, BlobError>;
}

/// Blob keys come from our own code, but a key that climbs out of its root is never accepted.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad {
        Err(BlobError::InvalidKey(key.to_string()))
    } else {
        Ok(())
    }
}
