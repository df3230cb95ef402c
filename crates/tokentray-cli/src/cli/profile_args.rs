//! `tokentray profile`: adding, listing, showing and removing profiles.

use clap::{Args, Subcommand};
use tokentray_core::profile::{LoginMode, Preset};

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
    /// Who may take its tokens: any program of yours (the default here, so
    /// scripts keep working), or only programs you allow (`confirm`: the
    /// tray app asks about the others; without it they are refused).
    #[arg(long, value_enum, default_value_t = AccessMode::Any)]
    pub access: AccessMode,
    /// A scope programs may ask for besides the profile's; repeat for
    /// several (any other is refused).
    #[arg(long = "extra-scope", value_name = "SCOPE")]
    pub extra_scopes: Vec<String>,
    /// Least seconds between two forced refreshes that reach the provider
    /// (default 30; forced requests in between get the fresh token).
    #[arg(long, value_name = "SECONDS")]
    pub force_refresh_interval: Option<i64>,
}

/// `--access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessMode {
    /// Every program of the user.
    Any,
    /// Only the programs the user allowed.
    Confirm,
}

impl AccessMode {
    /// As written in the profile file.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Any => "any",
            AccessMode::Confirm => "confirm",
        }
    }
}
