//! Email addresses, checked once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A syntactically plausible email address (one `@`, non-empty parts, a dot in the
/// domain, no whitespace or header-breaking characters).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        let invalid = |reason: &str| DomainError::invalid("email address", reason.to_owned());
        if raw.len() > 254 {
            return Err(invalid("longer than 254 characters"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c)) {
            return Err(invalid("contains whitespace or a forbidden character"));
        }
        let (local, domain) = raw.split_once('@').ok_or_else(|| invalid("missing '@'"))?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(invalid("expected exactly one '@' between two non-empty parts"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(invalid("domain must contain a dot"));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, DomainError> {
        Self::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lowercases() {
        assert_eq!(EmailAddress::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn rejects_header_injection_and_junk() {
        for bad in ["", "a", "a@b", "@b.c", "a@", "a@b.c\r\nBcc: x@y.z", "a b@c.d", "a@@b.c"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }
}
