use bytes::Bytes;
use gen3d_media::{decode_photo, Mask, MediaError};
use gen3d_models::{encoder, reconstructor};
use gen3d_ports::{BlobStore, PortError, TaskRequest};
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TaskError {
    /// The request or its inputs are wrong; retrying cannot help.
    #[error("{0}")]
    Rejected(String),
    /// Storage or the runtime is unavailable; the same request may succeed later.
    #[error("{0}")]
    Unavailable(String),
}

impl TaskError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TaskError::Unavailable(_))
    }
}

/// The response document (the body SageMaker writes to the output location).
#[derive(Debug, Serialize)]
pub struct TaskResponse {
    pub task: &'static str,
    pub output: String,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub splats: Option<usize>,
}

fn read_err(what: &str, e: PortError) -> TaskError {
    match e {
        PortError::NotFound(_) => TaskError::Rejected(format!("{what} is missing")),
        e if e.is_retryable() => TaskError::Unavailable(format!("reading {what}: {e}")),
        e => TaskError::Rejected(format!("reading {what}: {e}")),
    }
}

fn media_err(what: &str, e: MediaError) -> TaskError {
    TaskError::Rejected(format!("{what}: {e}"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, TaskError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| TaskError::Unavailable(format!("model task panicked or was cancelled: {e}")))
}

/// Runs one inference request against the blob store.
pub async fn run_task(blobs: &dyn BlobStore, request: &TaskRequest) -> Result<TaskResponse, TaskError> {
    match request {
        TaskRequest::Embed { image, output } => {
            let bytes = blobs.get(image).await.map_err(|e| read_err("the image", e))?;
            let (file, width, height) = blocking(move || -> Result<_, TaskError> {
                let photo = decode_photo(&bytes).map_err(|e| media_err("image", e))?;
                Ok((encoder::encode(&photo).encode(), photo.width(), photo.height()))
            })
            .await??;
            let size = file.len();
            blobs.put(output, Bytes::from(file), "application/octet-stream").await.map_err(|e| TaskError::Unavailable(format!("writing embeddings: {e}")))?;
            Ok(TaskResponse { task: "embed", output: output.to_string(), bytes: size, width, height, splats: None })
        }
        TaskRequest::Reconstruct { image, mask, output, seed } => {
            let image_bytes = blobs.get(image).await.map_err(|e| read_err("the image", e))?;
            let mask_bytes = blobs.get(mask).await.map_err(|e| read_err("the mask", e))?;
            let seed = *seed;
            let (ply, width, height, splats) = blocking(move || -> Result<_, TaskError> {
                let photo = decode_photo(&image_bytes).map_err(|e| media_err("image", e))?;
                let mask = Mask::decode_png(&mask_bytes, photo.width(), photo.height()).map_err(|e| media_err("mask", e))?;
                let cloud = reconstructor::reconstruct(&photo, &mask, seed);
                Ok((cloud.write_ply(), photo.width(), photo.height(), cloud.splats.len()))
            })
            .await??;
            let size = ply.len();
            blobs.put(output, Bytes::from(ply), "application/octet-stream").await.map_err(|e| TaskError::Unavailable(format!("writing splats: {e}")))?;
            Ok(TaskResponse { task: "reconstruct", output: output.to_string(), bytes: size, width, height, splats: Some(splats) })
        }
    }
}
