//! One inference task (embed, reconstruct, mesh): read its inputs, run the model, write
//! its outputs.

use bytes::Bytes;
use gen3d_domain::{KeyOwner, MeshFormat, ObjectFile, ObjectKey, SessionFile};
use gen3d_media::{MAX_PHOTO_BYTES, Mask, MediaError, SplatCloud, decode_photo, photo_thumbnail, splat_thumbnail};
use gen3d_meshing::worker::MeshFiles;
use gen3d_models::ModelError;
use gen3d_models::backend::{Loaded, Models};
use gen3d_ports::{BlobStore, InferenceTask, PortError, TaskRequest, TaskResponse};
use thiserror::Error;

use crate::Mesher;

#[derive(Debug, Error)]
pub enum TaskError {
    /// The request or its inputs are wrong; retrying cannot help.
    #[error("{0}")]
    Rejected(String),
    /// Storage or the runtime is unavailable; the same request may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// The model needed could not be loaded at start, or failed on this input; retrying
    /// the same request against the same container cannot help.
    #[error("{0}")]
    Model(String),
}

impl TaskError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TaskError::Unavailable(_))
    }
}

/// The key of every mesh format next to a mesh task's `output`, which must be one of an
/// object's mesh files.
fn mesh_outputs(output: &ObjectKey) -> Result<Vec<(MeshFormat, ObjectKey)>, TaskError> {
    match output.owner() {
        Some(KeyOwner::Object { user, session, object, file: ObjectFile::Mesh(_) }) => {
            Ok(MeshFormat::ALL.into_iter().map(|f| (f, ObjectKey::object_file(&user, &session, &object, ObjectFile::Mesh(f)))).collect())
        }
        _ => Err(TaskError::Rejected(format!("mesh output {output} is not an object's mesh file"))),
    }
}

/// The key of `file` in the session whose file `output` is.
fn sibling_of_session_file(output: &ObjectKey, file: SessionFile) -> Result<ObjectKey, TaskError> {
    match output.owner() {
        Some(KeyOwner::Session { user, session, .. }) => Ok(ObjectKey::session_file(&user, &session, file)),
        _ => Err(TaskError::Rejected(format!("output {output} is not a session's file"))),
    }
}

fn read_err(what: &str, e: PortError) -> TaskError {
    match e {
        PortError::NotFound(_) => TaskError::Rejected(format!("{what} is missing")),
        e if e.is_retryable() => TaskError::Unavailable(format!("reading {what}: {e}")),
        e => TaskError::Rejected(format!("reading {what}: {e}")),
    }
}

/// The largest splat file read: `SplatCloud::MAX_SPLATS` splats of 62 float properties
/// (SH degree 3) and a header.
const MAX_SPLAT_BYTES: usize = SplatCloud::MAX_SPLATS * 62 * 4 + 64 * 1024;

/// Reads an input after checking its size, so an oversized object (a photo replaced
/// after it was checked, say) is refused before it is loaded into memory.
async fn read_bounded(blobs: &dyn BlobStore, key: &ObjectKey, what: &str, max: usize) -> Result<Bytes, TaskError> {
    match blobs.head(key).await.map_err(|e| read_err(what, e))? {
        None => return Err(TaskError::Rejected(format!("{what} is missing"))),
        Some(size) if size > max as u64 => return Err(TaskError::Rejected(format!("{what} is {size} bytes, over the limit of {max}"))),
        Some(_) => {}
    }
    let bytes = blobs.get(key).await.map_err(|e| read_err(what, e))?;
    if bytes.len() > max {
        return Err(TaskError::Rejected(format!("{what} is {} bytes, over the limit of {max}", bytes.len())));
    }
    Ok(bytes)
}

/// Writes one output; storage trouble is worth a retry.
async fn write(blobs: &dyn BlobStore, key: &ObjectKey, bytes: Vec<u8>, content_type: &str) -> Result<usize, TaskError> {
    let size = bytes.len();
    blobs.put(key, Bytes::from(bytes), content_type).await.map_err(|e| TaskError::Unavailable(format!("writing {key}: {e}")))?;
    Ok(size)
}

fn media_err(what: &str, e: MediaError) -> TaskError {
    TaskError::Rejected(format!("{what}: {e}"))
}

fn model_err(e: ModelError) -> TaskError {
    match e {
        ModelError::Input(reason) => TaskError::Rejected(reason),
        e => TaskError::Model(e.to_string()),
    }
}

/// The model a task needs, or why it is not available (its load error from start-up).
fn ready<T: ?Sized>(model: &Loaded<T>, name: &str) -> Result<std::sync::Arc<T>, TaskError> {
    model.clone().map_err(|e| TaskError::Model(format!("the {name} is not available: {e}")))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, TaskError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| TaskError::Unavailable(format!("model task panicked or was cancelled: {e}")))
}

/// Runs one inference request with `models` against the blob store.
pub async fn run_task(models: &Models, mesher: &Mesher, blobs: &dyn BlobStore, request: &TaskRequest) -> Result<TaskResponse, TaskError> {
    request.check_keys().map_err(TaskError::Rejected)?;
    match request {
        TaskRequest::Embed { image, output } => {
            let encoder = ready(&models.encoder, "image encoder")?;
            let bytes = read_bounded(blobs, image, "the image", MAX_PHOTO_BYTES).await?;
            let thumbnail = sibling_of_session_file(output, SessionFile::Thumbnail)?;
            let (file, thumb, width, height) = blocking(move || -> Result<_, TaskError> {
                let photo = decode_photo(&bytes).map_err(|e| media_err("image", e))?;
                let embeddings = encoder.encode(&photo).map_err(model_err)?;
                Ok((embeddings.encode(), photo_thumbnail(&photo), photo.width(), photo.height()))
            })
            .await??;
            // The thumbnail first: the embeddings' arrival is what readies the session.
            write(blobs, &thumbnail, thumb, "image/jpeg").await?;
            let size = write(blobs, output, file, "application/octet-stream").await?;
            Ok(TaskResponse { width: Some(width), height: Some(height), ..TaskResponse::new(InferenceTask::Embed, output.clone(), size) })
        }
        TaskRequest::Reconstruct { image, mask, output, seed } => {
            let reconstructor = ready(&models.reconstructor, "reconstructor")?;
            let image_bytes = read_bounded(blobs, image, "the image", MAX_PHOTO_BYTES).await?;
            let mask_bytes = read_bounded(blobs, mask, "the mask", MAX_PHOTO_BYTES).await?;
            let seed = *seed;
            let (ply, width, height, splats, pose) = blocking(move || -> Result<_, TaskError> {
                let photo = decode_photo(&image_bytes).map_err(|e| media_err("image", e))?;
                let mask = Mask::decode_png(&mask_bytes, photo.width(), photo.height()).map_err(|e| media_err("mask", e))?;
                let made = reconstructor.reconstruct_posed(&photo, &mask, seed).map_err(model_err)?;
                if let Some(pose) = made.pose.filter(|p| !p.is_valid()) {
                    return Err(TaskError::Model(format!("the reconstructor's pose is not valid: {pose:?}")));
                }
                Ok((made.cloud.write_ply(), photo.width(), photo.height(), made.cloud.splats.len(), made.pose))
            })
            .await??;
            let size = write(blobs, output, ply, "application/octet-stream").await?;
            Ok(TaskResponse {
                width: Some(width),
                height: Some(height),
                splats: Some(splats),
                pose,
                ..TaskResponse::new(InferenceTask::Reconstruct, output.clone(), size)
            })
        }
        TaskRequest::Mesh { splat, output, options, pose } => {
            let targets = mesh_outputs(output)?;
            let bytes = read_bounded(blobs, splat, "the splat file", MAX_SPLAT_BYTES).await?;
            let thumbnail = {
                let (bytes, pose) = (bytes.clone(), *pose);
                blocking(move || SplatCloud::read_ply(&bytes).ok().and_then(|cloud| splat_thumbnail(&cloud, pose.as_ref()))).await?
            };
            let MeshFiles { files, stats } = mesher.mesh(bytes, *options).await?;
            if let (Some(png), Some(KeyOwner::Object { user, session, object, .. })) = (thumbnail, output.owner()) {
                write(blobs, &ObjectKey::object_file(&user, &session, &object, ObjectFile::Thumbnail), png, "image/png").await?;
            }
            let mut size = 0;
            for ((format, key), (made, file)) in targets.into_iter().zip(files) {
                if made != format {
                    return Err(TaskError::Model(format!("the meshing worker wrote {} where {} was due", made.extension(), format.extension())));
                }
                // The pose rides in the GLB as scene extras; the geometry stays object-local.
                let file = match (format, pose) {
                    (MeshFormat::Glb, Some(pose)) => {
                        // Through text, so the numbers read as the API prints them (f32's
                        // shortest form, not its f64 expansion).
                        let pose: serde_json::Value =
                            serde_json::from_str(&serde_json::to_string(pose).expect("a pose serialises")).expect("and parses");
                        gen3d_meshing::with_scene_extras(&file, serde_json::json!({"gen3d": {"pose": pose}}))
                            .map_err(|e| TaskError::Model(format!("adding the pose to the GLB: {e}")))?
                    }
                    _ => file,
                };
                let written = write(blobs, &key, file, format.content_type()).await?;
                if key == *output {
                    size = written;
                }
            }
            let splats = usize::try_from(stats.splats_in).ok();
            Ok(TaskResponse { splats, stats: Some(stats), pose: *pose, ..TaskResponse::new(InferenceTask::Mesh, output.clone(), size) })
        }
    }
}
