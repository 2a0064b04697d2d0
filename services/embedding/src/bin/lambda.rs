//! `gen3d-lambda-embedding`: the embedding service (photo -> SAM 3 embeddings) as an SQS-fed Lambda.
//! Everything but wiring lives in the library and in `gen3d-lambda`.

use std::sync::Arc;

use gen3d_config::Service;
use gen3d_embedding::EmbeddingService;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    gen3d_lambda::run_queue_service(Service::Embedding, |ports, _config| Arc::new(EmbeddingService::new(ports))).await
}
