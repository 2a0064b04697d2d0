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

/// The queues and job records `replay` and `jobs` act on.
async fn ops(cli: &Cli, data: PathBuf) -> anyhow::Result<(Arc<dyn Queue>, Arc<dyn JobStore>)> {
    match cli.profile {
        Profile::Local => {
            let stack = LocalStack::open(LocalConfig::new(data))?;
            Ok((stack.ports.queue.clone(), stack.ports.jobs.clone()))
        }
        #[cfg(feature = "aws")]
        Profile::Aws => {
            let names = gen3d_config::ResourceNames::for_stack("gen3d", &cli.stack).map_err(|e| anyhow::anyhow!("--stack: {e}"))?;
            let sdk = gen3d_aws::sdk_config(cli.aws_endpoint_url.as_deref(), cli.region.as_deref()).await;
            let (queue, jobs) =
                gen3d_aws::stack_ops(&sdk, &names, cli.job_ttl_days).await.map_err(|e| anyhow::anyhow!("stack {}: {e}", cli.stack))?;
            Ok((Arc::new(queue), Arc::new(jobs)))
        }
        #[cfg(not(feature = "aws"))]
        Profile::Aws => bail!("this gen3d was built without the AWS profile: build it with `cargo build --release -p gen3d --features aws`"),
    }
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

/// A Cognito user pool whose ID tokens `gen3d serve` accepts.
struct CognitoPool {
    region: String,
    pool: String,
    client: String,
    endpoint: Option<String>,
}

impl CognitoPool {
    /// Cognito's API endpoint, where the web app signs in.
    fn endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("https://cognito-idp.{}.amazonaws.com", self.region))
    }

    /// The verifier: the pool's issuer, its JWKS (at the issuer, or under the custom
    /// endpoint as moto serves it) and the app client as audience.
    async fn auth(&self) -> anyhow::Result<gen3d_intake::CognitoAuth> {
        let issuer = gen3d_intake::CognitoAuth::issuer(&self.region, &self.pool);
        let jwks = match &self.endpoint {
            Some(e) => format!("{}/{}/.well-known/jwks.json", e.trim_end_matches('/'), self.pool),
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        let client = self.client.clone();
        tokio::task::spawn_blocking(move || gen3d_intake::CognitoAuth::fetch(&issuer, &client, &jwks)).await?.map_err(anyhow::Error::msg)
    }

    /// What the web app reads from `/config.json` to sign in.
    fn web_config(&self) -> Value {
        json!({"auth": "cognito", "cognito": {"endpoint": self.endpoint(), "region": self.region, "clientId": self.client}})
    }
}

/// Where and how `gen3d serve` listens.
struct Listen {
    host: String,
    port: u16,
    header_timeout: Duration,
}

async fn serve(mut config: LocalConfig, listen: Listen, web_dir: Option<PathBuf>, cognito: Option<CognitoPool>) -> anyhow::Result<()> {
    let Listen { host, port, header_timeout } = listen;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.with_context(|| format!("failed to listen on {host}:{port}"))?;
    let addr = listener.local_addr()?;
    config.app_url = format!("http://{addr}");
    let mut stack = LocalStack::open(config)?;
    let web_config = match &cognito {
        Some(pool) => {
            let auth = pool.auth().await.context("cannot set up Cognito sign-in")?;
            stack.api.auth = Arc::new(gen3d_intake::Auth::Cognito(auth));
            pool.web_config()
        }
        None => json!({"auth": "local"}),
    };
    let workers = stack.start_workers()?;
    println!("gen3d listening on http://{addr} (data in {})", stack.config.data_dir.display());
    // On stderr: callers read the listening line from stdout and may close it.
    match &web_dir {
        Some(dir) => tracing::info!("serving the web app from {}", dir.display()),
        None => tracing::warn!("the web app is not built (run `make web`): serving the API only"),
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let app = crate::web::with_web_app(stack.router(), web_dir, web_config, stack.api.decoder.clone());
    crate::http::serve(listener, app, header_timeout, shutdown).await;
    workers.stop().await;
    Ok(())
}

fn parse_pair(flag: &str, raw: &str) -> anyhow::Result<(f32, f32)> {
    let parts: Vec<&str> = raw.split(',').collect();
    match parts.as_slice() {
        [x, y] => match (x.trim().parse::<f32>(), y.trim().parse::<f32>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
            _ => bail!("invalid {flag} {raw:?}: expected two numbers X,Y"),
        },
        _ => bail!("invalid {flag} {raw:?}: expected X,Y"),
    }
}

fn prompt_json(args: &RunArgs) -> anyhow::Result<Value> {
    let mut points = Vec::new();
    for p in &args.points {
        let (x, y) = parse_pair("--point", p)?;
        points.push(json!({"x": x, "y": y, "label": "include"}));
    }
    for p in &args.excludes {
        let (x, y) = parse_pair("--exclude", p)?;
        points.push(json!({"x": x, "y": y, "label": "exclude"}));
    }
    let mut body = json!({ "points": points });
    if let Some(b) = &args.bbox {
        let v: Vec<f32> = b
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|_| anyhow::anyhow!("invalid --box {b:?}: expected X0,Y0,X1,Y1"))?;
        let [x0, y0, x1, y1] = v[..] else { bail!("invalid --box {b:?}: expected four numbers X0,Y0,X1,Y1") };
        body["box"] = json!({"x0": x0, "y0": y0, "x1": x1, "y1": y1});
    }
    if let Some(t) = args.target_triangles {
        body["target_triangles"] = json!(t);
    }
    if let Some(method) = args.method {
        body["method"] = json!(method);
    }
    Ok(body)
}

fn read_input(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

async fn run(config: LocalConfig, args: RunArgs) -> anyhow::Result<()> {
    if args.mask.is_none() && args.points.is_empty() && args.bbox.is_none() {
        bail!("say what to reconstruct: --point X,Y (or --box, or --mask MASK.png)");
    }
    let photo = read_input(&args.photo, "photo")?;
    let mask = args.mask.as_ref().map(|m| read_input(m, "mask").map(|b| (m.clone(), b))).transpose()?;
    let prompt = if mask.is_none() { Some(prompt_json(&args)?) } else { None };
    let email = EmailAddress::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    // Fail before the pipeline runs and the mail goes out, not after.
    let probe = args.out.join(format!(".gen3d-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("cannot write to output directory {}", args.out.display()))?;
    let _ = std::fs::remove_file(&probe);

    let stack = LocalStack::open(config)?;
    let workers = stack.start_workers()?;
    let principal = Principal { user: UserId::parse("local-cli").expect("constant id"), email };
    let api = ApiClient::new(stack.router(), stack.token(&principal));
    let started = Instant::now();
    let result = drive(&api, &args, photo, mask, prompt, started).await;
    workers.stop().await;
    let object_id = result?;
    let outbox = stack.config.outbox().join(format!("{object_id}-done.eml"));
    println!("email: {}", outbox.display());
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn stage(started: Instant, what: &str) {
    println!("[{:>6.2} s] {what}", started.elapsed().as_secs_f64());
}

async fn drive(
    api: &ApiClient,
    args: &RunArgs,
    photo: Vec<u8>,
    mask: Option<(PathBuf, Vec<u8>)>,
    prompt: Option<Value>,
    started: Instant,
) -> anyhow::Result<String> {
    let photo_name = args.photo.display().to_string();
    let created = api.post_json("/v1/sessions", &json!({})).await;
    if created.status != StatusCode::CREATED {
        bail!("cannot create a session: {}", created.error_message());
    }
    let session = created.json()["id"].as_str().unwrap_or_default().to_owned();
    let uploaded = api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("application/octet-stream"), photo).await;
    if uploaded.status != StatusCode::ACCEPTED {
        bail!("{photo_name}: {}", uploaded.error_message());
    }
    let size = &uploaded.json()["image"];
    stage(started, &format!("uploaded {photo_name} ({}x{})", size["width"], size["height"]));

    let object = match (&mask, &prompt) {
        (Some((mask_path, bytes)), _) => {
            let mut params = Vec::new();
            if let Some(t) = args.target_triangles {
                params.push(format!("target_triangles={t}"));
            }
            if let Some(method) = args.method {
                params.push(format!("method={method}"));
            }
            let q = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
            let r = api.call(Method::POST, &format!("/v1/sessions/{session}/objects{q}"), Some("image/png"), bytes.clone()).await;
            if r.status != StatusCode::CREATED {
                bail!("{}: {}", mask_path.display(), r.error_message());
            }
            r.json()
        }
        (None, Some(prompt)) => {
            wait_session_ready(api, &session, started).await?;
            let r = api.post_json(&format!("/v1/sessions/{session}/objects"), prompt).await;
            if r.status != StatusCode::CREATED {
                bail!("{photo_name}: {}", r.error_message());
            }
            r.json()
        }
        (None, None) => bail!("nothing to reconstruct"),
    };
    let object_id = object["id"].as_str().unwrap_or_default().to_owned();
    stage(started, "object submitted");
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let done = loop {
        let r = api.get(&format!("/v1/sessions/{session}/objects/{object_id}")).await;
        let v = r.json();
        let state = v["state"].as_str().unwrap_or("unknown").to_owned();
        if state != last {
            stage(started, &state);
            last = state.clone();
        }
        match state.as_str() {
            "done" => break v,
            "failed" => bail!(
                "reconstruction failed while {}: {}",
                v["failure"]["stage"].as_str().unwrap_or("?"),
                v["failure"]["reason"].as_str().unwrap_or("?")
            ),
            _ if Instant::now() > deadline => {
                bail!("timed out waiting for the object (last state: {state})")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    for file in done["files"].as_array().into_iter().flatten() {
        let name = file["name"].as_str().unwrap_or_default();
        let url = file["url"].as_str().unwrap_or_default();
        let r = api.get(url).await;
        if r.status != StatusCode::OK {
            bail!("cannot download {name}: {}", r.error_message());
        }
        let path = args.out.join(name);
        std::fs::write(&path, &r.body).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), r.body.len());
    }
    let stats = &done["stats"];
    println!("mesh: {} vertices, {} triangles, watertight: {}", stats["vertices"], stats["triangles"], stats["watertight"]);
    Ok(object_id)
}

async fn wait_session_ready(api: &ApiClient, session: &str, started: Instant) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let v = api.get(&format!("/v1/sessions/{session}")).await.json();
        match v["state"].as_str() {
            Some("ready") => {
                stage(started, "embeddings ready");
                return Ok(());
            }
            Some("failed") => bail!("embedding failed: {}", v["failure"].as_str().unwrap_or("unknown reason")),
            _ if Instant::now() > deadline => bail!("timed out waiting for embeddings"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn replay(queues: &dyn Queue, queue: &str, max: Option<u64>, dry_run: bool) -> anyhow::Result<()> {
    let name = QueueName::parse(queue).map_err(|e| anyhow::anyhow!("--queue: {e}"))?;
    let dlq = if name.is_dead_letter() { name } else { name.dead_letter() };
    let waiting = queues.depth(&dlq).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if dry_run {
        let would = max.map_or(waiting, |m| m.min(waiting));
        println!("{dlq}: {waiting} message(s) waiting; would move {would} to {}", dlq.source().map(|s| s.to_string()).unwrap_or_default());
        return Ok(());
    }
    let moved = queues.replay(&dlq, max).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("moved {moved} message(s) from {dlq} to {}", dlq.source().map(|s| s.to_string()).unwrap_or_default());
    Ok(())
}

async fn jobs(queues: &dyn Queue, records: &dyn JobStore, limit: usize, endpoint_queue: Option<&str>) -> anyhow::Result<()> {
    let names = QueueName::PIPELINE.iter().copied().chain(endpoint_queue);
    for q in names {
        let name = QueueName::parse(q).map_err(|e| anyhow::anyhow!("{e}"))?;
        let depth = queues.depth(&name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let dead = queues.depth(&name.dead_letter()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("queue {q:<15} waiting {depth:>4}   dead-lettered {dead:>4}");
    }
    let failed = records.failed_objects(limit).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if failed.is_empty() {
        println!("no failed jobs");
    }
    for f in failed {
        let (stage, reason) = f.failure.as_ref().map(|x| (x.stage.as_str(), x.reason.as_str())).unwrap_or(("?", "?"));
        println!("failed  user {}  session {}  object {}  at {stage}: {reason}", f.user, f.session, f.object);
    }
    Ok(())
}

fn mesh(
    input: &Path,
    out: &Path,
    method: gen3d_domain::MeshMethod,
    target_triangles: u32,
    remove_outliers: bool,
    max_points: Option<u32>,
) -> anyhow::Result<()> {
    use gen3d_domain::{MeshFormat, MeshOptions};
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let format: MeshFormat = ext.parse().map_err(|e| anyhow::anyhow!("--out {}: {e}", out.display()))?;
    let options = MeshOptions::new(method, target_triangles, format)
        .map_err(|e| anyhow::anyhow!("--target-triangles: {e}"))?
        .with_cleanup(remove_outliers, max_points)
        .map_err(|e| anyhow::anyhow!("--max-points: {e}"))?;
    let bytes = read_input(input, "input")?;
    let started = Instant::now();
    let (mesh, stats) = match gen3d_media::SplatCloud::read_ply(&bytes) {
        Ok(splats) => gen3d_meshing::mesh_splats(&splats, &options),
        Err(splat_error) => match gen3d_media::PointCloud::read_ply(&bytes) {
            Ok(points) => gen3d_meshing::mesh_point_cloud(&points, &options),
            Err(points_error) => bail!("{}: not a splat ({splat_error}) nor a point cloud ({points_error})", input.display()),
        },
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    std::fs::write(out, gen3d_meshing::write_mesh(&mesh, format)).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} in {:.2} s: {} vertices, {} triangles, watertight: {}, bounds {:?}..{:?}",
        out.display(),
        started.elapsed().as_secs_f64(),
        stats.vertices,
        stats.triangles,
        stats.watertight,
        stats.bbox_min,
        stats.bbox_max
    );
    Ok(())
}
