//! Fault injection around a `JobStore`.

use std::sync::Arc;

use async_trait::async_trait;
use gen3d_domain::{DisplayName, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState, UserId};
use gen3d_ports::{JobStore, PortError, Stalled, Transition};

use crate::schedule::READ;
use crate::{Faults, Port};

/// A [`JobStore`] whose calls fail, lag or time out (after the write) on schedule.
pub struct FaultyJobs {
    inner: Arc<dyn JobStore>,
    faults: Arc<Faults>,
}

impl FaultyJobs {
    pub fn new(inner: Arc<dyn JobStore>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }

    async fn read(&self, op: &str) -> Result<(), PortError> {
        self.faults.before(Port::Jobs, op, READ).await.map(|_| ())
    }
}

#[async_trait]
impl JobStore for FaultyJobs {
    async fn create_session(&self, record: &SessionRecord) -> Result<(), PortError> {
        self.faults.write(Port::Jobs, "create_session", self.inner.create_session(record)).await
    }

    async fn session(&self, user: &UserId, session: &SessionId) -> Result<Option<SessionRecord>, PortError> {
        self.read("session").await?;
        self.inner.session(user, session).await
    }

    async fn sessions(&self, user: &UserId) -> Result<Vec<SessionRecord>, PortError> {
        self.read("sessions").await?;
        self.inner.sessions(user).await
    }

    async fn update_session(&self, expected: SessionState, next: &SessionRecord) -> Result<Transition<SessionRecord>, PortError> {
        self.faults.write(Port::Jobs, "update_session", self.inner.update_session(expected, next)).await
    }

    async fn create_object(&self, record: &ObjectRecord) -> Result<(), PortError> {
        self.faults.write(Port::Jobs, "create_object", self.inner.create_object(record)).await
    }

    async fn object(&self, user: &UserId, session: &SessionId, object: &ObjectId) -> Result<Option<ObjectRecord>, PortError> {
        self.read("object").await?;
        self.inner.object(user, session, object).await
    }

    async fn objects(&self, user: &UserId, session: &SessionId) -> Result<Vec<ObjectRecord>, PortError> {
        self.read("objects").await?;
        self.inner.objects(user, session).await
    }

    async fn user_objects(&self, user: &UserId) -> Result<Vec<ObjectRecord>, PortError> {
        self.read("user_objects").await?;
        self.inner.user_objects(user).await
    }

    async fn update_object(
        &self,
        expected: ObjectState,
        expected_notified: bool,
        next: &ObjectRecord,
    ) -> Result<Transition<ObjectRecord>, PortError> {
        self.faults.write(Port::Jobs, "update_object", self.inner.update_object(expected, expected_notified, next)).await
    }

    async fn delete_session(&self, user: &UserId, session: &SessionId, expected: SessionState) -> Result<bool, PortError> {
        self.faults.write(Port::Jobs, "delete_session", self.inner.delete_session(user, session, expected)).await
    }

    async fn delete_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, expected: ObjectState) -> Result<bool, PortError> {
        self.faults.write(Port::Jobs, "delete_object", self.inner.delete_object(user, session, object, expected)).await
    }

    async fn rename_session(&self, user: &UserId, session: &SessionId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.faults.write(Port::Jobs, "rename_session", self.inner.rename_session(user, session, name)).await
    }

    async fn rename_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.faults.write(Port::Jobs, "rename_object", self.inner.rename_object(user, session, object, name)).await
    }

    async fn failed_objects(&self, limit: usize) -> Result<Vec<ObjectRecord>, PortError> {
        self.read("failed_objects").await?;
        self.inner.failed_objects(limit).await
    }

    async fn stalled(&self, before_ms: u64, limit: usize) -> Result<Stalled, PortError> {
        self.read("stalled").await?;
        self.inner.stalled(before_ms, limit).await
    }
}
