//! The redacting wrapper that every token, refresh token and client secret
//! travels in.
//!
//! A [`Secret`] cannot be printed: `Debug` shows `[redacted]`, there is no
//! `Display` and no `Serialize`, and the bytes are zeroized when the value is
//! dropped (through [`secrecy`]). Reading the value is an explicit, greppable
//! call to [`Secret::expose`].

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// A secret string: a token, a refresh token, a client secret, or a vault
/// record that contains them.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value. The `String` moves in; no copy stays behind.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret value. Every call site is a place where a secret leaves its
    /// wrapper, so keep them few and never log what they return.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Length of the value in bytes (safe to log).
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    /// Compares every byte of equal-length values, so the time taken does not
    /// reveal where two secrets first differ.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-7f3a9c-secret-value";

    // S33: redaction
    #[test]
    fn debug_prints_redacted_and_never_the_value() {
        let secret = Secret::new(CANARY);
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret:#?}"), "[redacted]");
        let nested = (Some(secret.clone()), vec![secret]);
        let shown = format!("{nested:?}");
        assert!(!shown.contains(CANARY), "leaked in {shown}");
        assert!(shown.contains("[redacted]"));
    }

    // S33: redaction
    #[test]
    fn debug_of_a_struct_holding_a_secret_leaks_nothing() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Tokens {
            access: Secret,
            refresh: Option<Secret>,
        }
        let tokens = Tokens {
            access: Secret::new(CANARY),
            refresh: Some(Secret::new(format!("{CANARY}-refresh"))),
        };
        let shown = format!("{tokens:?} {tokens:#?}");
        assert!(!shown.contains("canary"), "leaked in {shown}");
    }

    static_assertions::assert_not_impl_any!(Secret: fmt::Display, serde::Serialize);

    #[test]
    fn expose_returns_the_value() {
        let secret = Secret::from(CANARY.to_string());
        assert_eq!(secret.expose(), CANARY);
        assert_eq!(secret.len(), CANARY.len());
        assert!(!secret.is_empty());
        assert!(Secret::new("").is_empty());
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::new("abc"), Secret::new("abc"));
        assert_ne!(Secret::new("abc"), Secret::new("abd"));
        assert_ne!(Secret::new("abc"), Secret::new("abcd"));
    }
}
