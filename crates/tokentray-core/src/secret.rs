//! The redacting wrappers that every token, refresh token and client secret
//! travels in.
//!
//! A [`Secret`] cannot be printed: `Debug` shows `[redacted]`, there is no
//! `Display` and no `Serialize`, and the bytes are zeroized when the value is
//! dropped (through [`secrecy`]). Reading the value is an explicit, greppable
//! call to [`Secret::expose`].
//!
//! Each kind of secret has its own type over a [`Secret`] ([`SecretOf`]),
//! with the same guarantees: [`AccessTokenSecret`], [`RefreshToken`],
//! [`IdToken`], [`ClientSecret`], [`PkceVerifier`], [`CsrfState`] and
//! [`Nonce`]. One cannot be passed where another is expected, so a reply
//! type with an access-token field cannot be handed a refresh token (S28).
//! A plain [`Secret`] is left for what has no kind of its own: a vault
//! record, a passphrase, a device code, text for the clipboard.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::marker::PhantomData;

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

/// A secret of one kind `K` (one of [`kind`]): a [`Secret`] that redacts,
/// zeroizes and compares in constant time as [`Secret`] does, and that is
/// a different type for each kind. Use it through the aliases
/// ([`AccessTokenSecret`], [`RefreshToken`], …).
pub struct SecretOf<K>(Secret, PhantomData<fn() -> K>);

/// The kinds of [`SecretOf`]: marker types, never values.
pub mod kind {
    /// An access token.
    pub enum Access {}
    /// A refresh token.
    pub enum Refresh {}
    /// An ID token.
    pub enum Id {}
    /// A client secret.
    pub enum Client {}
    /// A PKCE code verifier.
    pub enum Verifier {}
    /// An authorization request's `state`.
    pub enum State {}
    /// An OIDC `nonce`.
    pub enum Nonce {}
}

/// An access token's value: what a client sends as `Bearer`. (The token
/// with its type, expiry and scopes is [`crate::token::AccessToken`].)
pub type AccessTokenSecret = SecretOf<kind::Access>;
/// A refresh token: it never leaves the broker and the vault, never
/// crosses the socket (S28) and never reaches a webview (S20).
pub type RefreshToken = SecretOf<kind::Refresh>;
/// A raw ID token (a signed JWT), as the provider sent it.
pub type IdToken = SecretOf<kind::Id>;
/// A confidential client's secret; lives in the vault (S9).
pub type ClientSecret = SecretOf<kind::Client>;
/// A PKCE code verifier (RFC 7636): sent only with the code exchange.
pub type PkceVerifier = SecretOf<kind::Verifier>;
/// An authorization request's `state`: compared in constant time when the
/// callback comes back (S3).
pub type CsrfState = SecretOf<kind::State>;
/// An OIDC `nonce`, checked in the ID token (S5).
pub type Nonce = SecretOf<kind::Nonce>;

impl<K> SecretOf<K> {
    /// Wraps a value. The `String` moves in; no copy stays behind.
    pub fn new(value: impl Into<String>) -> Self {
        Self::from_secret(Secret::new(value))
    }

    /// The value. Every call site is a place where a secret leaves its
    /// wrapper, so keep them few and never log what they return.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The plain [`Secret`] (for the clipboard, say); no copy is made.
    pub fn into_secret(self) -> Secret {
        self.0
    }

    /// A value that arrived as a plain [`Secret`] (from the vault, or
    /// freshly made random).
    pub(crate) fn from_secret(secret: Secret) -> Self {
        Self(secret, PhantomData)
    }

    /// The value as a plain [`Secret`], to store it.
    pub(crate) fn as_secret(&self) -> &Secret {
        &self.0
    }
}

impl<K> Clone for SecretOf<K> {
    fn clone(&self) -> Self {
        Self::from_secret(self.0.clone())
    }
}

impl<K> fmt::Debug for SecretOf<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<K> PartialEq for SecretOf<K> {
    /// In constant time, as [`Secret`]'s.
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for SecretOf<K> {}

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
    static_assertions::assert_not_impl_any!(AccessTokenSecret: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(RefreshToken: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(IdToken: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(ClientSecret: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(PkceVerifier: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(CsrfState: fmt::Display, serde::Serialize);
    static_assertions::assert_not_impl_any!(Nonce: fmt::Display, serde::Serialize);
    // One kind is not another: no conversion between them.
    static_assertions::assert_not_impl_any!(AccessTokenSecret: From<RefreshToken>, From<Secret>);

    /// A value's `Debug`, `plain` and `pretty`, is `[redacted]` only.
    fn assert_redacted(plain: String, pretty: String) {
        assert_eq!(plain, "[redacted]");
        assert_eq!(pretty, "[redacted]");
    }

    // S33: redaction
    #[test]
    fn access_token_secret_debug_is_redacted() {
        let value = AccessTokenSecret::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn refresh_token_debug_is_redacted() {
        let value = RefreshToken::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn id_token_debug_is_redacted() {
        let value = IdToken::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn client_secret_debug_is_redacted() {
        let value = ClientSecret::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn pkce_verifier_debug_is_redacted() {
        let value = PkceVerifier::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn csrf_state_debug_is_redacted() {
        let value = CsrfState::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    // S33: redaction
    #[test]
    fn nonce_debug_is_redacted() {
        let value = Nonce::new(CANARY);
        assert_redacted(format!("{value:?}"), format!("{value:#?}"));
        assert_eq!(value.expose(), CANARY);
    }

    #[test]
    fn kinds_compare_values_and_convert_without_copies() {
        assert_eq!(CsrfState::new("abc"), CsrfState::new("abc"));
        assert_ne!(CsrfState::new("abc"), CsrfState::new("abd"));
        assert_ne!(RefreshToken::new("abc"), RefreshToken::new("abcd"));
        let stored = RefreshToken::new(CANARY).into_secret();
        assert_eq!(stored.expose(), CANARY);
        assert_eq!(
            RefreshToken::from_secret(stored).as_secret().expose(),
            CANARY
        );
    }

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
