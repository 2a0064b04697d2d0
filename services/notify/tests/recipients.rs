//! Each recipient's mail is its own step: an owner address the mail service refuses for good
//! still leaves the admin told (once, saying so) and the object told; an owner's mail that
//! fails for now is retried without copying the admin again; a redelivered message sends
//! nothing twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gen3d_domain::{Delivery, EmailAddress, NotifyRequested, ObjectRecord, ObjectState, QueueMessage, SessionNotifyRequested, SessionState};
use gen3d_notify::{NotifyConfig, NotifyService};
use gen3d_pipeline::testing::{TestPorts, object_in, session_in};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::{Email, Mailer, PortError};

use ObjectState::{Done, Meshing, Reconstructing};

/// A mail service that refuses some addresses for good and fails others a number of times
/// first; it records every mail it delivered.
#[derive(Default)]
struct Mail {
    refused: Vec<&'static str>,
    failures: Mutex<HashMap<&'static str, u32>>,
    delivered: Mutex<Vec<Email>>,
}

#[async_trait]
impl Mailer for Mail {
    async fn send(&self, email: &Email) -> Result<(), PortError> {
        let to = email.to[0].as_str();
        if self.refused.contains(&to) {
            return Err(PortError::Invalid(format!("Email address is not verified: {to}")));
        }
        if let Some(left) = self.failures.lock().unwrap().get_mut(to).filter(|n| **n > 0) {
            *left -= 1;
            return Err(PortError::Unavailable("SES: maximum sending rate exceeded".into()));
        }
        self.delivered.lock().unwrap().push(email.clone());
        Ok(())
    }
}

impl Mail {
    fn to(&self, address: &str) -> Vec<Email> {
        self.delivered.lock().unwrap().iter().filter(|m| m.to[0].as_str() == address).cloned().collect()
    }
}

const OWNER: &str = "u1@example.com";
const ADMIN: &str = "admin@gen3d.example";

struct Setup {
    t: TestPorts,
    mail: Arc<Mail>,
    service: NotifyService,
}

async fn setup(mail: Mail) -> Setup {
    let mut t = TestPorts::new();
    let mail = Arc::new(mail);
    t.ports.mailer = mail.clone();
    let config = NotifyConfig {
        from: EmailAddress::parse("no-reply@gen3d.example").unwrap(),
        admin: Some(EmailAddress::parse(ADMIN).unwrap()),
        app_url: "http://127.0.0.1:8080".into(),
        api_url: "http://127.0.0.1:8080".into(),
    };
    let service = NotifyService::new(t.ports.clone(), config);
    Setup { t, mail, service }
}

async fn done_object(s: &Setup) -> ObjectRecord {
    s.t.ports.jobs.create_session(&session_in(&[SessionState::Uploaded, SessionState::Embedding, SessionState::Ready])).await.unwrap();
    let object = object_in(&[Reconstructing, Meshing, Done]);
    s.t.ports.jobs.create_object(&object).await.unwrap();
    object
}

fn told(object: &ObjectRecord) -> QueueMessage {
    QueueMessage::NotifyRequested(NotifyRequested { user: object.user.clone(), session: object.session.clone(), object: object.object.clone() })
}

async fn stored(s: &Setup, object: &ObjectRecord) -> ObjectRecord {
    s.t.ports.jobs.object(&object.user, &object.session, &object.object).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_undeliverable_owner_still_leaves_the_admin_told_once() {
    let s = setup(Mail { refused: vec![OWNER], ..Mail::default() }).await;
    let object = done_object(&s).await;
    s.service.handle(told(&object)).await.expect("a refused owner address is settled, not retried");
    let rec = stored(&s, &object).await;
    assert!(rec.notified);
    assert_eq!(rec.mail.owner_undeliverable(), Some("Email address is not verified: u1@example.com"));
    assert_eq!(rec.mail.admin, Some(Delivery::Sent));
    let admin = s.mail.to(ADMIN);
    assert_eq!(admin.len(), 1);
    assert!(admin[0].subject.starts_with("[gen3d admin] [undeliverable] "), "{}", admin[0].subject);
    assert!(admin[0].text.starts_with("The mail below could NOT be delivered to u1@example.com"), "{}", admin[0].text);
    assert!(s.mail.to(OWNER).is_empty());
    assert_eq!((s.t.count("emails_undeliverable"), s.t.count("emails_sent")), (1, 1));

    // A redelivery (or the sweeper's replay) sends nothing more.
    s.service.handle(told(&object)).await.unwrap();
    assert_eq!(s.mail.delivered.lock().unwrap().len(), 1);
    assert_eq!(s.t.count("emails_sent"), 1);
}

#[tokio::test]
async fn an_owner_mail_failing_for_now_is_retried_without_copying_the_admin_again() {
    let s = setup(Mail { failures: Mutex::new(HashMap::from([(OWNER, 2)])), ..Mail::default() }).await;
    let object = done_object(&s).await;
    for attempt in 1..=2 {
        let err = s.service.handle(told(&object)).await.expect_err("the owner's mail failed for now");
        assert!(matches!(&err, HandlerError::Retryable(m) if m.contains("owner's mail")), "attempt {attempt}: {err:?}");
        let rec = stored(&s, &object).await;
        assert!(!rec.notified && rec.mail.owner.is_none());
        assert_eq!(rec.mail.admin, Some(Delivery::Sent), "the admin's copy is not held back by the owner's");
    }
    let admin = s.mail.to(ADMIN);
    assert_eq!(admin.len(), 1, "the admin is copied once, on the first attempt");
    assert!(admin[0].text.contains("failed for now (unavailable: SES: maximum sending rate exceeded) and is being retried"), "{}", admin[0].text);

    s.service.handle(told(&object)).await.expect("the third attempt reaches the owner");
    let rec = stored(&s, &object).await;
    assert!(rec.notified);
    assert_eq!(rec.mail.owner, Some(Delivery::Sent));
    assert_eq!((s.mail.to(OWNER).len(), s.mail.to(ADMIN).len()), (1, 1));
    s.service.handle(told(&object)).await.unwrap();
    assert_eq!(s.mail.delivered.lock().unwrap().len(), 2, "nothing is sent twice");
}

#[tokio::test]
async fn an_admin_copy_failing_for_now_does_not_mail_the_owner_twice() {
    let s = setup(Mail { failures: Mutex::new(HashMap::from([(ADMIN, 1)])), ..Mail::default() }).await;
    let object = done_object(&s).await;
    let err = s.service.handle(told(&object)).await.expect_err("the admin's copy failed for now");
    assert!(matches!(&err, HandlerError::Retryable(m) if m.contains("admin's copy")), "{err:?}");
    let rec = stored(&s, &object).await;
    assert_eq!((rec.notified, rec.mail.owner.clone(), rec.mail.admin.clone()), (false, Some(Delivery::Sent), None));
    s.service.handle(told(&object)).await.unwrap();
    assert!(stored(&s, &object).await.notified);
    assert_eq!((s.mail.to(OWNER).len(), s.mail.to(ADMIN).len()), (1, 1));
}

#[tokio::test]
async fn a_failed_session_mails_each_recipient_as_its_own_step() {
    let s = setup(Mail { refused: vec![OWNER], ..Mail::default() }).await;
    let session = gen3d_domain::SessionRecord {
        failure: Some("photo: not a JPEG, PNG or WebP".into()),
        ..session_in(&[SessionState::Uploaded, SessionState::Failed])
    };
    s.t.ports.jobs.create_session(&session).await.unwrap();
    let message = QueueMessage::SessionNotifyRequested(SessionNotifyRequested { user: session.user.clone(), session: session.session.clone() });
    s.service.handle(message.clone()).await.unwrap();
    let rec = s.t.ports.jobs.session(&session.user, &session.session).await.unwrap().unwrap();
    assert!(rec.notified && rec.mail.owner_undeliverable().is_some());
    assert_eq!(s.mail.to(ADMIN).len(), 1);
    s.service.handle(message).await.unwrap();
    assert_eq!(s.mail.delivered.lock().unwrap().len(), 1);
}
