//! The `BlobStore` port on the file system.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectKey};
use gen3d_ports::{BlobStore, PortError};

/// Objects as files: key `a/b/c` is `{root}/a/b/c`. Keys are validated `ObjectKey`s
/// (no `..`, no absolute paths), so a key can never escape the root.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.as_str())
    }
}

fn io_err(path: &Path, e: std::io::Error) -> PortError {
    match e.kind() {
        std::io::ErrorKind::NotFound => PortError::NotFound(path.display().to_string()),
        _ => PortError::Unavailable(format!("{}: {e}", path.display())),
    }
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<ObjectKey>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(&path, root, out)?;
        } else if let Some(rel) = path.strip_prefix(root).ok().and_then(|r| r.to_str())
            && let Ok(key) = ObjectKey::parse(rel)
        {
            out.push(key); // temporary files (".name.tmp-...") are valid keys only once renamed
        }
    }
    Ok(())
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, _content_type: &str) -> Result<(), PortError> {
        let path = self.path(key);
        let dir = path.parent().expect("keys have a parent inside the root").to_path_buf();
        let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"), rand::random::<u64>()));
        tokio::task::spawn_blocking(move || -> Result<(), PortError> {
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            std::fs::write(&tmp, &bytes).map_err(|e| io_err(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
        })
        .await
        .map_err(|e| PortError::Internal(format!("blob write task: {e}")))?
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError> {
        let path = self.path(key);
        tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, e)),
        })
        .await
        .map_err(|e| PortError::Internal(format!("blob delete task: {e}")))?
    }

    async fn put_new(&self, key: &ObjectKey, bytes: Bytes, _content_type: &str) -> Result<bool, PortError> {
        let path = self.path(key);
        let dir = path.parent().expect("keys have a parent inside the root").to_path_buf();
        let tmp = dir.join(format!(".{}.new-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"), rand::random::<u64>()));
        tokio::task::spawn_blocking(move || -> Result<bool, PortError> {
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            std::fs::write(&tmp, &bytes).map_err(|e| io_err(&tmp, e))?;
            // link(2) fails if the name exists: the whole file appears at once, or not at all.
            let linked = std::fs::hard_link(&tmp, &path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(io_err(&path, e)),
            }
        })
        .await
        .map_err(|e| PortError::Internal(format!("blob write task: {e}")))?
    }

    async fn get(&self, key: &ObjectKey) -> Result<Bytes, PortError> {
        let path = self.path(key);
        tokio::fs::read(&path).await.map(Bytes::from).map_err(|e| io_err(&path, e))
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, PortError> {
        let path = self.path(key);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, PortError> {
        let root = self.root.clone();
        let dir = self.root.join(prefix.as_str());
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            match collect(&dir, &root, &mut out) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&dir, e)),
            }
            out.retain(|k| !k.as_str().rsplit('/').next().unwrap_or("").starts_with('.'));
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| PortError::Internal(format!("blob list task: {e}")))?
    }

    fn location(&self, key: &ObjectKey) -> String {
        format!("s3://local/{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_head() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let key = ObjectKey::parse("users/u/sessions/s/image").unwrap();
        assert!(matches!(store.get(&key).await, Err(PortError::NotFound(_))));
        assert_eq!(store.head(&key).await.unwrap(), None);
        store.put(&key, Bytes::from_static(b"abc"), "image/jpeg").await.unwrap();
        store.put(&key, Bytes::from_static(b"abcd"), "image/jpeg").await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"abcd"));
        assert_eq!(store.head(&key).await.unwrap(), Some(4));
        let other = ObjectKey::parse("users/v/sessions/s/image").unwrap();
        store.put(&other, Bytes::from_static(b"x"), "image/jpeg").await.unwrap();
        let user = gen3d_domain::UserId::parse("u").unwrap();
        assert_eq!(store.list(&KeyPrefix::user(&user)).await.unwrap(), vec![key]);
    }
}
