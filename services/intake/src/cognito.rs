//! Cognito-issued JWTs (the AWS deployment). The API Gateway authorizer already checks
//! them; the intake service verifies again, on its own, so a misconfigured route can
//! never admit an unsigned caller: RS256 signature against the user pool's JWKS, issuer,
//! audience (the app client), expiry, and `token_use = id` (ID tokens carry the email
//! the notification mail goes to). The `sub` is the user id, the same [`Principal`]
//! the local token scheme yields.

use std::collections::HashMap;

use gen3d_domain::{EmailAddress, UserId};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::{ApiError, Principal};

/// Verifies ID tokens of one user pool and app client.
pub struct CognitoAuth {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    token_use: String,
}

impl CognitoAuth {
    /// The issuer of a user pool's tokens.
    pub fn issuer(region: &str, user_pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
    }

    /// From a JWKS document (`{issuer}/.well-known/jwks.json`). Keys that are not RSA
    /// signing keys are skipped; a set without any is an error.
    pub fn from_jwks(issuer: &str, client_id: &str, jwks: &[u8]) -> Result<Self, String> {
        let set: JwkSet = serde_json::from_slice(jwks).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
        let keys: HashMap<String, DecodingKey> =
            set.keys.iter().filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?))).collect();
        if keys.is_empty() {
            return Err("the JWKS holds no usable RSA key with a key id".into());
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self { keys, validation })
    }

    /// Fetches the pool's JWKS (once, at start) and builds the verifier.
    pub fn fetch(issuer: &str, client_id: &str, jwks_url: &str) -> Result<Self, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(10))).build().into();
        let body =
            agent.get(jwks_url).call().and_then(|mut r| r.body_mut().read_to_vec()).map_err(|e| format!("fetching the JWKS from {jwks_url}: {e}"))?;
        Self::from_jwks(issuer, client_id, &body)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let bad = |why: &str| {
            tracing::info!(why, "bearer token rejected");
            ApiError::unauthorized("invalid or expired token")
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("not a JWT"))?;
        let kid = header.kid.ok_or_else(|| bad("no key id"))?;
        let key = self.keys.get(&kid).ok_or_else(|| bad("unknown key id"))?;
        let data = jsonwebtoken::decode::<IdClaims>(token, key, &self.validation).map_err(|e| {
            tracing::info!(error = %e, "token verification failed");
            ApiError::unauthorized("invalid or expired token")
        })?;
        let claims = data.claims;
        if claims.token_use != "id" {
            return Err(ApiError::unauthorized("send the ID token, not the access token"));
        }
        let user = UserId::parse(&claims.sub).map_err(|_| bad("sub is not a user id"))?;
        let email = claims.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()).ok_or_else(|| bad("no email claim"))?;
        Ok(Principal { user, email })
    }
}

#[cfg(all(test, feature = "tls"))]
mod tls_tests {
    /// The Lambda fetches the key set over HTTPS: with `tls` the request gets as far as
    /// the handshake (with a server that answers plain text), instead of failing for
    /// want of TLS.
    #[test]
    fn https_is_supported() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut socket, _)) = listener.accept() {
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
            }
        });
        let err = super::CognitoAuth::fetch("https://issuer", "client", &url).err().expect("not a TLS server");
        // Without TLS support ureq stops at "TLS required, but transport is unsecured".
        assert!(!err.contains("TLS required") && err.contains("corrupt message"), "{err}");
    }
}
