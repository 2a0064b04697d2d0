//! Password reset for Gen3D's own accounts, as Cognito does it for its pool: ask with
//! the email address, get a six-digit code by mail (valid one hour, five tries), then set
//! a new password with it. The answer to asking is the same whether or not the address
//! has an account. A reset signs out every earlier sign-in (`Account::tokens_after`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gen3d_domain::EmailAddress;
use gen3d_ports::{Email, Mailer, PortError, now_ms};
use serde::{Deserialize, Serialize};

use crate::auth::{Account, LocalAuth, check_password, hash_password};
use crate::{ApiError, Principal};

/// How long a code works.
const CODE_TTL_MS: u64 = 3600 * 1000;
/// Wrong codes before the code stops working.
const MAX_TRIES: u32 = 5;
/// A new code is mailed at most this often per account.
const RESEND_AFTER_MS: u64 = 60 * 1000;

/// Where reset mail comes from and the app its link opens.
#[derive(Clone, Debug)]
pub struct ResetMail {
    pub from: EmailAddress,
    pub app_url: String,
}

/// A code asked for: its MAC (never the code), when it was mailed and wrong tries so far.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ResetCode {
    hash: String,
    issued: u64,
    tries: u32,
}

fn code_hash(auth: &LocalAuth, account: &Account, code: &str) -> String {
    auth.sign(&format!("reset:{}:{}", account.user, code))
}

fn wrong_code(why: &str) -> ApiError {
    ApiError::bad_request(format!("code: {why}"))
}

impl LocalAuth {
    /// Mails a reset code to `email` if it has an account. `Ok` either way.
    pub async fn forgot(&self, blobs: &dyn gen3d_ports::BlobStore, mailer: &dyn Mailer, email: &EmailAddress) -> Result<(), ApiError> {
        let Some(mail) = &self.reset_mail else {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "password reset mail is not set up on this server",
            ));
        };
        let Some(mut account) = self.account(blobs, email).await? else { return Ok(()) };
        let now = now_ms();
        if account.reset.as_ref().is_some_and(|r| now < r.issued + RESEND_AFTER_MS) {
            return Ok(()); // one mailed a minute ago: the same answer, no second mail
        }
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let previous = account.reset.replace(ResetCode { hash: code_hash(self, &account, &code), issued: now, tries: 0 });
        self.save(blobs, &account).await?;
        let link = format!("{}/#/reset?email={}", mail.app_url.trim_end_matches('/'), urlencode(email.as_str()));
        let text = format!(
            "Someone (we hope you) asked to reset the password of your Gen3D account.\n\n\
             Your code: {code}\n\nEnter it in the app within an hour: {link}\n\n\
             If you did not ask, ignore this mail: your password stays as it is.\n"
        );
        let html = format!(
            "<p>Someone (we hope you) asked to reset the password of your Gen3D account.</p>\
             <p>Your code: <strong style=\"font-size:1.4em;letter-spacing:.1em\">{code}</strong></p>\
             <p>Enter it in <a href=\"{link}\">the app</a> within an hour.</p>\
             <p>If you did not ask, ignore this mail: your password stays as it is.</p>"
        );
        let message = Email {
            from: mail.from.clone(),
            to: vec![email.clone()],
            subject: "Your Gen3D password reset code".into(),
            text,
            html,
            idempotency_key: format!("reset-{}-{now}", account.user),
            inline: vec![],
        };
        let Err(e) = mailer.send(&message).await else { return Ok(()) };
        // Not sent: the code no one received goes, so asking again mails at once.
        account.reset = previous;
        self.save(blobs, &account).await?;
        Err(match e {
            PortError::Invalid(m) => ApiError::bad_request(format!("email: this address cannot receive mail ({m})")),
            e => e.into(),
        })
    }

    /// Sets a new password with a mailed code; the caller is then signed in.
    pub async fn reset(&self, blobs: &dyn gen3d_ports::BlobStore, email: &EmailAddress, code: &str, password: &str) -> Result<Principal, ApiError> {
        check_password(password)?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(wrong_code("the six digits from the mail"));
        }
        let ask_again = "wrong or expired: ask for a new one";
        let Some(mut account) = self.account(blobs, email).await? else { return Err(wrong_code(ask_again)) };
        let Some(mut asked) = account.reset.clone() else { return Err(wrong_code(ask_again)) };
        let now = now_ms();
        if now >= asked.issued + CODE_TTL_MS || asked.tries >= MAX_TRIES {
            account.reset = None;
            self.save(blobs, &account).await?;
            return Err(wrong_code(if asked.tries >= MAX_TRIES { "too many wrong tries: ask for a new one" } else { "expired: ask for a new one" }));
        }
        if !self.same(&code_hash(self, &account, code), &asked.hash) {
            asked.tries += 1;
            account.reset = Some(asked);
            self.save(blobs, &account).await?;
            return Err(wrong_code("wrong: check the mail and try again"));
        }
        let salt: [u8; 16] = rand::random();
        account.salt = B64.encode(salt);
        account.hash = hash_password(password, &salt);
        account.reset = None;
        account.tokens_after = now;
        self.save(blobs, &account).await?;
        Ok(Principal { user: account.user, email: account.email })
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ForgotRequest {
    email: String,
}

#[derive(Deserialize)]
pub struct ResetRequest {
    email: String,
    code: String,
    password: String,
}

/// `POST /v1/auth/forgot`: 202, the same answer for every well-formed address.
pub async fn forgot_password(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    axum::Json(r): axum::Json<ForgotRequest>,
) -> Result<(axum::http::StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let email = EmailAddress::parse(&r.email).map_err(|e| ApiError::bad_request(format!("email: {e}")))?;
    let auth = state.auth.local()?;
    auth.forgot(state.ports.blobs.as_ref(), state.ports.mailer.as_ref(), &email).await?;
    let message = "If an account has this address, a code to reset its password is on its way. It works for an hour.";
    Ok((axum::http::StatusCode::ACCEPTED, axum::Json(serde_json::json!({ "message": message }))))
}

/// `POST /v1/auth/reset`: the new password set, and a token as sign-in gives.
pub async fn reset_password(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    axum::Json(r): axum::Json<ResetRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let email = EmailAddress::parse(&r.email).map_err(|e| ApiError::bad_request(format!("email: {e}")))?;
    let auth = state.auth.local()?;
    let p = auth.reset(state.ports.blobs.as_ref(), &email, &r.code, &r.password).await?;
    Ok(axum::Json(crate::routes::session_token(auth, &p)))
}
