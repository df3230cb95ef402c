//! The exit codes `tokentray` promises scripts, in one place (they are
//! printed by `--help` and listed in the README), and the error kinds that
//! lead to each.

use std::process::ExitCode;
use tokentray_core::ErrorKind;

/// Success.
pub const OK: u8 = 0;
/// A failure with no more specific code (I/O, a cancelled sign-in, …).
pub const FAILURE: u8 = 1;
/// Bad usage, an invalid value, or a configuration error.
pub const USAGE: u8 = 2;
/// Only an interactive sign-in helps: run `tokentray login PROFILE`.
pub const SIGN_IN: u8 = 3;
/// The identity provider refused the request, or its answer failed a
/// security check.
pub const PROVIDER: u8 = 4;
/// The OS vault is unavailable, locked or damaged.
pub const VAULT: u8 = 5;
/// The provider could not be reached (and no valid token was cached).
pub const NETWORK: u8 = 6;
/// The profile's access policy refused this program (or this scope):
/// allow it with `tokentray access allow`, or in the tray app.
pub const DENIED: u8 = 7;

/// The help text that documents the codes.
pub const HELP: &str = "Exit codes:
  0  success
  1  other failure (I/O, cancelled sign-in, agent busy, a profile locked too
     long by another process, internal error, …)
  2  usage, invalid value, unknown profile, or configuration error
  3  sign-in required (run `tokentray login PROFILE`)
  4  the identity provider refused the request
  5  OS vault unavailable, locked or damaged (run `tokentray doctor`)
  6  network error: the provider cannot be reached
  7  refused by the profile's access policy (allow the program with
     `tokentray access allow PROFILE --program PATH`, or in the tray app)";

/// The exit code for an error kind ([`tokentray_core::Error::kind`], or
/// one the agent sent).
pub fn code_for_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Config
        | ErrorKind::InvalidInput
        | ErrorKind::NotFound
        | ErrorKind::AlreadyExists => USAGE,
        ErrorKind::SignInRequired => SIGN_IN,
        ErrorKind::Provider | ErrorKind::Rejected => PROVIDER,
        ErrorKind::VaultUnavailable | ErrorKind::VaultLocked | ErrorKind::VaultCorrupt => VAULT,
        ErrorKind::Network => NETWORK,
        ErrorKind::Denied => DENIED,
        ErrorKind::Cancelled
        | ErrorKind::Io
        | ErrorKind::Busy
        | ErrorKind::LockTimeout
        | ErrorKind::Timeout
        | ErrorKind::Internal => FAILURE,
    }
}

/// The exit code for an error kind, as an [`ExitCode`].
pub fn for_kind(kind: ErrorKind) -> ExitCode {
    ExitCode::from(code_for_kind(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_documented_codes() {
        let cases = [
            (ErrorKind::Config, 2),
            (ErrorKind::NotFound, 2),
            (ErrorKind::SignInRequired, 3),
            (ErrorKind::Provider, 4),
            (ErrorKind::Rejected, 4),
            (ErrorKind::VaultLocked, 5),
            (ErrorKind::Network, 6),
            (ErrorKind::Denied, 7),
            (ErrorKind::Io, 1),
            (ErrorKind::Busy, 1),
            (ErrorKind::Cancelled, 1),
            (ErrorKind::Internal, 1),
        ];
        for (kind, code) in cases {
            assert_eq!(code_for_kind(kind), code, "{kind}");
            assert!(HELP.contains(&format!("  {code}  ")), "{code} documented");
        }
    }
}
