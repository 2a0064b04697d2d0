//! The mails: subjects, text and HTML of an ended object's or a failed photo's mail, and
//! the admin's copy.

use gen3d_domain::{ObjectRecord, ObjectState, SessionRecord};
use gen3d_ports::{Email, InlineImage};

use crate::NotifyConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The object's name in mail: the names the user gave, else its number on the photo's
/// page and the photo's size and date, e.g. "Object 2 of your 1800×1200 photo of 1 Dec
/// 2026" or "Red mug of your photo “Kitchen”".
pub fn object_name(session: &SessionRecord, object: &ObjectRecord, number: usize) -> String {
    let what = object.display_name(number.saturating_sub(1));
    match &session.name {
        Some(photo) => format!("{what} of your photo “{photo}”"),
        None => {
            let size = session.image.as_ref().map(|i| format!("{}×{} ", i.width, i.height)).unwrap_or_default();
            format!("{what} of your {size}photo of {}", date(session.created_ms))
        }
    }
}

/// The content id the done mail's HTML shows the result's picture by.
pub const PICTURE_ID: &str = "result";

/// A UTC calendar date, "1 Dec 2026" (Howard Hinnant's civil-from-days).
fn date(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{day} {} {year}", MONTHS[(month - 1) as usize])
}

/// The owner's mail about an ended object (and the makings of the admin's copy); `number`
/// is its place among the photo's objects, as the page shows it; `picture`, the result's
/// picture (PNG), shown in the HTML of a done object's mail; `download`, a link straight
/// to its GLB that works for 24 hours without signing in.
pub fn compose(
    config: &NotifyConfig,
    session: &SessionRecord,
    object: &ObjectRecord,
    number: usize,
    picture: Option<Vec<u8>>,
    download: Option<&str>,
) -> Mails {
    let name = object_name(session, object, number);
    let picture = picture.filter(|_| object.state == ObjectState::Done);
    let outcome = if object.state == ObjectState::Done { Outcome::Done } else { Outcome::Failed };
    let link = format!("{}/#/sessions/{}/objects/{}", config.app_url.trim_end_matches('/'), object.session, object.object);
    let (subject, text, html) = match outcome {
        Outcome::Done => {
            let stats = object.stats.as_ref();
            let triangles = stats.map(|s| s.triangles).unwrap_or(0);
            let closed = if stats.is_some_and(|s| s.watertight) { "a closed (watertight)" } else { "an open" };
            let (download_text, download_html) = match download {
                Some(url) => (
                    format!("Download the GLB mesh now (this link works for 24 hours, no sign-in): {url}\n\n"),
                    format!("<p><a href=\"{}\">Download the GLB mesh now</a> (this link works for 24 hours, no sign-in).</p>", escape(url)),
                ),
                None => (String::new(), String::new()),
            };
            (
                format!("{name} is ready in 3D"),
                format!(
                    "Hello,\n\nyour 3D model is ready: {closed} mesh of {triangles} triangles.\n\nView and download it (GLB mesh, PLY splat): {link}\n\n{download_text}Gen3D\n"
                ),
                format!(
                    "<p>Hello,</p><p>your 3D model is ready: {closed} mesh of {triangles} triangles.</p>{img}\
                     <p><a href=\"{href}\">View and download it</a> (GLB mesh, PLY splat).</p>{download_html}<p>Gen3D</p>",
                    href = escape(&link),
                    img = if picture.is_some() {
                        format!(
                            "<p><a href=\"{href}\"><img src=\"cid:{PICTURE_ID}\" width=\"256\" height=\"256\" alt=\"{alt}\" \
                             style=\"background:#9aa1ad;border-radius:8px\"></a></p>",
                            href = escape(&link),
                            alt = escape(&format!("{}, as the photo's camera sees it", object.display_name(number.saturating_sub(1)))),
                        )
                    } else {
                        String::new()
                    },
                ),
            )
        }
        Outcome::Failed => {
            let (stage, reason) = object.failure.as_ref().map(|f| (f.stage.as_str(), f.reason.as_str())).unwrap_or(("unknown", "unknown error"));
            (
                format!("{name}: we could not make its 3D model"),
                format!(
                    "Hello,\n\nwe could not make your 3D model: it failed while {stage} ({reason}).\n\nYou can try again with another selection: {link}\n\nGen3D\n"
                ),
                format!(
                    "<p>Hello,</p><p>we could not make your 3D model: it failed while {stage} ({reason}).</p>\
                     <p><a href=\"{href}\">Try again with another selection</a>.</p><p>Gen3D</p>",
                    stage = escape(stage),
                    reason = escape(reason),
                    href = escape(&link)
                ),
            )
        }
    };
    let tag = match outcome {
        Outcome::Done => "done",
        Outcome::Failed => "failed",
    };
    let about = format!("user {}, object {}", object.user, object.object);
    let mut mails = addressed(config, session, Letter { subject, text, html }, &format!("{}-{tag}", object.object), &about);
    if let Some(png) = picture {
        let image =
            InlineImage { content_id: PICTURE_ID.to_owned(), file_name: "object.png".to_owned(), content_type: "image/png".to_owned(), bytes: png };
        mails.owner.inline = vec![image];
    }
    mails
}

/// The mail telling the owner their photo could not be prepared (a failed session), and
/// the makings of the admin's copy.
pub fn compose_session_failed(config: &NotifyConfig, session: &SessionRecord) -> Mails {
    let link = format!("{}/#/sessions/{}", config.app_url.trim_end_matches('/'), session.session);
    let reason = session.failure.as_deref().unwrap_or("unknown error");
    let letter = Letter {
        subject: "We could not prepare your photo".to_owned(),
        text: format!("Hello,\n\nwe could not prepare your photo for selecting objects ({reason}).\n\nTry another photo: {link}\n\nGen3D\n"),
        html: format!(
            "<p>Hello,</p><p>we could not prepare your photo for selecting objects ({reason}).</p>\
             <p><a href=\"{href}\">Try another photo</a>.</p><p>Gen3D</p>",
            reason = escape(reason),
            href = escape(&link)
        ),
    };
    let about = format!("user {}, session {}", session.user, session.session);
    addressed(config, session, letter, &format!("{}-session-failed", session.session), &about)
}

struct Letter {
    subject: String,
    text: String,
    html: String,
}

/// A job's mail to its owner, and what the admin's copy is made from.
#[derive(Clone, Debug)]
pub struct Mails {
    pub owner: Email,
    /// The job, as the admin's subject names it ("user u, object o").
    about: String,
    admin: Option<gen3d_domain::EmailAddress>,
}

/// What became of the owner's mail, as the admin's copy reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerMail<'a> {
    Sent,
    /// Refused for good: the owner will never get it.
    Undeliverable(&'a str),
    /// Failed this time; it is retried.
    Retrying(&'a str),
}

impl Mails {
    /// The admin's copy of the owner's mail, saying what became of it; `None` without an
    /// admin address.
    pub fn admin_copy(&self, owner: OwnerMail<'_>) -> Option<Email> {
        let admin = self.admin.clone()?;
        let to = self.owner.to.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
        let (head, flag) = match owner {
            OwnerMail::Sent => (format!("Copy of the mail sent to {to}:"), ""),
            OwnerMail::Undeliverable(why) => {
                (format!("The mail below could NOT be delivered to {to} ({why}): the owner has not been told."), "[undeliverable] ")
            }
            OwnerMail::Retrying(why) => (format!("The mail below to {to} failed for now ({why}) and is being retried:"), ""),
        };
        Some(Email {
            from: self.owner.from.clone(),
            to: vec![admin],
            subject: format!("[gen3d admin] {flag}{} ({})", self.owner.subject, self.about),
            text: format!("{head}\n\n{}", self.owner.text),
            html: format!("<p>{}</p>{}", escape(&head), self.owner.html),
            idempotency_key: format!("{}-admin", self.owner.idempotency_key),
            inline: self.owner.inline.clone(),
        })
    }
}

/// The letter to the session's owner, with what the admin's copy needs (`about` names the
/// job in its subject).
fn addressed(config: &NotifyConfig, session: &SessionRecord, letter: Letter, key: &str, about: &str) -> Mails {
    let Letter { subject, text, html } = letter;
    Mails {
        owner: Email {
            from: config.from.clone(),
            to: vec![session.owner_email.clone()],
            subject,
            text,
            html,
            idempotency_key: key.to_owned(),
            inline: vec![],
        },
        about: about.to_owned(),
        admin: config.admin.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gen3d_domain::{EmailAddress, Failure, MeshOptions, MeshStats, ObjectId, SessionId, Stage, UserId};

    fn records(state: ObjectState) -> (NotifyConfig, SessionRecord, ObjectRecord) {
        let config = NotifyConfig {
            from: EmailAddress::parse("noreply@gen3d.example").unwrap(),
            admin: Some(EmailAddress::parse("admin@gen3d.example").unwrap()),
            app_url: "https://gen3d.example".into(),
            api_url: "https://api.gen3d.example".into(),
        };
        let user = UserId::parse("user-1").unwrap();
        let mut session =
            SessionRecord::new(user.clone(), SessionId::parse("sess1").unwrap(), EmailAddress::parse("ann@example.com").unwrap(), 1_796_155_994_736);
        session.image = Some(gen3d_domain::ImageInfo { width: 1800, height: 1200 });
        let object = ObjectRecord {
            state,
            failure: (state == ObjectState::Failed).then(|| Failure { stage: Stage::Meshing, reason: "splat file: invalid ply: <truncated>".into() }),
            stats: (state == ObjectState::Done).then(|| MeshStats {
                vertices: 15_000,
                triangles: 30_000,
                watertight: true,
                bbox_min: [-0.5; 3],
                bbox_max: [0.5; 3],
                splats_in: 50_000,
                splats_used: 50_000,
            }),
            ..ObjectRecord::submitted(user, session.session.clone(), ObjectId::parse("obj1").unwrap(), MeshOptions::standard(), 0, 0)
        };
        (config, session, object)
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1 Jan 1970");
        assert_eq!(date(1_796_155_994_736), "1 Dec 2026");
        assert_eq!(date(951_782_400_000), "29 Feb 2000");
        assert_eq!(date(4_102_444_799_000), "31 Dec 2099");
    }

    #[test]
    fn done_mail() {
        let (config, session, object) = records(ObjectState::Done);
        let mails = compose(&config, &session, &object, 2, Some(vec![0x89, b'P', b'N', b'G']), Some("https://api.gen3d.example/v1/links/dl_abc"));
        insta::assert_debug_snapshot!((&mails.owner, mails.admin_copy(OwnerMail::Sent)));
    }

    #[test]
    fn names_given_by_the_user_name_the_mail_and_no_picture_no_image() {
        let (config, mut session, mut object) = records(ObjectState::Done);
        session.name = Some(gen3d_domain::DisplayName::parse("Kitchen").unwrap());
        object.name = Some(gen3d_domain::DisplayName::parse("Red <mug>").unwrap());
        let mails = compose(&config, &session, &object, 2, None, None);
        assert_eq!(mails.owner.subject, "Red <mug> of your photo “Kitchen” is ready in 3D");
        assert!(!mails.owner.html.contains("cid:") && mails.owner.inline.is_empty(), "no picture, no image");
        let with = compose(&config, &session, &object, 2, Some(vec![1, 2, 3]), None);
        assert!(with.owner.html.contains("alt=\"Red &lt;mug&gt;, as the photo's camera sees it\""), "{}", with.owner.html);
        assert_eq!(with.admin_copy(OwnerMail::Sent).unwrap().inline.len(), 1, "the admin's copy shows it too");
    }

    #[test]
    fn failed_session_mail() {
        let (config, mut session, _) = records(ObjectState::Failed);
        session.state = gen3d_domain::SessionState::Failed;
        session.failure = Some("photo: not a JPEG, PNG or WebP <image>".into());
        let mails = compose_session_failed(&config, &session);
        assert!(mails.owner.html.contains("&lt;image&gt;"));
        insta::assert_debug_snapshot!((&mails.owner, mails.admin_copy(OwnerMail::Sent)));
    }

    #[test]
    fn failed_mail_escapes_the_reason() {
        let (config, session, object) = records(ObjectState::Failed);
        let mails = compose(&config, &session, &object, 2, Some(vec![1, 2, 3]), None);
        assert!(mails.owner.inline.is_empty(), "a failed object's mail has no picture");
        assert!(mails.owner.html.contains("&lt;truncated&gt;"));
        insta::assert_debug_snapshot!((&mails.owner, mails.admin_copy(OwnerMail::Sent)));
    }

    #[test]
    fn an_open_mesh_reads_as_english() {
        let (config, session, mut object) = records(ObjectState::Done);
        object.stats.as_mut().unwrap().watertight = false;
        let mails = compose(&config, &session, &object, 1, None, None);
        assert!(mails.owner.text.contains("your 3D model is ready: an open mesh of 30000 triangles."), "{}", mails.owner.text);
    }

    #[test]
    fn the_admin_copy_says_when_the_owner_was_not_reached() {
        let (config, session, object) = records(ObjectState::Done);
        let mails = compose(&config, &session, &object, 1, None, None);
        let lost = mails.admin_copy(OwnerMail::Undeliverable("Email address is not verified <ann@example.com>")).unwrap();
        assert_eq!(lost.to[0].as_str(), "admin@gen3d.example");
        assert!(lost.subject.starts_with("[gen3d admin] [undeliverable] "), "{}", lost.subject);
        assert!(
            lost.text.starts_with("The mail below could NOT be delivered to ann@example.com (Email address is not verified <ann@example.com>)"),
            "{}",
            lost.text
        );
        assert!(lost.html.contains("&lt;ann@example.com&gt;"), "escaped: {}", lost.html);
        let later = mails.admin_copy(OwnerMail::Retrying("outbox write: disk full")).unwrap();
        assert!(later.text.contains("failed for now (outbox write: disk full) and is being retried"), "{}", later.text);
        let no_admin = compose(&NotifyConfig { admin: None, ..config }, &session, &object, 1, None, None);
        assert!(no_admin.admin_copy(OwnerMail::Sent).is_none());
    }
}
