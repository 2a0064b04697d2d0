use gen3d_domain::EmailAddress;
use gen3d_ports::{Email, Mailer};

pub fn email(key: &str) -> Email {
    Email {
        from: EmailAddress::parse("no-reply@gen3d.example").unwrap(),
        to: vec![EmailAddress::parse("owner@example.com").unwrap(), EmailAddress::parse("admin@gen3d.example").unwrap()],
        subject: format!("Your 3D model is ready ({key})"),
        text: "Download it at http://app/objects/1".into(),
        html: "<p>Download it <a href=\"http://app/objects/1\">here</a></p>".into(),
        idempotency_key: key.to_owned(),
        // The result's picture, inline (SES: an INLINE attachment with its content id).
        inline: vec![gen3d_ports::InlineImage {
            content_id: "result".into(),
            file_name: "object.png".into(),
            content_type: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10],
        }],
    }
}

/// Sends a mail; `sent` returns what the transport holds, as (subject, text, html, recipients).
pub async fn suite<F, Fut>(mailer: &dyn Mailer, key: &str, sent: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<(String, String, String, Vec<String>)>>,
{
    let mail = email(key);
    mailer.send(&mail).await.unwrap();
    let found = sent().await;
    let (_, text, html, to) = found.iter().find(|(subject, ..)| *subject == mail.subject).expect("the mail was sent");
    assert!(text.contains("http://app/objects/1"));
    assert!(html.contains("<a href"));
    assert!(to.contains(&"owner@example.com".to_owned()) && to.contains(&"admin@gen3d.example".to_owned()));
}
