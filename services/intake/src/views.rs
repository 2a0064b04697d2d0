//! Response bodies of the HTTP API (documented in docs/api.md).

use gen3d_domain::{Delivery, Failure, ImageInfo, MeshOptions, MeshStats, ObjectFile, ObjectRecord, ObjectState, SessionRecord, SessionState};
use serde::Serialize;

/// Where and how to send a session's photo: the API's own route, or (from `POST
/// …/upload`, where storage offers it) a presigned URL bound to the photo's length and
/// type that works once. `headers` must be sent as given.
#[derive(Serialize)]
pub struct Upload {
    pub method: &'static str,
    pub url: String,
    pub max_bytes: usize,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct SessionView {
    pub id: String,
    /// The name the user gave the photo, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: SessionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// What became of the mail telling the owner of the failure, once it was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<Delivery>,
    pub created_ms: u64,
    pub updated_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings_url: Option<String>,
    /// The photo's thumbnail (JPEG, at most 320 px a side), once it is ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Where storage offers them (S3 in AWS): presigned URLs for the photo and the
    /// embeddings, valid 15 minutes, for browsers to fetch without the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct: Option<DirectUrls>,
}

#[derive(Serialize, Default)]
pub struct DirectUrls {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<String>,
}

impl SessionView {
    pub fn of(r: &SessionRecord) -> Self {
        let base = format!("/v1/sessions/{}", r.session);
        Self {
            id: r.session.to_string(),
            name: r.name.as_ref().map(ToString::to_string),
            state: r.state,
            image: r.image,
            failure: r.failure.clone(),
            mail: r.mail.owner.clone(),
            created_ms: r.created_ms,
            updated_ms: r.updated_ms,
            upload: (r.state == SessionState::Created).then(|| Upload {
                method: "PUT",
                url: format!("{base}/image"),
                max_bytes: gen3d_media::MAX_PHOTO_BYTES,
                headers: Default::default(),
            }),
            embeddings_url: (r.state == SessionState::Ready).then(|| format!("{base}/embeddings")),
            thumbnail_url: (r.state == SessionState::Ready).then(|| format!("{base}/thumbnail")),
            direct: None,
        }
    }
}

#[derive(Serialize)]
pub struct FileLink {
    pub name: &'static str,
    pub url: String,
    pub content_type: &'static str,
    /// A presigned URL (15 minutes) where storage offers one (S3 in AWS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_url: Option<String>,
}

#[derive(Serialize)]
pub struct ObjectView {
    pub id: String,
    pub session: String,
    /// The name the user gave the object, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: ObjectState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<MeshStats>,
    /// Where the object sits in the photo's camera frame (from reconstruction on):
    /// `rotation` (w, x, y, z), `translation`, `scale`, applied to the object-local splat
    /// and mesh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pose: Option<gen3d_domain::Pose>,
    pub options: MeshOptions,
    /// The reconstruction's seed ("Generate again" makes a variant with another one).
    pub seed: u64,
    /// The object this one repeats with another seed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    /// When the object entered each state after `submitted` (`created_ms`), in ms.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub stage_ms: std::collections::BTreeMap<ObjectState, u64>,
    /// What became of the mail telling the owner of the outcome, once it was tried:
    /// `sent`, or `undeliverable` with the mail service's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<Delivery>,
    pub files: Vec<FileLink>,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl ObjectView {
    pub fn of(r: &ObjectRecord) -> Self {
        let base = format!("/v1/sessions/{}/objects/{}/files", r.session, r.object);
        let mut files = vec![ObjectFile::Mask];
        if matches!(r.state, ObjectState::Meshing | ObjectState::Done) || r.failure.as_ref().is_some_and(|f| f.stage == gen3d_domain::Stage::Meshing)
        {
            files.push(ObjectFile::Splat);
        }
        if r.state == ObjectState::Done {
            // The requested format first, then the others.
            files.push(ObjectFile::Mesh(r.options.format()));
            files.extend(gen3d_domain::MeshFormat::ALL.into_iter().filter(|f| *f != r.options.format()).map(ObjectFile::Mesh));
            files.push(ObjectFile::Thumbnail);
        }
        Self {
            id: r.object.to_string(),
            session: r.session.to_string(),
            name: r.name.as_ref().map(ToString::to_string),
            state: r.state,
            failure: r.failure.clone(),
            stats: r.stats.clone(),
            pose: r.pose,
            options: r.options,
            seed: r.seed,
            variant_of: r.variant_of.as_ref().map(ToString::to_string),
            stage_ms: r.stage_ms.clone(),
            mail: r.mail.owner.clone(),
            files: files
                .into_iter()
                .map(|f| FileLink { name: f.file_name(), url: format!("{base}/{}", f.file_name()), content_type: f.content_type(), direct_url: None })
                .collect(),
            created_ms: r.created_ms,
            updated_ms: r.updated_ms,
        }
    }
}
