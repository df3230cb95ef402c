//! The stable kinds of the core's errors: the names faces branch on, the
//! CLI maps to exit codes and the agent sends over its socket.

use std::str::FromStr;

/// The stable kinds of [`Error`](super::Error), plus [`Busy`](ErrorKind::Busy), which
/// only the agent's socket layer sends. Each has a wire name
/// ([`as_str`](ErrorKind::as_str), also its `Display`, serde and
/// [`FromStr`] form) that never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `config`: a configuration file or value is invalid.
    Config,
    /// `invalid_input`: a value given on the command line, through a
    /// command or in an agent frame is invalid.
    InvalidInput,
    /// `vault_unavailable`: no usable vault.
    VaultUnavailable,
    /// `vault_locked`: the vault is locked, or its passphrase is missing.
    VaultLocked,
    /// `vault_corrupt`: a vault entry or file is damaged.
    VaultCorrupt,
    /// `not_found`: no such profile or account.
    NotFound,
    /// `already_exists`: the name is taken.
    AlreadyExists,
    /// `provider`: the identity provider refused the request.
    Provider,
    /// `network`: the provider could not be reached or answered garbage
    /// (transient: retry).
    Network,
    /// `sign_in_required`: only an interactive sign-in helps.
    SignInRequired,
    /// `rejected`: the provider's answer failed a security check.
    Rejected,
    /// `cancelled`: the user cancelled, or a sign-in timed out.
    Cancelled,
    /// `io`: a file could not be read or written.
    Io,
    /// `busy`: the agent serves as many requests as it allows, for all or
    /// for one profile (try again).
    Busy,
    /// `lock_timeout`: another process held the profile's refresh lock for
    /// longer than a wait may last.
    LockTimeout,
    /// `timeout`: a request took longer than the agent allows for one.
    Timeout,
    /// `denied`: the profile's access policy refused the caller (a program
    /// it does not allow, a scope outside the profile's, a user's "Deny").
    Denied,
    /// `internal`: Tokentray itself failed. Also what an unknown wire name
    /// becomes ([`ErrorKind::from_wire`]).
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::Config,
        ErrorKind::InvalidInput,
        ErrorKind::VaultUnavailable,
        ErrorKind::VaultLocked,
        ErrorKind::VaultCorrupt,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Provider,
        ErrorKind::Network,
        ErrorKind::SignInRequired,
        ErrorKind::Rejected,
        ErrorKind::Cancelled,
        ErrorKind::Io,
        ErrorKind::Busy,
        ErrorKind::LockTimeout,
        ErrorKind::Timeout,
        ErrorKind::Denied,
        ErrorKind::Internal,
    ];

    /// The stable wire name (`network`, `sign_in_required`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::VaultUnavailable => "vault_unavailable",
            ErrorKind::VaultLocked => "vault_locked",
            ErrorKind::VaultCorrupt => "vault_corrupt",
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Provider => "provider",
            ErrorKind::Network => "network",
            ErrorKind::SignInRequired => "sign_in_required",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Io => "io",
            ErrorKind::Busy => "busy",
            ErrorKind::LockTimeout => "lock_timeout",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Denied => "denied",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind named by a wire name that came from another process (an
    /// agent of another version): a name this build does not know becomes
    /// [`ErrorKind::Internal`], so that such an answer still fails cleanly
    /// (the message says what happened).
    pub fn from_wire(name: &str) -> Self {
        name.parse().unwrap_or(ErrorKind::Internal)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`ErrorKind`]'s wire name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error kind `{0}`")]
pub struct UnknownKind(String);

impl FromStr for ErrorKind {
    type Err = UnknownKind;

    /// The kind whose wire name is exactly `name`.
    fn from_str(name: &str) -> Result<Self, UnknownKind> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownKind(shown(name)))
    }
}

/// An unknown kind's name as it may be shown: its first 64 ASCII letters,
/// digits and underscores (it came from another process).
fn shown(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorKind {
    /// Never fails on a string: an unknown name is
    /// [`from_wire`](ErrorKind::from_wire)'s fallback.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(ErrorKind::from_wire(&name))
    }
}
