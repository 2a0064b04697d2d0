//! Download links: an unguessable token that opens one file of one object, without
//! signing in, until it expires (the done mail's "download now", 24 hours). The token is
//! never stored: the blob store keeps `links/{sha256(token)}.json` (the owner, the object,
//! the file, the expiry), which the API resolves and then checks the object still exists.
//! Nothing is signed with credentials, so a link outlives the Lambda session that made it
//! (a presigned S3 URL lives no longer than the credentials that signed it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use gen3d_domain::{ObjectFile, ObjectId, ObjectKey, SessionId, UserId};
use gen3d_ports::{BlobStore, PortError, now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long the done mail's download link works.
pub const MAIL_LINK_TTL_MS: u64 = 24 * 3600 * 1000;
/// Where link records live (a lifecycle rule expires them in AWS).
pub const LINKS_PREFIX: &str = "links/";

/// What a link opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadLink {
    pub user: UserId,
    pub session: SessionId,
    pub object: ObjectId,
    /// The file's name as the API's files route takes it, e.g. `mesh.glb`.
    pub file: String,
    pub expires_ms: u64,
}

impl DownloadLink {
    pub fn file(&self) -> Option<ObjectFile> {
        ObjectFile::downloadable(&self.file)
    }

    pub fn expired(&self) -> bool {
        now_ms() >= self.expires_ms
    }
}

fn record_key(token: &str) -> ObjectKey {
    let digest: String = Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    ObjectKey::parse(&format!("{LINKS_PREFIX}{digest}.json")).expect("hex digests make valid keys")
}

/// Stores `link` and returns its token (`dl_` and 43 URL-safe characters: 256 random bits).
pub async fn create_link(blobs: &dyn BlobStore, link: &DownloadLink) -> Result<String, PortError> {
    let bytes: [u8; 32] = rand::random();
    let token = format!("dl_{}", B64.encode(bytes));
    let key = record_key(&token);
    let body = serde_json::to_vec(link).map_err(|e| PortError::Internal(format!("link record: {e}")))?;
    blobs.put(&key, Bytes::from(body), "application/json").await?;
    Ok(token)
}

/// What the link opens, or `None` for a token that was never made. An expired link is
/// returned too, so the caller can say it expired ([`DownloadLink::expired`]).
pub async fn resolve_link(blobs: &dyn BlobStore, token: &str) -> Result<Option<DownloadLink>, PortError> {
    let well_formed =
        token.strip_prefix("dl_").is_some_and(|t| t.len() == 43 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if !well_formed {
        return Ok(None);
    }
    let key = record_key(token);
    match blobs.get(&key).await {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| PortError::Internal(format!("corrupt link record {key}: {e}"))),
        Err(PortError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
