//! Fault injection around an `InferenceEndpoint`.

use std::sync::Arc;

use async_trait::async_trait;
use gen3d_ports::{InferenceEndpoint, InferenceInvocation, PortError};

use crate::{Faults, Port};

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
        self.faults.write(Port::Inference, "invoke_async", self.inner.invoke_async(invocation)).await
    }
}
