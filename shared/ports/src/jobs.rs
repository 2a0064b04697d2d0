//! The `JobStore` port: session and object records with conditional updates.

use async_trait::async_trait;
use gen3d_domain::{DisplayName, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState, UserId};

use crate::PortError;

/// The outcome of a conditional update.
#[derive(Clone, Debug, PartialEq)]
pub enum Transition<T> {
    /// The record was in the expected state and now holds the new value.
    Applied(T),
    /// The record was no longer in the expected state: someone (an earlier delivery of the
    /// same message, usually) got there first. Carries the current record.
    Stale(T),
}

/// Session and object records (DynamoDB, or SQLite). Every update is conditional on
/// the state the caller read, so at-least-once delivery never applies a step twice.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Creates the record; `PortError::Conflict` if it exists.
    async fn create_session(&self, record: &SessionRecord) -> Result<(), PortError>;
    async fn session(&self, user: &UserId, session: &SessionId) -> Result<Option<SessionRecord>, PortError>;
    /// A user's sessions, newest first.
    async fn sessions(&self, user: &UserId) -> Result<Vec<SessionRecord>, PortError>;
    /// Writes `next` if the stored record is still in state `expected`.
    async fn update_session(&self, expected: SessionState, next: &SessionRecord) -> Result<Transition<SessionRecord>, PortError>;

    async fn create_object(&self, record: &ObjectRecord) -> Result<(), PortError>;
    async fn object(&self, user: &UserId, session: &SessionId, object: &ObjectId) -> Result<Option<ObjectRecord>, PortError>;
    /// A session's objects, oldest first.
    async fn objects(&self, user: &UserId, session: &SessionId) -> Result<Vec<ObjectRecord>, PortError>;
    /// Every object of a user, across sessions (one query on the user's partition), for
    /// per-user limits.
    async fn user_objects(&self, user: &UserId) -> Result<Vec<ObjectRecord>, PortError>;
    /// Writes `next` if the stored record is still in state `expected` and its
    /// `notified` flag still equals `expected_notified`.
    async fn update_object(&self, expected: ObjectState, expected_notified: bool, next: &ObjectRecord)
    -> Result<Transition<ObjectRecord>, PortError>;
    /// Removes the session's record if it is still in state `expected`: `Ok(false)` when
    /// it moved on or is gone. Its objects' records are removed one by one, first.
    async fn delete_session(&self, user: &UserId, session: &SessionId, expected: SessionState) -> Result<bool, PortError>;
    /// Removes the object's record if it is still in state `expected`: `Ok(false)` when it
    /// moved on or is gone.
    async fn delete_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, expected: ObjectState) -> Result<bool, PortError>;
    /// Sets (or with `None` clears) the photo's name, and nothing else: `Ok(false)` when
    /// there is no such record. The name is kept apart from the pipeline's conditional
    /// writes, which never change or undo it.
    async fn rename_session(&self, user: &UserId, session: &SessionId, name: Option<&DisplayName>) -> Result<bool, PortError>;
    /// As [`JobStore::rename_session`], for an object.
    async fn rename_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, name: Option<&DisplayName>) -> Result<bool, PortError>;
    /// Objects in state `failed` across all users, newest first (operators' view).
    async fn failed_objects(&self, limit: usize) -> Result<Vec<ObjectRecord>, PortError>;
    /// Jobs across all users that have not moved since `before_ms`, oldest first, at most
    /// `limit` of each kind: sessions `uploaded` or `embedding`, objects `submitted`,
    /// `reconstructing` or `meshing`, and ended ones whose owner was not told (the
    /// sweeper's view: their messages were lost or dead-lettered).
    async fn stalled(&self, before_ms: u64, limit: usize) -> Result<Stalled, PortError>;
}

/// What [`JobStore::stalled`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stalled {
    pub sessions: Vec<SessionRecord>,
    pub objects: Vec<ObjectRecord>,
}
