//! `access`: which programs may take a profile's tokens.

use clap::{Args, Subcommand};
use std::path::PathBuf;

pub(super) const ACCESS_EXAMPLES: &str = "Examples:
  tokentray access list
  tokentray access set graph confirm           # only programs you allow
  tokentray access allow graph --program /usr/bin/python3 --script ~/bin/sync.py
  tokentray access allow graph --program /usr/local/bin/deploy --for 8h
  tokentray access revoke graph --program /usr/local/bin/deploy
  tokentray access set graph any               # every program of yours again

A profile with access = \"confirm\" serves only the programs its rules name;
the tray app asks you about any other (Deny, Allow once, for 8 hours,
Always), and without the tray app they are refused with exit code 7. A rule
names the program's real executable and, unless --any-version, its SHA-256:
a replaced binary is refused until allowed again. Rules live in the
profile's `access` key in profiles.toml.";

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// List every profile's access and rules.
    List {
        /// Only this profile.
        profile: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Let a program take a `confirm` profile's tokens.
    Allow(AllowArgs),
    /// Remove the rules of a program (or all of them) from a profile.
    Revoke(RevokeArgs),
    /// Set a profile's access: `any` program of yours, or `confirm`.
    Set {
        /// The profile.
        profile: String,
        /// `any` or `confirm`.
        #[arg(value_enum)]
        mode: super::profile_args::AccessMode,
    },
}

#[derive(Debug, Args)]
pub struct AllowArgs {
    /// The profile.
    pub profile: String,
    /// The program's executable (resolved to its real path).
    #[arg(long, value_name = "PATH")]
    pub program: PathBuf,
    /// For an interpreter: the script it must run.
    #[arg(long, value_name = "PATH")]
    pub script: Option<PathBuf>,
    /// For a request through `tokentray ssh`: the connection (user@host).
    #[arg(long, value_name = "USER@HOST")]
    pub ssh: Option<String>,
    /// Only for this long: a number and a unit, `m`, `h` or `d` (`8h`).
    #[arg(long = "for", value_name = "AGE", value_parser = super::audit_args::parse_age)]
    pub duration: Option<u64>,
    /// Allow the program whatever its bytes (no SHA-256 in the rule: it
    /// keeps matching after an upgrade).
    #[arg(long)]
    pub any_version: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The profile.
    pub profile: String,
    /// The program whose rules go.
    #[arg(long, value_name = "PATH", required_unless_present = "all")]
    pub program: Option<PathBuf>,
    /// Every rule of the profile.
    #[arg(long, conflicts_with = "program")]
    pub all: bool,
}
