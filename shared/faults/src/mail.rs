//! Fault injection around a `Mailer`.

use std::sync::Arc;

use async_trait::async_trait;
use gen3d_ports::{Email, Mailer, PortError};

use crate::{Faults, Port};

/// A [`Mailer`] whose sends fail, lag or time out after sending on schedule.
pub struct FaultyMailer {
    inner: Arc<dyn Mailer>,
    faults: Arc<Faults>,
}

impl FaultyMailer {
    pub fn new(inner: Arc<dyn Mailer>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, email: &Email) -> Result<(), PortError> {
        self.faults.write(Port::Mailer, "send", self.inner.send(email)).await
    }
}
