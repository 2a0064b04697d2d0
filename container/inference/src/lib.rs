//! What the GPU container does, independent of how it is called:
//!
//! - [`run_task`] executes one request document ([`TaskRequest`]): read the inputs from
//!   the blob store, run the model, write the output under the user's prefix. Bad input
//!   is a [`TaskError::Rejected`] with a clear reason, never a panic.
//! - [`LocalAsyncEndpoint`] is the local stand-in for the SageMaker asynchronous endpoint:
//!   a durable queue of invocations, a worker that runs them, response/failure documents
//!   at `inference/{output,failure}/{id}.out`, and a notification in SageMaker's shape
//!   routed to the queue that consumes that task (as the SNS subscriptions do in AWS).
//! - [`Mesher`] runs the mesh task in a child process per task in the servers, so a
//!   crash or hang inside Open3D costs one task.

mod endpoint;
mod mesher;
mod server;
mod task;

pub use endpoint::{INFERENCE_QUEUE, LocalAsyncEndpoint, Runner};
pub use gen3d_models::backend::Models;
pub use mesher::{ChildMesher, DEFAULT_MESH_TIMEOUT, Mesher};
pub use server::{ServerState, app};
pub use task::{TaskError, run_task};
