//! Identifiers. Each is a newtype with a private field, built by `parse` (from outside)
//! or `generate` (new, random). They are safe to embed in object keys and file names.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::DomainError;

const ID_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
const GENERATED_LEN: usize = 20; // 100 bits of randomness

fn generate_id() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_LEN).map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char).collect()
}

/// Ids are 1..=64 chars of `[a-z0-9-]`, not starting with `-`: safe in keys, URLs and
/// file names on every platform. Cognito `sub`s (lowercase UUIDs) fit.
fn check_id(what: &'static str, raw: &str) -> Result<(), DomainError> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(DomainError::invalid(what, "must be 1 to 64 characters"));
    }
    if raw.starts_with('-') {
        return Err(DomainError::invalid(what, "must not start with '-'"));
    }
    if let Some(c) = raw.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(DomainError::invalid(what, format!("unexpected character {c:?}")));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                check_id($what, raw)?;
                Ok(Self(raw.to_owned()))
            }

            pub fn generate() -> Self {
                Self(generate_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(raw: String) -> Result<Self, DomainError> {
                check_id($what, &raw)?;
                Ok(Self(raw))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// The owner of sessions and objects: a Cognito `sub` in AWS, a local account id locally.
    UserId, "user id"
);
id_type!(
    /// One uploaded photo and its embeddings.
    SessionId, "session id"
);
id_type!(
    /// One object selected in a session's photo, reconstructed into a splat and a mesh.
    ObjectId, "object id"
);
id_type!(
    /// A unit of asynchronous work (an inference invocation).
    JobId, "job id"
);

impl ObjectId {
    /// The object a client's `Idempotency-Key` names in a session: the same key in the
    /// same session always gives the same id, so a retried submission finds the object
    /// the first attempt made instead of making another.
    pub fn for_request(user: &UserId, session: &SessionId, key: &IdempotencyKey) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(user.0.as_bytes())
            .chain_update([0])
            .chain_update(session.0.as_bytes())
            .chain_update([0])
            .chain_update(key.0.as_bytes())
            .finalize();
        let mut bits: u128 = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
        let id = (0..GENERATED_LEN)
            .map(|_| {
                let c = ID_ALPHABET[(bits & 31) as usize] as char;
                bits >>= 5;
                c
            })
            .collect();
        Self(id)
    }
}

/// A client's name for one submission (the `Idempotency-Key` header): 1 to 64 printable
/// ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > 64 || !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(DomainError::invalid("Idempotency-Key", "must be 1 to 64 printable ASCII characters"));
        }
        Ok(Self(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_names_one_object_per_session() {
        let (user, s1, s2) = (UserId::generate(), SessionId::generate(), SessionId::generate());
        let key = IdempotencyKey::parse("click-7f3a").unwrap();
        let id = ObjectId::for_request(&user, &s1, &key);
        assert_eq!(id, ObjectId::for_request(&user, &s1, &key));
        assert_ne!(id, ObjectId::for_request(&user, &s2, &key));
        assert_ne!(id, ObjectId::for_request(&user, &s1, &IdempotencyKey::parse("click-7f3b").unwrap()));
        assert_eq!(ObjectId::parse(id.as_str()).unwrap(), id);
        for bad in ["", "a b", "é", &"k".repeat(65)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_parse_back() {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.as_str().len(), GENERATED_LEN);
    }

    #[test]
    fn rejects_path_tricks_and_case() {
        for bad in ["", "../x", "a/b", "A", "-x", "x y", &"a".repeat(65)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(UserId::parse("3f1c2a9e-7b7d-4c57-9a51-0d6f8f6e2b11").is_ok());
    }

    #[test]
    fn deserialising_validates() {
        let err = serde_json::from_str::<ObjectId>("\"../../etc\"").unwrap_err();
        assert!(err.to_string().contains("invalid object id"), "{err}");
    }
}
