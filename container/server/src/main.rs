//! `gen3d-inference serve`: the GPU container's entry point (SageMaker runs `<image> serve`).
//! `gen3d-inference check [MODEL_DIR]`: loads the models as `serve` would, prints their
//! state as JSON and exits 1 if one is not ready (run it on a model artefact before
//! deploying it).

use std::sync::Arc;

use anyhow::{Context, bail};
use gen3d_ports::BlobStore;

/// S3 (`GEN3D_BLOB_BUCKET`, set by Pulumi.yaml on the SageMaker model; the task's role
/// grants the users' prefixes) or a local data directory (`GEN3D_BLOB_ROOT`, shared with
/// `gen3d serve --inference-url`). `AWS_ENDPOINT_URL` points S3 at an emulator.
async fn blob_store() -> anyhow::Result<Arc<dyn BlobStore>> {
    if let Ok(bucket) = std::env::var(gen3d_config::env::CONTAINER_BLOB_BUCKET) {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        let sdk = gen3d_aws::sdk_config(endpoint.as_deref(), None).await;
        return Ok(Arc::new(gen3d_aws::S3BlobStore::from_sdk(&sdk, &bucket, endpoint.is_some())));
    }
    match std::env::var("GEN3D_BLOB_ROOT") {
        Ok(root) => Ok(Arc::new(gen3d_embedded::FsBlobStore::new(root))),
        Err(_) => bail!("set GEN3D_BLOB_BUCKET (S3) or GEN3D_BLOB_ROOT (a local data directory)"),
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
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_dir = std::env::var("GEN3D_MODEL_DIR").unwrap_or_else(|_| "/opt/ml/model".into());
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve"] => serve(&model_dir).await,
        ["check"] => check(&model_dir),
        ["check", dir] => check(dir),
        _ => bail!("usage: gen3d-inference serve | gen3d-inference check [MODEL_DIR]"),
    }
}

fn check(model_dir: &str) -> anyhow::Result<()> {
    let models = gen3d_inference::Models::load(std::path::Path::new(model_dir));
    println!("{}", serde_json::to_string_pretty(&models.status())?);
    if !models.all_ready() {
        bail!("{model_dir}: a model is not ready");
    }
    Ok(())
}

async fn serve(model_dir: &str) -> anyhow::Result<()> {
    let port: u16 =
        std::env::var("SAGEMAKER_BIND_TO_PORT").ok().map(|p| p.parse()).transpose().context("SAGEMAKER_BIND_TO_PORT must be a port")?.unwrap_or(8080);
    let concurrency: usize =
        std::env::var("GEN3D_MAX_CONCURRENCY").ok().map(|c| c.parse()).transpose().context("GEN3D_MAX_CONCURRENCY must be a number")?.unwrap_or(1);
    let models = gen3d_inference::Models::load(std::path::Path::new(model_dir));
    let status = models.status();
    if !models.all_ready() {
        // The server still starts: the tasks that need a broken model fail with this reason.
        tracing::error!(port, concurrency, model_dir, models = %status, "a model failed to load");
    } else {
        tracing::info!(port, concurrency, model_dir, models = %status, "models loaded");
    }
    let mesh_timeout = std::env::var("GEN3D_MESH_TIMEOUT_SECS")
        .ok()
        .map(|s| s.parse().map(std::time::Duration::from_secs))
        .transpose()
        .context("GEN3D_MESH_TIMEOUT_SECS must be a number of seconds")?
        .unwrap_or(gen3d_inference::DEFAULT_MESH_TIMEOUT);
    let mut state = gen3d_inference::ServerState::new(blob_store().await?, concurrency).with_models(models);
    state.mesher = gen3d_inference::Mesher::current_exe(mesh_timeout).context("cannot locate this binary for the meshing worker")?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await.with_context(|| format!("failed to listen on port {port}"))?;
    axum::serve(listener, gen3d_inference::app(state)).await.context("server failed")
}
