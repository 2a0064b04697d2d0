//! API Gateway's JWT authorizer, as its documentation describes it: the token from the
//! `Authorization` header (with or without `Bearer `), its `kid` among the issuer's JWKS
//! keys, an RS256 signature, `iss` equal to the configured issuer, `aud` (or an access
//! token's `client_id`) among the audiences, `exp`, `nbf` and `iat` in range. It does not
//! look at `token_use`. Written apart from the intake's own check, which it backs.

use std::collections::HashMap;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

pub struct Jwks {
    keys: HashMap<String, DecodingKey>,
}

impl Jwks {
    pub async fn fetch(url: &str) -> Result<Jwks, String> {
        let url = url.to_owned();
        let body = tokio::task::spawn_blocking(move || {
            ureq::get(&url).call().and_then(|mut r| r.body_mut().read_to_vec()).map_err(|e| format!("fetching the JWKS from {url}: {e}"))
        })
        .await
        .map_err(|e| e.to_string())??;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
        let keys = set.keys.iter().filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?))).collect();
        Ok(Jwks { keys })
    }

    /// The token's claims if the authorizer with `issuer` and `audiences` admits it.
    pub fn verify(&self, authorization: Option<&str>, issuer: &str, audiences: &[String]) -> Option<Value> {
        let raw = authorization?.trim();
        let token = match raw.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => raw,
        };
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.keys.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Value>(token, key, &validation).ok()?.claims;
        let aud_ok = |v: Option<&Value>| match v {
            Some(Value::String(a)) => audiences.contains(a),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(|a| audiences.iter().any(|x| x == a)),
            _ => false,
        };
        (aud_ok(claims.get("aud")) || aud_ok(claims.get("client_id"))).then_some(claims)
    }
}
