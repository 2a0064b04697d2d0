//! The AWS side of every port. Services hold `Arc<dyn Port>` and never see these types;
//! a Lambda builds them once with [`AwsPorts::connect`] from its `ServiceConfig`.
//! Everything here also runs against moto server (`tests/`), which speaks the same wire
//! protocols: pass its URL as the endpoint.

mod dynamo;
mod emf;
mod error;
pub mod provision;
mod s3;
mod sagemaker;
mod ses;
mod sns;
mod sqs;

use std::sync::Arc;

pub use aws_config::SdkConfig;

pub use dynamo::DynamoJobStore;
pub use emf::EmfMetrics;
pub use s3::S3BlobStore;
pub use sagemaker::SageMakerEndpoint;
pub use ses::SesMailer;
pub use sns::{SnsTopic, create_inference_topic};
pub use sqs::SqsQueue;

use gen3d_config::{ServiceConfig, ServiceSettings};
use gen3d_ports::{InferenceEndpoint, PortError, Ports, QueueName};

/// The SDK configuration: the default chain (Lambda's role, `AWS_*` variables), or a
/// local emulator when `endpoint_url` is given (test credentials, path-style S3).
pub async fn sdk_config(endpoint_url: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url).test_credentials();
    }
    loader.load().await
}

/// What the operator's commands (`gen3d --profile aws replay|jobs`) need of a deployed
/// stack: its queues (with their dead-letter queues) and its job table. `ttl_days` is the
/// stack's `jobTtlDays`, used if a record is written.
pub async fn stack_ops(
    sdk: &aws_config::SdkConfig,
    names: &gen3d_config::ResourceNames,
    ttl_days: u32,
) -> Result<(SqsQueue, DynamoJobStore), PortError> {
    let queue = SqsQueue::connect(aws_sdk_sqs::Client::new(sdk), names.clone()).await?;
    let jobs = DynamoJobStore::new(aws_sdk_dynamodb::Client::new(sdk), &names.job_table(), ttl_days);
    Ok((queue, jobs))
}

/// Every port of one service, on AWS.
pub struct AwsPorts;

impl AwsPorts {
    /// Builds the ports a service's handler needs. `emulated` makes S3 path-style (moto).
    pub async fn connect(config: &ServiceConfig, sdk: &aws_config::SdkConfig, emulated: bool) -> Result<Ports, PortError> {
        let blobs = Arc::new(S3BlobStore::new(s3::client(sdk, emulated), &config.bucket));
        let consumed: Vec<QueueName> = config.service.consumes().map(QueueName::pipeline).into_iter().collect();
        let queue = Arc::new(SqsQueue::connect_for(aws_sdk_sqs::Client::new(sdk), config.names.clone(), &consumed).await?);
        let jobs = Arc::new(DynamoJobStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table, config.job_ttl_days));
        let mailer = Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(sdk)));
        let metrics = Arc::new(EmfMetrics::stdout(&config.metrics_namespace, config.service.name()));
        let inference: Arc<dyn InferenceEndpoint> = match &config.settings {
            ServiceSettings::Inference { endpoint_name } => {
                Arc::new(SageMakerEndpoint::new(aws_sdk_sagemakerruntime::Client::new(sdk), endpoint_name, &config.bucket))
            }
            _ => Arc::new(sagemaker::NoEndpoint(config.service.name())),
        };
        Ok(Ports { blobs, queue, jobs, mailer, metrics, inference })
    }
}
