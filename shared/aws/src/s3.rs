//! The `BlobStore` port on S3: every version deleted, presigned URLs.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectKey};
use gen3d_ports::{BlobStore, DIRECT_URL_TTL, DirectAccess, DirectPut, PortError};

use crate::error::classify;

pub(crate) fn client(sdk: &aws_config::SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(path_style).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Blobs in one S3 bucket, at exactly their `ObjectKey`.
pub struct S3BlobStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// Presigned URLs live at most this long.
pub const MAX_PRESIGN: Duration = Duration::from_secs(15 * 60);

impl S3BlobStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Self {
        Self { client, bucket: bucket.to_owned() }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: &str, path_style: bool) -> Self {
        Self::new(client(sdk, path_style), bucket)
    }

    fn presign_config(expires: Duration) -> Result<PresigningConfig, PortError> {
        PresigningConfig::expires_in(expires.min(MAX_PRESIGN)).map_err(|e| PortError::Internal(format!("presigning config: {e}")))
    }

    /// A URL that uploads exactly this key, for `expires` (at most 15 minutes), with this
    /// content type if one is given (the uploader must then send it). Callers pass keys
    /// under the signed-in user's prefix only.
    pub async fn presigned_put(&self, key: &ObjectKey, content_type: Option<&str>, expires: Duration) -> Result<String, PortError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_content_type(content_type.map(str::to_owned))
            .presigned(Self::presign_config(expires)?)
            .await
            .map_err(|e| classify("presign put", e))?;
        Ok(req.uri().to_owned())
    }

    /// A URL that downloads exactly this key, for `expires` (at most 15 minutes).
    pub async fn presigned_get(&self, key: &ObjectKey, expires: Duration) -> Result<String, PortError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(Self::presign_config(expires)?)
            .await
            .map_err(|e| classify("presign get", e))?;
        Ok(req.uri().to_owned())
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify(&format!("put {key}"), e))?;
        Ok(())
    }

    async fn put_new(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> Result<bool, PortError> {
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(bytes))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            // 412: an object is there. (409 ConditionalRequestConflict: a concurrent
            // conditional write is in progress; the other writer wins.)
            Err(e) if e.raw_response().is_some_and(|r| matches!(r.status().as_u16(), 412 | 409)) => Ok(false),
            Err(e) => Err(classify(&format!("put (if absent) {key}"), e)),
        }
    }

    async fn get(&self, key: &ObjectKey) -> Result<Bytes, PortError> {
        let out = self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                PortError::NotFound(key.to_string())
            } else {
                classify(&format!("get {key}"), e)
            }
        })?;
        let data = out.body.collect().await.map_err(|e| PortError::Unavailable(format!("read {key}: {e}")))?;
        Ok(data.into_bytes())
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, PortError> {
        match self.client.head_object().bucket(&self.bucket).key(key.as_str()).send().await {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(classify(&format!("head {key}"), e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError> {
        // The data bucket is versioned: a plain delete would leave the bytes as a
        // noncurrent version. Remove every version and delete marker of this exact key.
        let mut versions: Vec<Option<String>> = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(key.as_str())
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| classify(&format!("list versions of {key}"), e))?;
            versions.extend(page.versions().iter().filter(|v| v.key() == Some(key.as_str())).map(|v| v.version_id().map(str::to_owned)));
            versions.extend(page.delete_markers().iter().filter(|m| m.key() == Some(key.as_str())).map(|m| m.version_id().map(str::to_owned)));
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
        }
        if versions.is_empty() {
            versions.push(None); // an unversioned bucket, or nothing there: one plain delete
        }
        for version in versions {
            let req = self.client.delete_object().bucket(&self.bucket).key(key.as_str());
            let req = match version.as_deref() {
                Some(v) if v != "null" => req.version_id(v),
                _ => req,
            };
            match req.send().await {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some() && e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
                Err(e) => return Err(classify(&format!("delete {key}"), e)),
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, PortError> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix.as_str()).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&format!("list {}", prefix.as_str()), e))?;
            for object in page.contents() {
                let Some(raw) = object.key() else { continue };
                match ObjectKey::parse(raw) {
                    Ok(k) => keys.push(k),
                    Err(e) => {
                        tracing::warn!(key = raw, error = %e, "object outside the key layout ignored")
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn location(&self, key: &ObjectKey) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }

    async fn direct_url(&self, key: &ObjectKey, access: DirectAccess) -> Result<Option<String>, PortError> {
        Ok(Some(match access {
            DirectAccess::Get => self.presigned_get(key, DIRECT_URL_TTL).await?,
        }))
    }

    async fn direct_put_once(&self, key: &ObjectKey, bytes: u64, content_type: &str) -> Result<Option<DirectPut>, PortError> {
        let length = i64::try_from(bytes).map_err(|_| PortError::Invalid(format!("{bytes} bytes is not a length")))?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_length(length)
            .content_type(content_type)
            .if_none_match("*")
            .presigned(Self::presign_config(DIRECT_URL_TTL)?)
            .await
            .map_err(|e| classify("presign put", e))?;
        // The browser sets Content-Length (from the body) and Host itself.
        let headers = req
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok(Some(DirectPut { url: req.uri().to_owned(), headers }))
    }
}
