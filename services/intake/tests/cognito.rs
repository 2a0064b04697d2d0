//! The Cognito ID-token verifier on tokens signed with a test key (the AWS-profile tests
//! use moto's real tokens; these cover what moto cannot issue: expired tokens, wrong
//! audience or issuer, access tokens, other algorithms).

use gen3d_intake::CognitoAuth;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";
const CLIENT: &str = "test-client";

fn auth() -> CognitoAuth {
    CognitoAuth::from_jwks(ISSUER, CLIENT, include_bytes!("fixtures/test-jwks.json")).expect("test JWKS")
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn claims() -> Value {
    json!({
        "sub": "3f1c2a9e-7b7d-4c57-9a51-0d6f8f6e2b11",
        "email": "ann@example.com",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "iat": now(),
        "exp": now() + 3600,
    })
}

fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(include_bytes!("fixtures/test-rsa-pkcs1.der"))).expect("signs")
}

fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut c = claims();
    change(c.as_object_mut().unwrap());
    sign(&c, "test-key")
}

#[test]
fn a_valid_id_token_yields_its_sub_and_email() {
    let p = auth().verify(&sign(&claims(), "test-key")).expect("valid");
    assert_eq!(p.user.as_str(), "3f1c2a9e-7b7d-4c57-9a51-0d6f8f6e2b11");
    assert_eq!(p.email.as_str(), "ann@example.com");
}

#[test]
fn every_bad_token_is_a_401() {
    let auth = auth();
    let cases = [
        ("expired", with(|c| _ = c.insert("exp".into(), json!(now() - 600)))),
        ("another app client", with(|c| _ = c.insert("aud".into(), json!("other-client")))),
        ("another pool", with(|c| _ = c.insert("iss".into(), json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")))),
        ("an access token", with(|c| _ = c.insert("token_use".into(), json!("access")))),
        ("no email", with(|c| _ = c.remove("email"))),
        ("a sub that is not an id", with(|c| _ = c.insert("sub".into(), json!("Robert'); DROP")))),
        ("an unknown key", sign(&claims(), "rotated-away")),
        ("not a JWT", "hello".to_owned()),
    ];
    for (what, token) in cases {
        let err = auth.verify(&token).expect_err(what);
        assert_eq!(err.status, axum::http::StatusCode::UNAUTHORIZED, "{what}");
    }
    // Unsigned ("alg": "none") and HMAC tokens are never accepted.
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "test-key"})), b64(&claims()));
    assert!(auth.verify(&unsigned).is_err(), "alg none");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("test-key".into());
    let hmac = jsonwebtoken::encode(&hs, &claims(), &EncodingKey::from_secret(b"guessable")).unwrap();
    assert!(auth.verify(&hmac).is_err(), "HS256");
}

#[test]
fn a_key_set_without_rsa_keys_is_refused() {
    assert!(CognitoAuth::from_jwks(ISSUER, CLIENT, br#"{"keys": []}"#).is_err());
    assert!(CognitoAuth::from_jwks(ISSUER, CLIENT, b"not json").is_err());
}
