//! The notify service: when an object is done or failed, or a session failed before any
//! object (its photo or its embeddings), mail its owner and a copy to the admin, once each.
//! Each recipient's mail is its own step, recorded on the job's record (`mail`), so a
//! redelivered message sends only what is missing and an owner address that will never
//! take mail still leaves the admin told (the copy says so); `notified`, set when every
//! recipient is settled, stops further sends.

mod steps;
mod templates;

use async_trait::async_trait;
use gen3d_domain::{EmailAddress, NotifyRequested, ObjectFile, ObjectKey, QueueMessage, SessionNotifyRequested, SessionState};
use gen3d_pipeline::{DownloadLink, Handler, HandlerError, MAIL_LINK_TTL_MS, create_link, load_object, load_session};
use gen3d_ports::{PortError, Ports};

pub use templates::{Mails, Outcome, OwnerMail, compose, compose_session_failed};

/// Who mail comes from and goes to, and where links point.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    pub from: EmailAddress,
    pub admin: Option<EmailAddress>,
    /// The web app's base URL, e.g. `http://127.0.0.1:8080`.
    pub app_url: String,
    /// The API's base URL, where the done mail's download link points (the app's own
    /// origin locally; API Gateway's endpoint in AWS).
    pub api_url: String,
}

impl NotifyConfig {
    /// A deployed notify service's settings (`None` for another service's).
    pub fn from_settings(settings: &gen3d_config::ServiceSettings) -> Option<Self> {
        match settings {
            gen3d_config::ServiceSettings::Notify { from, admin, app_url, api_url } => {
                Some(Self { from: from.clone(), admin: Some(admin.clone()), app_url: app_url.clone(), api_url: api_url.clone() })
            }
            _ => None,
        }
    }
}

/// Every failure retryable, except a message about a job that does not exist.
fn keep(e: HandlerError) -> HandlerError {
    match e {
        HandlerError::Permanent(m) if m.contains("does not exist") => HandlerError::Permanent(m),
        HandlerError::Permanent(m) | HandlerError::Retryable(m) => HandlerError::Retryable(m),
    }
}

pub struct NotifyService {
    ports: Ports,
    config: NotifyConfig,
}

impl NotifyService {
    pub fn new(ports: Ports, config: NotifyConfig) -> Self {
        Self { ports, config }
    }

    async fn notify(&self, m: &NotifyRequested) -> Result<(), HandlerError> {
        let rec = load_object(&self.ports, &m.user, &m.session, &m.object).await?;
        if !rec.state.is_terminal() || rec.notified {
            return Ok(()); // not finished yet (cannot happen) or already told
        }
        let session = load_session(&self.ports, &m.user, &m.session).await?;
        // The object's number as the page shows it: its place among the photo's objects.
        let siblings = self.ports.jobs.objects(&m.user, &m.session).await?;
        let number = siblings.iter().position(|o| o.object == rec.object).map_or(siblings.len().max(1), |i| i + 1);
        // The result's picture, shown in the mail (a mail without it beats no mail).
        let picture = if rec.state == gen3d_domain::ObjectState::Done {
            let key = ObjectKey::object_file(&rec.user, &rec.session, &rec.object, ObjectFile::Thumbnail);
            match self.ports.blobs.get(&key).await {
                Ok(png) => Some(png.to_vec()),
                Err(PortError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let download = self.download_link(&rec).await?;
        let mails = compose(&self.config, &session, &rec, number, picture, download.as_deref());
        let outcome = rec.state.as_str();
        if steps::deliver(&self.ports, &mails, rec).await? {
            self.ports.metrics.count("emails_sent", 1, &[("outcome", outcome)]);
        }
        Ok(())
    }

    /// A 24-hour link to a done object's GLB while the owner's mail is still to send
    /// (each try makes one; only the sent mail's is ever seen, the others expire unused);
    /// `None` for a failed object or one without a GLB.
    async fn download_link(&self, rec: &gen3d_domain::ObjectRecord) -> Result<Option<String>, HandlerError> {
        if rec.state != gen3d_domain::ObjectState::Done || rec.mail.owner.is_some() {
            return Ok(None); // failed, or the owner's mail is already settled
        }
        let file = ObjectFile::Mesh(gen3d_domain::MeshFormat::Glb);
        if self.ports.blobs.head(&ObjectKey::object_file(&rec.user, &rec.session, &rec.object, file)).await?.is_none() {
            return Ok(None);
        }
        let link = DownloadLink {
            user: rec.user.clone(),
            session: rec.session.clone(),
            object: rec.object.clone(),
            file: file.file_name().to_owned(),
            expires_ms: gen3d_ports::now_ms() + MAIL_LINK_TTL_MS,
        };
        let token = create_link(self.ports.blobs.as_ref(), &link).await?;
        Ok(Some(format!("{}/v1/links/{token}", self.config.api_url.trim_end_matches('/'))))
    }

    async fn notify_session(&self, m: &SessionNotifyRequested) -> Result<(), HandlerError> {
        let rec = load_session(&self.ports, &m.user, &m.session).await?;
        if rec.state != SessionState::Failed || rec.notified {
            return Ok(()); // not failed, or already told
        }
        let mails = compose_session_failed(&self.config, &rec);
        if steps::deliver(&self.ports, &mails, rec).await? {
            self.ports.metrics.count("emails_sent", 1, &[("outcome", "session_failed")]);
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for NotifyService {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        match message {
            // The job has ended; only its mail is at stake. Any failure here leaves the
            // message to come back, and in the end to the dead-letter queue for replay
            // (a permanent error would delete it, and the owner would never be told).
            QueueMessage::NotifyRequested(m) => self.notify(&m).await.map_err(keep),
            QueueMessage::SessionNotifyRequested(m) => self.notify_session(&m).await.map_err(keep),
            other => Err(HandlerError::Permanent(format!("notify service got a {} message", other.kind()))),
        }
    }

    async fn give_up(&self, _message: QueueMessage, reason: &str) -> Result<(), HandlerError> {
        // The job itself has ended; only the mail is lost. The message dead-letters for replay.
        tracing::error!(reason, "could not send a notification");
        Ok(())
    }
}
