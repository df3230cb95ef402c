//! `tokentray import`: taking over tokens kept elsewhere in plaintext
//! (an MSAL token cache).

use clap::{Args, Subcommand};

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
