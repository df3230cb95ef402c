//! The commands that hand out a token: `token`, `exec` and
//! `git-credential`, with the options they share and the output formats.

use clap::{Args, ValueEnum};

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

pub(super) const TOKEN_EXAMPLES: &str = "Examples:
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

pub(super) const EXEC_EXAMPLES: &str = "Examples:
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

pub(super) const GIT_CREDENTIAL_EXAMPLES: &str = "Examples:
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
