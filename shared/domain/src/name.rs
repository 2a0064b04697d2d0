//! The name a user gives a photo or an object (shown in the library, on cards, in mail
//! subjects and in download file names).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// 1 to [`DisplayName::MAX_CHARS`] characters once trimmed, none of them a control
/// character (a name cannot break a mail header or a file name's line).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "is empty".to_owned()));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid("name", format!("is longer than {} characters", Self::MAX_CHARS)));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name", "contains a control character".to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a piece of a file name: letters and digits kept (any script),
    /// everything else one `-`, at most 40 characters; `None` when nothing is left.
    pub fn slug(&self) -> Option<String> {
        let mut out = String::new();
        for c in self.0.chars() {
            if c.is_alphanumeric() {
                out.extend(c.to_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let out: String = out.trim_end_matches('-').chars().take(40).collect();
        let out = out.trim_end_matches('-').to_owned();
        (!out.is_empty()).then_some(out)
    }
}

impl TryFrom<String> for DisplayName {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, DomainError> {
        Self::parse(&raw)
    }
}

impl From<DisplayName> for String {
    fn from(n: DisplayName) -> String {
        n.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplayName({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_any_script() {
        assert_eq!(DisplayName::parse("  Red mug  ").unwrap().as_str(), "Red mug");
        assert_eq!(DisplayName::parse("Tasse à café").unwrap().slug().as_deref(), Some("tasse-à-café"));
        assert_eq!(DisplayName::parse("My truck (2)!").unwrap().slug().as_deref(), Some("my-truck-2"));
        assert_eq!(DisplayName::parse("!!!").unwrap().slug(), None);
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        for bad in ["", "   ", "a\r\nBcc: x@y.z", "tab\there"] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DisplayName::parse(&"x".repeat(80)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(81)).is_err());
    }
}
