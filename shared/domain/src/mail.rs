//! What became of a job's mails, one entry per recipient: the notify service sends the
//! owner's mail and the admin's copy as separate steps and records each here, so one
//! recipient's failure neither blocks nor repeats the other's mail.

use serde::{Deserialize, Serialize};

/// One recipient's mail: sent, or refused for good (an address the mail service will not
/// deliver to: unverified in SES's sandbox, invalid, suppressed), with the service's reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    Undeliverable { reason: String },
}

/// The owner's mail and the admin's copy for a job's outcome; `None` until that step ran.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<Delivery>,
}

impl MailLog {
    pub fn is_empty(&self) -> bool {
        self.owner.is_none() && self.admin.is_none()
    }

    /// Why the owner's mail could not be delivered, if it could not.
    pub fn owner_undeliverable(&self) -> Option<&str> {
        match &self.owner {
            Some(Delivery::Undeliverable { reason }) => Some(reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_log_is_left_out_and_a_refusal_keeps_its_reason() {
        assert_eq!(serde_json::to_string(&MailLog::default()).unwrap(), "{}");
        let log = MailLog { owner: Some(Delivery::Undeliverable { reason: "address not verified".into() }), admin: Some(Delivery::Sent) };
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(json, r#"{"owner":{"status":"undeliverable","reason":"address not verified"},"admin":{"status":"sent"}}"#);
        assert_eq!(serde_json::from_str::<MailLog>(&json).unwrap(), log);
        assert_eq!(log.owner_undeliverable(), Some("address not verified"));
        assert!(!log.is_empty() && MailLog::default().is_empty());
    }
}
