//! The local stack: every service over the embedded adapters in one process.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use gen3d_config::{Service, UserLimits};
use gen3d_domain::EmailAddress;
use gen3d_embedded::{FsBlobStore, MemoryMetrics, OutboxMailer, SqliteJobStore, SqliteQueue, open_database};
use gen3d_faults::Faults;
use gen3d_inference::{LocalAsyncEndpoint, Mesher, Runner};
use gen3d_intake::{AppState, Auth, LocalAuth, ServerDecoder};
use gen3d_models::backend::Models;
use gen3d_notify::NotifyConfig;
use gen3d_pipeline::{ConsumerConfig, Handler, consume};
use gen3d_ports::{Ports, QueueName};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Settings of the local stack. Built from flags and environment by the CLI.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub data_dir: PathBuf,
    /// Deliveries before a message dead-letters.
    pub max_receives: u32,
    pub mail_from: EmailAddress,
    pub admin_email: Option<EmailAddress>,
    pub app_url: String,
    /// First retry delay of a failing message.
    pub backoff: Duration,
    /// Run inference in a container at this URL (its `/invocations`) instead of in-process.
    pub inference_url: Option<String>,
    /// A model directory (`manifest.json`: encoder, decoder, reconstructor); None is the
    /// built-in models.
    pub models: Option<PathBuf>,
    /// Where in-process inference runs mesh tasks (`gen3d serve|run`: child processes).
    pub mesher: Mesher,
    /// Per-user limits the API enforces.
    pub limits: UserLimits,
    /// Faults injected at every port the services and the API use (the soak test,
    /// `gen3d serve --inject-faults`); the inference stand-in's own storage is left alone,
    /// as SageMaker's is not ours.
    pub faults: Option<Arc<Faults>>,
    /// How long a job may sit in one step before the sweeper fails it (its messages were
    /// lost or dead-lettered); swept every quarter of that, at most every minute.
    pub stall_after: Duration,
    /// Overrides every consumer's visibility timeout (tests: a lost acknowledgement
    /// comes back sooner).
    pub visibility: Option<Duration>,
}

impl LocalConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_receives: 5,
            mail_from: EmailAddress::parse("noreply@gen3d.localhost").expect("constant address"),
            admin_email: Some(EmailAddress::parse("admin@gen3d.localhost").expect("constant address")),
            app_url: "http://127.0.0.1:8080".into(),
            backoff: Duration::from_millis(500),
            inference_url: None,
            models: None,
            mesher: Mesher::InProcess,
            limits: UserLimits::LOCAL,
            faults: None,
            stall_after: Duration::from_secs(30 * 60),
            visibility: None,
        }
    }

    pub fn outbox(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    pub fn blobs(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
}

/// The library handler of a queue-fed service (`None` for intake, fed by HTTP): what the
/// local consumers, the AWS-profile tests and each Lambda binary run.
pub fn queue_handler(service: Service, ports: Ports, notify: &NotifyConfig) -> Option<Arc<dyn Handler>> {
    Some(match service {
        Service::Intake => return None,
        Service::Embedding => Arc::new(gen3d_embedding::EmbeddingService::new(ports)),
        Service::Reconstruction => Arc::new(gen3d_reconstruction::ReconstructionService::new(ports)),
        Service::Meshing => Arc::new(gen3d_meshing_service::MeshingService::new(ports)),
        Service::Notify => Arc::new(gen3d_notify::NotifyService::new(ports, notify.clone())),
    })
}

/// The embedded adapters and models, opened on a data directory.
pub struct LocalStack {
    pub config: LocalConfig,
    queue: Arc<SqliteQueue>,
    pub ports: Ports,
    pub endpoint: Arc<LocalAsyncEndpoint>,
    pub api: AppState,
    /// The click decoder, the API's and the browser's.
    pub decoder: Arc<gen3d_models::decoder::Decoder>,
    /// The API's account scheme, also for issuing tokens directly (CLI, tests).
    accounts: Arc<LocalAuth>,
}

/// Running consumer tasks; [`Workers::stop`] ends them after their current message.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    /// Held while the workers run: one runner per data directory.
    _lock: std::fs::File,
}

impl Workers {
    /// Ends the workers abruptly, wherever they are (as a kill -9 would, short of the
    /// process): messages in flight stay invisible until the next runner recovers them.
    pub async fn kill(self) {
        for h in &self.handles {
            h.abort();
        }
        for h in self.handles {
            let _ = h.await;
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(bytes) = std::fs::read(path)
        && bytes.len() >= 32
    {
        return Ok(bytes);
    }
    let secret: [u8; 32] = rand::random();
    std::fs::write(path, secret).with_context(|| format!("failed to write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(secret.to_vec())
}

impl LocalStack {
    pub fn open(config: LocalConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| format!("failed to create data directory {}", config.data_dir.display()))?;
        let db = config.data_dir.join("gen3d.sqlite");
        let open = || open_database(&db).map_err(|e| anyhow::anyhow!("failed to open {}: {e}", db.display()));
        let blobs: Arc<FsBlobStore> = Arc::new(FsBlobStore::new(config.blobs()));
        let queue = Arc::new(SqliteQueue::new(open()?, config.max_receives));
        let metrics = Arc::new(MemoryMetrics::default());
        let runner = match &config.inference_url {
            Some(base) => Runner::Container { base: base.clone() },
            None => Runner::InProcess,
        };
        let models = match &config.models {
            None => Models::builtin(),
            Some(dir) => {
                let models = Models::load(dir);
                let errors = models.errors();
                if !errors.is_empty() {
                    bail!("model directory {}: {}", dir.display(), errors.join("; "));
                }
                tracing::info!(dir = %dir.display(), models = %models.status(), "models loaded");
                models
            }
        };
        let decoder = models.decoder.clone().map_err(|e| anyhow::anyhow!("{e}"))?;
        let endpoint = Arc::new(
            LocalAsyncEndpoint::new(blobs.clone(), queue.clone(), metrics.clone())
                .with_runner(runner)
                .with_models(models)
                .with_mesher(config.mesher.clone()),
        );
        let mut ports = Ports {
            blobs,
            queue: queue.clone(),
            jobs: Arc::new(SqliteJobStore::new(open()?)),
            mailer: Arc::new(OutboxMailer::new(config.outbox())),
            metrics,
            inference: endpoint.clone(),
        };
        if let Some(faults) = &config.faults {
            ports = gen3d_faults::wrap(ports, faults);
        }
        let secret = load_or_create_secret(&config.data_dir.join("token-secret"))?;
        let accounts = Arc::new(LocalAuth::new(secret).with_reset_mail(config.mail_from.clone(), config.app_url.clone()));
        let api = AppState {
            ports: ports.clone(),
            decoder: ServerDecoder::ready(decoder.clone()),
            auth: Arc::new(Auth::Local(accounts.clone())),
            limits: config.limits,
        };
        Ok(Self { config, queue, ports, endpoint, api, decoder, accounts })
    }

    /// Starts one consumer per pipeline queue plus the inference endpoint's worker.
    /// Takes the data directory's runner lock, then re-delivers at once whatever a
    /// previous runner had in flight when it died.
    pub fn start_workers(&self) -> anyhow::Result<Workers> {
        let lock_path = self.config.data_dir.join("runner.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("failed to open {}", lock_path.display()))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!("another gen3d runner is using {}; stop it or pass another --data directory", self.config.data_dir.display())
        })?;
        let recovered = self.queue.recover_in_flight().map_err(|e| anyhow::anyhow!("{e}"))?;
        if recovered > 0 {
            tracing::warn!(messages = recovered, "re-delivering messages a previous runner had in flight");
        }
        let (stop, rx) = watch::channel(false);
        let ports = &self.ports;
        let notify =
            // The API and the app share one origin here.
            NotifyConfig {
                from: self.config.mail_from.clone(),
                admin: self.config.admin_email.clone(),
                app_url: self.config.app_url.clone(),
                api_url: self.config.app_url.clone(),
            };
        let services = [
            (Service::Embedding, Duration::from_secs(60)),
            (Service::Reconstruction, Duration::from_secs(60)),
            (Service::Meshing, Duration::from_secs(300)),
            (Service::Notify, Duration::from_secs(60)),
        ];
        let mut handles: Vec<JoinHandle<()>> = Vec::new();
        for (service, visibility) in services {
            let (Some(queue), Some(handler)) = (service.consumes(), queue_handler(service, ports.clone(), &notify)) else { continue };
            let visibility = self.config.visibility.unwrap_or(visibility);
            let config = ConsumerConfig { queue: QueueName::pipeline(queue), visibility, batch: 4, backoff: self.config.backoff };
            handles.push(tokio::spawn(consume(ports.clone(), handler, config, rx.clone())));
        }
        let (sweep_ports, stall_after, mut sweep_stop) = (ports.clone(), self.config.stall_after, rx.clone());
        handles.push(tokio::spawn(async move {
            let every = (stall_after / 4).min(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = sweep_stop.changed() => return,
                }
                if let Err(e) = gen3d_pipeline::sweep(&sweep_ports, stall_after).await {
                    tracing::error!(error = %e, "sweep failed");
                }
            }
        }));
        let endpoint = self.endpoint.clone();
        let rx2 = rx.clone();
        handles.push(tokio::spawn(async move { endpoint.run_worker(rx2).await }));
        Ok(Workers { stop, handles, _lock: lock })
    }

    /// A bearer token for `principal` (the local stack uses Gen3D's own accounts).
    pub fn token(&self, principal: &gen3d_intake::Principal) -> String {
        self.accounts.issue(principal)
    }

    pub fn router(&self) -> axum::Router {
        gen3d_intake::app(self.api.clone())
    }
}
