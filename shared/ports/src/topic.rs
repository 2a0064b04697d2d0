//! The `Topic` port: where the inference endpoint announces results.

use async_trait::async_trait;

use crate::PortError;

/// A publish-subscribe topic (SNS in AWS). The inference endpoint announces results on
/// one; each service's queue subscribes to the results meant for it.
#[async_trait]
pub trait Topic: Send + Sync {
    async fn publish(&self, body: &str) -> Result<(), PortError>;
}
