//! The `Mailer` port as an outbox of `.eml` files, the local stand-in for SES.

use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine;
use gen3d_ports::{Email, Mailer, PortError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// Writes each message as `{dir}/{idempotency_key}.eml` (write-then-rename), so sending
/// the same logical message twice leaves one file: the local stand-in for SES. Like a mail
/// service, it refuses an address that can never take mail: one under `.invalid`, the
/// top-level domain RFC 2606 reserves for names that must never resolve.
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

fn header_text(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() { clean } else { format!("=?utf-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())) }
}

/// An RFC 5322 message: multipart/alternative (text + HTML), inside multipart/related
/// with the inline images when there are any. Deterministic for a given email and date:
/// boundary and Message-ID derive from the idempotency key.
pub fn render_eml(email: &Email, date: OffsetDateTime) -> String {
    let digest = Sha256::digest(email.idempotency_key.as_bytes());
    let tag: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let boundary = format!("gen3d-{tag}");
    let to: Vec<&str> = email.to.iter().map(|a| a.as_str()).collect();
    let domain = email.from.as_str().rsplit('@').next().unwrap_or("localhost");
    let date = date.format(&Rfc2822).unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 +0000".into());
    let crlf = |s: &str| s.replace("\r\n", "\n").replace('\n', "\r\n");
    let alternative = format!(
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
         --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n\
         --{boundary}--\r\n",
        text = crlf(&email.text),
        html = crlf(&email.html),
    );
    let body = if email.inline.is_empty() {
        alternative
    } else {
        let related = format!("{boundary}-related");
        let mut out = format!("Content-Type: multipart/related; boundary=\"{related}\"\r\n\r\n--{related}\r\n{alternative}");
        for image in &email.inline {
            let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            let lines: Vec<&str> = data.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
            let name = header_text(&image.file_name);
            out.push_str(&format!(
                "--{related}\r\nContent-Type: {kind}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-ID: <{id}>\r\nContent-Disposition: inline; filename=\"{name}\"\r\n\r\n{data}\r\n",
                kind = header_text(&image.content_type),
                id = header_text(&image.content_id),
                data = lines.join("\r\n"),
            ));
        }
        out.push_str(&format!("--{related}--\r\n"));
        out
    };
    format!(
        "From: Gen3D <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{tag}@{domain}>\r\nMIME-Version: 1.0\r\n{body}",
        from = email.from,
        to = to.join(", "),
        subject = header_text(&email.subject),
    )
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), PortError> {
        if email.to.is_empty() {
            return Err(PortError::Invalid("email has no recipient".into()));
        }
        if let Some(address) = email.to.iter().find(|a| a.as_str().ends_with(".invalid")) {
            return Err(PortError::Invalid(format!("{address}: the domain .invalid never takes mail (RFC 2606)")));
        }
        let key = &email.idempotency_key;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || key.starts_with('.') {
            return Err(PortError::Invalid(format!("idempotency key {key:?} is not a safe file name")));
        }
        let body = render_eml(email, OffsetDateTime::now_utc());
        let path = self.dir.join(format!("{key}.eml"));
        let tmp = self.dir.join(format!(".{key}.eml.tmp-{}", rand::random::<u64>()));
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&tmp, body)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|e| PortError::Internal(format!("outbox task: {e}")))?
        .map_err(|e| PortError::Unavailable(format!("outbox write: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gen3d_domain::EmailAddress;

    fn email() -> Email {
        Email {
            from: EmailAddress::parse("noreply@gen3d.local").unwrap(),
            to: vec![EmailAddress::parse("ann@example.com").unwrap()],
            subject: "Your 3D model is ready".into(),
            text: "Hello\nworld".into(),
            html: "<p>Hello</p>".into(),
            idempotency_key: "obj1-done".into(),
            inline: vec![],
        }
    }

    #[test]
    fn inline_images_ride_in_multipart_related() {
        let mut e = email();
        e.html = "<p><img src=\"cid:result\"></p>".into();
        e.inline = vec![gen3d_ports::InlineImage {
            content_id: "result".into(),
            file_name: "object.png".into(),
            content_type: "image/png".into(),
            bytes: vec![7; 100],
        }];
        let eml = render_eml(&e, OffsetDateTime::UNIX_EPOCH);
        let related = eml.find("Content-Type: multipart/related").expect("related at the top");
        let alternative = eml.find("Content-Type: multipart/alternative").unwrap();
        let image = eml.find("Content-ID: <result>").unwrap();
        assert!(related < alternative && alternative < image, "{eml}");
        let data = base64::engine::general_purpose::STANDARD.encode([7u8; 100]);
        assert!(eml.contains(&data[..76]) && eml.contains(&data[76..]), "the image, base64 in lines of 76");
        assert!(eml.trim_end().ends_with("-related--"));
        assert!(!render_eml(&email(), OffsetDateTime::UNIX_EPOCH).contains("multipart/related"), "no images, no related part");
    }

    #[tokio::test]
    async fn same_key_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(dir.path());
        mailer.send(&email()).await.unwrap();
        mailer.send(&email()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(dir.path().join("obj1-done.eml")).unwrap();
        assert!(eml.contains("Subject: Your 3D model is ready\r\n"));
        assert!(eml.contains("Hello\r\nworld"));
    }

    #[tokio::test]
    async fn refuses_unsafe_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = email();
        e.idempotency_key = "../escape".into();
        assert!(matches!(OutboxMailer::new(dir.path()).send(&e).await, Err(PortError::Invalid(_))));
    }

    #[tokio::test]
    async fn refuses_an_address_that_never_takes_mail() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = email();
        e.to = vec![EmailAddress::parse("ann@mail.invalid").unwrap()];
        match OutboxMailer::new(dir.path()).send(&e).await {
            Err(PortError::Invalid(why)) => assert_eq!(why, "ann@mail.invalid: the domain .invalid never takes mail (RFC 2606)"),
            other => panic!("{other:?}"),
        }
        assert!(std::fs::read_dir(dir.path()).map_or(true, |d| d.count() == 0), "nothing written");
        e.to = vec![EmailAddress::parse("ann@invalid.example").unwrap()];
        OutboxMailer::new(dir.path()).send(&e).await.expect("only the .invalid top-level domain");
    }

    #[test]
    fn encodes_non_ascii_subjects() {
        let mut e = email();
        e.subject = "Votre modèle\r\nBcc: x@y.z".into();
        let eml = render_eml(&e, OffsetDateTime::UNIX_EPOCH);
        assert!(eml.contains("Subject: =?utf-8?B?"), "{eml}");
        assert!(!eml.contains("\r\nBcc:"), "no header injection");
    }
}
