//! The exit codes `tokentray` promises scripts, in one place (they are
//! printed by `--help` and listed in the README).

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// A failure with no more specific code (I/O, network, …).
pub const FAILURE: u8 = 1;
/// Bad usage, an invalid value, or a configuration error.
pub const USAGE: u8 = 2;
/// The OS vault is unavailable, locked or damaged.
pub const VAULT: u8 = 5;

/// The help text that documents the codes.
pub const HELP: &str = "Exit codes:
  0  success
  1  other failure (I/O, network)
  2  usage, invalid value, unknown profile, or configuration error
  5  OS vault unavailable, locked or damaged (run `tokentray doctor`)";

/// The exit code for an error, by its kind.
pub fn for_error(error: &tokentray_core::Error) -> ExitCode {
    ExitCode::from(match error.kind() {
        "config" | "invalid_input" | "not_found" | "already_exists" => USAGE,
        "vault_unavailable" | "vault_locked" | "vault_corrupt" => VAULT,
        _ => FAILURE,
    })
}
