//! The `gen3d` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::http::{Method, StatusCode};
use clap::{Parser, Subcommand};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_intake::Principal;
use gen3d_ports::{JobStore, Queue, QueueName};
use serde_json::{Value, json};

use crate::client::ApiClient;
use crate::{LocalConfig, LocalStack};

mod mesh;
mod ops;
mod run;
mod serve;

use mesh::mesh;
use ops::{jobs, ops, replay};
use run::run;
use serve::{CognitoPool, Listen, serve};

#[derive(Parser)]
#[command(name = "gen3d", version, about = "Photo to 3D object: segment an object in a photo and get it back as a mesh")]
struct Cli {
    /// Where Gen3D keeps its data (files, queues, job records, outbox).
    #[arg(long, global = true, env = "GEN3D_DATA")]
    data: Option<PathBuf>,
    /// Which deployment `replay` and `jobs` act on: the local data directory, or a
    /// deployed AWS stack (credentials from the usual AWS chain).
    #[arg(long, global = true, value_enum, default_value_t = Profile::Local, env = "GEN3D_PROFILE")]
    profile: Profile,
    /// The Pulumi stack of `--profile aws` (resources are named gen3d-<stack>-...).
    #[arg(long, global = true, default_value = "dev", env = "GEN3D_STACK")]
    stack: String,
    /// Another AWS endpoint, e.g. moto server on loopback.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    #[arg(long, global = true, env = "AWS_REGION")]
    region: Option<String>,
    /// The stack's `jobTtlDays`: how long a job record the operator commands write lives.
    #[arg(long, global = true, default_value_t = 365, env = "GEN3D_JOB_TTL_DAYS")]
    job_ttl_days: u32,
    /// A model directory for `run` and `serve` (manifest.json naming the SAM 3 encoder,
    /// the click decoder and the reconstructor; `make sam3-models` writes one). Without
    /// it the built-in models run.
    #[arg(long, global = true, env = "GEN3D_MODEL_DIR")]
    models: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Profile {
    Local,
    Aws,
}

#[derive(Subcommand)]
enum Command {
    /// One photo to a 3D model: writes mask.png, splat.ply and mesh.glb to --out.
    Run(RunArgs),
    /// Starts the HTTP API and every worker on localhost.
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Send inference to a running `gen3d-inference serve` (e.g. http://127.0.0.1:8081)
        /// sharing the data directory's blobs/, instead of running the models in-process.
        #[arg(long)]
        inference_url: Option<String>,
        /// The built web app to serve at `/` (default: $GEN3D_WEB_DIR, else ./web/dist).
        #[arg(long)]
        web_dir: Option<PathBuf>,
        /// Accept ID tokens of this Cognito user pool instead of Gen3D's own accounts, as
        /// the AWS deployment does; the web app then signs in against Cognito.
        #[arg(long, requires = "cognito_client_id")]
        cognito_user_pool_id: Option<String>,
        /// The user pool's app client (the tokens' audience).
        #[arg(long, requires = "cognito_user_pool_id")]
        cognito_client_id: Option<String>,
        /// Cognito's endpoint, e.g. moto server (default: https://cognito-idp.<region>.amazonaws.com).
        #[arg(long)]
        cognito_endpoint: Option<String>,
        /// Close a connection that has not sent its request headers within this many seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout_secs: u64,
    },
    /// Moves messages from a dead-letter queue back to its source queue.
    Replay {
        /// The dead-letter queue, e.g. meshing-dlq (or the source queue name).
        #[arg(long)]
        queue: String,
        #[arg(long)]
        max: Option<u64>,
        /// Only report how many messages would move.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lists failed jobs with their reasons, and queue depths.
    Jobs {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Meshes a 3DGS splat PLY (e.g. SAM 3D Objects' output) or a coloured point-cloud PLY.
    Mesh {
        /// The input PLY.
        input: PathBuf,
        /// The output mesh; its extension picks the format (glb, obj, ply, stl).
        #[arg(long)]
        out: PathBuf,
        /// poisson (default), ball_pivoting or alpha_shape.
        #[arg(long, default_value = "poisson")]
        method: gen3d_domain::MeshMethod,
        /// Upper bound on the mesh's triangles.
        #[arg(long, default_value_t = gen3d_domain::MeshOptions::DEFAULT_TRIANGLES)]
        target_triangles: u32,
        /// Drop points far from their neighbours before meshing.
        #[arg(long)]
        remove_outliers: bool,
        /// Voxel down-sample to about this many points first.
        #[arg(long)]
        max_points: Option<u32>,
    },
    /// Writes the built-in click decoder as an ONNX file (for the browser).
    ExportDecoder {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// The photo (JPEG, PNG or WebP).
    photo: PathBuf,
    /// A point on the object, in pixels: X,Y (repeatable).
    #[arg(long = "point", value_name = "X,Y")]
    points: Vec<String>,
    /// A point to leave out of the selection: X,Y (repeatable).
    #[arg(long = "exclude", value_name = "X,Y")]
    excludes: Vec<String>,
    /// A box around the object: X0,Y0,X1,Y1.
    #[arg(long = "box", value_name = "X0,Y0,X1,Y1")]
    bbox: Option<String>,
    /// A mask PNG instead of clicks (binary, or the mask in its alpha channel).
    #[arg(long, conflicts_with_all = ["points", "excludes", "bbox"])]
    mask: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Upper bound on the mesh's triangles.
    #[arg(long)]
    target_triangles: Option<u32>,
    /// Surface reconstruction: poisson (default), ball_pivoting or alpha_shape.
    #[arg(long)]
    method: Option<gen3d_domain::MeshMethod>,
    /// The email address that receives the notification (into the local outbox).
    #[arg(long, default_value = "me@gen3d.localhost")]
    email: String,
}

pub fn main() -> ExitCode {
    // A mesh task's child process (see gen3d_inference::Mesher): one request, exit.
    if std::env::args().nth(1).as_deref() == Some(gen3d_meshing::worker::WORKER_ARG) {
        return match gen3d_meshing::worker::serve_one(std::io::stdin().lock(), std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: meshing worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    let serve = matches!(cli.command, Command::Serve { .. });
    let target = gen3d_config::LogTarget::Local { default_level: if serve { "info" } else { "warn" } };
    gen3d_telemetry::init(&gen3d_config::LogSettings::from_env(target));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // This binary answers WORKER_ARG (above), so it can be the meshing worker.
    match runtime.block_on(dispatch(cli, MeshIn::ChildOfThisBinary)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(gen3d_config::default_data_dir)
}

/// Where `serve` and `run` mesh.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MeshIn {
    /// A child process of the running `gen3d` binary per task (it answers `WORKER_ARG`).
    ChildOfThisBinary,
    /// This process: the running program is not `gen3d` (a test calling [`run_args`]),
    /// so it cannot be the worker.
    ThisProcess,
}

/// Runs the CLI on `args` (the first is the program name), as `main` does, for tests:
/// meshing runs in this process, since the caller's binary is not a meshing worker.
pub async fn run_args<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    dispatch(Cli::try_parse_from(args)?, MeshIn::ThisProcess).await
}

async fn dispatch(cli: Cli, mesh_in: MeshIn) -> anyhow::Result<()> {
    let data = data_dir(cli.data.clone());
    if cli.profile == Profile::Aws && !matches!(cli.command, Command::Replay { .. } | Command::Jobs { .. }) {
        bail!("--profile aws applies to replay and jobs; the other commands run locally");
    }
    match cli.command {
        Command::ExportDecoder { out } => {
            let bytes = gen3d_models::decoder_graph::decoder_onnx();
            std::fs::write(&out, bytes).with_context(|| format!("failed to write {}", out.display()))?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Mesh { input, out, method, target_triangles, remove_outliers, max_points } => {
            mesh(&input, &out, method, target_triangles, remove_outliers, max_points)
        }
        Command::Serve { port, host, inference_url, web_dir, cognito_user_pool_id, cognito_client_id, cognito_endpoint, header_timeout_secs } => {
            let mut config = LocalConfig::new(data);
            config.inference_url = inference_url;
            config.models = cli.models.clone();
            config.mesher = mesher(mesh_in)?;
            let cognito = match (cognito_user_pool_id, cognito_client_id) {
                (Some(pool), Some(client)) => {
                    Some(CognitoPool { region: cli.region.clone().unwrap_or_else(|| "us-east-1".into()), pool, client, endpoint: cognito_endpoint })
                }
                _ => None,
            };
            let listen = Listen { host, port, header_timeout: Duration::from_secs(header_timeout_secs) };
            serve(config, listen, crate::web::app_dir(web_dir)?, cognito).await
        }
        Command::Run(args) => {
            let mut config = LocalConfig::new(data);
            config.models = cli.models.clone();
            config.mesher = mesher(mesh_in)?;
            run(config, args).await
        }
        Command::Replay { ref queue, max, dry_run } => {
            let (q, _) = ops(&cli, data).await?;
            replay(q.as_ref(), queue, max, dry_run).await
        }
        Command::Jobs { limit } => {
            let (q, j) = ops(&cli, data).await?;
            // Locally the inference endpoint's invocations wait in a queue of the same
            // store; in AWS they wait inside SageMaker (its ApproximateBacklogSize metric).
            let endpoint_queue = (cli.profile == Profile::Local).then_some(gen3d_inference::INFERENCE_QUEUE);
            jobs(q.as_ref(), j.as_ref(), limit, endpoint_queue).await
        }
    }
}

/// Mesh tasks in child processes of this binary, so that a crash or hang inside Open3D
/// costs one task, not the server (in-process only where this is not the gen3d binary).
fn mesher(mesh_in: MeshIn) -> anyhow::Result<gen3d_inference::Mesher> {
    match mesh_in {
        MeshIn::ThisProcess => Ok(gen3d_inference::Mesher::InProcess),
        MeshIn::ChildOfThisBinary => gen3d_inference::Mesher::current_exe(gen3d_inference::DEFAULT_MESH_TIMEOUT)
            .context("cannot locate the gen3d binary for the meshing worker"),
    }
}

fn read_input(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}
