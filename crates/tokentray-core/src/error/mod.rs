//! The core's one error type.
//!
//! Every failure a face can show is an [`Error`] with a stable
//! [`ErrorKind`] ([`Error::kind`]) that the tray, the accounts window and
//! the CLI's exit codes branch on with a `match`, and a message that says
//! what went wrong and, where the user can do something about it, how to
//! fix it. No variant ever carries a token.
//!
//! A kind's wire name ([`ErrorKind::as_str`]) is what the CLI's `--json`
//! output, the agent protocol and the accounts window carry; those names
//! never change.

use std::path::PathBuf;

mod kind;
pub use kind::{ErrorKind, UnknownKind};

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a configuration file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The dotted key path (`profiles.graph.issuer`), when known.
    pub key: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, " (key `{key}`)")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file (or a value meant for one) is invalid.
    #[error("{location}: {message}")]
    Config {
        /// Where the problem is.
        location: Box<Location>,
        /// What is wrong with it.
        message: String,
    },

    /// A value given on the command line or through a command is invalid.
    #[error("{0}")]
    InvalidInput(String),

    /// No usable OS vault (no D-Bus session, no Secret Service, …).
    #[error("the OS vault is unavailable: {reason}. Fix: {fix}")]
    VaultUnavailable {
        /// What the platform said.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// The vault exists but is locked, or the unlock prompt was dismissed.
    #[error("the OS vault is locked: {reason}. Fix: {fix}")]
    VaultLocked {
        /// What the platform said.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// A vault entry exists but cannot be read back whole.
    #[error("vault entry `{key}` is damaged: {reason}. Fix: {fix}")]
    VaultCorrupt {
        /// The entry's key (never its value).
        key: String,
        /// What is wrong with it.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// The encrypted vault file cannot be unlocked: no passphrase was given,
    /// or a wrong one. The file is left untouched.
    #[error("{reason}. Fix: {fix}")]
    VaultFileLocked {
        /// The vault file.
        path: PathBuf,
        /// What went wrong, naming the file.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// The encrypted vault file is damaged (bad magic, truncated, a failed
    /// authentication tag). It is never overwritten.
    #[error("the vault file {} is damaged: {reason}; it was left untouched. Fix: {fix}", path.display())]
    VaultFileDamaged {
        /// The vault file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// The vault file or its directory is unsafe to use (a symbolic link,
    /// owned by someone else, open to group or others).
    #[error("refusing the vault file {}: {reason}. Fix: {fix}", path.display())]
    VaultFileRefused {
        /// The file or directory refused.
        path: PathBuf,
        /// Why.
        reason: String,
        /// What the user can do.
        fix: String,
    },

    /// A named thing (profile, account) does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. "profile `graph`".
        what: String,
    },

    /// A thing that must be unique exists already.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What, e.g. "profile `graph`".
        what: String,
    },

    /// The identity provider answered with an OAuth error.
    #[error("{provider} refused the request: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        /// Which provider (issuer or preset name).
        provider: String,
        /// The OAuth `error` code, e.g. `invalid_grant`.
        code: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },

    /// The provider could not be reached or answered garbage.
    #[error("network error: {0}")]
    Network(String),

    /// The account needs an interactive sign-in.
    #[error("sign-in required for profile `{profile}`: {reason}")]
    SignInRequired {
        /// The profile.
        profile: String,
        /// Why (e.g. the provider's `invalid_grant`).
        reason: String,
    },

    /// The provider's answer failed a security check: wrong `state`,
    /// issuer mix-up, an invalid ID token, a changed identity on refresh.
    /// Nothing from that answer is used.
    #[error("{provider}: response rejected: {reason}")]
    Rejected {
        /// Which provider (issuer or preset name).
        provider: String,
        /// Which check failed (never a token).
        reason: String,
    },

    /// The user (or the face, on the user's behalf) cancelled a sign-in, or
    /// it timed out waiting for them: nothing to report as a failure.
    #[error("sign-in cancelled: {reason}")]
    Cancelled {
        /// What happened, e.g. "declined at the provider (access_denied)".
        reason: String,
    },

    /// Another process held the profile's refresh lock for longer than a
    /// wait may last.
    #[error("profile `{profile}` is busy: {} has held its refresh lock for {waited_secs} s ({}). Fix: wait for it to finish, or stop it if it hangs", holder.as_deref().unwrap_or("another process"), path.display())]
    LockTimeout {
        /// The profile.
        profile: String,
        /// Who holds the lock, when the OS or the holder tells.
        holder: Option<String>,
        /// How long we waited.
        waited_secs: u64,
        /// The lock file.
        path: PathBuf,
    },

    /// The agent has as many requests in progress as it allows (for all,
    /// or for one profile): try again.
    #[error("the agent is busy: {what}; try again")]
    Busy {
        /// What is busy.
        what: String,
    },

    /// A request took longer than the agent allows for one.
    #[error("{what} did not finish within {secs} s; the agent stopped waiting for it")]
    DeadlineExceeded {
        /// What was asked ("the token request for profile `p`").
        what: String,
        /// The deadline.
        secs: u64,
    },

    /// The provider rotated the refresh token but the vault refused to
    /// store it: the new token is kept in memory and its write retried, so
    /// the old one is never replayed.
    #[error("profile `{profile}`: the provider issued a new refresh token but the vault refused to store it ({source}); it is kept in memory and the write is retried")]
    RotationNotStored {
        /// The profile.
        profile: String,
        /// What the vault said.
        source: Box<Error>,
    },

    /// The profile's access policy refused the caller.
    #[error("profile `{profile}`: {reason}")]
    Denied {
        /// The profile.
        profile: String,
        /// Who was refused and why, and how to allow it.
        reason: String,
    },

    /// A file could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("cannot read", "cannot write").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// Tokentray itself failed (a task that died, a value that would not
    /// encode): a bug or a broken process, nothing the user's input caused.
    #[error("internal error: {what}")]
    Internal {
        /// What failed (never a token).
        what: String,
    },
}

impl Error {
    /// The stable kind of the error; faces branch on it and the CLI prints
    /// its [wire name](ErrorKind::as_str) in `--json` output.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config { .. } => ErrorKind::Config,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::VaultUnavailable { .. } | Error::VaultFileRefused { .. } => {
                ErrorKind::VaultUnavailable
            }
            Error::VaultLocked { .. } | Error::VaultFileLocked { .. } => ErrorKind::VaultLocked,
            Error::VaultCorrupt { .. } | Error::VaultFileDamaged { .. } => ErrorKind::VaultCorrupt,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Provider { .. } => ErrorKind::Provider,
            Error::Network(_) => ErrorKind::Network,
            Error::SignInRequired { .. } => ErrorKind::SignInRequired,
            Error::Rejected { .. } => ErrorKind::Rejected,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::Io { .. } => ErrorKind::Io,
            Error::Internal { .. } => ErrorKind::Internal,
            Error::LockTimeout { .. } => ErrorKind::LockTimeout,
            Error::DeadlineExceeded { .. } => ErrorKind::Timeout,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::Denied { .. } => ErrorKind::Denied,
            Error::RotationNotStored { source, .. } => source.kind(),
        }
    }

    /// Shorthand for an internal failure.
    pub fn internal(what: impl Into<String>) -> Self {
        Error::Internal { what: what.into() }
    }

    /// Shorthand for a configuration error.
    pub(crate) fn config(location: Location, message: impl Into<String>) -> Self {
        Error::Config {
            location: Box::new(location),
            message: message.into(),
        }
    }

    /// Shorthand for an I/O error on a path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_names() {
        let cases = [
            (Error::InvalidInput("x".into()), ErrorKind::InvalidInput),
            (
                Error::VaultLocked {
                    reason: "r".into(),
                    fix: "f".into(),
                },
                ErrorKind::VaultLocked,
            ),
            (
                Error::VaultUnavailable {
                    reason: "r".into(),
                    fix: "f".into(),
                },
                ErrorKind::VaultUnavailable,
            ),
            (Error::NotFound { what: "w".into() }, ErrorKind::NotFound),
            (Error::Network("n".into()), ErrorKind::Network),
            (
                Error::SignInRequired {
                    profile: "p".into(),
                    reason: "r".into(),
                },
                ErrorKind::SignInRequired,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
        let internal = Error::internal("the lock task failed: panicked");
        assert_eq!(internal.kind(), ErrorKind::Internal);
        assert_eq!(
            internal.to_string(),
            "internal error: the lock task failed: panicked"
        );
    }

    #[test]
    fn wire_names_are_the_stable_ones_and_parse_back() {
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "config",
                "invalid_input",
                "vault_unavailable",
                "vault_locked",
                "vault_corrupt",
                "not_found",
                "already_exists",
                "provider",
                "network",
                "sign_in_required",
                "rejected",
                "cancelled",
                "io",
                "busy",
                "lock_timeout",
                "timeout",
                "denied",
                "internal",
            ]
        );
        // ALL lists every variant once, in order (Internal is the last).
        assert_eq!(ErrorKind::ALL.len(), ErrorKind::Internal as usize + 1);
        for (index, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "{kind}");
        }
        for kind in ErrorKind::ALL {
            assert_eq!(kind.as_str().parse::<ErrorKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn unknown_wire_names_fall_back_to_internal() {
        assert!("Network".parse::<ErrorKind>().is_err());
        assert!("".parse::<ErrorKind>().is_err());
        assert_eq!(ErrorKind::from_wire("quota_exceeded"), ErrorKind::Internal);
        assert_eq!(
            serde_json::from_str::<ErrorKind>("\"from_a_newer_agent\"").unwrap(),
            ErrorKind::Internal
        );
        assert!(serde_json::from_str::<ErrorKind>("42").is_err());
    }

    #[test]
    fn config_error_names_file_line_column_and_key() {
        let error = Error::config(
            Location {
                file: "/c/profiles.toml".into(),
                line: Some(4),
                column: Some(1),
                key: Some("profiles.graph.issuer".into()),
            },
            "not a URL",
        );
        assert_eq!(error.kind(), ErrorKind::Config);
        assert_eq!(
            error.to_string(),
            "/c/profiles.toml:4:1 (key `profiles.graph.issuer`): not a URL"
        );
    }

    #[test]
    fn provider_error_names_the_code() {
        let error = Error::Provider {
            provider: "https://idp.example".into(),
            code: "invalid_grant".into(),
            description: Some("refresh token expired".into()),
        };
        assert_eq!(
            error.to_string(),
            "https://idp.example refused the request: invalid_grant (refresh token expired)"
        );
        assert_eq!(error.kind(), ErrorKind::Provider);
    }
}
