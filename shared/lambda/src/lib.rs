//! What every Gen3D Lambda shares, so each binary is a few lines around its service's
//! library handler:
//!
//! - [`QueueService::handle_batch`]: an SQS batch -> `SqsBatchResponse` with partial
//!   failures. The per-record rules (retry with backoff, give up into the DLQ, poison,
//!   S3 test events) are `gen3d_pipeline::disposition`, the same as the local consumer's.
//! - [`poll`]: Lambda's event source mapping, emulated, for runs against AWS or moto
//!   from one machine (and the tests).
//! - [`connect`] and [`run_queue_service`]: start-up from `ServiceConfig::from_env`.

mod batch;
mod poller;

use std::sync::Arc;
use std::time::Duration;

pub use batch::{QueueService, RecordOutcome};
pub use poller::{poll, poll_once};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gen3d_config::{LogSettings, LogTarget, Service, ServiceConfig};
use gen3d_pipeline::Handler;
use gen3d_ports::{Ports, QueueName};
use lambda_runtime::{Error, LambdaEvent, service_fn};

/// First retry delay of a failing record in a Lambda (doubled per delivery).
pub const LAMBDA_BACKOFF: Duration = Duration::from_secs(2);

/// The Lambda's logging: JSON on stdout (CloudWatch Logs) unless the function's
/// `AWS_LAMBDA_LOG_FORMAT` is `Text`, at its `AWS_LAMBDA_LOG_LEVEL` (`RUST_LOG` overrides).
pub fn init_tracing() {
    gen3d_telemetry::init(&LogSettings::from_env(LogTarget::Lambda));
}

/// Reads the service's configuration from the environment and connects its ports.
/// `AWS_ENDPOINT_URL` (an emulator such as moto) switches S3 to path-style addressing.
pub async fn connect(service: Service) -> Result<(ServiceConfig, Ports), Error> {
    let connected = connect_sdk(service).await?;
    Ok((connected.config, connected.ports))
}

/// What [`connect`] makes, with the SDK configuration for a service that reaches more
/// than its ports (the intake reads the web bucket's click decoder).
pub struct Connected {
    pub config: ServiceConfig,
    pub ports: Ports,
    pub sdk: gen3d_aws::SdkConfig,
    /// S3 path-style addressing (an emulator).
    pub path_style: bool,
}

/// [`connect`], keeping the SDK configuration.
pub async fn connect_sdk(service: Service) -> Result<Connected, Error> {
    let config = ServiceConfig::from_env(service)?;
    tracing::info!(config = ?config, "starting");
    let endpoint = gen3d_config::aws_endpoint_url();
    let sdk = gen3d_aws::sdk_config(endpoint.as_deref(), None).await;
    let ports = gen3d_aws::AwsPorts::connect(&config, &sdk, endpoint.is_some()).await?;
    Ok(Connected { config, ports, sdk, path_style: endpoint.is_some() })
}

/// The whole main of a queue-fed service's Lambda: connect once per cold start, then
/// handle SQS batches with `build`'s handler until the runtime stops. A scheduled
/// EventBridge event (`"detail-type": "Scheduled Event"`, the program's sweep rule)
/// runs the sweeper instead ([`gen3d_pipeline::sweep`]).
pub async fn run_queue_service<F>(service: Service, build: F) -> Result<(), Error>
where
    F: FnOnce(Ports, &ServiceConfig) -> Arc<dyn Handler>,
{
    init_tracing();
    let (config, ports) = connect(service).await?;
    let queue = service.consumes().ok_or_else(|| format!("the {service} service is not fed by a queue"))?;
    let handler = build(ports.clone(), &config);
    let svc = QueueService { ports, handler, queue: QueueName::pipeline(queue), backoff: LAMBDA_BACKOFF };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let svc = svc.clone();
        async move { handle_event(&svc, event.payload).await }
    }))
    .await
}

/// How long a job may sit in one step before the deployed sweeper fails it: longer than
/// the GPU endpoint's scale-up from zero plus a long backlog.
pub const STALL_AFTER: Duration = Duration::from_secs(60 * 60);

/// One invocation: an SQS batch, or the scheduled sweep.
pub async fn handle_event(svc: &QueueService, payload: serde_json::Value) -> Result<serde_json::Value, Error> {
    if payload.get("detail-type").and_then(|d| d.as_str()) == Some("Scheduled Event") {
        let report = gen3d_pipeline::sweep(&svc.ports, STALL_AFTER).await.map_err(|e| format!("sweep: {e}"))?;
        tracing::info!(?report, "sweep done");
        return Ok(serde_json::json!({
            "sessions_failed": report.sessions_failed,
            "objects_failed": report.objects_failed,
            "notices": report.notices,
            "errors": report.errors,
        }));
    }
    let batch: SqsEvent = serde_json::from_value(payload).map_err(|e| format!("not an SQS event or a scheduled event: {e}"))?;
    let response: SqsBatchResponse = svc.handle_batch(batch).await;
    Ok(serde_json::to_value(response)?)
}
