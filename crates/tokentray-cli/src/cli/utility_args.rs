//! The helper commands: `decode` (a JWT's claims), `agent` (the headless
//! token agent), `doctor` (the setup check) and `completions`.

use clap::Args;

pub(super) const DECODE_EXAMPLES: &str = "Examples:
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

pub(super) const AGENT_EXAMPLES: &str = "Examples:
  tokentray agent &
  TOKENTRAY_SOCKET=/run/user/1000/tt/agent.sock tokentray agent

Listens on $TOKENTRAY_SOCKET, else $XDG_RUNTIME_DIR/tokentray/agent.sock (a
private 0700 directory, socket 0600, peers checked to be this user). Refreshes
`keep_fresh` profiles before they expire. Stops on SIGTERM or SIGINT and
removes its socket. Only one agent (or tray app) can own a socket: a second
one exits non-zero naming the first's pid.";

pub(super) const COMPLETIONS_EXAMPLES: &str = "Examples:
  tokentray completions bash > ~/.local/share/bash-completion/completions/tokentray
  tokentray completions zsh > \"${fpath[1]}/_tokentray\"
  tokentray completions fish > ~/.config/fish/completions/tokentray.fish";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
