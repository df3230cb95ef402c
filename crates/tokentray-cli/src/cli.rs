//! The command line, declared with clap: every command, flag and help text.

use crate::exit;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tokentray_core::profile::{LoginMode, Preset};
use tokentray_core::vault::choice::STORE_ENV;
use tokentray_core::vault::StoreKind;

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
            Command::Import(ImportCommand::Msal(args)) => args.json,
            Command::Agent
            | Command::GitCredential(_)
            | Command::Logout(_)
            | Command::Exec(_)
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

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import the accounts of an MSAL token cache (msal.SerializableTokenCache
    /// JSON, Azure CLI's ~/.azure/msal_token_cache.json).
    #[command(after_help = IMPORT_EXAMPLES)]
    Msal(ImportMsalArgs),
}

const IMPORT_EXAMPLES: &str = "Examples:
  tokentray import msal ~/.azure/msal_token_cache.json --dry-run
  tokentray import msal ~/.azure/msal_token_cache.json --shred
  tokentray import msal token_cache.json --issuer https://login.corp.example/oidc

Each account gets a profile with the cache's client id and authority (an
existing one is reused). By default each imported account is proven with one
refresh; nothing is kept unless every account works (see --partial).
--shred then overwrites and deletes the plaintext file.";

#[derive(Debug, Args)]
pub struct ImportMsalArgs {
    /// The MSAL token cache file.
    pub path: std::path::PathBuf,
    /// Prefix of the names of new profiles (default `msal-`).
    #[arg(long, value_name = "PREFIX", default_value = "msal-")]
    pub profile_prefix: String,
    /// Issuer URL for accounts of a non-Microsoft provider (MSAL keeps only
    /// its host).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Show what would be imported; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not prove each account with a refresh.
    #[arg(long)]
    pub no_verify: bool,
    /// Keep the accounts that worked when others fail (default: all or none).
    #[arg(long)]
    pub partial: bool,
    /// After every account is imported and verified, overwrite the file's
    /// bytes, sync and delete it.
    #[arg(long)]
    pub shred: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How `tokentray token` prints the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
#[value(rename_all = "kebab-case")]
pub enum Format {
    /// The token alone.
    #[default]
    Raw,
    /// `{access_token, token_type, expires_on, expires_at, scopes, profile, account}`.
    Json,
    /// `Authorization: Bearer …`.
    Header,
    /// `export TOKENTRAY_ACCESS_TOKEN=… TOKENTRAY_EXPIRES_ON=…` (shell-quoted).
    Env,
    /// A client.authentication.k8s.io/v1 ExecCredential for kubectl.
    Kubectl,
    /// `username=…` and `password=…` lines, as git's credential helpers print.
    GitCredential,
}

/// Which token to get: shared by `token`, `exec` and `git-credential`.
#[derive(Debug, Clone, Args)]
pub struct TokenOptions {
    /// A scope to ask for; repeat for several (default: the profile's).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// The token must stay valid at least this many seconds (else it is
    /// refreshed first).
    #[arg(long, value_name = "SECONDS")]
    pub min_valid: Option<u64>,
    /// Never start a sign-in; exit 3 when one is needed. (`tokentray token`
    /// never starts one anyway: this states it for scripts.)
    #[arg(long)]
    pub non_interactive: bool,
    /// Refresh even when the cached token is still fine.
    #[arg(long)]
    pub force_refresh: bool,
}

const TOKEN_EXAMPLES: &str = "Examples:
  TOKEN=$(tokentray token graph)
  curl -H \"$(tokentray token graph --format header)\" https://graph.microsoft.com/v1.0/me
  tokentray token graph --scope User.Read --min-valid 600 --format json
  eval \"$(tokentray token corp --format env)\"

The token goes to stdout only. With an agent running (`tokentray agent` or the
tray app) it is served from memory in a millisecond or two; without one it is
read from the OS vault, refreshed when due under a per-profile lock.
A sign-in is never started: when one is needed, exit 3 says to run
`tokentray login PROFILE`.

Exit codes:
  0  success
  1  other failure
  2  usage, invalid value, unknown profile, or configuration error
  3  sign-in required (run `tokentray login PROFILE`)
  4  the identity provider refused the request
  5  OS vault unavailable, locked or damaged (run `tokentray doctor`)
  6  network error (provider unreachable) and no valid token cached";

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The profile's name.
    pub profile: String,
    #[command(flatten)]
    pub options: TokenOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    pub format: Format,
}

const LOGIN_EXAMPLES: &str = "Examples:
  tokentray login corp --device        # prints a URL and a code; approve on any device
  tokentray login corp --browser       # opens the system browser
  tokentray login corp --device --json # first prints one JSON line for automation:
      {\"verification_uri\",\"verification_uri_complete\",\"user_code\",\"expires_in\"}

Without --device or --browser the profile's `login` mode is used; `embedded`
needs the tray app. Profiles with `login = \"client_credentials\"` need no
sign-in. A running agent picks the new sign-in up by itself.";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The profile's name.
    pub profile: String,
    /// Sign in with a device code (RFC 8628): the URL and code are printed
    /// on stderr.
    #[arg(long, conflicts_with = "browser")]
    pub device: bool,
    /// Sign in with the system browser and a loopback redirect.
    #[arg(long)]
    pub browser: bool,
    /// Print the device code as one JSON line on stdout first (device mode),
    /// and errors as JSON.
    #[arg(long)]
    pub json: bool,
}

const LOGOUT_EXAMPLES: &str = "Examples:
  tokentray logout corp

Goes through the running agent when there is one, so it forgets the tokens
too; the refresh token is revoked where the provider allows it.";

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The profile's name.
    pub profile: String,
}

const STATUS_EXAMPLES: &str = "Examples:
  tokentray status
  tokentray status --json | jq -r '.profiles[] | select(.needs_interaction) | .name'";

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

const EXEC_EXAMPLES: &str = "Examples:
  tokentray exec graph -- python3 report.py
  tokentray exec corp --scope api.read -- sh -c 'curl -H \"Authorization: Bearer $TOKENTRAY_ACCESS_TOKEN\" https://api.corp.example'

The command gets TOKENTRAY_ACCESS_TOKEN and TOKENTRAY_EXPIRES_ON (epoch
seconds) in its environment; the token is never put in any argument list.
Exits with the command's exit code.";

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The profile's name.
    pub profile: String,
    #[command(flatten)]
    pub options: TokenOptions,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

const GIT_CREDENTIAL_EXAMPLES: &str = "Examples:
  git config --global credential.https://git.corp.example.helper \"!tokentray git-credential --profile corp\"
  printf 'protocol=https\\nhost=git.corp.example\\n\\n' | tokentray git-credential --profile corp get

`get` prints username=… and password=<access token> (and password_expiry_utc);
`store` and `erase` do nothing (the token lives in the OS vault).";

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// The profile whose token is the password.
    #[arg(long, value_name = "PROFILE")]
    pub profile: String,
    /// The user name to give git (most hosts accept any with a token;
    /// GitLab wants `oauth2`).
    #[arg(long, value_name = "NAME", default_value = "oauth2")]
    pub username: String,
    #[command(flatten)]
    pub options: TokenOptions,
    /// What git asks: get, store or erase.
    #[arg(value_enum)]
    pub operation: GitOperation,
}

/// The git credential helper operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GitOperation {
    /// Print the credentials.
    Get,
    /// Ignored.
    Store,
    /// Ignored.
    Erase,
}

const DECODE_EXAMPLES: &str = "Examples:
  tokentray decode eyJhbGciOi…           # a token given as argument (visible in `ps`)
  pbpaste | tokentray decode -           # read it from stdin
  tokentray decode --json - < token.txt

Shows the header and the claims, with times as dates. NOT VERIFIED: the
signature is not checked, so nothing shown can be trusted; it is for
display only.";

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The token, or `-` (the default) to read it from stdin.
    #[arg(default_value = "-", value_name = "TOKEN")]
    pub token: String,
    /// Print JSON: {\"verified\": false, \"header\": …, \"claims\": …}.
    #[arg(long)]
    pub json: bool,
}

const AGENT_EXAMPLES: &str = "Examples:
  tokentray agent &
  TOKENTRAY_SOCKET=/run/user/1000/tt/agent.sock tokentray agent

Listens on $TOKENTRAY_SOCKET, else $XDG_RUNTIME_DIR/tokentray/agent.sock (a
private 0700 directory, socket 0600, peers checked to be this user). Refreshes
`keep_fresh` profiles before they expire. Stops on SIGTERM or SIGINT and
removes its socket. Only one agent (or tray app) can own a socket: a second
one exits non-zero naming the first's pid.";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  tokentray completions bash > ~/.local/share/bash-completion/completions/tokentray
  tokentray completions zsh > \"${fpath[1]}/_tokentray\"
  tokentray completions fish > ~/.config/fish/completions/tokentray.fish";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a profile.
    #[command(after_help = ADD_EXAMPLES)]
    Add(AddArgs),
    /// List profiles.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one profile.
    Show {
        /// The profile's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile and its client secret from the vault.
    Remove {
        /// The profile's name.
        name: String,
    },
}

const ADD_EXAMPLES: &str = "Examples:
  tokentray profile add graph --preset microsoft --tenant contoso.onmicrosoft.com \\
      --client-id 00000000-0000-0000-0000-000000000000 --scope https://graph.microsoft.com/.default
  tokentray profile add corp --issuer https://login.corp.example --client-id my-cli --login device
  printf %s \"$SECRET\" | tokentray profile add svc --issuer https://login.corp.example \\
      --client-id svc --login client_credentials --scope api.read --client-secret-stdin

The client secret is read from stdin and stored in the OS vault, never in the profiles file.";

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The profile's name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Provider preset: microsoft, google, github or oidc (`--issuer` alone
    /// implies oidc).
    #[arg(long, value_name = "PRESET")]
    pub preset: Option<Preset>,
    /// Issuer URL of an OpenID Connect provider (https, or http to loopback).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Microsoft Entra tenant: id, domain, common, organizations or consumers.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The OAuth client (application) id.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// A scope to ask for by default; repeat for several (default: the
    /// preset's).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// How to sign in: embedded, browser, device or client_credentials
    /// (default: the preset's).
    #[arg(long, value_name = "MODE")]
    pub login: Option<LoginMode>,
    /// Refresh this many seconds before expiry (default 300).
    #[arg(long, value_name = "SECONDS")]
    pub refresh_margin: Option<i64>,
    /// Refresh proactively before expiry, even when nobody asks (the
    /// running app or agent does it).
    #[arg(long)]
    pub keep_fresh: bool,
    /// Read the client secret from stdin and store it in the OS vault.
    #[arg(long)]
    pub client_secret_stdin: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
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
