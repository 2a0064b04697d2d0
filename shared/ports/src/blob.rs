use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectKey};

use crate::PortError;

/// Object storage (S3, or a directory). Writes are whole-object and atomic: a reader sees
/// the old bytes or the new bytes, never a mix, so a retried step may simply write again.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<(), PortError>;
    /// `PortError::NotFound` when absent.
    async fn get(&self, key: &ObjectKey) -> Result<Bytes, PortError>;
    /// The size in bytes, or `None` when absent.
    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, PortError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, PortError>;
    /// The `s3://bucket/key` style location of a key, as the inference endpoint names it.
    fn location(&self, key: &ObjectKey) -> String;
}
