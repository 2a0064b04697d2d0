//! What the GPU container does, independent of how it is called:
//!
//! - [`run_task`] executes one request document ([`TaskRequest`]): read the inputs from
//!   the blob store, run the model, write the output under the user's prefix. Bad input
//!   is a [`TaskError::Rejected`] with a clear reason, never a panic.
//! - [`LocalAsyncEndpoint`] is the local stand-in for the SageMaker asynchronous endpoint:
//!   a durable queue of invocations, a worker that runs them, response/failure documents
//!   at `inference/{output,failure}/{id}.out`, and a notification in SageMaker's shape
//!   routed to the queue that consumes that task (as the SNS subscriptions do in AWS).

mod endpoint;
mod server;
mod task;

pub use endpoint::{INFERENCE_QUEUE, LocalAsyncEndpoint, Runner};
pub use server::{ServerState, app};
pub use task::{TaskError, TaskResponse, run_task};

/// Reads the model manifest (`manifest.json` in the model directory, SageMaker's
/// `/opt/ml/model`) once at start. No manifest means the built-in models. Only the
/// `builtin` backend exists so far; anything else is refused at start with a reason.
pub fn load_backend(model_dir: &std::path::Path) -> anyhow::Result<&'static str> {
    let path = model_dir.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok("builtin"),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not valid JSON: {e}", path.display()))?;
    match manifest["backend"].as_str() {
        Some("builtin") => Ok("builtin"),
        Some(other) => anyhow::bail!("{}: backend {other:?} is not available in this build (only \"builtin\")", path.display()),
        None => anyhow::bail!("{}: missing \"backend\"", path.display()),
    }
}
