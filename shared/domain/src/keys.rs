//! The object-key layout shared by the filesystem store and S3:
//!
//! ```text
//! users/{user}/sessions/{session}/image
//! users/{user}/sessions/{session}/embeddings.g3e
//! users/{user}/sessions/{session}/embed.request.json
//! users/{user}/sessions/{session}/objects/{object}/mask.png
//! users/{user}/sessions/{session}/objects/{object}/reconstruct.request.json
//! users/{user}/sessions/{session}/objects/{object}/splat.ply
//! users/{user}/sessions/{session}/objects/{object}/mesh.request.json
//! users/{user}/sessions/{session}/objects/{object}/mesh.{glb,obj,ply,stl}
//! ```
//!
//! Everything a user owns lives under `users/{user}/`, so one IAM prefix condition (or
//! one directory) scopes a user's data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, MeshFormat, ObjectId, SessionId, UserId};

/// A validated object key: `/`-separated components of `[A-Za-z0-9._-]`, none empty,
/// `.` or `..`; at most 1024 bytes. Safe as a relative filesystem path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectKey(String);

/// A files of a session, relative to `users/{user}/sessions/{session}/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionFile {
    Image,
    Embeddings,
    EmbedRequest,
    /// A small JPEG of the photo (the embed task writes it beside the embeddings).
    Thumbnail,
    /// The done objects' meshes in one .glb, one node per object (`POST …/scene`).
    Scene,
}

/// A file of an object, relative to `.../objects/{object}/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectFile {
    Mask,
    ReconstructRequest,
    Splat,
    /// The mesh task's request document, when meshing runs on the inference endpoint.
    MeshRequest,
    Mesh(MeshFormat),
    /// A small PNG of the result, drawn from the splat as the photo's camera saw it (the
    /// mesh task writes it beside the meshes).
    Thumbnail,
}

/// The prefix of every user's data: `users/`.
pub const USERS_PREFIX: &str = "users/";
/// Where the inference endpoint writes response documents (SageMaker's `S3OutputPath`).
pub const INFERENCE_OUTPUT_PREFIX: &str = "inference/output";
/// Where the inference endpoint writes failure documents (SageMaker's `S3FailurePath`).
pub const INFERENCE_FAILURE_PREFIX: &str = "inference/failure";

impl SessionFile {
    pub fn file_name(self) -> &'static str {
        match self {
            SessionFile::Image => "image",
            SessionFile::Embeddings => "embeddings.g3e",
            SessionFile::EmbedRequest => "embed.request.json",
            SessionFile::Thumbnail => "thumb.jpg",
            SessionFile::Scene => "scene.glb",
        }
    }

    fn from_file_name(name: &str) -> Option<Self> {
        [SessionFile::Image, SessionFile::Embeddings, SessionFile::EmbedRequest, SessionFile::Thumbnail, SessionFile::Scene]
            .into_iter()
            .find(|f| f.file_name() == name)
    }
}

impl ObjectFile {
    pub fn file_name(self) -> &'static str {
        match self {
            ObjectFile::Mask => "mask.png",
            ObjectFile::ReconstructRequest => "reconstruct.request.json",
            ObjectFile::Splat => "splat.ply",
            ObjectFile::MeshRequest => "mesh.request.json",
            ObjectFile::Mesh(format) => format.file_name(),
            ObjectFile::Thumbnail => "thumb.png",
        }
    }

    /// The files a user may download, by their public name.
    pub fn downloadable(name: &str) -> Option<Self> {
        match name {
            "mask.png" => Some(ObjectFile::Mask),
            "splat.ply" => Some(ObjectFile::Splat),
            "thumb.png" => Some(ObjectFile::Thumbnail),
            _ => MeshFormat::ALL.into_iter().find(|f| f.file_name() == name).map(ObjectFile::Mesh),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ObjectFile::Mask | ObjectFile::Thumbnail => "image/png",
            ObjectFile::ReconstructRequest | ObjectFile::MeshRequest => "application/json",
            ObjectFile::Splat => "application/octet-stream",
            ObjectFile::Mesh(format) => format.content_type(),
        }
    }

    fn from_file_name(name: &str) -> Option<Self> {
        if name == "reconstruct.request.json" {
            return Some(ObjectFile::ReconstructRequest);
        }
        if name == "mesh.request.json" {
            return Some(ObjectFile::MeshRequest);
        }
        Self::downloadable(name)
    }
}

/// Where a key sits in the layout, for routing notifications back to their job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    Session { user: UserId, session: SessionId, file: SessionFile },
    Object { user: UserId, session: SessionId, object: ObjectId, file: ObjectFile },
}

fn check_key(raw: &str) -> Result<(), DomainError> {
    let invalid = |reason: String| DomainError::invalid("object key", reason);
    if raw.is_empty() || raw.len() > 1024 {
        return Err(invalid("must be 1 to 1024 bytes".into()));
    }
    for part in raw.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(invalid(format!("bad path component {part:?} in {raw:?}")));
        }
        if let Some(c) = part.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c))) {
            return Err(invalid(format!("unexpected character {c:?} in {raw:?}")));
        }
    }
    Ok(())
}

impl ObjectKey {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_key(raw)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn session_file(user: &UserId, session: &SessionId, file: SessionFile) -> Self {
        Self(format!("users/{user}/sessions/{session}/{}", file.file_name()))
    }

    pub fn object_file(user: &UserId, session: &SessionId, object: &ObjectId, file: ObjectFile) -> Self {
        Self(format!("users/{user}/sessions/{session}/objects/{object}/{}", file.file_name()))
    }

    /// Keys outside `users/` written by the inference endpoint (response documents).
    pub fn inference_output(inference_id: &str, failed: bool) -> Result<Self, DomainError> {
        let dir = if failed { INFERENCE_FAILURE_PREFIX } else { INFERENCE_OUTPUT_PREFIX };
        Self::parse(&format!("{dir}/{inference_id}.out"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn starts_with(&self, prefix: &KeyPrefix) -> bool {
        self.0.starts_with(prefix.as_str())
    }

    /// Which user/session/object this key belongs to, if it follows the layout.
    pub fn owner(&self) -> Option<KeyOwner> {
        let parts: Vec<&str> = self.0.split('/').collect();
        match parts.as_slice() {
            ["users", user, "sessions", session, file] => Some(KeyOwner::Session {
                user: UserId::parse(user).ok()?,
                session: SessionId::parse(session).ok()?,
                file: SessionFile::from_file_name(file)?,
            }),
            ["users", user, "sessions", session, "objects", object, file] => Some(KeyOwner::Object {
                user: UserId::parse(user).ok()?,
                session: SessionId::parse(session).ok()?,
                object: ObjectId::parse(object).ok()?,
                file: ObjectFile::from_file_name(file)?,
            }),
            _ => None,
        }
    }
}

impl TryFrom<String> for ObjectKey {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, DomainError> {
        check_key(&raw)?;
        Ok(Self(raw))
    }
}

impl From<ObjectKey> for String {
    fn from(k: ObjectKey) -> String {
        k.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectKey({})", self.0)
    }
}

/// A key prefix ending in `/`: a user's data or one session's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn user(user: &UserId) -> Self {
        Self(format!("users/{user}/"))
    }

    pub fn session(user: &UserId, session: &SessionId) -> Self {
        Self(format!("users/{user}/sessions/{session}/"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (UserId, SessionId, ObjectId) {
        (UserId::parse("u1").unwrap(), SessionId::parse("s1").unwrap(), ObjectId::parse("o1").unwrap())
    }

    #[test]
    fn layout_round_trips_through_owner() {
        let (u, s, o) = ids();
        let key = ObjectKey::object_file(&u, &s, &o, ObjectFile::Mesh(MeshFormat::Glb));
        assert_eq!(key.as_str(), "users/u1/sessions/s1/objects/o1/mesh.glb");
        assert_eq!(
            ObjectKey::parse(key.as_str()).unwrap().owner(),
            Some(KeyOwner::Object { user: u.clone(), session: s.clone(), object: o, file: ObjectFile::Mesh(MeshFormat::Glb) })
        );
        let key = ObjectKey::session_file(&u, &s, SessionFile::Embeddings);
        assert_eq!(key.owner(), Some(KeyOwner::Session { user: u, session: s, file: SessionFile::Embeddings }));
    }

    #[test]
    fn keys_outside_the_layout_have_no_owner() {
        for raw in ["inference/output/x.out", "users/u1/x", "users/u1/sessions/s1/objects/o1/evil.sh", "users/U/sessions/s/image"] {
            assert_eq!(ObjectKey::parse(raw).unwrap().owner(), None, "{raw}");
        }
    }

    #[test]
    fn rejects_traversal() {
        for raw in ["", "/abs", "a//b", "a/../b", "a/./b", "a/b c", "a\\b"] {
            assert!(ObjectKey::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn prefixes_scope_users() {
        let (u, s, o) = ids();
        let key = ObjectKey::object_file(&u, &s, &o, ObjectFile::Splat);
        assert!(key.starts_with(&KeyPrefix::user(&u)));
        assert!(key.starts_with(&KeyPrefix::session(&u, &s)));
        assert!(!key.starts_with(&KeyPrefix::user(&UserId::parse("u").unwrap())));
    }
}
