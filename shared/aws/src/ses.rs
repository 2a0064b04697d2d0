//! The `Mailer` port on SES v2.

use async_trait::async_trait;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Attachment, AttachmentContentDisposition, Body, Content, Destination, EmailContent, Message};
use gen3d_ports::{Email, Mailer, PortError};

use crate::error::classify;

/// Mail through SES v2 `SendEmail`: a text and an HTML part, and the inline images as
/// attachments with `INLINE` disposition and their content ids. Sending once per outcome is
/// the notify service's job (its `notified` flag); SES has no idempotency key.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        Self { client }
    }
}

fn content(text: &str) -> Result<Content, PortError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| PortError::Internal(format!("mail content: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), PortError> {
        let destination = Destination::builder().set_to_addresses(Some(email.to.iter().map(|a| a.to_string()).collect())).build();
        let mut message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build());
        for image in &email.inline {
            let attachment = Attachment::builder()
                .raw_content(Blob::new(image.bytes.clone()))
                .content_disposition(AttachmentContentDisposition::Inline)
                .file_name(&image.file_name)
                .content_id(&image.content_id)
                .content_type(&image.content_type)
                .build()
                .map_err(|e| PortError::Internal(format!("mail attachment: {e}")))?;
            message = message.attachments(attachment);
        }
        let message = message.build();
        self.client
            .send_email()
            .from_email_address(email.from.as_str())
            .destination(destination)
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                let what = format!("send mail {}", email.idempotency_key);
                let (code, message) = (e.code().unwrap_or_default().to_owned(), e.message().unwrap_or_default().to_owned());
                if recipient_refused(&code, &message, email.from.as_str()) {
                    PortError::Invalid(format!("{what}: {code}: {message}"))
                } else {
                    classify(&what, e)
                }
            })?;
        Ok(())
    }
}

/// SES refused the mail because of its recipient, for good: `MessageRejected` naming
/// identities other than the sender (SES's sandbox and an unverified recipient: "Email
/// address is not verified. The following identities failed the check in region …: ann@…"),
/// or a `BadRequestException` about an address SES cannot parse. A rejection naming the
/// sender (not verified, or not allowed) is the operator's to fix: not the recipient's.
fn recipient_refused(code: &str, message: &str, from: &str) -> bool {
    let message = message.to_ascii_lowercase();
    match code {
        "MessageRejected" => !message.contains(&from.to_ascii_lowercase()),
        "BadRequestException" => message.contains("address"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::recipient_refused;

    #[test]
    fn only_a_refused_recipient_is_undeliverable() {
        let sandbox = "Email address is not verified. The following identities failed the check in region US-EAST-1: ann@example.com";
        assert!(recipient_refused("MessageRejected", sandbox, "no-reply@gen3d.example"));
        let sender = "Email address is not verified. The following identities failed the check in region US-EAST-1: No-Reply@gen3d.example";
        assert!(!recipient_refused("MessageRejected", sender, "no-reply@gen3d.example"), "the sender's setup, not the owner's address");
        assert!(recipient_refused("BadRequestException", "Illegal address", "no-reply@gen3d.example"));
        assert!(!recipient_refused("BadRequestException", "Message length is more than 40 MB", "no-reply@gen3d.example"));
        assert!(!recipient_refused("MailFromDomainNotVerifiedException", "ann@example.com", "no-reply@gen3d.example"));
        assert!(!recipient_refused("ThrottlingException", "Maximum sending rate exceeded.", "no-reply@gen3d.example"));
    }
}
