//! `gen3d-lambda-reconstruction`: the reconstruction service (image + mask -> Gaussian splat) as an SQS-fed Lambda.
//! Everything but wiring lives in the library and in `gen3d-lambda`.

use std::sync::Arc;

use gen3d_config::Service;
use gen3d_reconstruction::ReconstructionService;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    gen3d_lambda::run_queue_service(Service::Reconstruction, |ports, _config| Arc::new(ReconstructionService::new(ports))).await
}
