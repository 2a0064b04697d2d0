//! `gen3d-inference serve`: the GPU container's entry point (SageMaker runs `<image> serve`).
//! `gen3d-inference check [MODEL_DIR]`: loads the models as `serve` would, prints their
//! state as JSON and exits 1 if one is not ready (run it on a model artefact before
//! deploying it).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use gen3d_config::{ContainerBlobs, ContainerConfig, LogSettings, LogTarget};
use gen3d_ports::BlobStore;

/// S3 or a local data directory, as the configuration says. `AWS_ENDPOINT_URL` points
/// S3 at an emulator.
async fn blob_store(blobs: &ContainerBlobs) -> Arc<dyn BlobStore> {
    match blobs {
        ContainerBlobs::Bucket(bucket) => {
            let endpoint = gen3d_config::aws_endpoint_url();
            let sdk = gen3d_aws::sdk_config(endpoint.as_deref(), None).await;
            Arc::new(gen3d_aws::S3BlobStore::from_sdk(&sdk, bucket, endpoint.is_some()))
        }
        ContainerBlobs::Root(root) => Arc::new(gen3d_embedded::FsBlobStore::new(root)),
    }
}

fn main() -> anyhow::Result<()> {
    // A mesh task's child process (see gen3d_inference::Mesher): no runtime, no logging
    // on stdout, one request, exit.
    if std::env::args().nth(1).as_deref() == Some(gen3d_meshing::worker::WORKER_ARG) {
        return gen3d_meshing::worker::serve_one(std::io::stdin().lock(), std::io::stdout().lock()).context("meshing worker");
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    gen3d_telemetry::init(&LogSettings::from_env(LogTarget::Container));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve"] => serve(ContainerConfig::from_env()?).await,
        ["check"] => check(&ContainerConfig::model_dir_from_env()),
        ["check", dir] => check(Path::new(dir)),
        _ => bail!("usage: gen3d-inference serve | gen3d-inference check [MODEL_DIR]"),
    }
}

fn check(model_dir: &Path) -> anyhow::Result<()> {
    let models = gen3d_inference::Models::load(model_dir);
    println!("{}", serde_json::to_string_pretty(&models.status())?);
    if !models.all_ready() {
        bail!("{}: a model is not ready", model_dir.display());
    }
    Ok(())
}

async fn serve(config: ContainerConfig) -> anyhow::Result<()> {
    let ContainerConfig { blobs, model_dir, port, concurrency, mesh_timeout } = config;
    let models = gen3d_inference::Models::load(&model_dir);
    let status = models.status();
    if !models.all_ready() {
        // The server still starts: the tasks that need a broken model fail with this reason.
        tracing::error!(port, concurrency, model_dir = %model_dir.display(), models = %status, "a model failed to load");
    } else {
        tracing::info!(port, concurrency, model_dir = %model_dir.display(), models = %status, "models loaded");
    }
    let mesh_timeout = mesh_timeout.unwrap_or(gen3d_inference::DEFAULT_MESH_TIMEOUT);
    let mut state = gen3d_inference::ServerState::new(blob_store(&blobs).await, concurrency).with_models(models);
    state.mesher = gen3d_inference::Mesher::current_exe(mesh_timeout).context("cannot locate this binary for the meshing worker")?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await.with_context(|| format!("failed to listen on port {port}"))?;
    axum::serve(listener, gen3d_inference::app(state)).await.context("server failed")
}
