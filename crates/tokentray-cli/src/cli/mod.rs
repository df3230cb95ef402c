//! The command line, declared with clap: every command, flag and help text.
//!
//! This module holds the top level (`Cli`, `Command`); each group of
//! commands declares its arguments and examples in its own module.

mod access_args;
mod audit_args;
mod import_args;
mod profile_args;
mod session_args;
mod ssh_args;
mod token_args;
mod utility_args;

use crate::exit;
use clap::{Parser, Subcommand};
use tokentray_core::vault::choice::STORE_ENV;
use tokentray_core::vault::StoreKind;

use access_args::ACCESS_EXAMPLES;
pub use access_args::{AccessCommand, AllowArgs, RevokeArgs};
pub use audit_args::AuditArgs;
use audit_args::AUDIT_EXAMPLES;
pub use import_args::{ImportCommand, ImportMsalArgs};
pub use profile_args::{AccessMode, AddArgs, ProfileCommand};
pub use session_args::{LoginArgs, LogoutArgs, StatusArgs};
use session_args::{LOGIN_EXAMPLES, LOGOUT_EXAMPLES, STATUS_EXAMPLES};
pub use ssh_args::SshArgs;
use ssh_args::SSH_EXAMPLES;
pub use token_args::{ExecArgs, Format, GitCredentialArgs, GitOperation, TokenArgs, TokenOptions};
use token_args::{EXEC_EXAMPLES, GIT_CREDENTIAL_EXAMPLES, TOKEN_EXAMPLES};
pub use utility_args::{CompletionsArgs, DecodeArgs, DoctorArgs};
use utility_args::{AGENT_EXAMPLES, COMPLETIONS_EXAMPLES, DECODE_EXAMPLES};

/// Fresh OAuth2 / OpenID Connect tokens for scripts and terminals, kept in
/// the OS vault.
#[derive(Debug, Parser)]
#[command(name = "tokentray", version, after_help = exit::HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Where secrets live: `keyring` (the OS vault), `file` (an encrypted
    /// file, for machines with no usable OS vault: SSH, WSL, containers;
    /// the passphrase comes from the terminal, TOKENTRAY_PASSPHRASE_FILE or
    /// TOKENTRAY_PASSPHRASE), or `memory` (only inside `tokentray agent
    /// --store memory`: tokens die with the agent).
    #[arg(long, global = true, env = STORE_ENV, value_name = "STORE", default_value_t = StoreKind::Keyring)]
    pub store: StoreKind,
}

impl Cli {
    /// Whether errors should be printed as JSON.
    pub fn wants_json(&self) -> bool {
        match &self.command {
            Command::Profile(ProfileCommand::List { json })
            | Command::Profile(ProfileCommand::Show { json, .. }) => *json,
            Command::Profile(_) => false,
            Command::Doctor(args) => args.json,
            Command::Token(args) => args.format == Format::Json,
            Command::Login(args) => args.json,
            Command::Status(args) => args.json,
            Command::Decode(args) => args.json,
            Command::Audit(args) => args.json,
            Command::Access(AccessCommand::List { json, .. }) => *json,
            Command::Access(_) => false,
            Command::Import(ImportCommand::Msal(args)) => args.json,
            Command::Agent
            | Command::GitCredential(_)
            | Command::Logout(_)
            | Command::Exec(_)
            | Command::Ssh(_)
            | Command::Completions(_) => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an access token for a profile (from the agent, or the vault).
    #[command(after_help = TOKEN_EXAMPLES)]
    Token(TokenArgs),
    /// Sign in to a profile's account from a terminal (device code or
    /// system browser).
    #[command(after_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// Sign out of a profile's account: revoke its refresh token and delete
    /// its tokens from the vault.
    #[command(after_help = LOGOUT_EXAMPLES)]
    Logout(LogoutArgs),
    /// Show every profile's state: signed in or not, token expiry, whether
    /// a token can be had without the user.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Run a command with an access token in its environment
    /// (TOKENTRAY_ACCESS_TOKEN), never in its arguments.
    #[command(after_help = EXEC_EXAMPLES)]
    Exec(ExecArgs),
    /// Git credential helper: answers `get` with a token as the password.
    #[command(name = "git-credential", after_help = GIT_CREDENTIAL_EXAMPLES)]
    GitCredential(GitCredentialArgs),
    /// Show the header and claims of a JWT (NOT VERIFIED: display only).
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    /// Run the token agent without a GUI (servers, SSH sessions, CI): keeps
    /// tokens in memory and serves them on a private local socket.
    #[command(after_help = AGENT_EXAMPLES)]
    Agent,
    /// Run OpenSSH's ssh with this machine's agent forwarded, so that
    /// `tokentray token` on the remote side is served from here.
    #[command(after_help = SSH_EXAMPLES)]
    Ssh(SshArgs),
    /// Show who took which token: the agent's audit trail.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// Say which programs may take a profile's tokens.
    #[command(subcommand, after_help = ACCESS_EXAMPLES)]
    Access(AccessCommand),
    /// Manage profiles: which provider, client and scopes to sign in with.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Check the setup: the profiles file and the OS vault (write, read
    /// back, delete a throwaway entry). Exit 5 when the vault fails.
    #[command(after_help = exit::HELP)]
    Doctor(DoctorArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Take over tokens kept elsewhere in plaintext (an MSAL token cache)
    /// into profiles and the OS vault.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
