use gen3d_domain::{NotifyRequested, ObjectId, ObjectRecord, QueueMessage, SessionId, SessionRecord, UserId};
use gen3d_ports::{Ports, QueueName, Transition, now_ms};

use crate::HandlerError;

pub async fn load_session(ports: &Ports, user: &UserId, session: &SessionId) -> Result<SessionRecord, HandlerError> {
    ports.jobs.session(user, session).await?.ok_or_else(|| HandlerError::Permanent(format!("session {session} of user {user} does not exist")))
}

pub async fn load_object(ports: &Ports, user: &UserId, session: &SessionId, object: &ObjectId) -> Result<ObjectRecord, HandlerError> {
    ports
        .jobs
        .object(user, session, object)
        .await?
        .ok_or_else(|| HandlerError::Permanent(format!("object {object} of session {session} does not exist")))
}

pub async fn send(ports: &Ports, queue: &'static str, message: QueueMessage) -> Result<(), HandlerError> {
    ports.queue.send(&QueueName::pipeline(queue), &message.to_body()).await?;
    Ok(())
}

/// Moves `rec` to `next` by a conditional update; returns the stored record either way
/// (ours, or the one a concurrent handler wrote first).
pub async fn move_object(ports: &Ports, rec: &ObjectRecord, next: ObjectRecord) -> Result<ObjectRecord, HandlerError> {
    match ports.jobs.update_object(rec.state, rec.notified, &next).await? {
        Transition::Applied(r) | Transition::Stale(r) => Ok(r),
    }
}

/// Fails the object at its current stage with `reason` and asks the notify service to
/// tell the user. Harmless when the object already ended (done or failed).
pub async fn fail_object(ports: &Ports, record: &ObjectRecord, reason: &str) -> Result<(), HandlerError> {
    if record.state.is_terminal() {
        return Ok(());
    }
    let next = record.failed(reason, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
    if let Transition::Applied(failed) = ports.jobs.update_object(record.state, record.notified, &next).await? {
        let stage = failed.failure.as_ref().map(|f| f.stage.as_str()).unwrap_or("unknown");
        tracing::warn!(object = %failed.object, stage, reason, "object failed");
        ports.metrics.count("objects_failed", 1, &[("stage", stage)]);
        let note = NotifyRequested { user: failed.user.clone(), session: failed.session.clone(), object: failed.object.clone() };
        send(ports, QueueName::NOTIFY, QueueMessage::NotifyRequested(note)).await?;
    }
    Ok(())
}

/// [`fail_object`] for an object known by its ids (loads it first).
pub async fn fail_object_by_id(ports: &Ports, user: &UserId, session: &SessionId, object: &ObjectId, reason: &str) -> Result<(), HandlerError> {
    let record = load_object(ports, user, session, object).await?;
    fail_object(ports, &record, reason).await
}
