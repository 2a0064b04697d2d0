use std::sync::Arc;

use async_trait::async_trait;
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError};

use crate::schedule::{WRITE, timed_out};
use crate::{Fault, Faults, Port};

/// An [`InferenceEndpoint`] whose invocations fail, lag or time out after being accepted
/// (so the same work may be invoked twice) on schedule.
pub struct FaultyInference {
    inner: Arc<dyn InferenceEndpoint>,
    faults: Arc<Faults>,
}

impl FaultyInference {
    pub fn new(inner: Arc<dyn InferenceEndpoint>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl InferenceEndpoint for FaultyInference {
    async fn invoke_async(&self, invocation: &InferenceInvocation) -> Result<(), PortError> {
        let fault = self.faults.before(Port::Inference, "invoke_async", WRITE).await?;
        self.inner.invoke_async(invocation).await?;
        if fault == Some(Fault::Timeout) {
            return Err(timed_out(Port::Inference, "invoke_async"));
        }
        Ok(())
    }
}
