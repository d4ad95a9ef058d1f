//! The blob store for uploaded files: a local folder by default, an S3-compatible bucket
//! when `blob_store = "s3://bucket/prefix"`, both through Apache Arrow's `object_store`.
//! Files are sealed (AES-256-GCM, bound to their key) before they leave the process.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures::TryStreamExt;
use kernel::config::Config;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

/// Where uploads are kept.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// What the store is, for logs (`folder …` or `s3://…`).
    pub description: String,
}

impl Blobs {
    /// Opens the store `config.blob_store` names (default: `data_dir/blobs`).
    pub fn from_config(config: &Config) -> anyhow::Result<Blobs> {
        match config.blob_store.as_deref() {
            Some(url) if url.starts_with("s3://") => {
                let rest = &url["s3://".len()..];
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .with_context(|| format!("cannot open the S3 blob store {url}"))?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                };
                Ok(Blobs {
                    store,
                    description: url.to_string(),
                })
            }
            other => {
                let dir = other
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| config.data_dir.join("blobs"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create the blob folder {}", dir.display()))?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("cannot open the blob folder {}", dir.display()))?;
                Ok(Blobs {
                    store: Arc::new(local),
                    description: format!("folder {}", dir.display()),
                })
            }
        }
    }

    /// The store registered in the application state.
    pub fn of(state: &AppState) -> ApiResult<&Blobs> {
        state
            .extensions
            .get::<Blobs>()
            .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the blob store is not started")))
    }

    fn context(key: &str) -> String {
        format!("services.upload:{key}")
    }

    /// Seals and stores `bytes` under `key`.
    pub async fn put(&self, state: &AppState, key: &str, bytes: &[u8]) -> ApiResult<()> {
        let sealed = state
            .vault
            .seal_bytes(bytes, &Self::context(key))
            .map_err(ApiError::Unexpected)?;
        self.store
            .put(&Path::from(key), PutPayload::from(Bytes::from(sealed)))
            .await
            .map_err(|e| {
                ApiError::Unavailable(format!("the file store did not take the file: {e}"))
            })?;
        Ok(())
    }

    /// Reads and opens the file under `key`.
    pub async fn get(&self, state: &AppState, key: &str) -> ApiResult<Vec<u8>> {
        let sealed = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    ApiError::NotFound("the file is no longer in the store".into())
                }
                other => ApiError::Unavailable(format!("the file store did not answer: {other}")),
            })?
            .bytes()
            .await
            .map_err(|e| ApiError::Unavailable(format!("the file store did not answer: {e}")))?;
        state
            .vault
            .open_bytes(&sealed, &Self::context(key))
            .map_err(ApiError::Unexpected)
    }

    /// Deletes the file under `key` (a missing one is not an error).
    pub async fn delete(&self, key: &str) -> ApiResult<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::Unavailable(format!(
                "the file store did not delete the file: {e}"
            ))),
        }
    }

    /// Keys under `prefix` written before `before`.
    pub async fn older_than(&self, prefix: &str, before: Timestamp) -> ApiResult<Vec<String>> {
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&Path::from(prefix)))
            .try_collect()
            .await
            .map_err(|e| ApiError::Unavailable(format!("the file store did not list: {e}")))?;
        Ok(listed
            .into_iter()
            .filter(|m| m.last_modified.timestamp_micros() < before.0)
            .map(|m| m.location.to_string())
            .collect())
    }
}
