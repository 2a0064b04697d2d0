//! The local token scheme: accounts (email + PBKDF2 password hash) stored in the blob
//! store under `accounts/`, bearer tokens signed with HMAC-SHA256; a token issued before
//! the account's last password change is refused. Password reset is in `reset.rs`. In AWS
//! the same [`Principal`] comes from a Cognito JWT instead.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use gen3d_domain::{EmailAddress, ObjectKey, UserId};
use gen3d_ports::{BlobStore, PortError, now_ms};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

type HmacSha256 = Hmac<Sha256>;
const PBKDF2_ROUNDS: u32 = 60_000;
/// Tokens are valid for 30 days.
const TOKEN_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user: UserId,
    pub email: EmailAddress,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Account {
    pub(crate) user: UserId,
    pub(crate) email: EmailAddress,
    pub(crate) salt: String,
    pub(crate) hash: String,
    /// The reset code asked for and not used yet (`reset.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reset: Option<crate::reset::ResetCode>,
    /// Tokens issued before this time (ms) are refused: the password changed then.
    #[serde(default)]
    pub(crate) tokens_after: u64,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: UserId,
    email: EmailAddress,
    exp: u64,
    /// Issued at (ms); 0 in tokens from before it was recorded.
    #[serde(default)]
    iat: u64,
}

pub struct LocalAuth {
    secret: Vec<u8>,
    /// Where reset codes are mailed from, and the app they link to.
    pub(crate) reset_mail: Option<crate::reset::ResetMail>,
}

pub(crate) fn account_key(email: &EmailAddress) -> ObjectKey {
    let digest: String = Sha256::digest(email.as_str().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    ObjectKey::parse(&format!("accounts/{digest}.json")).expect("hex digests make valid keys")
}

pub(crate) fn hash_password(password: &str, salt: &[u8]) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, PBKDF2_ROUNDS, &mut out);
    B64.encode(out)
}

impl LocalAuth {
    /// `secret` signs tokens: at least 32 bytes, kept in the data directory.
    pub fn new(secret: Vec<u8>) -> Self {
        assert!(secret.len() >= 32, "token secret must be at least 32 bytes");
        Self { secret, reset_mail: None }
    }

    /// Mails password reset codes from `from`, linking to the app at `app_url`.
    pub fn with_reset_mail(mut self, from: EmailAddress, app_url: impl Into<String>) -> Self {
        self.reset_mail = Some(crate::reset::ResetMail { from, app_url: app_url.into() });
        self
    }

    pub(crate) fn sign(&self, payload: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("hmac takes any key length");
        mac.update(payload.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    pub fn issue(&self, principal: &Principal) -> String {
        let now = now_ms();
        let claims = Claims { sub: principal.user.clone(), email: principal.email.clone(), exp: now + TOKEN_TTL_MS, iat: now };
        let payload = B64.encode(serde_json::to_vec(&claims).expect("claims serialise"));
        let sig = self.sign(&payload);
        format!("g3d1.{payload}.{sig}")
    }

    /// The token's caller, if its signature holds and it has not expired. Does not read
    /// the account: see [`LocalAuth::verify_current`].
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        self.claims(token).map(|c| Principal { user: c.sub, email: c.email })
    }

    /// As [`LocalAuth::verify`], and the token's account has not changed its password
    /// since the token was issued. A token with no account behind it is the stack's own
    /// (`gen3d run`, tests: [`LocalAuth::issue`] for a principal) and stands on its signature.
    pub async fn verify_current(&self, blobs: &dyn BlobStore, token: &str) -> Result<Principal, ApiError> {
        let claims = self.claims(token)?;
        if let Some(account) = self.account(blobs, &claims.email).await? {
            if account.user != claims.sub {
                return Err(ApiError::unauthorized("invalid or expired token"));
            }
            if claims.iat < account.tokens_after {
                return Err(ApiError::unauthorized("the password was changed since this sign-in: sign in again"));
            }
        }
        Ok(Principal { user: claims.sub, email: claims.email })
    }

    fn claims(&self, token: &str) -> Result<Claims, ApiError> {
        let bad = || ApiError::unauthorized("invalid or expired token");
        let rest = token.strip_prefix("g3d1.").ok_or_else(bad)?;
        let (payload, sig) = rest.split_once('.').ok_or_else(bad)?;
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("hmac takes any key length");
        mac.update(payload.as_bytes());
        mac.verify_slice(&B64.decode(sig).map_err(|_| bad())?).map_err(|_| bad())?;
        let claims: Claims = serde_json::from_slice(&B64.decode(payload).map_err(|_| bad())?).map_err(|_| bad())?;
        if claims.exp < now_ms() {
            return Err(bad());
        }
        Ok(claims)
    }

    /// The account of `email`, if there is one.
    pub(crate) async fn account(&self, blobs: &dyn BlobStore, email: &EmailAddress) -> Result<Option<Account>, ApiError> {
        match blobs.get(&account_key(email)).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| ApiError::from(PortError::Internal("corrupt account".into()))),
            Err(PortError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn save(&self, blobs: &dyn BlobStore, account: &Account) -> Result<(), ApiError> {
        let bytes = Bytes::from(serde_json::to_vec(account).expect("account serialises"));
        Ok(blobs.put(&account_key(&account.email), bytes, "application/json").await?)
    }

    /// Whether two secrets are equal, compared in constant time through their MACs.
    pub(crate) fn same(&self, a: &str, b: &str) -> bool {
        self.sign(a) == self.sign(b)
    }

    pub async fn register(&self, blobs: &dyn BlobStore, email: &EmailAddress, password: &str) -> Result<Principal, ApiError> {
        check_password(password)?;
        let taken = || ApiError::conflict("an account with this email already exists; sign in instead");
        let key = account_key(email);
        if blobs.head(&key).await?.is_some() {
            return Err(taken()); // cheap refusal before hashing; put_new below decides races
        }
        let salt: [u8; 16] = rand::random();
        let account = Account {
            user: UserId::generate(),
            email: email.clone(),
            salt: B64.encode(salt),
            hash: hash_password(password, &salt),
            reset: None,
            tokens_after: 0,
        };
        if !blobs.put_new(&key, Bytes::from(serde_json::to_vec(&account).expect("account serialises")), "application/json").await? {
            return Err(taken());
        }
        Ok(Principal { user: account.user, email: account.email })
    }

    pub async fn login(&self, blobs: &dyn BlobStore, email: &EmailAddress, password: &str) -> Result<Principal, ApiError> {
        let wrong = || ApiError::unauthorized("wrong email or password");
        let account = self.account(blobs, email).await?.ok_or_else(wrong)?;
        let salt = B64.decode(&account.salt).map_err(|_| wrong())?;
        if !self.same(&hash_password(password, &salt), &account.hash) {
            return Err(wrong());
        }
        Ok(Principal { user: account.user, email: account.email })
    }
}

pub(crate) fn check_password(password: &str) -> Result<(), ApiError> {
    if !(8..=256).contains(&password.chars().count()) {
        return Err(ApiError::bad_request("password must be 8 to 256 characters"));
    }
    Ok(())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        // The scheme is case-insensitive (RFC 9110 11.1).
        let token = header
            .and_then(|h| h.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let principal = match state.auth.as_ref() {
            Auth::Local(local) => local.verify_current(state.ports.blobs.as_ref(), token.trim()).await?,
            Auth::Cognito(cognito) => cognito.verify(token.trim())?,
        };
        crate::span::record_user(&principal.user);
        Ok(principal)
    }
}

/// How callers prove who they are: Gen3D's own accounts (local) or Cognito (AWS).
#[expect(clippy::large_enum_variant, reason = "one per process, held behind an Arc")]
pub enum Auth {
    Local(std::sync::Arc<LocalAuth>),
    Cognito(crate::CognitoAuth),
}

impl Auth {
    /// The local account scheme; with Cognito, accounts live in the user pool.
    pub fn local(&self) -> Result<&LocalAuth, ApiError> {
        match self {
            Auth::Local(a) => Ok(a),
            Auth::Cognito(_) => Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                "accounts are managed by Cognito in this deployment: sign up and sign in there",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_forgeries_fail() {
        let auth = LocalAuth::new(vec![7; 32]);
        let p = Principal { user: UserId::parse("u1").unwrap(), email: EmailAddress::parse("a@b.co").unwrap() };
        let token = auth.issue(&p);
        assert_eq!(auth.verify(&token).unwrap(), p);
        let other = LocalAuth::new(vec![8; 32]);
        assert!(other.verify(&token).is_err(), "another secret's token is rejected");
        let (head, sig) = token.rsplit_once('.').unwrap();
        let forged_claims = B64.encode(br#"{"sub":"u2","email":"a@b.co","exp":99999999999999}"#);
        assert!(auth.verify(&format!("g3d1.{forged_claims}.{sig}")).is_err());
        assert!(auth.verify(head).is_err());
    }
}
