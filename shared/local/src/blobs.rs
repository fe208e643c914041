use std::path::PathBuf;
use std::sync::OnceLock;

use async_trait::async_trait;
use futures_util::StreamExt;
use switchboard_app::ports::blob::{validate_key, ByteStream};
use switchboard_app::ports::{BlobError, BlobStore};
use tokio::io::AsyncWriteExt;

/// Blobs as files under a root directory, with the same keys as in S3. Presigned URLs point at
/// the local server's `/files/` route and carry an HMAC of the key and expiry.
pub struct FsBlobStore {
    root: PathBuf,
    public: OnceLock<(String, Vec<u8>)>,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            public: OnceLock::new(),
        }
    }

    /// Where presigned URLs point (`http://host:port`) and the key that signs them. Set once,
    /// when the server knows its address.
    pub fn set_public_url(&self, base: &str, secret: &[u8]) {
        let _ = self
            .public
            .set((base.trim_end_matches('/').to_string(), secret.to_vec()));
    }

    fn signature(secret: &[u8], key: &str, exp: i64) -> String {
        let header = switchboard_core::signature::sign(secret, format!("{key}\n{exp}").as_bytes());
        header.trim_start_matches("sha256=").to_string()
    }

    /// Whether a presigned URL's `exp` and `sig` are valid for `key` at `now`.
    pub fn verify_presigned(&self, key: &str, exp: i64, sig: &str, now: i64) -> bool {
        let Some((_, secret)) = self.public.get() else {
            return false;
        };
        let header = format!("sha256={sig}");
        now < exp
            && switchboard_core::signature::verify_signature(
                secret,
                format!("{key}\n{exp}").as_bytes(),
                Some(&header),
            )
            .is_ok()
    }

    pub fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn unavailable(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let body: ByteStream = futures_util::stream::iter([Ok(bytes::Bytes::from(bytes))]).boxed();
        self.put_stream(key, _content_type, body).await.map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path_of(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put_stream(
        &self,
        key: &str,
        _content_type: &str,
        mut body: ByteStream,
    ) -> Result<u64, BlobError> {
        let path = self.path_of(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(unavailable)?;
        }
        // Write then rename, so a reader never sees half a file, and a failed stream leaves none.
        let tmp = path.with_extension(format!(
            "part{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let result = async {
            let mut file = tokio::fs::File::create(&tmp).await.map_err(unavailable)?;
            let mut size = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(unavailable)?;
            }
            file.flush().await.map_err(unavailable)?;
            file.sync_all().await.map_err(unavailable)?;
            Ok::<u64, BlobError>(size)
        }
        .await;
        match result {
            Ok(size) => {
                tokio::fs::rename(&tmp, &path).await.map_err(unavailable)?;
                Ok(size)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path_of(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn presign_get(&self, key: &str, expires_secs: u64) -> Result<String, BlobError> {
        validate_key(key)?;
        let (base, secret) = self.public.get().ok_or_else(|| {
            BlobError::Unavailable("no public URL configured for local files".into())
        })?;
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + expires_secs as i64;
        Ok(format!(
            "{base}/files/{key}?exp={exp}&sig={}",
            Self::signature(secret, key, exp)
        ))
    }
}
