//! A job's mails as separate steps: the owner's mail, then the admin's copy, each recorded
//! on the job's record before the next, so a redelivered message skips what was done and
//! one recipient's failure neither blocks nor repeats the other's mail.
//!
//! A `PortError::Invalid` from the mailer means that recipient will never get the mail (an
//! address the mail service refuses): recorded as undeliverable, never retried. Any other
//! error leaves the step undone and the message to come back.

use async_trait::async_trait;
use gen3d_domain::{Delivery, MailLog, ObjectRecord, SessionRecord};
use gen3d_pipeline::HandlerError;
use gen3d_ports::{Email, PortError, Ports, Transition, now_ms};

use crate::templates::{Mails, OwnerMail};

/// A record whose outcome is mailed (an ended object, a failed session), and how its mail
/// log is saved.
#[async_trait]
pub(crate) trait Mailed: Sized + Send + Sync {
    fn mail(&self) -> &MailLog;
    /// Writes `mail` (and `notified`) if the record has not moved since it was read:
    /// `None` when it has (resumed, or told by another delivery), and this one must stop.
    async fn save(&self, ports: &Ports, mail: MailLog, notified: bool) -> Result<Option<Self>, PortError>;
}

#[async_trait]
impl Mailed for ObjectRecord {
    fn mail(&self) -> &MailLog {
        &self.mail
    }

    async fn save(&self, ports: &Ports, mail: MailLog, notified: bool) -> Result<Option<Self>, PortError> {
        let next = ObjectRecord { mail, notified, updated_ms: now_ms(), ..self.clone() };
        Ok(match ports.jobs.update_object(self.state, false, &next).await? {
            Transition::Applied(_) => Some(next),
            Transition::Stale(_) => None,
        })
    }
}

#[async_trait]
impl Mailed for SessionRecord {
    fn mail(&self) -> &MailLog {
        &self.mail
    }

    async fn save(&self, ports: &Ports, mail: MailLog, notified: bool) -> Result<Option<Self>, PortError> {
        let next = SessionRecord { mail, notified, updated_ms: now_ms(), ..self.clone() };
        Ok(match ports.jobs.update_session(self.state, &next).await? {
            Transition::Applied(_) => Some(next),
            Transition::Stale(_) => None,
        })
    }
}

/// One recipient's step: `Ok` with what became of the mail when that is settled (sent, or
/// refused for good), `Err` with the reason when it must be tried again.
async fn send(ports: &Ports, email: &Email, recipient: &'static str) -> Result<Delivery, String> {
    match ports.mailer.send(email).await {
        Ok(()) => Ok(Delivery::Sent),
        Err(PortError::Invalid(reason)) => {
            tracing::warn!(recipient, key = %email.idempotency_key, reason, "mail undeliverable");
            ports.metrics.count("emails_undeliverable", 1, &[("recipient", recipient)]);
            Ok(Delivery::Undeliverable { reason })
        }
        Err(e) => {
            tracing::warn!(recipient, key = %email.idempotency_key, error = %e, "mail failed; it is retried");
            Err(e.to_string())
        }
    }
}

/// Sends what `record`'s log does not yet hold: the owner's mail, then the admin's copy
/// (saying what became of the owner's), recording each. `Ok(true)` once every recipient is
/// settled and `notified` is set; `Ok(false)` when the record moved on meanwhile; a
/// retryable error while a recipient's mail failed for now.
pub(crate) async fn deliver<R: Mailed>(ports: &Ports, mails: &Mails, mut record: R) -> Result<bool, HandlerError> {
    let mut log = record.mail().clone();
    // What must be tried again: (whose mail, why).
    let mut retry: Vec<(&str, String)> = Vec::new();
    if log.owner.is_none() {
        match send(ports, &mails.owner, "owner").await {
            Ok(delivery) => {
                log.owner = Some(delivery);
                let Some(saved) = record.save(ports, log.clone(), false).await? else { return Ok(false) };
                record = saved;
            }
            Err(why) => retry.push(("owner's mail", why)),
        }
    }
    let owner = match (&log.owner, retry.first()) {
        (Some(Delivery::Sent), _) => OwnerMail::Sent,
        (Some(Delivery::Undeliverable { reason }), _) => OwnerMail::Undeliverable(reason),
        (None, why) => OwnerMail::Retrying(why.map_or("", |(_, why)| why.as_str())),
    };
    // No admin address: nothing to send, and that step is settled.
    let copy = if log.admin.is_none() { mails.admin_copy(owner) } else { None };
    if let Some(copy) = copy {
        match send(ports, &copy, "admin").await {
            Ok(delivery) => {
                log.admin = Some(delivery);
                if !retry.is_empty() {
                    // Recorded now, so the owner's retry does not copy the admin again.
                    let Some(saved) = record.save(ports, log.clone(), false).await? else { return Ok(false) };
                    record = saved;
                }
            }
            Err(why) => retry.push(("admin's copy", why)),
        }
    }
    if !retry.is_empty() {
        let why: Vec<String> = retry.iter().map(|(whose, why)| format!("{whose}: {why}")).collect();
        return Err(HandlerError::Retryable(why.join("; ")));
    }
    Ok(record.save(ports, log, true).await?.is_some())
}
