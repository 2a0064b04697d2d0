//! `gen3d-lambda-meshing`: the meshing service (splat -> mesh, through the GPU container) as an SQS-fed Lambda.
//! Everything but wiring lives in the library and in `gen3d-lambda`.

use std::sync::Arc;

use gen3d_config::Service;
use gen3d_meshing_service::MeshingService;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    gen3d_lambda::run_queue_service(Service::Meshing, |ports, _config| Arc::new(MeshingService::new(ports))).await
}
