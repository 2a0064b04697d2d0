//! Loading the records a step works on, a missing one being a permanent error.

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
/// tell the user. Harmless when the object already ended; an ended object whose owner was
/// not told yet (a crash or lost message after the state change) is told now.
///
/// Any error here is retryable: the message that carries the object's fate must come
/// back until the failure is recorded, or the object would stay in its stage for ever.
pub async fn fail_object(ports: &Ports, record: &ObjectRecord, reason: &str) -> Result<(), HandlerError> {
    let retry = |e: HandlerError| HandlerError::Retryable(format!("could not record the failure ({reason}): {e}"));
    if record.state.is_terminal() {
        return notify_unless_told(ports, record).await.map_err(retry);
    }
    let next = record.failed(reason, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
    match ports.jobs.update_object(record.state, record.notified, &next).await.map_err(|e| retry(e.into()))? {
        Transition::Applied(failed) => {
            let stage = failed.failure.as_ref().map(|f| f.stage.as_str()).unwrap_or("unknown");
            tracing::warn!(object = %failed.object, stage, reason, "object failed");
            ports.metrics.count("objects_failed", 1, &[("stage", stage)]);
            notify_unless_told(ports, &failed).await.map_err(retry)
        }
        Transition::Stale(current) if current.state.is_terminal() => notify_unless_told(ports, &current).await.map_err(retry),
        Transition::Stale(current) => Err(retry(HandlerError::Retryable(format!("the object moved on to {} meanwhile", current.state.as_str())))),
    }
}

/// [`fail_object`] for an object known by its ids (loads it first; an object that does
/// not exist has nothing to fail).
pub async fn fail_object_by_id(ports: &Ports, user: &UserId, session: &SessionId, object: &ObjectId, reason: &str) -> Result<(), HandlerError> {
    match ports.jobs.object(user, session, object).await {
        Ok(Some(record)) => fail_object(ports, &record, reason).await,
        Ok(None) => Ok(()),
        Err(e) => Err(HandlerError::Retryable(format!("could not record the failure ({reason}): {e}"))),
    }
}

/// An ended object (done or failed) whose owner has not been told: ask the notify
/// service (it mails once, whatever the number of asks).
pub async fn notify_unless_told(ports: &Ports, record: &ObjectRecord) -> Result<(), HandlerError> {
    if record.state.is_terminal() && !record.notified {
        let note = NotifyRequested { user: record.user.clone(), session: record.session.clone(), object: record.object.clone() };
        send(ports, QueueName::NOTIFY, QueueMessage::NotifyRequested(note)).await?;
    }
    Ok(())
}

/// The outcome of a step of one object's: a permanent failure fails the object (see
/// [`fail_object`]) before the message is let go.
pub async fn settle_object(ports: &Ports, ids: (&UserId, &SessionId, &ObjectId), outcome: Result<(), HandlerError>) -> Result<(), HandlerError> {
    match outcome {
        Err(HandlerError::Permanent(reason)) => {
            fail_object_by_id(ports, ids.0, ids.1, ids.2, &reason).await?;
            Err(HandlerError::Permanent(reason))
        }
        other => other,
    }
}
