//! The `InferenceEndpoint` port on a SageMaker asynchronous endpoint.

use async_trait::async_trait;
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError};

use crate::error::classify;

/// `InvokeEndpointAsync` on the GPU endpoint: the request document is already in S3
/// (the service wrote it); SageMaker posts it to the container and reports back through
/// SNS to the service's queue.
pub struct SageMakerEndpoint {
    client: aws_sdk_sagemakerruntime::Client,
    endpoint: String,
    bucket: String,
}

impl SageMakerEndpoint {
    pub fn new(client: aws_sdk_sagemakerruntime::Client, endpoint: &str, bucket: &str) -> Self {
        Self { client, endpoint: endpoint.to_owned(), bucket: bucket.to_owned() }
    }
}

#[async_trait]
impl InferenceEndpoint for SageMakerEndpoint {
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError> {
        self.client
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .input_location(format!("s3://{}/{}", self.bucket, invocation.request))
            .inference_id(&invocation.inference_id)
            .content_type("application/json")
            .invocation_timeout_seconds(900)
            .send()
            .await
            .map_err(|e| classify(&format!("invoke {} for {}", self.endpoint, invocation.inference_id), e))?;
        Ok(())
    }
}

/// For services that never infer (intake, notify): a call is a bug, reported as such.
pub(crate) struct NoEndpoint(pub &'static str);

#[async_trait]
impl InferenceEndpoint for NoEndpoint {
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError> {
        Err(PortError::Internal(format!("the {} service has no inference endpoint (asked for {})", self.0, invocation.inference_id)))
    }
}
