//! Fault injection around a `BlobStore`.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectKey};
use gen3d_ports::{BlobStore, DirectAccess, DirectPut, PortError};

use crate::schedule::READ;
use crate::{Faults, Port};

/// A [`BlobStore`] whose calls fail, lag or time out on schedule.
pub struct FaultyBlobs {
    inner: Arc<dyn BlobStore>,
    faults: Arc<Faults>,
}

impl FaultyBlobs {
    pub fn new(inner: Arc<dyn BlobStore>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<(), PortError> {
        self.faults.write(Port::Blobs, "put", self.inner.put(key, bytes, content_type)).await
    }

    async fn put_new(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<bool, PortError> {
        self.faults.write(Port::Blobs, "put_new", self.inner.put_new(key, bytes, content_type)).await
    }

    async fn get(&self, key: &ObjectKey) -> Result<Bytes, PortError> {
        self.faults.before(Port::Blobs, "get", READ).await?;
        self.inner.get(key).await
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, PortError> {
        self.faults.before(Port::Blobs, "head", READ).await?;
        self.inner.head(key).await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError> {
        self.faults.write(Port::Blobs, "delete", self.inner.delete(key)).await
    }

    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, PortError> {
        self.faults.before(Port::Blobs, "list", READ).await?;
        self.inner.list(prefix).await
    }

    fn location(&self, key: &ObjectKey) -> String {
        self.inner.location(key)
    }

    async fn direct_url(&self, key: &ObjectKey, access: DirectAccess) -> Result<Option<String>, PortError> {
        self.faults.before(Port::Blobs, "direct_url", READ).await?;
        self.inner.direct_url(key, access).await
    }

    async fn direct_put_once(&self, key: &ObjectKey, bytes: u64, content_type: &str) -> Result<Option<DirectPut>, PortError> {
        self.faults.before(Port::Blobs, "direct_put_once", READ).await?;
        self.inner.direct_put_once(key, bytes, content_type).await
    }
}
