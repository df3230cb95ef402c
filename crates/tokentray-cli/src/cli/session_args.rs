//! Signing in and out from a terminal, and seeing who is signed in:
//! `login`, `logout` and `status`.

use clap::Args;

pub(super) const LOGIN_EXAMPLES: &str = "Examples:
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

pub(super) const LOGOUT_EXAMPLES: &str = "Examples:
  tokentray logout corp

Goes through the running agent when there is one, so it forgets the tokens
too; the refresh token is revoked where the provider allows it.";

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The profile's name.
    pub profile: String,
}

pub(super) const STATUS_EXAMPLES: &str = "Examples:
  tokentray status
  tokentray status --json | jq -r '.profiles[] | select(.needs_interaction) | .name'";

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
