//! The `BlobStore` port: files at keys, and direct (presigned) URLs where storage offers
//! them.

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectKey};

use crate::PortError;

/// What a direct URL lets its holder do with one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectAccess {
    Get,
}

/// A direct upload of one object: the URL and the headers the uploader must send with it
/// (they are part of the signature; the browser adds `Content-Length` itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// How long a direct URL the API hands out stays valid.
pub const DIRECT_URL_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Object storage (S3, or a directory). Writes are whole-object and atomic: a reader sees
/// the old bytes or the new bytes, never a mix, so a retried step may simply write again.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<(), PortError>;
    /// Writes `key` only if no object is there, atomically against every other writer
    /// (S3 `If-None-Match: *`; a hard link locally): `Ok(false)`, with nothing written,
    /// when one was. The write-once records (an account, a session's photo) use it so
    /// that of two racing writers exactly one wins.
    async fn put_new(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<bool, PortError>;
    /// `PortError::NotFound` when absent.
    async fn get(&self, key: &ObjectKey) -> Result<Bytes, PortError>;
    /// The size in bytes, or `None` when absent.
    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, PortError>;
    /// Removes `key` for good (in a versioned bucket, every version of it). An absent key
    /// is not an error, so a retried delete succeeds.
    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, PortError>;
    /// The `s3://bucket/key` style location of a key, as the inference endpoint names it.
    fn location(&self, key: &ObjectKey) -> String;
    /// A time-limited URL through which a browser reads or writes `key` itself (an S3
    /// presigned URL), keeping large bodies out of the API; `None` where the store has
    /// none (local files: the API carries the bytes).
    async fn direct_url(&self, _key: &ObjectKey, _access: DirectAccess) -> Result<Option<String>, PortError> {
        Ok(None)
    }
    /// A time-limited URL that uploads `key` once: exactly `bytes` bytes of type
    /// `content_type`, and only while no object is there (S3: `Content-Length`,
    /// `Content-Type` and `If-None-Match: *` signed into a presigned PUT). `None` where the
    /// store has none (local files: the API carries the bytes).
    async fn direct_put_once(&self, _key: &ObjectKey, _bytes: u64, _content_type: &str) -> Result<Option<DirectPut>, PortError> {
        Ok(None)
    }
}
