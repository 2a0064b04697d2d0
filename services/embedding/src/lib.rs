//! The embedding service: an uploaded photo -> the SAM 3 image embeddings, through the
//! asynchronous inference endpoint.
//!
//! `EmbedRequested` moves the session uploaded -> embedding, writes the request document
//! and invokes the endpoint; the endpoint's notification moves it to ready (or failed).
//! A photo uploaded straight to storage (an S3 presigned PUT, announced by the bucket's
//! event) arrives while the session is still `created`: it is checked here as the API
//! checks uploads (size, type, pixels) and the session moves to uploaded, or to failed
//! with the reason. A session that fails (photo refused, embedding failed or given up)
//! asks the notify service to tell its owner and the admin; a duplicate delivery that
//! finds the session failed asks again (the notify service sends once).

use async_trait::async_trait;
use gen3d_domain::{
    EmbedRequested, ImageInfo, InferenceNotification, KeyOwner, ObjectKey, QueueMessage, SessionFile, SessionId, SessionNotifyRequested,
    SessionRecord, SessionState, UserId,
};
use gen3d_pipeline::{Handler, HandlerError, TaskOutcome, invoke, load_session, notification_owner, outcome, send};
use gen3d_ports::{Ports, QueueName, TaskRequest, Transition, now_ms};

pub struct EmbeddingService {
    ports: Ports,
}

/// The embed task of one session (what the request document says).
fn task(user: &UserId, session: &SessionId) -> TaskRequest {
    TaskRequest::Embed {
        image: ObjectKey::session_file(user, session, SessionFile::Image),
        output: ObjectKey::session_file(user, session, SessionFile::Embeddings),
    }
}

impl EmbeddingService {
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    async fn move_session(&self, rec: &SessionRecord, next: SessionState, failure: Option<String>) -> Result<SessionRecord, HandlerError> {
        let mut moved = rec.moved(next, now_ms())?;
        moved.failure = failure;
        let stored = match self.ports.jobs.update_session(rec.state, &moved).await? {
            Transition::Applied(r) => {
                if r.state == SessionState::Failed {
                    self.ports.metrics.count("sessions_failed", 1, &[]);
                }
                r
            }
            Transition::Stale(r) => r,
        };
        self.tell_if_failed(&stored).await?;
        Ok(stored)
    }

    /// A failed session whose owner was not told yet: ask the notify service to tell them.
    async fn tell_if_failed(&self, rec: &SessionRecord) -> Result<(), HandlerError> {
        if rec.state == SessionState::Failed && !rec.notified {
            tracing::warn!(user = %rec.user, session = %rec.session, reason = rec.failure.as_deref().unwrap_or_default(), "session failed");
            let note = SessionNotifyRequested { user: rec.user.clone(), session: rec.session.clone() };
            send(&self.ports, QueueName::NOTIFY, QueueMessage::SessionNotifyRequested(note)).await?;
        }
        Ok(())
    }

    /// Checks a photo that reached storage without the API and records it (see the
    /// module docs); a photo that is not acceptable fails the session with the reason.
    async fn accept_direct_upload(&self, rec: SessionRecord) -> Result<SessionRecord, HandlerError> {
        let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Image);
        let Some(size) = self.ports.blobs.head(&key).await? else {
            return Err(HandlerError::Permanent("the photo was never uploaded".into()));
        };
        let checked = if size > gen3d_media::MAX_PHOTO_BYTES as u64 {
            Err(format!("photo: {size} bytes is over the limit of {} bytes", gen3d_media::MAX_PHOTO_BYTES))
        } else {
            // The header alone: a decompression bomb costs nothing here (the Lambda has
            // 256 MB); the encoder decodes the pixels.
            let bytes = self.ports.blobs.get(&key).await?;
            gen3d_media::photo_size(&bytes).map(|(width, height)| ImageInfo { width, height }).map_err(|e| format!("photo: {e}"))
        };
        let mut next = rec.moved(if checked.is_ok() { SessionState::Uploaded } else { SessionState::Failed }, now_ms())?;
        match checked {
            Ok(info) => next.image = Some(info),
            Err(reason) => next.failure = Some(reason),
        }
        match self.ports.jobs.update_session(SessionState::Created, &next).await? {
            Transition::Applied(r) => {
                if r.state == SessionState::Uploaded {
                    self.ports.metrics.count("photos_uploaded", 1, &[]);
                } else {
                    self.ports.metrics.count("sessions_failed", 1, &[]);
                }
                Ok(r)
            }
            Transition::Stale(r) => Ok(r), // the API recorded the same upload first
        }
    }

    async fn requested(&self, m: EmbedRequested) -> Result<(), HandlerError> {
        let mut rec = load_session(&self.ports, &m.user, &m.session).await?;
        if rec.state == SessionState::Created {
            rec = self.accept_direct_upload(rec).await?;
        }
        if rec.state == SessionState::Uploaded {
            rec = self.move_session(&rec, SessionState::Embedding, None).await?;
        }
        match rec.state {
            SessionState::Embedding => {}
            SessionState::Ready => return Ok(()),                           // already done: a duplicate
            SessionState::Failed => return self.tell_if_failed(&rec).await, // a duplicate; the mail may not have been asked for
            SessionState::Created | SessionState::Uploaded => {
                return Err(HandlerError::Retryable(format!("the session is still {}", rec.state.as_str())));
            }
        }
        // (Re-)invoke: after a crash we cannot know whether the last invocation was
        // accepted; a repeated one rewrites the same output.
        let request = ObjectKey::session_file(&m.user, &m.session, SessionFile::EmbedRequest);
        invoke(&self.ports, request, format!("embed-{}", m.session), &task(&m.user, &m.session)).await
    }

    async fn result(&self, note: InferenceNotification) -> Result<(), HandlerError> {
        let Some(KeyOwner::Session { user, session, file: SessionFile::EmbedRequest }) = notification_owner(&note) else {
            return Err(HandlerError::Permanent(format!("inference result {} is not for an embedding request", note.inference_id)));
        };
        let rec = load_session(&self.ports, &user, &session).await?;
        if rec.state != SessionState::Embedding {
            return self.tell_if_failed(&rec).await; // a duplicate notification
        }
        match outcome(&self.ports, &note, &task(&user, &session)).await? {
            TaskOutcome::Done(_) => {
                self.move_session(&rec, SessionState::Ready, None).await?;
                self.ports.metrics.count("sessions_ready", 1, &[]);
            }
            TaskOutcome::Failed(reason) => {
                self.move_session(&rec, SessionState::Failed, Some(reason)).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for EmbeddingService {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        let outcome = match message {
            QueueMessage::EmbedRequested(m) => self.requested(m.clone()).await.map_err(|e| (Some((m.user, m.session)), e)),
            QueueMessage::InferenceResult(n) => {
                let owner = match notification_owner(&n) {
                    Some(KeyOwner::Session { user, session, .. }) => Some((user, session)),
                    _ => None,
                };
                self.result(n).await.map_err(|e| (owner, e))
            }
            other => Err((None, HandlerError::Permanent(format!("embedding service got a {} message", other.kind())))),
        };
        match outcome {
            Ok(()) => Ok(()),
            // The session fails with the reason before the message is let go; if that
            // cannot be recorded, the message must come back.
            Err((Some((user, session)), HandlerError::Permanent(reason))) => {
                let retry = |e: HandlerError| HandlerError::Retryable(format!("could not record the failure ({reason}): {e}"));
                match self.ports.jobs.session(&user, &session).await.map_err(|e| retry(e.into()))? {
                    Some(rec) if rec.state.can_become(SessionState::Failed) => {
                        self.move_session(&rec, SessionState::Failed, Some(reason.clone())).await.map_err(retry)?;
                    }
                    Some(rec) => self.tell_if_failed(&rec).await.map_err(retry)?,
                    None => {}
                }
                Err(HandlerError::Permanent(reason))
            }
            Err((_, e)) => Err(e),
        }
    }

    async fn give_up(&self, message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        if let QueueMessage::EmbedRequested(m) = message {
            let rec = load_session(&self.ports, &m.user, &m.session).await?;
            if rec.state.can_become(SessionState::Failed) {
                self.move_session(&rec, SessionState::Failed, Some(reason.to_owned())).await?;
            }
        }
        Ok(())
    }
}
