//! `tokentray ssh`: OpenSSH's `ssh` with this machine's agent forwarded to
//! the remote side. Its arguments are ssh's own, passed on untouched.

use clap::Args;
use std::ffi::OsString;

pub(super) const SSH_EXAMPLES: &str = "Examples:
  tokentray ssh build-box                  # a shell there: `tokentray token graph` works in it
  tokentray ssh alice@build-box -p 2222 -- make deploy
  tokentray ssh -J bastion build-box

Runs `ssh -R /tmp/tokentray-ssh-<random>.sock:<this agent's socket> SSH_ARGS…`:
the remote sshd listens on that socket and every connection to it reaches
the agent here. On the remote machine `tokentray token PROFILE` finds it with
no flag: in an SSH session, when no agent of its own answers and
TOKENTRAY_SOCKET is unset, it takes the newest forwarded socket of yours that
answers. The agent names every such request by the ssh connection it came
through (`tokentray audit`). Needs a running agent here (the tray app or
`tokentray agent`), OpenSSH, and a server that allows Unix-socket forwarding
(sshd's AllowStreamLocalForwarding, on by default). Unix only.

The exit code is ssh's (255 for ssh's own errors); without an agent here it
is 1, and ssh is not run.";

#[derive(Debug, Args)]
pub struct SshArgs {
    /// ssh's arguments, as for ssh: the destination ([user@]host or
    /// ssh://[user@]host[:port]), ssh options, then the remote command.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SSH_ARGS"
    )]
    pub args: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn ssh_args(line: &[&str]) -> Vec<String> {
        let cli = Cli::try_parse_from(["tokentray", "ssh"].iter().chain(line)).unwrap();
        match cli.command {
            Command::Ssh(args) => args
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn everything_after_ssh_goes_to_ssh_as_given() {
        for line in [
            &["build-box"][..],
            &[
                "alice@build-box",
                "-p",
                "2222",
                "--",
                "tokentray",
                "token",
                "x",
            ],
            &["-p", "2222", "-o", "User=a", "build-box", "ls", "-l"],
            &["ssh://build-box:22", "--", "-weird-command"],
            &["build-box", "--help"],
        ] {
            assert_eq!(ssh_args(line), line, "{line:?}");
        }
        assert!(Cli::try_parse_from(["tokentray", "ssh"]).is_err());
    }
}
